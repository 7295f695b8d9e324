import { EventEmitter } from 'node:events';
import type { Database, Sql } from '../db/database';
import { fromDbTime, toDbTime } from '../db/dialect';
import { insertRows, placeholders } from '../db/rows';
import type { MessageScheduler } from '../domain/message/message.service';
import type { RunScheduler } from '../domain/workflow/run-store';

/** What a job does: `send` runs the send pipeline for a message, `run` advances a workflow run. */
export type JobKind = 'send' | 'run';

/** A due `run` job taken inside the runner's transaction. */
export interface DueRun {
  id: string;
  workspaceId: number;
  runId: string;
  /** Tries so far (failed advances). */
  runs: number;
}

export interface ClaimedJob {
  id: string;
  workspaceId: number;
  kind: JobKind;
  /** The message id (`send`) or run id (`run`). */
  messageId: string;
  runs: number;
}

/**
 * The job queue, in the database: the jobs table is the queue, so no broker is needed and a job is
 * committed with the messages that need it (docs/architecture.md). A job is claimed by setting
 * it `running` with `run_at` pushed to the end of a lease; on MySQL/MariaDB the claim uses
 * `FOR UPDATE SKIP LOCKED`, so any number of workers share one database without taking the same job.
 * A worker that dies leaves its job due again when the lease runs out. SQLite has one in-process claimer.
 * Workflow runs use the same table (kind `run`, the run id in `message_id`): a waiting run is a job row
 * due at its `resume_at`.
 */
export class JobQueue implements MessageScheduler, RunScheduler {
  private readonly wakeups = new EventEmitter();

  constructor(private readonly db: Database) {
    this.wakeups.setMaxListeners(0);
  }

  async enqueue(tx: Sql, workspaceId: number, messageIds: string[], runAt = new Date()): Promise<void> {
    await this.insertJobs(
      tx,
      workspaceId,
      'send',
      messageIds.map((id) => ({ id, at: runAt })),
    );
  }

  async enqueueRunsIn(tx: Sql, workspaceId: number, due: readonly { runId: string; at: Date }[]): Promise<void> {
    await this.insertJobs(
      tx,
      workspaceId,
      'run',
      due.map((d) => ({ id: d.runId, at: d.at })),
    );
  }

  /** New `ready` jobs of one kind, each due at its time. */
  private async insertJobs(
    tx: Sql,
    workspaceId: number,
    kind: JobKind,
    jobs: readonly { id: string; at: Date }[],
  ): Promise<void> {
    const now = toDbTime(new Date());
    await insertRows(
      tx,
      'jobs',
      ['workspace_id', 'kind', 'message_id', 'status', 'run_at', 'runs', 'created_at', 'updated_at'],
      jobs,
      (j) => [workspaceId, kind, j.id, 'ready', toDbTime(j.at), 0, now, now],
    );
  }

  async dropRunJobsIn(tx: Sql, runIds: readonly string[]): Promise<void> {
    if (!runIds.length) return;
    await tx.run(
      `DELETE FROM jobs WHERE message_id IN (${placeholders(runIds.length)}) AND kind = 'run' AND status = 'ready'`,
      [...runIds],
    );
  }

  async advanceRunJobIn(tx: Sql, runId: string, at: Date): Promise<void> {
    await tx.run(
      `UPDATE jobs SET run_at = ?, updated_at = ? WHERE message_id = ? AND kind = 'run' AND status = 'ready' AND run_at > ?`,
      [toDbTime(at), toDbTime(new Date()), runId, toDbTime(at)],
    );
  }

  /**
   * Takes up to `limit` due `run` jobs out of the queue inside `tx` — the runner's transaction, so they are
   * claimed, worked on and deleted in one commit: a worker that dies mid-batch leaves them due (its
   * transaction rolls back), and no lease is needed. `FOR UPDATE SKIP LOCKED` on MySQL/MariaDB, so other
   * workers take other runs. Oldest due first.
   */
  async takeDueRunsIn(
    tx: Sql,
    limit: number,
    only: { workspaceIds?: readonly number[]; jobId?: string } = {},
  ): Promise<DueRun[]> {
    const { workspaceIds, jobId } = only;
    if (limit <= 0 || workspaceIds?.length === 0) return [];
    const where = [
      ...(workspaceIds ? [`workspace_id IN (${placeholders(workspaceIds.length)})`] : []),
      ...(jobId ? ['id = ?'] : []),
    ].map((w) => ` AND ${w}`);
    const rows = await tx.rows<{ id: string | number; workspace_id: number; message_id: string; runs: number }>(
      `SELECT id, workspace_id, message_id, runs FROM jobs WHERE kind = 'run' AND run_at <= ?${where.join('')} ORDER BY run_at LIMIT ${limit}${tx.dialect.forUpdateSkipLocked}`,
      [toDbTime(new Date()), ...(workspaceIds ?? []), ...(jobId ? [jobId] : [])],
    );
    return rows.map((r) => ({
      id: String(r.id),
      workspaceId: Number(r.workspace_id),
      runId: r.message_id,
      runs: Number(r.runs),
    }));
  }

  /** Deletes jobs taken by {@link takeDueRunsIn}, inside the same transaction. */
  async deleteIn(tx: Sql, jobIds: readonly string[]): Promise<void> {
    if (jobIds.length) await tx.run(`DELETE FROM jobs WHERE id IN (${placeholders(jobIds.length)})`, [...jobIds]);
  }

  /** A run job whose advance failed unexpectedly runs again at `at` (its try counted). */
  async deferRunJob(jobId: string, at: Date): Promise<void> {
    await this.db.run(`UPDATE jobs SET run_at = ?, runs = runs + 1, updated_at = ? WHERE id = ? AND kind = 'run'`, [
      toDbTime(at),
      toDbTime(new Date()),
      jobId,
    ]);
  }

  /** When the next ready job is due (null: none), so an idle worker sleeps no longer than needed. */
  async nextDueAt(kind: JobKind, workspaceIds?: readonly number[]): Promise<Date | null> {
    if (workspaceIds?.length === 0) return null;
    const only = workspaceIds ? ` AND workspace_id IN (${placeholders(workspaceIds.length)})` : '';
    const [row] = await this.db.rows<{ at: unknown }>(
      `SELECT run_at AS at FROM jobs WHERE status = 'ready' AND kind = ?${only} ORDER BY run_at LIMIT 1`,
      [kind, ...(workspaceIds ?? [])],
    );
    return row ? fromDbTime(row.at) : null;
  }

  wake(): void {
    this.wakeups.emit('wake');
  }

  /** Resolves on the next {@link wake} or after `ms`, whichever comes first. */
  waitForWork(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeups.off('wake', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeups.once('wake', done);
    });
  }

  /**
   * Claims up to `limit` due `send` jobs for `workerId`, leased for `leaseMs` (a send calls a provider,
   * outside any transaction); with `workspaceIds`, only jobs of those workspaces (a worker dedicated to
   * some tenants). `run` jobs are taken by the workflow runner's own transaction ({@link takeDueRunsIn}).
   */
  async claim(
    workerId: string,
    limit: number,
    leaseMs: number,
    workspaceIds?: readonly number[],
  ): Promise<ClaimedJob[]> {
    if (limit <= 0 || workspaceIds?.length === 0) return [];
    const only = workspaceIds ? ` AND workspace_id IN (${placeholders(workspaceIds.length)})` : '';
    return this.db.transaction(async (tx) => {
      const now = new Date();
      const rows = await tx.rows<{
        id: string | number;
        workspace_id: number;
        kind: JobKind;
        message_id: string;
        runs: number;
      }>(
        `SELECT id, workspace_id, kind, message_id, runs FROM jobs WHERE kind = 'send' AND run_at <= ?${only} ORDER BY run_at LIMIT ${limit}${tx.dialect.forUpdateSkipLocked}`,
        [toDbTime(now), ...(workspaceIds ?? [])],
      );
      if (!rows.length) return [];
      const ids = rows.map((r) => String(r.id));
      await tx.run(
        `UPDATE jobs SET status = 'running', run_at = ?, locked_by = ?, runs = runs + 1, updated_at = ? WHERE id IN (${placeholders(ids.length)})`,
        [toDbTime(new Date(now.getTime() + leaseMs)), workerId, toDbTime(now), ...ids],
      );
      return rows.map((r) => ({
        id: String(r.id),
        workspaceId: Number(r.workspace_id),
        kind: r.kind,
        messageId: r.message_id,
        runs: Number(r.runs) + 1,
      }));
    });
  }

  /** Extends the leases of jobs this worker still holds. */
  async extend(jobs: ClaimedJob[], workerId: string, leaseMs: number): Promise<void> {
    if (!jobs.length) return;
    await this.db.run(
      `UPDATE jobs SET run_at = ? WHERE locked_by = ? AND status = 'running' AND id IN (${placeholders(jobs.length)})`,
      [toDbTime(new Date(Date.now() + leaseMs)), workerId, ...jobs.map((j) => j.id)],
    );
  }

  /** The jobs are finished: they are deleted (only those this worker still holds). */
  async complete(jobs: readonly ClaimedJob[], workerId: string): Promise<void> {
    if (jobs.length) await this.db.transaction((tx) => this.completeIn(tx, jobs, workerId));
  }

  /** {@link complete} inside the caller's transaction: the one that finishes the jobs' messages. */
  async completeIn(tx: Sql, jobs: readonly Pick<ClaimedJob, 'id'>[], workerId: string): Promise<void> {
    if (!jobs.length) return;
    await tx.run(`DELETE FROM jobs WHERE locked_by = ? AND id IN (${placeholders(jobs.length)})`, [
      workerId,
      ...jobs.map((j) => j.id),
    ]);
  }

  /** The job must run again at `runAt` (a retry with backoff). */
  async reschedule(job: ClaimedJob, workerId: string, runAt: Date): Promise<void> {
    await this.db.run(
      `UPDATE jobs SET status = 'ready', run_at = ?, locked_by = NULL, updated_at = ? WHERE id = ? AND locked_by = ?`,
      [toDbTime(runAt), toDbTime(new Date()), job.id, workerId],
    );
  }

  /**
   * When the oldest due job became due (null: none is due). A job is due once its `run_at` has passed:
   * a ready job at its time, a leased send whose lease ran out (a claim takes it again) — so this is the
   * smallest `run_at` of each kind, two look-ups at the head of the index `(kind, run_at)`, as cheap on a
   * million jobs as on ten.
   */
  async oldestDue(): Promise<Date | null> {
    const [row] = await this.db.rows<{ send: unknown; run: unknown }>(
      `SELECT (SELECT run_at FROM jobs WHERE kind = 'send' ORDER BY run_at LIMIT 1) AS send,
         (SELECT run_at FROM jobs WHERE kind = 'run' ORDER BY run_at LIMIT 1) AS run`,
    );
    const times = [row?.send, row?.run].filter((at) => at !== null && at !== undefined).map((at) => fromDbTime(at));
    const oldest = Math.min(...times.map((at) => at.getTime()));
    return oldest <= Date.now() ? new Date(oldest) : null;
  }

  /**
   * Jobs waiting or running, and workflow runs waiting for a later time. Both are counts: they read every
   * job (from an index, not the rows), so their cost grows with the queue — about 50 ms per million jobs on
   * SQLite and 340 ms on MariaDB (docs/scaling.md, section 2); the metrics read them no more often than
   * that cost allows. A `run` job is never leased (the runner takes it inside its own transaction), so
   * every `run` job due later is a waiting run.
   */
  async counts(): Promise<{ jobs: number; waitingRuns: number }> {
    const [row] = await this.db.rows<{ jobs: number | string; waiting: number | string }>(
      `SELECT (SELECT COUNT(*) FROM jobs) AS jobs,
         (SELECT COUNT(*) FROM jobs WHERE kind = 'run' AND run_at > ?) AS waiting`,
      [toDbTime(new Date())],
    );
    return { jobs: Number(row?.jobs ?? 0), waitingRuns: Number(row?.waiting ?? 0) };
  }
}
