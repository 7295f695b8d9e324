import { execFileSync, execSync } from 'node:child_process';
import fs from 'node:fs';
import { adminConnection, FIGURES_FILE, ROOT } from './support';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Builds the server and the CLI once (`npm run build`); retried, as a tree being edited may not compile for a moment. */
async function build(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'pipe' });
      return;
    } catch (err) {
      const output =
        String((err as { stdout?: Buffer }).stdout ?? '') + String((err as { stderr?: Buffer }).stderr ?? '');
      if (attempt >= 5) throw new Error(`npm run build failed:\n${output}`);
      process.stderr.write(`fault suite: build failed (attempt ${attempt}), retrying in 20 s\n${output}\n`);
      await sleep(20_000);
    }
  }
}

/** MariaDB must answer; when it does not, it is started the way .ci/run starts it. */
async function ensureMariaDb(): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    try {
      const conn = await adminConnection();
      await conn.query('SELECT 1');
      await conn.end();
      return;
    } catch (err) {
      if (attempt === 0) {
        process.stderr.write(`fault suite: MariaDB does not answer (${(err as Error).message}); starting it\n`);
        try {
          execSync('start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd', { stdio: 'pipe' });
        } catch {
          // not allowed or not installed here: keep waiting, then fail with the connection error
        }
      }
      await sleep(1000);
    }
  }
  throw new Error('MariaDB is not reachable; set PIGEON_FAULTS_MARIADB=mariadb://user:pass@host:3306');
}

export default async function globalSetup(): Promise<void> {
  await ensureMariaDb();
  await build();
  fs.rmSync(FIGURES_FILE, { force: true });
}
