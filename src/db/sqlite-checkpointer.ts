import { Worker } from 'node:worker_threads';

/**
 * Moves SQLite's WAL checkpoints off the thread that serves requests.
 *
 * better-sqlite3 is synchronous, and by default the connection that commits also runs the automatic
 * checkpoint (every ~4 MB of WAL): it copies the WAL into the database file and fsyncs it while the
 * event loop waits, so every few commits one ingest group takes several times longer than the rest —
 * the tail of embedded batch ingest. With {@link startCheckpointer} the serving connection sets
 * `wal_autocheckpoint = 0` and a worker thread with its own connection runs `wal_checkpoint(PASSIVE)`
 * whenever the WAL has frames not yet copied. A passive checkpoint never blocks the writer; the writer
 * starts the WAL over once a checkpoint has caught up. Under steady load that moment may not come, so past
 * ~64 MB of WAL the thread runs a RESTART checkpoint, which waits for the writer between two commits (the
 * writer then waits at most for the copy of the last frames), and `journal_size_limit` truncates the file
 * back to 64 MB.
 *
 * Durability is unchanged: a commit is durable once its WAL frames are synced (synchronous = FULL), before
 * and after this change. If the thread fails, the serving connection turns automatic checkpoints back on.
 */
export interface Checkpointer {
  /** Stops the thread after its current checkpoint (call before closing the database). */
  stop(): Promise<void>;
}

/** What the connection handed over needs to offer (better-sqlite3's `Database`). */
interface PragmaConnection {
  pragma(source: string): unknown;
}

/** Poll interval of the thread when the WAL has nothing to copy, in ms. */
const IDLE_POLL_MS = 20;
/** WAL frames (pages, 4 KB by default) past which the thread makes the writer start the WAL over: ~64 MB. */
const RESTART_FRAMES = 16_384;

// Plain JavaScript run with `eval: true`, so the same code works from `dist/` and under ts-node/jest.
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = FULL');
let stopping = false;
parentPort.on('message', (m) => { if (m === 'stop') stopping = true; });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  while (!stopping) {
    // PASSIVE never blocks the writer, but under steady writes a checkpoint rarely catches up at the
    // moment a write begins, which is when the writer starts the WAL over; past restartFrames, RESTART
    // waits for the writer between two commits and makes the next one start the WAL over
    const [peek] = db.pragma('wal_checkpoint(PASSIVE)');
    const row = peek.log > workerData.restartFrames ? db.pragma('wal_checkpoint(RESTART)')[0] : peek;
    // log: frames in the WAL; checkpointed: frames copied. Idle when everything is copied.
    if (row.busy || row.checkpointed >= row.log) await sleep(workerData.idleMs);
    else await sleep(0);
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
 * `onFailure` hears why the thread stopped on its own (automatic checkpoints are back on by then).
 */
export function startCheckpointer(
  file: string,
  connection: PragmaConnection,
  onFailure: (reason: string) => void = () => undefined,
): Checkpointer {
  connection.pragma('wal_autocheckpoint = 0');
  // the WAL file is reused after each restart; truncate it back to 64 MB when it grew past that
  connection.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  const worker = new Worker(THREAD_SOURCE, {
    eval: true,
    workerData: {
      file,
      driver: require.resolve('better-sqlite3'),
      idleMs: IDLE_POLL_MS,
      restartFrames: RESTART_FRAMES,
    },
  });
  worker.unref();
  let stopped: Promise<void> | undefined;
  const fallBack = (reason: string) => {
    if (stopped) return;
    stopped = Promise.resolve();
    connection.pragma('wal_autocheckpoint = 1000');
    onFailure(reason);
  };
  worker.on('message', (m: unknown) => {
    if (m && typeof m === 'object' && 'failed' in m) fallBack(String((m as { failed: unknown }).failed));
  });
  worker.on('error', (err) => fallBack(err.message));
  return {
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
      return stopped;
    },
  };
}
