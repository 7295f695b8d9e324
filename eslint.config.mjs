import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

// The layers of src/ and the direction of their imports: docs/architecture.md, "Layers, and which way imports point".
const SEE = 'See docs/architecture.md, "Layers, and which way imports point".';

/** The composition root and boot code: src/ files that wire everything together; nothing below them imports them. */
const ROOT = [
  './src/app.ts',
  './src/services.ts',
  './src/index.ts',
  './src/entities.ts',
  './src/open-database.ts',
  './src/cli',
];
/** The edges: HTTP, GraphQL and the console live here and only here. */
const EDGES = ['./src/graphql', './src/ingest', './src/console'];

const layerZones = [
  {
    target: './src/domain',
    from: ['./src/pipeline', './src/plugins', './src/ops', ...EDGES, ...ROOT],
    message: `domain/ never imports pipeline/, plugins/, ops/, the edges or the composition root: define an interface in domain/ and let the composition root hand in an implementation. ${SEE}`,
  },
  {
    target: './src/pipeline',
    from: ['./src/plugins', './src/ops', ...EDGES, ...ROOT],
    message: `pipeline/ never imports plugins/, ops/, the edges or the composition root: it reaches plugins through the registry in domain/provider/. ${SEE}`,
  },
  {
    target: './src/plugins',
    from: './src',
    except: ['./plugins', './domain/provider', './domain/channel', './lib'],
    message: `plugins/ import only the plugin contract (domain/provider/), the channel table (domain/channel/) and lib/. ${SEE}`,
  },
  {
    target: './src/db',
    from: ['./src/domain', './src/pipeline', './src/plugins', './src/ops', ...EDGES, ...ROOT],
    message: `db/ never imports domain/ or anything above it (the entity list is handed in by src/open-database.ts). ${SEE}`,
  },
  {
    target: './src/config.ts',
    from: './src',
    except: ['./lib', './config.ts'],
    message: `config.ts sits under db/ (db reads its defaults): it imports only lib/. ${SEE}`,
  },
  {
    target: './src/lib',
    from: './src',
    except: ['./lib'],
    message: `lib/ is the bottom layer: every layer may import it, it imports nothing else from src/. ${SEE}`,
  },
  {
    target: ['./src/!(console)/**/*', './src/*.ts', './src/console/*.ts'],
    from: './src/console/client',
    message: `src/console/client/ is browser code: the server only serves its bundle (dist/console), it never imports it. ${SEE}`,
  },
  {
    target: './src/console/client',
    from: './src',
    except: ['./console/client'],
    message: `src/console/client/ is browser code: it talks to the server through POST /graphql only, never by importing server code. ${SEE}`,
  },
  {
    target: './src/ops',
    from: './src/ingest',
    message: `ops/ and ingest/ never import each other: app.ts wires them (pass the OpenAPI document or the telemetry in). ${SEE}`,
  },
  {
    target: './src/ingest',
    from: './src/ops',
    message: `ingest/ and ops/ never import each other: app.ts wires them (pass the OpenAPI document or the telemetry in). ${SEE}`,
  },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'data/**', 'coverage/**', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/domain/**/*.ts', 'src/pipeline/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['fastify', '@fastify/*', '@apollo/*', '@as-integrations/*'],
              message: `domain/ and pipeline/ never import HTTP or GraphQL servers (src/graphql and src/ingest are covered by import-x/no-restricted-paths below). ${SEE}`,
            },
          ],
        },
      ],
    },
  },
  {
    // Import direction and import circles in src/ (no-cycle ignores `import type`, which has no run-time effect).
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.json', '.node'] })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: layerZones }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
);
