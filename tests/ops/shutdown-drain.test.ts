import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULT_SHUTDOWN_DELAY_MS, loadConfig } from '../../src/config';
import { drainMs } from '../../src/ops/shutdown';

/**
 * Graceful shutdown as a load balancer sees it (issue 14, item 3): from SIGTERM on, the real server process
 * answers `/readyz` with `503 {"status":"stopping"}` while it keeps serving for PIGEON_SHUTDOWN_DELAY_MS, then
 * closes and exits 0. Run as `ts-node --transpile-only src/index.ts` (what `npm run dev` runs).
 */
const ROOT = path.resolve(__dirname, '../..');
const TS_NODE = require.resolve('ts-node/dist/bin.js');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SIGTERM: /readyz says "stopping" before the process stops accepting', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('PIGEON_SHUTDOWN_DELAY_MS: 0–60000, default 5000; only SIGTERM on a process that serves HTTP waits', () => {
    const shutdownDelayMs = (env: NodeJS.ProcessEnv) => loadConfig(env).shutdownDelayMs;
    expect(shutdownDelayMs({})).toBe(DEFAULT_SHUTDOWN_DELAY_MS);
    expect(shutdownDelayMs({ PIGEON_SHUTDOWN_DELAY_MS: '0' })).toBe(0);
    expect(shutdownDelayMs({ PIGEON_SHUTDOWN_DELAY_MS: ' 2500 ' })).toBe(2500);
    for (const bad of ['-1', '1.5', 'soon', '60001']) {
      expect(() => shutdownDelayMs({ PIGEON_SHUTDOWN_DELAY_MS: bad })).toThrow(ConfigError);
    }
    expect(drainMs('SIGTERM', true, 3000)).toBe(3000);
    expect(drainMs('SIGINT', true, 3000)).toBe(0);
    expect(drainMs('SIGTERM', false, 3000)).toBe(0);
  });

  it('answers 503 "stopping" (and still serves) during the delay, then exits 0', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-drain-'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const delayMs = 3000;
    const spawned = spawn(process.execPath, [TS_NODE, '--transpile-only', 'src/index.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        DATABASE_URL: `sqlite:${path.join(dir, 'drain.sqlite')}`,
        PIGEON_SHUTDOWN_DELAY_MS: String(delayMs),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = spawned;
    let output = '';
    spawned.stdout!.on('data', (d) => (output += d));
    spawned.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => spawned.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (spawned.exitCode !== null) throw new Error(`the server exited at start:\n${output}`);
      if (Date.now() > deadline) throw new Error(`the server did not start:\n${output}`);
      try {
        if ((await fetch(`${base}/readyz`)).status === 200) break;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }

    const termAt = Date.now();
    spawned.kill('SIGTERM');
    await sleep(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'stopping', reason: 'the process is shutting down (SIGTERM)' });
    // the process is still serving: liveness holds and requests are answered
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await sleep(delayMs / 2);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);

    expect(await exited).toBe(0);
    expect(Date.now() - termAt).toBeGreaterThanOrEqual(delayMs);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  }, 120_000);
});
