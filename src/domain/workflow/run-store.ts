import type { Sql } from '../../db/database';
import { toDbTime } from '../../db/dialect';
import { insertRows, placeholders } from '../../db/rows';
import type { RunHistoryDetails, RunHistoryEntry } from './run-history.types';
import type { LeadingWait } from './workflow-steps';
import { dropBucketsOfIn } from './step-stores';
import { OPEN_RUN_STATUSES, toRun, WorkflowRunStatus, type RunRow, type WorkflowRun } from './workflow-run';

/**
 * Where runs are handed to the workers. The pipeline's job queue implements it; the domain only knows
 * this interface (it never imports the pipeline). A run that waits is a job with a due time.
 */
export interface RunScheduler {
  /** Queues each run to be advanced at its time, inside the caller's transaction. */
  enqueueRunsIn(tx: Sql, workspaceId: number, due: readonly { runId: string; at: Date }[]): Promise<void>;
  /** Removes the waiting (not running) jobs of runs that ended, inside the caller's transaction. */
  dropRunJobsIn(tx: Sql, runIds: readonly string[]): Promise<void>;
  /** Makes a run's waiting job due at `at` (a digest bucket closed early by `maxItems`). */
  advanceRunJobIn(tx: Sql, runId: string, at: Date): Promise<void>;
  /** Called after the transaction committed, so a worker in this process starts at once. */
  wake(): void;
}

/**
 * An SQL condition, for other tables' owners: true when `refColumn` (a column holding a run id) names a
 * run that has not ended, which still reads its event (`event.*` in conditions and templates).
 */
export function runReadsEvent(refColumn: string): { sql: string; params: unknown[] } {
  return {
    sql: `EXISTS (SELECT 1 FROM workflow_runs r WHERE r.id = ${refColumn} AND r.status IN (${placeholders(OPEN_RUN_STATUSES.length)}))`,
    params: [...OPEN_RUN_STATUSES],
  };
}

/** A run to create. */
export interface NewRun {
  id: string;
  workflowId: string;
  version: number | null;
  userId: string;
  eventId: string | null;
  /** The event's Segment messageId (its identity as a digest item); the run id when absent. */
  sourceKey: string | null;
  data: Record<string, unknown>;
  cancelKey: string | null;
  idempotencyKey: string | null;
  eventTimezone: string | null;
  source: 'event' | 'trigger';
  /** The run's first step is a wait it can start at once (see `leadingWait`): it is created WAITING. */
  firstWait?: LeadingWait | null;
}

/** Who cancels: `cancelRuns` (every recipient) or an event (its own user only). */
export interface CancelRequest {
  workflowId: string;
  cancelKey: string;
  /** Only this user's runs (a cancelling event); every recipient's when absent. */
  userId?: string;
  by: 'cancelRuns' | 'event';
  eventId?: string;
  eventName?: string;
}

const RUN_COLUMNS = [
  'id',
  'workspace_id',
  'workflow_id',
  'version',
  'user_id',
  'event_id',
  'source_key',
  'data',
  'status',
  'reason',
  'step_index',
  'step_ref',
  'resume_at',
  'cancel_key',
  'idempotency_key',
  'timezone',
  'event_timezone',
  'digest',
  'created_at',
  'updated_at',
];

/**
 * The only writer of `workflow_runs` and `workflow_run_history` (docs/architecture.md): runs are created
 * with their first history entry and their job in the caller's transaction, locked and saved by the
 * runner in the transaction that claims their work, and cancelled as a committed fact.
 */
export class RunStore {
  constructor(private readonly scheduler: RunScheduler) {}

  /** Creates runs (RUNNING, at their first step), their STARTED entries and their jobs, due at once. */
  async createRunsIn(tx: Sql, workspaceId: number, runs: readonly NewRun[], at: Date): Promise<void> {
    if (!runs.length) return;
    const now = toDbTime(at);
    await insertRows(tx, 'workflow_runs', RUN_COLUMNS, runs, (r) => [
      r.id,
      workspaceId,
      r.workflowId,
      r.version,
      r.userId,
      r.eventId,
      r.sourceKey ?? r.id,
      JSON.stringify(r.data),
      r.firstWait ? WorkflowRunStatus.WAITING : WorkflowRunStatus.RUNNING,
      null,
      0,
      r.firstWait?.ref ?? null,
      r.firstWait ? toDbTime(r.firstWait.until) : null,
      r.cancelKey,
      r.idempotencyKey,
      null,
      r.eventTimezone,
      null,
      now,
      now,
    ]);
    await this.appendHistoryIn(
      tx,
      runs.flatMap((r): (RunHistoryEntry & { runId: string; at: Date })[] => [
        {
          runId: r.id,
          at,
          type: 'STARTED',
          detail: {
            workflowId: r.workflowId,
            version: r.version,
            source: r.source,
            eventId: r.eventId,
            idempotencyKey: r.idempotencyKey,
            cancelKey: r.cancelKey,
          },
        },
        ...(r.firstWait
          ? [
              {
                runId: r.id,
                at,
                type: 'WAITING' as const,
                detail: {
                  ref: r.firstWait.ref,
                  until: r.firstWait.until.toISOString(),
                  zone: null,
                  reason: 'DELAY' as const,
                  because: r.firstWait.because,
                  localUntil: r.firstWait.until.toISOString(),
                },
              },
            ]
          : []),
      ]),
    );
    await this.scheduler.enqueueRunsIn(
      tx,
      workspaceId,
      runs.map((r) => ({ runId: r.id, at: r.firstWait?.until ?? at })),
    );
  }

  /** Queues runs to be advanced at their times (a run that waits), in `tx`. */
  async scheduleIn(tx: Sql, workspaceId: number, due: readonly { runId: string; at: Date }[]): Promise<void> {
    if (due.length) await this.scheduler.enqueueRunsIn(tx, workspaceId, due);
  }

  /**
   * Reads runs and locks them to the end of `tx` (MySQL/MariaDB; SQLite has one writer), by id; with
   * `skipLocked`, runs another transaction holds are left out instead of waited for.
   */
  async lockIn(
    tx: Sql,
    workspaceId: number,
    ids: readonly string[],
    options: { skipLocked?: boolean } = {},
  ): Promise<WorkflowRun[]> {
    if (!ids.length) return [];
    const lock = options.skipLocked ? tx.dialect.forUpdateSkipLocked : tx.dialect.forUpdate;
    const rows = await tx.rows<RunRow>(
      `SELECT * FROM workflow_runs WHERE workspace_id = ? AND id IN (${placeholders(ids.length)}) ORDER BY id${lock}`,
      [workspaceId, ...ids],
    );
    return rows.map(toRun);
  }

  /**
   * Writes runs' state as it is in memory, in multi-row upserts that only ever update (the runs exist: they
   * were locked by {@link lockIn} in the same transaction).
   */
  async saveManyIn(tx: Sql, runs: readonly WorkflowRun[]): Promise<void> {
    if (!runs.length) return;
    const d = tx.dialect;
    const changed = ['status', 'reason', 'step_index', 'step_ref', 'resume_at', 'timezone', 'digest', 'updated_at'];
    await insertRows(
      tx,
      'workflow_runs',
      RUN_COLUMNS,
      runs,
      (r) => [
        r.id,
        r.workspaceId,
        r.workflowId,
        r.version,
        r.userId,
        r.eventId,
        r.sourceKey,
        JSON.stringify(r.data),
        r.status,
        r.reason,
        r.stepIndex,
        r.step,
        r.resumeAt ? toDbTime(r.resumeAt) : null,
        r.cancelKey,
        r.idempotencyKey,
        r.timezone,
        r.eventTimezone,
        r.digest ? JSON.stringify(r.digest) : null,
        toDbTime(r.createdAt),
        toDbTime(r.updatedAt),
      ],
      d.onConflictUpdate(['id'], changed.map((c) => `${c} = ${d.inserted(c)}`).join(', ')),
    );
  }

  async appendHistoryIn(tx: Sql, entries: readonly (RunHistoryEntry & { runId: string; at: Date })[]): Promise<void> {
    await insertRows(tx, 'workflow_run_history', ['run_id', 'at', 'type', 'detail'], entries, (e) => [
      e.runId,
      toDbTime(e.at),
      e.type,
      JSON.stringify(e.detail),
    ]);
  }

  /**
   * Ends the RUNNING and WAITING runs a cancel names, CANCELLED, with the entry in their history, and
   * drops their waiting jobs and the digest buckets they were collecting — all in `tx`, so once it commits
   * no step of those runs does anything (each step locks its run and checks its status in the transaction
   * that does its work). Returns their ids.
   */
  async cancelIn(tx: Sql, workspaceId: number, request: CancelRequest, at: Date): Promise<string[]> {
    const where = ['workspace_id = ?', 'workflow_id = ?', 'cancel_key = ?'];
    const params: unknown[] = [workspaceId, request.workflowId, request.cancelKey];
    if (request.userId !== undefined) {
      where.push('user_id = ?');
      params.push(request.userId);
    }
    const open = OPEN_RUN_STATUSES;
    const rows = await tx.rows<{ id: string }>(
      `SELECT id FROM workflow_runs WHERE ${where.join(' AND ')} AND status IN (${placeholders(open.length)}) ORDER BY id${tx.dialect.forUpdate}`,
      [...params, ...open],
    );
    const ids = rows.map((r) => r.id);
    await this.endCancelledIn(tx, ids, at, {
      by: request.by,
      cancelKey: request.cancelKey,
      ...(request.eventId ? { eventId: request.eventId } : {}),
      ...(request.eventName ? { eventName: request.eventName } : {}),
    });
    return ids;
  }

  /**
   * `cancelRun`: locks one run of the workspace (like {@link cancelIn}, `FOR UPDATE`, so a batch of the runner
   * holding it is waited for and a later one sees `CANCELLED`) and, when it is RUNNING or WAITING, ends it the
   * way {@link cancelIn} ends each of its runs. Returns the run as it was before (null: no such run here); the
   * caller tells an ended run by its status.
   */
  async cancelOneIn(tx: Sql, workspaceId: number, runId: string, at: Date): Promise<WorkflowRun | null> {
    const [run] = await this.lockIn(tx, workspaceId, [runId]);
    if (!run) return null;
    if (!OPEN_RUN_STATUSES.includes(run.status)) return run;
    await this.endCancelledIn(tx, [run.id], at, { by: 'cancelRun', cancelKey: run.cancelKey });
    return run;
  }

  /** Ends locked open runs CANCELLED: status, history entry, waiting jobs, digest buckets — all in `tx`. */
  private async endCancelledIn(
    tx: Sql,
    ids: readonly string[],
    at: Date,
    detail: RunHistoryDetails['CANCELLED'],
  ): Promise<void> {
    if (!ids.length) return;
    await tx.run(
      `UPDATE workflow_runs SET status = ?, resume_at = NULL, updated_at = ? WHERE id IN (${placeholders(ids.length)})`,
      [WorkflowRunStatus.CANCELLED, toDbTime(at), ...ids],
    );
    await this.appendHistoryIn(
      tx,
      ids.map((runId) => ({ runId, at, type: 'CANCELLED' as const, detail })),
    );
    await this.scheduler.dropRunJobsIn(tx, ids);
    // a cancelled run that was collecting a digest: its bucket closes with it
    await dropBucketsOfIn(tx, ids, at);
  }

  /** Makes a WAITING run due at `at` (its digest bucket was closed by another run). */
  async resumeEarlyIn(tx: Sql, runId: string, at: Date): Promise<void> {
    const changed = await tx.run(
      'UPDATE workflow_runs SET resume_at = ?, updated_at = ? WHERE id = ? AND status = ? AND resume_at > ?',
      [toDbTime(at), toDbTime(at), runId, WorkflowRunStatus.WAITING, toDbTime(at)],
    );
    if (changed) await this.scheduler.advanceRunJobIn(tx, runId, at);
  }

  wake(): void {
    this.scheduler.wake();
  }
}
