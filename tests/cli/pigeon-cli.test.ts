import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { toDbTime } from '../../src/db/dialect';
import { hashSecret } from '../../src/domain/workspace/workspace.service';
import { fixture, isMysql, startTestApp, uid, type TestApp } from '../helpers/test-app';

/**
 * The `pigeon` command (README.md, "Workspaces and keys"), run as a user runs it: a child process on the same database
 * as a running app (SQLite file or DATABASE_URL), through `ts-node --transpile-only src/cli/pigeon.ts`, which is what
 * `npm run pigeon` runs. (The compiled `bin` is driven by the fault suite.)
 */
const ROOT = path.resolve(__dirname, '../..');
const TS_NODE = require.resolve('ts-node/dist/bin.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function databaseUrlOf(t: TestApp): string {
  if (isMysql()) return process.env.DATABASE_URL!;
  return `sqlite:${t.db.dataSource.options.database as string}`;
}

describe('the pigeon CLI', () => {
  let t: TestApp;
  let env: NodeJS.ProcessEnv;

  const pigeon = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [TS_NODE, '--transpile-only', 'src/cli/pigeon.ts', ...args],
        { cwd: ROOT, env, timeout: 60_000 },
        (err, stdout, stderr) => {
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        },
      );
    });

  const workspaceName = () => `cli-${randomUUID().slice(0, 8)}`;

  async function createWorkspace(name = workspaceName()) {
    const run = await pigeon('workspace', 'create', name, '--json');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    return JSON.parse(run.stdout) as { workspace: string; adminKey: string; ingestKey: string };
  }

  const gql = (query: string, key: string) => t.gql(query, {}, key);

  beforeAll(async () => {
    t = await startTestApp();
    env = { PATH: process.env.PATH, DATABASE_URL: databaseUrlOf(t), LOG_LEVEL: 'silent' };
  });
  afterAll(() => t.close());

  describe('workspace create', () => {
    it('--json prints exactly one line {"workspace","adminKey","ingestKey"}; both keys work at once', async () => {
      const name = workspaceName();
      const run = await pigeon('workspace', 'create', name, '--json');
      expect(run.code).toBe(0);
      expect(run.stdout.endsWith('\n')).toBe(true);
      expect(run.stdout.trim().split('\n')).toHaveLength(1);
      const out = JSON.parse(run.stdout);
      expect(Object.keys(out)).toEqual(['workspace', 'adminKey', 'ingestKey']);
      expect(out.workspace).toBe(name);
      expect(out.adminKey).toMatch(/^pgn_a_[A-Za-z0-9_-]{40}$/);
      expect(out.ingestKey).toMatch(/^pgn_i_[A-Za-z0-9_-]{40}$/);

      const userId = uid();
      expect((await t.send('/v1/identify', { userId, traits: { plan: 'pro' } }, out.ingestKey)).statusCode).toBe(200);
      const res = await gql(`{ profile(userId: "${userId}") { traits } apiKeys { scope name } }`, out.adminKey);
      expect(res.errors).toBeUndefined();
      expect(res.data!.profile.traits).toEqual({ plan: 'pro' });
      expect(res.data!.apiKeys.map((k: any) => k.scope).sort()).toEqual(['ADMIN', 'INGEST']);
      // the ingest key is not an admin key
      expect((await gql('{ apiKeys { id } }', out.ingestKey)).errors![0].extensions!.code).toBe('FORBIDDEN');
    });

    it('without --json prints both keys once, in words', async () => {
      const name = workspaceName();
      const run = await pigeon('workspace', 'create', name);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Created workspace "${name}"`);
      expect(run.stdout).toMatch(/admin {2}key: pgn_a_\S{40}\n/);
      expect(run.stdout).toMatch(/ingest key: pgn_i_\S{40}\n/);
      const ingestKey = /ingest key: (\S+)/.exec(run.stdout)![1];
      expect((await t.send('/segment', fixture('track', { userId: uid() }), ingestKey)).statusCode).toBe(202);
    });

    it('refuses an existing or invalid name with exit code 1 and a message', async () => {
      const { workspace } = await createWorkspace();
      const again = await pigeon('workspace', 'create', workspace, '--json');
      expect(again).toMatchObject({ code: 1, stdout: '' });
      expect(again.stderr).toBe(`pigeon: Workspace "${workspace}" already exists\n`);
      const invalid = await pigeon('workspace', 'create', 'no spaces allowed');
      expect(invalid.code).toBe(1);
      expect(invalid.stderr).toContain('A workspace name is 1–100 letters');
    });
  });

  describe('keys create', () => {
    it('--scope ingest --json: a key that sends events and is FORBIDDEN on GraphQL', async () => {
      const ws = await createWorkspace();
      const run = await pigeon('keys', 'create', '--workspace', ws.workspace, '--scope', 'ingest', '--json');
      expect(run.code).toBe(0);
      const out = JSON.parse(run.stdout);
      expect(out).toMatchObject({ workspace: ws.workspace, scope: 'ingest', revokedAt: null, name: null });
      expect(out.key).toMatch(/^pgn_i_/);
      expect(out.prefix).toBe(out.key.slice(0, 10));
      expect((await t.send('/v1/track', { userId: uid(), event: 'CLI' }, out.key)).statusCode).toBe(200);
      expect((await gql('{ apiKeys { id } }', out.key)).errors![0].extensions!.code).toBe('FORBIDDEN');
      const listed = (await gql('{ apiKeys { id prefix scope } }', ws.adminKey)).data!.apiKeys;
      expect(listed).toContainEqual({ id: out.id, prefix: out.prefix, scope: 'INGEST' });
    });

    it('--scope admin (any case) with --name: a key for the GraphQL API of that workspace only', async () => {
      const ws = await createWorkspace();
      const run = await pigeon('keys', 'create', '--workspace', ws.workspace, '--scope', 'ADMIN', '--name', 'ci');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Created an admin key in workspace "${ws.workspace}"`);
      const secret = run.stdout.trim().split('\n').pop()!.trim();
      expect(secret).toMatch(/^pgn_a_\S{40}$/);
      const res = await gql('{ apiKeys { name scope } }', secret);
      expect(res.data!.apiKeys).toContainEqual({ name: 'ci', scope: 'ADMIN' });
      expect(res.data!.apiKeys).toHaveLength(3);
    });

    it('exit code 1 for a bad scope, an unknown workspace or a missing option; nothing is created', async () => {
      const ws = await createWorkspace();
      const badScope = await pigeon('keys', 'create', '--workspace', ws.workspace, '--scope', 'root');
      expect(badScope.code).toBe(1);
      expect(badScope.stderr).toContain('the scope must be admin or ingest');
      const unknown = await pigeon('keys', 'create', '--workspace', `nope-${randomUUID()}`, '--scope', 'admin');
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/^pigeon: Workspace "nope-[^"]+" not found\n$/);
      const missing = await pigeon('keys', 'create', '--scope', 'admin');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("required option '--workspace <name>' not specified");
      expect((await gql('{ apiKeys { id } }', ws.adminKey)).data!.apiKeys).toHaveLength(2);
    });

    it("usage errors are printed in the `pigeon: …` form (README), not commander's `error: …`", async () => {
      const usage = '(run with --help for usage)\n';
      const badScope = await pigeon('keys', 'create', '--workspace', 'acme', '--scope', 'superuser');
      expect(badScope).toMatchObject({ code: 1, stdout: '' });
      expect(badScope.stderr).toBe(
        "pigeon: option '--scope <admin|ingest>' argument 'superuser' is invalid. the scope must be admin or ingest.\n" +
          usage,
      );
      const missing = await pigeon('keys', 'create', '--scope', 'admin');
      expect(missing.stderr).toBe(`pigeon: required option '--workspace <name>' not specified\n${usage}`);
      const unknownCommand = await pigeon('kees', 'list');
      expect(unknownCommand.code).toBe(1);
      expect(unknownCommand.stderr).toMatch(/^pigeon: unknown command 'kees'\n/);
      expect(unknownCommand.stderr).not.toMatch(/^error:/m);
    });
  });

  describe('keys list', () => {
    it('shows id, prefix, scope, name, created, last used and revoked; never a secret', async () => {
      const ws = await createWorkspace();
      await t.send('/v1/track', { userId: uid(), event: 'Used' }, ws.ingestKey);
      const run = await pigeon('keys', 'list', '--workspace', ws.workspace);
      expect(run.code).toBe(0);
      const [header, ...rows] = run.stdout.trim().split('\n');
      expect(header.split(/\s{2,}/)).toEqual(['ID', 'PREFIX', 'SCOPE', 'NAME', 'CREATED', 'LAST USED', 'REVOKED']);
      expect(rows).toHaveLength(2);
      expect(run.stdout).not.toContain(ws.adminKey);
      expect(run.stdout).not.toContain(ws.ingestKey);
      const ingestRow = rows.find((r) => r.includes(ws.ingestKey.slice(0, 10)))!.split(/\s{2,}/);
      expect(ingestRow).toEqual([
        expect.stringMatching(/^[0-9a-f-]{36}$/),
        ws.ingestKey.slice(0, 10),
        'ingest',
        'ingest',
        expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), // used just now
        '-',
      ]);

      const json = await pigeon('keys', 'list', '--workspace', ws.workspace, '--json');
      const keys = JSON.parse(json.stdout);
      expect(keys.map((k: any) => Object.keys(k))).toEqual([
        ['id', 'prefix', 'scope', 'name', 'createdAt', 'lastUsedAt', 'revokedAt'],
        ['id', 'prefix', 'scope', 'name', 'createdAt', 'lastUsedAt', 'revokedAt'],
      ]);
    });

    it('exit code 1 for an unknown workspace', async () => {
      const run = await pigeon('keys', 'list', '--workspace', `nope-${randomUUID()}`);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('not found');
    });
  });

  describe('keys revoke', () => {
    it('by prefix, from another process: the running server refuses the key at once on every route', async () => {
      const ws = await createWorkspace();
      const admin = JSON.parse(
        (await pigeon('keys', 'create', '--workspace', ws.workspace, '--scope', 'admin', '--json')).stdout,
      );
      const ingestOk = await t.send('/segment', fixture('track', { userId: uid() }), ws.ingestKey);
      expect(ingestOk.statusCode).toBe(202);
      expect((await gql('{ apiKeys { id } }', admin.key)).errors).toBeUndefined();

      const run = await pigeon('keys', 'revoke', ws.ingestKey.slice(0, 10));
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Revoked: ingest key ${ws.ingestKey.slice(0, 10)}`);
      expect(run.stdout).toContain(`of workspace "${ws.workspace}"`);
      const byId = await pigeon('keys', 'revoke', admin.id, '--json');
      expect(byId.code).toBe(0);
      expect(JSON.parse(byId.stdout)).toMatchObject({
        id: admin.id,
        revokedAt: expect.any(String),
        alreadyRevoked: false,
      });

      for (const route of ['/segment', '/inbound/segment', '/v1/identify', '/v1/track', '/v1/batch']) {
        const body = route === '/v1/batch' ? { batch: [fixture('track')] } : fixture('identify');
        for (const key of [ws.ingestKey, admin.key]) {
          const res = await t.send(route, body, key);
          expect({ route, status: res.statusCode }).toEqual({ route, status: 403 });
          expect(res.json()).toEqual({ code: 'FORBIDDEN', message: 'This API key has been revoked' });
        }
      }
      const refused = await gql('{ apiKeys { id } }', admin.key);
      expect(refused.errors![0]).toMatchObject({
        message: 'This API key has been revoked',
        extensions: { code: 'UNAUTHENTICATED' },
      });
      // the workspace's other admin key still works and sees both revocations
      const keys = (await gql('{ apiKeys { id prefix revokedAt } }', ws.adminKey)).data!.apiKeys;
      expect(keys.filter((k: any) => k.revokedAt).map((k: any) => k.id)).toEqual(
        expect.arrayContaining([admin.id, expect.any(String)]),
      );
      expect(keys.filter((k: any) => k.revokedAt)).toHaveLength(2);

      const listed = await pigeon('keys', 'list', '--workspace', ws.workspace, '--json');
      const revokedPrefixes = JSON.parse(listed.stdout)
        .filter((k: any) => k.revokedAt)
        .map((k: any) => k.prefix)
        .sort();
      expect(revokedPrefixes).toEqual([admin.prefix, ws.ingestKey.slice(0, 10)].sort());
    });

    it('revoking twice is harmless; a GraphQL revoke of a CLI key also holds at once', async () => {
      const ws = await createWorkspace();
      const created = JSON.parse(
        (await pigeon('keys', 'create', '--workspace', ws.workspace, '--scope', 'ingest', '--json')).stdout,
      );
      const viaGraphql = await gql(`mutation { revokeApiKey(id: "${created.id}") { id revokedAt } }`, ws.adminKey);
      expect(viaGraphql.data!.revokeApiKey.revokedAt).toEqual(expect.any(String));
      expect((await t.send('/v1/track', { userId: uid(), event: 'x' }, created.key)).statusCode).toBe(403);
      const again = await pigeon('keys', 'revoke', created.prefix);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/^Already revoked: ingest key/);
    });

    it('exit code 1 and nothing revoked for an unknown key, an ambiguous prefix or a prefix too short', async () => {
      const ws = await createWorkspace();
      const unknown = await pigeon('keys', 'revoke', 'pgn_a_doesnotexist');
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('No API key has the id or prefix "pgn_a_doesnotexist"');

      const tooShort = await pigeon('keys', 'revoke', 'pgn_a_');
      expect(tooShort.code).toBe(1);
      expect(tooShort.stderr).toContain('needs 8 characters');

      // two keys whose stored prefixes collide (24 random bits: rare, but possible)
      const prefix = `pgn_i_${randomUUID().replace(/-/g, '').slice(0, 4)}`;
      const workspaceId = (await t.services.workspaces.findByName(ws.workspace))!.id;
      const secrets = [`${prefix}-first-secret-0000000000000000`, `${prefix}-second-secret-000000000000000`];
      for (const secret of secrets) {
        await t.db.run(
          'INSERT INTO api_keys (id, workspace_id, name, prefix, secret_hash, scope, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
          [randomUUID(), workspaceId, 'twin', prefix, hashSecret(secret), 'INGEST', toDbTime(new Date())],
        );
      }
      const ambiguous = await pigeon('keys', 'revoke', prefix);
      expect(ambiguous.code).toBe(1);
      expect(ambiguous.stderr).toContain(`"${prefix}" matches 2 keys`);
      for (const secret of secrets) {
        expect((await t.send('/v1/track', { userId: uid(), event: 'x' }, secret)).statusCode).toBe(200);
      }
      // the full secret is unambiguous
      const exact = await pigeon('keys', 'revoke', secrets[0]);
      expect(exact.code).toBe(0);
      expect((await t.send('/v1/track', { userId: uid(), event: 'x' }, secrets[0])).statusCode).toBe(403);
      expect((await t.send('/v1/track', { userId: uid(), event: 'x' }, secrets[1])).statusCode).toBe(200);

      const wrongWorkspace = await pigeon('keys', 'revoke', ws.adminKey.slice(0, 10), '--workspace', 'default-nope');
      expect(wrongWorkspace.code).toBe(1);
      expect((await gql('{ apiKeys { id } }', ws.adminKey)).errors).toBeUndefined();
    });
  });

  it('`npm run pigeon -- …` runs the same command', async () => {
    const run = await new Promise<Run>((resolve) =>
      execFile(
        'npm',
        ['run', '-s', 'pigeon', '--', 'workspace', 'list', '--json'],
        { cwd: ROOT, env, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: t.ws.name, activeKeys: 2 })]),
    );
  });
});
