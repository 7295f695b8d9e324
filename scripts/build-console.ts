/**
 * Bundles the console's browser code (src/console/client/) with esbuild into dist/console/: console.js + console.css
 * (the console at /console) and graphiql.js + graphiql.css (the GraphQL IDE at GET /graphql). Run by
 * `npm run build` (so `npm start` serves a fresh bundle) and by `npm test`'s pretest; the browser tests call
 * `buildConsole()` themselves so a plain `npx jest` never tests a stale bundle.
 *
 * Usage: ts-node --transpile-only scripts/build-console.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

export const CONSOLE_CLIENT_DIR = path.resolve(__dirname, '../src/console/client');
export const CONSOLE_DIST_DIR = path.resolve(__dirname, '../dist/console');

/** Builds both bundles; each file is written to a temporary name and renamed, so a concurrent reader never sees half a file. */
export async function buildConsole(outDir = CONSOLE_DIST_DIR): Promise<string[]> {
  const result = await build({
    entryPoints: {
      console: path.join(CONSOLE_CLIENT_DIR, 'main.tsx'),
      graphiql: path.join(CONSOLE_CLIENT_DIR, 'graphiql.tsx'),
    },
    bundle: true,
    format: 'esm',
    splitting: false,
    target: ['es2022'],
    platform: 'browser',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(CONSOLE_CLIENT_DIR, 'tsconfig.json'),
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.svg': 'dataurl' },
    outdir: outDir,
    write: false,
    logLevel: 'warning',
  });
  fs.mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const file of result.outputFiles) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, file.contents);
    fs.renameSync(tmp, file.path);
    written.push(path.relative(outDir, file.path));
  }
  return written;
}

if (require.main === module) {
  const started = Date.now();
  buildConsole().then(
    (files) => console.log(`console bundle: ${files.join(', ')} in dist/console (${Date.now() - started} ms)`),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
