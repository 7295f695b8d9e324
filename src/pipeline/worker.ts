import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type { ClaimedJob, JobQueue } from './job-queue';
import type { SendPipeline } from './send-pipeline';

export interface WorkerOptions {
  /** Jobs run at once by this worker. */
  concurrency: number;
  /** How long a claimed job is held; renewed while it runs, so only a dead worker loses it. */
  leaseMs: number;
  /** How often an idle worker looks for due jobs (a local `wake` starts it sooner). */
  pollMs: number;
  id?: string;
  /** Only these workspaces' jobs (read at every claim); all workspaces when absent. */
  workspaceIds?: readonly number[];
}

/** Backoff for a run that failed unexpectedly (database down, a bug): not a provider retry. */
function crashDelayMs(runs: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.min(runs, 6));
}

/**
 * A worker: claims due jobs from the queue and runs the send pipeline for each, up to `concurrency`
 * at a time, renewing leases while it works. `stop()` stops claiming, lets running jobs finish
 * (within a bound) and releases nothing it does not hold.
 */
export class Worker {
  readonly id: string;
  private running = false;
  private loop?: Promise<void>;
  private readonly inflight = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(
    private readonly queue: JobQueue,
    private readonly pipeline: SendPipeline,
    private readonly options: WorkerOptions,
    private readonly logger: Logger,
  ) {
    this.id = options.id ?? `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops claiming; waits up to `timeoutMs` for running jobs, then aborts their provider calls. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.running = false;
    this.queue.wake();
    await this.loop;
    const timer = setTimeout(() => this.abort.abort(), timeoutMs);
    await Promise.allSettled([...this.inflight]);
    clearTimeout(timer);
  }

  /** Runs every job that is due now or becomes due within `untilIdleMs`, then resolves (tests, scripts). */
  async drain(untilIdleMs = 2000): Promise<void> {
    let idleSince = Date.now();
    while (Date.now() - idleSince < untilIdleMs) {
      const jobs = await this.queue.claim(
        this.id,
        this.options.concurrency,
        this.options.leaseMs,
        this.options.workspaceIds,
      );
      if (jobs.length) {
        await Promise.all(jobs.map((job) => this.process(job)));
        idleSince = Date.now();
      } else {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      const free = this.options.concurrency - this.inflight.size;
      let claimed: ClaimedJob[] = [];
      if (free > 0) {
        try {
          claimed = await this.queue.claim(this.id, free, this.options.leaseMs, this.options.workspaceIds);
        } catch (err) {
          this.logger.error({ err, workerId: this.id }, 'could not claim jobs');
        }
      }
      for (const job of claimed) {
        const p = this.process(job).finally(() => this.inflight.delete(p));
        this.inflight.add(p);
      }
      if (!this.running) break;
      if (free <= 0) await Promise.race(this.inflight);
      else if (claimed.length < free) await this.queue.waitForWork(this.options.pollMs);
    }
  }

  private async process(job: ClaimedJob): Promise<void> {
    const log = this.logger.child({ jobId: job.id, messageId: job.messageId, workerId: this.id });
    const heartbeat = setInterval(
      () => {
        this.queue
          .extend(job, this.id, this.options.leaseMs)
          .catch((err) => log.warn({ err }, 'could not renew the lease'));
      },
      Math.max(100, Math.floor(this.options.leaseMs / 3)),
    );
    try {
      const outcome = await this.pipeline.run(job.workspaceId, job.messageId, this.abort.signal);
      if (outcome.done) await this.queue.complete(job, this.id);
      else await this.queue.reschedule(job, this.id, outcome.retryAt);
    } catch (err) {
      log.error({ err }, 'pipeline run failed; will run again');
      await this.queue.reschedule(job, this.id, new Date(Date.now() + crashDelayMs(job.runs))).catch(() => undefined);
    } finally {
      clearInterval(heartbeat);
    }
  }
}
