import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { basic, fixture } from './helpers/test-app';

/**
 * `npm start` as a user runs it: the compiled server on the embedded default (a SQLite file),
 * migrations applied at boot, the default workspace bootstrapped, keys printed once.
 */
const ROOT = path.resolve(__dirname, '..');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

interface Running {
  child: ChildProcess;
  base: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function boot(env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/src/index.js'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { child, base, output: () => out, exited };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`server did not start:\n${out}`);
}

async function stop(r: Running): Promise<number | null> {
  r.child.kill('SIGTERM');
  return r.exited;
}

const post = (base: string, route: string, body: unknown, headers: Record<string, string>) =>
  fetch(`${base}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('booting the server', () => {
  let dir: string;
  beforeAll(() => {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-boot-'));
  }, 180_000);

  it('first start migrates, creates workspace "default" and prints its keys once; a restart keeps the data', async () => {
    const env = { DATABASE_URL: `sqlite:${path.join(dir, 'first.sqlite')}` };
    const first = await boot(env);
    const admin = /admin\s+key: (\S+)/.exec(first.output())?.[1];
    const ingest = /ingest key: (\S+)/.exec(first.output())?.[1];
    expect(admin).toMatch(/^pgn_a_[A-Za-z0-9_-]{40}$/);
    expect(ingest).toMatch(/^pgn_i_[A-Za-z0-9_-]{40}$/);

    for (const name of ['identify', 'track', 'group', 'page', 'alias']) {
      const res = await post(first.base, '/segment', fixture(name), { authorization: basic(ingest!) });
      expect(res.status).toBe(202);
    }
    expect(await stop(first)).toBe(0);

    const second = await boot(env);
    expect(second.output()).not.toMatch(/key:/);
    const res = await post(
      second.base,
      '/graphql',
      { query: '{ profile(userId: "userId123") { traits } events { edges { node { type } } } }' },
      { authorization: `Bearer ${admin}` },
    );
    const body: any = await res.json();
    expect(body.data.profile.traits.email).toBe('carrier.pigeon@example.com');
    expect(body.data.events.edges).toHaveLength(5);
    expect(await stop(second)).toBe(0);
  }, 60_000);

  it('takes the default keys from PIGEON_ADMIN_KEY and PIGEON_INGEST_KEY and prints none', async () => {
    const env = {
      DATABASE_URL: `sqlite:${path.join(dir, 'env-keys.sqlite')}`,
      PIGEON_ADMIN_KEY: 'admin-key-from-env-0123456789abcdef',
      PIGEON_INGEST_KEY: 'ingest-key-from-env-0123456789abcdef',
    };
    const r = await boot(env);
    expect(r.output()).not.toMatch(/key:/);
    expect(
      (await post(r.base, '/segment', fixture('track'), { authorization: basic(env.PIGEON_INGEST_KEY) })).status,
    ).toBe(202);
    expect(
      (await post(r.base, '/segment', fixture('track'), { authorization: basic('another-key-0123456789') })).status,
    ).toBe(401);
    const gql = await post(
      r.base,
      '/graphql',
      { query: '{ apiKeys { scope prefix } }' },
      { authorization: `Bearer ${env.PIGEON_ADMIN_KEY}` },
    );
    expect(((await gql.json()) as any).data.apiKeys.map((k: any) => k.scope).sort()).toEqual(['ADMIN', 'INGEST']);
    expect(await stop(r)).toBe(0);
  }, 60_000);

  it('refuses a bad configuration with a message and exit code 1', () => {
    for (const [env, message] of [
      [{ PIGEON_ROLE: 'everything' }, 'PIGEON_ROLE must be one of api, worker, all'],
      [{ PORT: 'eighty' }, 'PORT must be an integer'],
      [{ PIGEON_HEAP_GROWING_PERCENT: '1.5x' }, 'PIGEON_HEAP_GROWING_PERCENT must be an integer ≥ 0'],
      [{ DATABASE_URL: 'postgres://localhost/db' }, 'DATABASE_URL must start with mysql://, mariadb:// or sqlite:'],
      [{ PIGEON_ADMIN_KEY: 'short-admin-key' }, 'PIGEON_ADMIN_KEY must be at least 32 characters long (it has 15)'],
    ] as const) {
      let status = 0;
      let stderr = '';
      try {
        execFileSync(process.execPath, ['dist/src/index.js'], {
          cwd: ROOT,
          env: { PATH: process.env.PATH, ...env },
          stdio: 'pipe',
        });
      } catch (err: any) {
        status = err.status;
        stderr = String(err.stderr);
      }
      expect(status).toBe(1);
      expect(stderr).toContain(message);
    }
  });
});
