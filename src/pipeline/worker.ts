import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import type { Logger } from 'pino';
import type { Sql } from '../db/database';
import type { CallbackApplier } from './callback-applier';
import type { ClaimedJob, JobQueue } from './job-queue';
import { crashDelayMs } from './retry-policy';
import type { SendPipeline } from './send-pipeline';
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

/**
 * How long the send loop waits (at most `pollMs`) before it looks for provider callbacks again after a look
 * that found no full batch: a busy loop runs many batches a second, and each look is a query.
 */
const CALLBACK_LOOK_MS = 100;

/**
 * Batches one worker keeps in flight: while some wait on the database (claim, routing, commits), the others send.
 * Two left the worker idle ~45 % of the time under a backlog; four keep it busy (docs/scaling.md). While due
 * workflow runs wait (a run loop's last batch was full), one.
 */
export const MAX_BATCHES = 4;

/**
 * Runs one transaction of the workflow runner advances at most (no provider call happens in it, so a batch
 * is bounded by database time only; larger batches than `concurrency` keep due runs from queueing: a burst
 * of 20,000 runs due within 3 s was resumed with lateness p99 1.2–1.25 s at 500 against 1.4 s at 200).
 */
export const RUN_BATCH = 500;

/**
 * Run batches one worker advances at once: while one batch waits on the database (its commit), the other
 * works, so a burst of due runs is taken about twice as fast. They take disjoint jobs and runs (`SKIP LOCKED`).
 */
const RUN_LOOPS = 2;

/**
 * A worker: two loops. One claims due `send` jobs (leased, since a send calls a provider) and runs them
 * through the send pipeline, up to `concurrency` at a time, renewing leases while it works; the other
 * advances due workflow runs through the runner, each batch in one transaction that takes its jobs. An
 * idle loop sleeps until its next job is due or `pollMs`, whichever is sooner (a local `wake` ends it).
 * `stop()` stops claiming, lets running jobs finish (within a bound) and releases nothing it does not hold.
 */
export class Worker {
  readonly id: string;
  private running = false;
  private loop?: Promise<void>;
  private runLoops: Promise<void>[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  /** When the send loop looks for provider callbacks next (see {@link CALLBACK_LOOK_MS}). */
  private callbacksAt = 0;
  /** Run loops whose last batch was full: due runs are waiting, and the send loop gives way (see {@link run}). */
  private runBacklog = 0;

  constructor(
    private readonly queue: JobQueue,
    private readonly pipeline: SendPipeline,
    private readonly options: WorkerOptions,
    private readonly logger: Logger,
    private readonly runner?: WorkflowRunner,
    /** Applies stored provider callbacks each loop (README, "Delivery tracking"); absent: not this worker's job. */
    private readonly callbacks?: CallbackApplier,
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
    const runner = this.runner;
    if (runner) this.runLoops = Array.from({ length: RUN_LOOPS }, () => this.runRuns(runner));
  }

  /** Stops claiming; waits up to `timeoutMs` for running jobs, then aborts their provider calls. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.running = false;
    this.queue.wake();
    await Promise.all([this.loop, ...this.runLoops]);
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
      const more = await this.applyCallbacks();
      const ran = this.runner ? await this.advanceRuns(this.runner) : 0;
      if (jobs.length || more || ran) {
        if (jobs.length) await this.process(jobs);
        idleSince = Date.now();
      } else {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  /**
   * Claims due jobs in batches of up to `concurrency` and runs each batch through the pipeline
   * together; up to {@link MAX_BATCHES} batches are in flight, so database writes of some overlap the sends of others.
   */
  private async run(): Promise<void> {
    while (this.running) {
      // callbacks first, one batch a loop: the intake never wakes workers, and a full batch means more wait
      let moreCallbacks = false;
      if (Date.now() >= this.callbacksAt) {
        moreCallbacks = await this.applyCallbacks();
        this.callbacksAt = moreCallbacks ? 0 : Date.now() + Math.min(CALLBACK_LOOK_MS, this.options.pollMs);
      }
      let claimed: ClaimedJob[] = [];
      // Due workflow runs come first: resuming one is a little database work that decides what happens on time
      // (a cancel or digest that arrives after its due time must not change it), while sends are the bulk. So
      // while runs wait, sends keep one batch in flight and leave the database to the run loops.
      const maxBatches = this.runBacklog > 0 ? 1 : MAX_BATCHES;
      if (this.inflight.size < maxBatches) {
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
      if (this.inflight.size >= maxBatches) await Promise.race(this.inflight);
      else if (claimed.length < this.options.concurrency && !moreCallbacks)
        await this.queue.waitForWork(await this.idleMs());
    }
  }

  /**
   * Applies one batch of pending provider callbacks (an idle worker asks with one indexed query); true
   * when a full batch was applied and more may be waiting. A failure is logged and retried next loop.
   */
  private async applyCallbacks(): Promise<boolean> {
    if (!this.callbacks) return false;
    try {
      return await this.callbacks.applyOnce(this.options.workspaceIds);
    } catch (err) {
      this.logger.error({ err, workerId: this.id }, 'could not apply provider callbacks');
      return false;
    }
  }

  /**
   * A loop of the workflow runner ({@link RUN_LOOPS} of them, beside the send loop): takes due runs in batches
   * of {@link RUN_BATCH}, each in one transaction, so a run that is due never waits behind provider calls. Idle, it sleeps until the
   * next run is due, at most `pollMs`.
   */
  private async runRuns(runner: WorkflowRunner): Promise<void> {
    let full = false;
    while (this.running) {
      const taken = await this.advanceRuns(runner);
      if (full !== taken >= RUN_BATCH) {
        full = !full;
        this.runBacklog += full ? 1 : -1;
      }
      if (!this.running) break;
      if (!full) await this.queue.waitForWork(await this.idleMs('run'));
    }
    if (full) this.runBacklog--;
  }

  /** One batch of due runs; returns how many jobs it took (0 on an error, which is logged). */
  private async advanceRuns(runner: WorkflowRunner): Promise<number> {
    try {
      const { taken, failed } = await runner.runDue(RUN_BATCH, this.options.workspaceIds);
      if (failed.length) {
        this.logger.error(
          {
            err: failed[0].error,
            workerId: this.id,
            workspaceIds: [...new Set(failed.map((f) => f.workspaceId))],
            runIds: failed.map((f) => f.runId),
          },
          'workflow runs failed; they will run again',
        );
      }
      return taken;
    } catch (err) {
      this.logger.error({ err, workerId: this.id }, 'could not advance workflow runs');
      return 0;
    }
  }

  /** How long an idle loop sleeps: until its next job is due (a retry, a waiting run), at most `pollMs`. */
  private async idleMs(kind: 'send' | 'run' = 'send'): Promise<number> {
    try {
      const next = await this.queue.nextDueAt(kind, this.options.workspaceIds);
      if (!next) return this.options.pollMs;
      return Math.max(0, Math.min(this.options.pollMs, next.getTime() - Date.now()));
    } catch {
      return this.options.pollMs;
    }
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
      // the jobs of messages the pipeline finishes in bulk are deleted in the transaction that finishes them
      const completeIn = (tx: Sql, messageIds: readonly string[]) => {
        const ids = new Set(messageIds);
        return this.queue.completeIn(
          tx,
          jobs.filter((j) => ids.has(j.messageId)),
          this.id,
        );
      };
      const outcomes = await this.pipeline.runMany(jobs, this.abort.signal, completeIn);
      await this.queue.complete(
        jobs.filter((_, i) => {
          const outcome = outcomes[i];
          return outcome.done && !outcome.completed;
        }),
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
