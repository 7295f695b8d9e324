import { Worker } from 'node:worker_threads';

/**
 * Moves SQLite's WAL checkpoints off the thread that serves requests.
 *
 * better-sqlite3 is synchronous, and by default the connection that commits also runs the automatic
 * checkpoint (every ~4 MB of WAL): it copies the WAL into the database file and fsyncs it while the
 * event loop waits, so every few commits one ingest group takes several times longer than the rest —
 * the tail of embedded batch ingest. With {@link startCheckpointer} the serving connection sets
 * `wal_autocheckpoint = 0` and a worker thread with its own connection runs `wal_checkpoint(PASSIVE)`
 * whenever the WAL has frames not yet copied. A passive checkpoint never blocks the writer.
 *
 * The WAL starts over from its beginning only when a write begins after a checkpoint has copied every
 * frame, and under steady writes a passive one is never caught up at that moment: the file would grow
 * without end. Past ~64 MB of WAL the thread therefore asks for a RESTART checkpoint, which needs the
 * write lock. Taking that lock by contention (SQLite's busy handler, polling while the writer commits
 * group after group) could take seconds while the WAL kept growing, and then blocked the serving thread
 * while hundreds of MB were copied (measured: 2 s stalls in embedded batch ingest). Instead the thread
 * sends `pause-writes`; the owner of the connection runs the RESTART between two of its write
 * transactions ({@link Checkpointer.setWriteGate}: the {@link Database} queues it like a transaction, so
 * its event loop goes on reading requests meanwhile), the thread copies the few frames the passive
 * checkpoints left and answers, and the next write starts the WAL over. `journal_size_limit`
 * truncates the file back to 64 MB.
 *
 * Durability is unchanged: a commit is durable once its WAL frames are synced (synchronous = FULL), before
 * and after this change. If the thread fails, the serving connection turns automatic checkpoints back on.
 */
export interface Checkpointer {
  /** Stops the thread after its current checkpoint (call before closing the database). */
  stop(): Promise<void>;
  /**
   * Lets the owner of the serving connection choose when a RESTART checkpoint runs: `gate` is called
   * with `restart` each time the thread needs one, and should run it while no write transaction is open
   * and let none start until it settles. Without a gate the thread takes the write lock by contention.
   */
  setWriteGate(gate: (restart: () => Promise<void>) => Promise<unknown>): void;
  /** RESTART checkpoints completed so far (the WAL starts over with the write after each). */
  restarts(): number;
}

/** Tuning of {@link startCheckpointer}; the defaults are what Pigeon runs with. */
export interface CheckpointerOptions {
  /** WAL frames (pages, 4 KB by default) past which the thread asks for a RESTART: ~64 MB. */
  restartFrames?: number;
  /** `onFailure` hears why the thread stopped on its own (automatic checkpoints are back on by then). */
  onFailure?: (reason: string) => void;
}

/** What the connection handed over needs to offer (better-sqlite3's `Database`). */
interface PragmaConnection {
  pragma(source: string): unknown;
}

/** Poll interval of the thread when the WAL has nothing to copy, in ms. */
const IDLE_POLL_MS = 20;
/** WAL frames (pages, 4 KB by default) past which the thread asks for a RESTART: ~64 MB. */
const RESTART_FRAMES = 16_384;
/** How long the serving side waits for the thread's RESTART before it lets writes go on anyway, in ms. */
const RESTART_WAIT_MS = 5_000;

// Plain JavaScript run with `eval: true`, so the same code works from `dist/` and under ts-node/jest.
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = FULL');
let stopping = false;
let go = false;
let wake = () => {};
parentPort.on('message', (m) => {
  if (m === 'stop') stopping = true;
  else if (m === 'go') go = true;
  wake();
});
const sleep = (ms) => new Promise((r) => {
  const timer = setTimeout(r, ms);
  wake = () => { clearTimeout(timer); r(); };
});
(async () => {
  let asked = false;
  while (!stopping) {
    if (go) {
      // writes are paused on the serving side: the write lock is free, and only the frames written since
      // the last passive checkpoint are left to copy
      go = false;
      const [row] = db.pragma('wal_checkpoint(RESTART)');
      // a reader kept it from finishing (busy): ask again on the next pass
      if (row.busy) asked = false;
      parentPort.postMessage({ restarted: row });
      continue;
    }
    // log: frames in the WAL; checkpointed: frames copied. Idle when everything is copied.
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    // asked once per WAL: after a restart the WAL starts over only with the next write
    if (row.log <= workerData.restartFrames) asked = false;
    else if (!asked) {
      asked = true;
      parentPort.postMessage('pause-writes');
    }
    await sleep(row.busy || row.checkpointed >= row.log ? workerData.idleMs : 0);
  }
  db.close();
  parentPort.postMessage('stopped');
})().catch((err) => {
  try { db.close(); } catch {}
  parentPort.postMessage({ failed: String(err && err.message || err) });
});
`;

/**
 * Starts the checkpoint thread for the SQLite file `file`, whose serving connection is `connection`.
 */
export function startCheckpointer(
  file: string,
  connection: PragmaConnection,
  options: CheckpointerOptions = {},
): Checkpointer {
  const onFailure = options.onFailure ?? (() => undefined);
  connection.pragma('wal_autocheckpoint = 0');
  // the WAL file is reused after each restart; truncate it back to 64 MB when it grew past that
  connection.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  const worker = new Worker(THREAD_SOURCE, {
    eval: true,
    workerData: {
      file,
      driver: require.resolve('better-sqlite3'),
      idleMs: IDLE_POLL_MS,
      restartFrames: options.restartFrames ?? RESTART_FRAMES,
    },
  });
  worker.unref();
  let stopped: Promise<void> | undefined;
  let gate: ((restart: () => Promise<void>) => Promise<unknown>) | undefined;
  let restarts = 0;
  /** Settles the RESTART the serving side is waiting for, if any. */
  let restarted: (() => void) | undefined;
  const restart = () =>
    new Promise<void>((resolve) => {
      if (stopped) return resolve();
      const timer = setTimeout(() => settle(), RESTART_WAIT_MS);
      const settle = () => {
        clearTimeout(timer);
        restarted = undefined;
        resolve();
      };
      restarted = settle;
      worker.postMessage('go');
    });
  const fallBack = (reason: string) => {
    restarted?.();
    if (stopped) return;
    stopped = Promise.resolve();
    connection.pragma('wal_autocheckpoint = 1000');
    onFailure(reason);
  };
  worker.on('message', (m: unknown) => {
    if (m === 'pause-writes') {
      if (gate) void gate(restart).catch(() => undefined);
      else worker.postMessage('go');
    } else if (m && typeof m === 'object' && 'restarted' in m) {
      if (!(m as { restarted: { busy?: number } }).restarted?.busy) restarts++;
      restarted?.();
    } else if (m && typeof m === 'object' && 'failed' in m) fallBack(String((m as { failed: unknown }).failed));
  });
  worker.on('error', (err) => fallBack(err.message));
  worker.on('exit', () => restarted?.());
  return {
    setWriteGate(g) {
      gate = g;
    },
    restarts: () => restarts,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 2000);
        worker.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        worker.on('message', (m) => m === 'stopped' && void worker.terminate());
        worker.postMessage('stop');
      });
      restarted?.();
      return stopped;
    },
  };
}
