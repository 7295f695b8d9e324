import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import type { Logger } from 'pino';
import type { ClaimedJob, JobQueue } from './job-queue';
import type { RunOutcome, SendPipeline } from './send-pipeline';
import type { WorkflowRunner } from './workflow-runner';

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

/** Batches one worker keeps in flight. */
const MAX_BATCHES = 2;

/** Backoff for a run that failed unexpectedly (database down, a bug): not a provider retry. */
function crashDelayMs(runs: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.min(runs, 6));
}

/**
 * A worker: claims due jobs from the queue and runs each — the send pipeline for a message (`send`), the
 * workflow runner for a run (`run`) — up to `concurrency` at a time, renewing leases while it works. An
 * idle worker sleeps until the next job is due or `pollMs`, whichever is sooner (a local `wake` ends it).
 * `stop()` stops claiming, lets running jobs finish (within a bound) and releases nothing it does not hold.
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
    private readonly runner?: WorkflowRunner,
  ) {
    this.id = options.id ?? `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    // every provider call in flight listens to this one signal: hundreds at once are expected, not a leak
    setMaxListeners(0, this.abort.signal);
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
        await this.process(jobs);
        idleSince = Date.now();
      } else {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  /**
   * Claims due jobs in batches of up to `concurrency` and runs each batch through the pipeline
   * together; up to two batches are in flight, so database writes of one overlap the sends of the other.
   */
  private async run(): Promise<void> {
    while (this.running) {
      let claimed: ClaimedJob[] = [];
      if (this.inflight.size < MAX_BATCHES) {
        try {
          claimed = await this.queue.claim(
            this.id,
            this.options.concurrency,
            this.options.leaseMs,
            this.options.workspaceIds,
          );
        } catch (err) {
          this.logger.error({ err, workerId: this.id }, 'could not claim jobs');
        }
      }
      if (claimed.length) {
        const p = this.process(claimed).finally(() => this.inflight.delete(p));
        this.inflight.add(p);
      }
      if (!this.running) break;
      if (this.inflight.size >= MAX_BATCHES) await Promise.race(this.inflight);
      else if (claimed.length < this.options.concurrency) await this.queue.waitForWork(await this.idleMs());
    }
  }

  /** How long an idle worker sleeps: until the next job is due (a waiting run), at most `pollMs`. */
  private async idleMs(): Promise<number> {
    try {
      const next = await this.queue.nextDueAt(this.options.workspaceIds);
      if (!next) return this.options.pollMs;
      return Math.max(0, Math.min(this.options.pollMs, next.getTime() - Date.now()));
    } catch {
      return this.options.pollMs;
    }
  }

  /** Runs claimed jobs by kind: messages through the send pipeline, runs through the workflow runner. */
  private async runJobs(jobs: ClaimedJob[]): Promise<RunOutcome[]> {
    const sends = jobs.filter((j) => j.kind !== 'run');
    const runs = jobs.filter((j) => j.kind === 'run');
    const noRunner = new Error('this worker has no workflow runner');
    const [sent, ran] = await Promise.all([
      sends.length ? this.pipeline.runMany(sends, this.abort.signal) : [],
      runs.length
        ? this.runner
          ? this.runner.runMany(runs, this.id)
          : runs.map(() => ({ done: false as const, failed: noRunner }))
        : [],
    ]);
    const byId = new Map<string, RunOutcome>();
    sends.forEach((j, i) => byId.set(j.id, sent[i]));
    runs.forEach((j, i) => byId.set(j.id, ran[i]));
    return jobs.map((j) => byId.get(j.id)!);
  }

  private async process(jobs: ClaimedJob[]): Promise<void> {
    const log = this.logger.child({ workerId: this.id });
    const heartbeat = setInterval(
      () => {
        this.queue
          .extend(jobs, this.id, this.options.leaseMs)
          .catch((err) => log.warn({ err }, 'could not renew leases'));
      },
      Math.max(100, Math.floor(this.options.leaseMs / 3)),
    );
    try {
      const outcomes = await this.runJobs(jobs);
      // a run job is taken out of the queue by the runner's own transaction: only send jobs are left to delete
      await this.queue.complete(
        jobs.filter((j, i) => outcomes[i].done && j.kind !== 'run'),
        this.id,
      );
      // jobs that failed unexpectedly (only theirs: one workspace's failure never holds up another's),
      // one log line per distinct failure
      const failures = new Map<unknown, ClaimedJob[]>();
      for (const [i, job] of jobs.entries()) {
        const outcome = outcomes[i];
        if (outcome.done) continue;
        if ('failed' in outcome) failures.set(outcome.failed, [...(failures.get(outcome.failed) ?? []), job]);
        else await this.queue.reschedule(job, this.id, outcome.retryAt);
      }
      for (const [err, failed] of failures) {
        log.error(
          {
            err,
            workspaceIds: [...new Set(failed.map((j) => j.workspaceId))],
            messageIds: failed.map((j) => j.messageId),
          },
          'pipeline run failed; the jobs will run again',
        );
        for (const job of failed) {
          await this.queue.reschedule(job, this.id, new Date(Date.now() + crashDelayMs(job.runs)));
        }
      }
    } catch (err) {
      log.error({ err, messageIds: jobs.map((j) => j.messageId) }, 'pipeline run failed; the jobs will run again');
      for (const job of jobs) {
        await this.queue.reschedule(job, this.id, new Date(Date.now() + crashDelayMs(job.runs))).catch(() => undefined);
      }
    } finally {
      clearInterval(heartbeat);
    }
  }
}
