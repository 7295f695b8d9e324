import pino from 'pino';
import type { ClaimedJob, JobQueue } from '../../src/pipeline/job-queue';
import type { RunOutcome, SendPipeline } from '../../src/pipeline/send-pipeline';
import { MAX_BATCHES, RUN_BATCH, Worker } from '../../src/pipeline/worker';
import type { WorkflowRunner } from '../../src/pipeline/workflow-runner';

/**
 * A worker's loops share one database: while due workflow runs wait (a run loop's last batch was full), the send
 * loop keeps one batch in flight instead of {@link MAX_BATCHES} — and never none, so sends go on during a long
 * backlog of runs. Driven with in-memory stand-ins for the queue, the pipeline and the runner, so the batches in
 * flight can be counted exactly.
 */
describe('worker: due runs before sends', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('sends one batch at a time while runs wait, all of them once the runs are done', async () => {
    let pendingSends = 0;
    let seq = 0;
    let waker: (() => void) | undefined;
    const queue = {
      claim: async (_id: string, n: number): Promise<ClaimedJob[]> => {
        const k = Math.min(n, pendingSends);
        pendingSends -= k;
        return Array.from({ length: k }, () => {
          seq++;
          return { id: String(seq), workspaceId: 1, kind: 'send', messageId: `m${seq}`, runs: 0 } as ClaimedJob;
        });
      },
      wake: () => waker?.(),
      waitForWork: (ms: number) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(ms, 5));
          waker = () => {
            clearTimeout(timer);
            resolve();
          };
        }),
      nextDueAt: async () => null,
      extend: async () => undefined,
      complete: async () => undefined,
      completeIn: async () => undefined,
      reschedule: async () => undefined,
    } as unknown as JobQueue;

    // the runner reports full batches (a backlog) for its first 30 calls; the sends appear with the first one
    let runCalls = 0;
    let backlog = false;
    const runner = {
      runDue: async (limit: number) => {
        await sleep(3);
        runCalls++;
        if (runCalls === 1) {
          backlog = true;
          pendingSends = 40 * 50;
        }
        if (runCalls > 30) backlog = false;
        return { taken: backlog ? limit : 0, failed: [] };
      },
    } as unknown as WorkflowRunner;

    let inflight = 0;
    const during: number[] = [];
    const after: number[] = [];
    let delivered = 0;
    const pipeline = {
      runMany: async (jobs: ClaimedJob[]): Promise<RunOutcome[]> => {
        inflight++;
        (backlog ? during : after).push(inflight);
        await sleep(5);
        inflight--;
        delivered += jobs.length;
        return jobs.map(() => ({ done: true, completed: true }));
      },
    } as unknown as SendPipeline;

    const worker = new Worker(
      queue,
      pipeline,
      { concurrency: 50, leaseMs: 30_000, pollMs: 5 },
      pino({ level: 'silent' }),
      runner,
    );
    worker.start();
    for (let i = 0; i < 400 && delivered < 40 * 50; i++) await sleep(10);
    await worker.stop();

    expect(delivered).toBe(40 * 50);
    expect(RUN_BATCH).toBeGreaterThan(50);
    // while runs waited, sends went on, one batch at a time
    expect(during.length).toBeGreaterThan(0);
    expect(Math.max(...during)).toBe(1);
    // afterwards the send loop fills its batches again
    expect(Math.max(...after)).toBe(MAX_BATCHES);
  });
});
