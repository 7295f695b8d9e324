/**
 * Child processes of the bench: spawning (TypeScript through ts-node, or plain node), readiness,
 * IPC handshakes, CPU and RSS from /proc, and killing every child on the way out.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const BENCH = path.join(ROOT, 'bench');

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  log: string;
  /** Set by {@link stop}: an exit after it is expected. */
  stopping?: boolean;
  /** How it ended: exit code or signal. */
  ended?: string;
}

const children = new Set<Child>();
let logDir = '';

export function setLogDir(dir: string): void {
  logDir = dir;
  fs.mkdirSync(dir, { recursive: true });
}

function start(name: string, args: string[], env: NodeJS.ProcessEnv, ipc: boolean): Child {
  const log = path.join(logDir, `${name}.log`);
  const out = fs.openSync(log, 'a');
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', out, out, ...(ipc ? (['ipc'] as const) : [])],
  });
  fs.closeSync(out);
  if (!proc.pid) throw new Error(`could not start ${name}`);
  const child: Child = { name, proc, pid: proc.pid, exited: Promise.resolve(null), log };
  child.exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code, signal) => {
      child.ended = signal ? `signal ${signal}` : `exit code ${code}`;
      resolve(code);
    }),
  );
  children.add(child);
  void child.exited.then(() => children.delete(child));
  return child;
}

/** Runs a bench TypeScript file (transpile-only ts-node) as its own process. */
export function spawnTs(name: string, file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, ipc = true) {
  return start(name, ['-r', 'ts-node/register/transpile-only', path.join(BENCH, file), ...args], env, ipc);
}

/** Runs a built JavaScript entry (Pigeon's dist/src/index.js) as its own process. */
export function spawnNode(name: string, file: string, env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []) {
  return start(name, [...nodeArgs, path.join(ROOT, file)], env, false);
}

export function tail(child: Child, lines = 30): string {
  try {
    return fs.readFileSync(child.log, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves when the child is gone. */
export async function stop(child: Child, graceMs = 5000): Promise<void> {
  child.stopping = true;
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** The children running now (for a step to stop what it started when it fails). */
export function running(): Child[] {
  return [...children];
}

export async function stopAll(graceMs = 3000): Promise<void> {
  for (const c of children) c.stopping = true;
  await Promise.all([...children].map((c) => stop(c, graceMs)));
}

/** Synchronous last resort (process 'exit'): SIGKILL whatever is still running. */
export function killAllNow(): void {
  for (const c of children) {
    c.stopping = true;
    try {
      c.proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `url` until it answers (any status below 500), the child dies, or `timeoutMs` passes. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`${child.name} exited (${child.proc.exitCode}):\n${tail(child)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`${child.name} not ready at ${url} after ${timeoutMs} ms:\n${tail(child)}`);
    await sleep(100);
  }
}

/** Waits for an IPC message of `type` from the child (rejects when it exits first or on timeout). */
export function message<T = any>(child: Child, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: any) => {
      if (m && m.type === type) {
        cleanup();
        resolve(m as T);
      } else if (m && m.type === 'error') {
        cleanup();
        reject(new Error(`${child.name}: ${m.message}`));
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${child.name} exited (${code}) before "${type}":\n${tail(child)}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${child.name}: no "${type}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.proc.off('message', onMessage);
      child.proc.off('exit', onExit);
    };
    child.proc.on('message', onMessage);
    child.proc.once('exit', onExit);
  });
}

export function send(child: Child, m: unknown): void {
  child.proc.send!(m as any);
}

// ---- /proc ---------------------------------------------------------------------------------------

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds used by `pid` and its waited-for children (utime + stime + cutime + cstime). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 14–17 of proc(5); f[0] is field 3 (state)
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** Resident set size in MB (VmRSS), or NaN when the process is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export function mariadbPid(): number | undefined {
  try {
    const out = execFileSync('pidof', ['mariadbd']).toString().trim().split(/\s+/)[0];
    return out ? Number(out) : undefined;
  } catch {
    return undefined;
  }
}

/** Busy CPU seconds of the whole machine (all cores, /proc/stat: everything but idle and iowait). */
export function machineBusySeconds(): number {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + (steal || 0)) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/**
 * CPU of named process groups between `begin()` and `end()`, as % of one core, plus `other`:
 * everything else the machine ran meanwhile (other processes compete for the same cores).
 */
export class CpuMeter {
  private t0 = 0;
  private busy0 = 0;
  private before = new Map<string, number>();
  constructor(private readonly groups: Record<string, number[]>) {}

  begin(): void {
    this.t0 = performance.now();
    this.busy0 = machineBusySeconds();
    for (const [name, pids] of Object.entries(this.groups)) this.before.set(name, this.sum(pids));
  }

  end(): Record<string, number> {
    const wall = (performance.now() - this.t0) / 1000;
    const out: Record<string, number> = {};
    let ours = 0;
    for (const [name, pids] of Object.entries(this.groups)) {
      const used = this.sum(pids) - this.before.get(name)!;
      ours += used;
      out[name] = Math.round((used / wall) * 1000) / 10;
    }
    const other = machineBusySeconds() - this.busy0 - ours;
    out.other = Math.max(0, Math.round((other / wall) * 1000) / 10);
    return out;
  }

  private sum(pids: number[]): number {
    return pids.reduce((s, pid) => s + (cpuSeconds(pid) || 0), 0);
  }
}

/** Samples the RSS of registered processes every `everyMs`, keeping the maximum per label. */
export class RssSampler {
  private readonly pids = new Map<number, string>();
  readonly max = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  samples = 0;

  watch(pid: number, label: string): void {
    this.pids.set(pid, label);
  }

  unwatch(pid: number): void {
    this.pids.delete(pid);
  }

  start(everyMs = 250): void {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  sample(): void {
    this.samples++;
    for (const [pid, label] of this.pids) {
      const mb = rssMb(pid);
      if (Number.isFinite(mb) && mb > (this.max.get(label) ?? 0)) this.max.set(label, mb);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The largest maximum among the labels `which` accepts (all by default). */
  overall(which: (label: string) => boolean = () => true): { label: string; mb: number } {
    let best = { label: '', mb: 0 };
    for (const [label, mb] of this.max) if (which(label) && mb > best.mb) best = { label, mb };
    return best;
  }
}
