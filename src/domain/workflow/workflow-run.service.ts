import type { Database, Sql } from '../../db/database';
import { isUniqueViolation } from '../../db/database';
import { toDbTime } from '../../db/dialect';
import { placeholders } from '../../db/rows';
import { isJsonObject, valueAt } from '../../lib/json';
import { InvalidInputError, NotFoundError } from '../domain-error';
import { timeOrderedId } from '../ids';
import type { MessageHistory } from '../message/message-history.entity';
import { toHistory } from '../message/message-rows';
import { newestFirstPage } from '../newest-first';
import type { Page } from '../pagination';
import type { RequestContext } from '../request-context';
import type { RunStore } from './run-store';
import { toRun, type RunRow, type WorkflowRun, type WorkflowRunStatus } from './workflow-run';
import type { WorkflowDefinition } from './workflow.entity';
import { leadingWait } from './workflow-steps';
import type { WorkflowService } from './workflow.service';

/** What `trigger` takes. */
export interface TriggerInput {
  workflowKey: string;
  userId: string;
  data?: Record<string, unknown> | null;
  /** Unique per workflow: the same key returns the same run. */
  idempotencyKey?: string | null;
  /** Replaces the cancel key the workflow's `cancelKeyPath` would give. */
  cancelKey?: string | null;
}

export interface WorkflowRunFilter {
  workflowKey?: string | null;
  status?: WorkflowRunStatus | null;
  userId?: string | null;
  since?: Date | null;
  until?: Date | null;
}

/** A run a mapped track starts, inside the ingest transaction. */
export interface EventRunStart {
  /** The run's id (the event's claim names it); made here when absent. */
  id?: string;
  workflowId: string;
  userId: string;
  data: Record<string, unknown>;
  eventId: string;
  /** The event's Segment messageId. */
  messageId: string;
  /** What a cancel key path may read besides `data`: the event's payload. */
  event: Record<string, unknown>;
  eventTimezone: string | null;
}

/** A cancelling event, inside the ingest transaction. */
export interface EventCancel {
  workflowId: string;
  keyPath: string;
  userId: string;
  data: Record<string, unknown>;
  event: Record<string, unknown>;
  eventId: string;
  eventName: string;
}

/** A cancel key as stored: a string or number at the path, 1–255 characters; anything else gives none. */
export function cancelKeyOf(scope: Record<string, unknown>, path: string | null): string | null {
  if (!path) return null;
  const value = valueAt(scope, path);
  const text =
    typeof value === 'string' ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : null;
  return text && text.length <= 255 ? text : null;
}

const checkText = (field: string, value: unknown, optional: boolean): string | null => {
  if (optional && (value === undefined || value === null)) return null;
  if (typeof value !== 'string' || value === '' || value.length > 255)
    throw new InvalidInputError(`${field} must be 1–255 characters`, { field });
  return value;
};

/**
 * Workflow runs (README, "Workflows"): started by mapped tracks (the event mapper calls
 * {@link startForEventsIn} in the ingest transaction) and by `trigger`; cancelled by `cancelRuns` and by
 * cancelling events; read with their history. The runner in the pipeline moves them on; every write goes
 * through the {@link RunStore}.
 */
export class WorkflowRunService {
  constructor(
    private readonly db: Database,
    private readonly workflows: WorkflowService,
    private readonly store: RunStore,
  ) {}

  /** Starts a run of a workflow (published or not: an unpublished one's run ends FAILED, UNPUBLISHED). */
  async trigger(ctx: RequestContext, input: TriggerInput): Promise<WorkflowRun> {
    checkText('workflowKey', input.workflowKey, false);
    const userId = checkText('userId', input.userId, false)!;
    const idempotencyKey = checkText('idempotencyKey', input.idempotencyKey, true);
    const explicitCancelKey = checkText('cancelKey', input.cancelKey, true);
    if (input.data !== undefined && input.data !== null && !isJsonObject(input.data))
      throw new InvalidInputError('data must be a JSON object', { field: 'data' });
    const workflow = await this.workflows.get(ctx, { key: input.workflowKey });
    if (!workflow) throw new NotFoundError('Workflow', input.workflowKey);
    if (idempotencyKey) {
      const existing = await this.byIdempotencyKey(ctx, workflow.id, idempotencyKey);
      if (existing) return existing;
    }
    const data = input.data ?? {};
    const id = timeOrderedId();
    const now = new Date();
    try {
      await this.db.transaction(async (tx) => {
        const published = (await this.workflows.publishedIn(tx, ctx.workspaceId, [workflow.id])).get(workflow.id);
        await this.store.createRunsIn(
          tx,
          ctx.workspaceId,
          [
            {
              id,
              workflowId: workflow.id,
              version: published?.version ?? null,
              userId,
              eventId: null,
              sourceKey: null,
              data,
              cancelKey: explicitCancelKey ?? cancelKeyOf({ data }, published?.definition?.cancelKeyPath ?? null),
              idempotencyKey,
              eventTimezone: null,
              source: 'trigger',
              firstWait: published?.definition ? leadingWait(published.definition.steps, now) : null,
            },
          ],
          now,
        );
      });
    } catch (err) {
      // the same key twice at once: the other call created it
      if (idempotencyKey && isUniqueViolation(err))
        return (await this.byIdempotencyKey(ctx, workflow.id, idempotencyKey))!;
      throw err;
    }
    this.store.wake();
    return (await this.get(ctx, id))!;
  }

  /**
   * Starts a run for each mapped track, in the transaction that stores the events: each run keeps the
   * version published now (none: it ends FAILED, UNPUBLISHED) and its cancel key from that version's
   * `cancelKeyPath`. Call {@link wake} once the transaction committed.
   */
  async startForEventsIn(tx: Sql, workspaceId: number, starts: readonly EventRunStart[], at: Date): Promise<string[]> {
    if (!starts.length) return [];
    const published = await this.workflows.publishedIn(tx, workspaceId, [...new Set(starts.map((s) => s.workflowId))]);
    const runs = starts.map((s) => {
      const workflow = published.get(s.workflowId);
      const definition: WorkflowDefinition | null = workflow?.definition ?? null;
      return {
        id: s.id ?? timeOrderedId(),
        workflowId: s.workflowId,
        version: workflow?.version ?? null,
        userId: s.userId,
        eventId: s.eventId,
        sourceKey: s.messageId,
        data: s.data,
        cancelKey: cancelKeyOf({ data: s.data, event: s.event }, definition?.cancelKeyPath ?? null),
        idempotencyKey: null,
        eventTimezone: s.eventTimezone,
        source: 'event' as const,
        firstWait: definition ? leadingWait(definition.steps, at) : null,
      };
    });
    await this.store.createRunsIn(tx, workspaceId, runs, at);
    return runs.map((r) => r.id);
  }

  /**
   * Cancels, for each cancelling event, its own user's open runs of the workflow whose cancel key equals
   * the event's value at the key path, in the transaction that stores the event. Returns how many.
   */
  async cancelForEventsIn(tx: Sql, workspaceId: number, cancels: readonly EventCancel[], at: Date): Promise<number> {
    let cancelled = 0;
    for (const c of cancels) {
      const cancelKey = cancelKeyOf({ data: c.data, event: c.event }, c.keyPath);
      if (cancelKey === null) continue;
      cancelled += (
        await this.store.cancelIn(
          tx,
          workspaceId,
          {
            workflowId: c.workflowId,
            cancelKey,
            userId: c.userId,
            by: 'event',
            eventId: c.eventId,
            eventName: c.eventName,
          },
          at,
        )
      ).length;
    }
    return cancelled;
  }

  /** `cancelRuns`: every recipient's open runs of the workflow with that cancel key; how many were cancelled. */
  async cancelRuns(ctx: RequestContext, workflowKey: string, cancelKey: string): Promise<number> {
    checkText('workflowKey', workflowKey, false);
    checkText('cancelKey', cancelKey, false);
    const workflow = await this.workflows.get(ctx, { key: workflowKey });
    if (!workflow) throw new NotFoundError('Workflow', workflowKey);
    const ids = await this.db.transaction((tx) =>
      this.store.cancelIn(tx, ctx.workspaceId, { workflowId: workflow.id, cancelKey, by: 'cancelRuns' }, new Date()),
    );
    return ids.length;
  }

  /**
   * `cancelRun`: cancels one RUNNING or WAITING run of the workspace, as `cancelRuns` cancels each of its runs
   * (the run locked, the CANCELLED entry, its job and digest bucket dropped, in one transaction). A run that has
   * ended is refused (BAD_USER_INPUT, nothing written); an unknown id, or another workspace's, is NOT_FOUND.
   */
  async cancelRun(ctx: RequestContext, id: string): Promise<WorkflowRun> {
    const before = await this.db.transaction(async (tx) => {
      const run = await this.store.cancelOneIn(tx, ctx.workspaceId, id, new Date());
      if (!run) throw new NotFoundError('Workflow run', id);
      if (!run.isOpen)
        throw new InvalidInputError(
          `The run has already ended (${run.status}); only a RUNNING or WAITING run can be cancelled`,
          { field: 'id', status: run.status },
        );
      return run;
    });
    return (await this.get(ctx, before.id))!;
  }

  wake(): void {
    this.store.wake();
  }

  async get(ctx: RequestContext, id: string): Promise<WorkflowRun | null> {
    return (await this.getByIds(ctx, [id])).get(id) ?? null;
  }

  async getByIds(ctx: RequestContext, ids: readonly string[]): Promise<Map<string, WorkflowRun>> {
    if (!ids.length) return new Map();
    const rows = await this.db.rows<RunRow>(
      `SELECT * FROM workflow_runs WHERE workspace_id = ? AND id IN (${placeholders(ids.length)})`,
      [ctx.workspaceId, ...ids],
    );
    return new Map(rows.map((r) => [r.id, toRun(r)]));
  }

  /** Runs newest first (createdAt, then id), keyset-paginated. */
  async list(
    ctx: RequestContext,
    filter: WorkflowRunFilter,
    first: number,
    after?: string | null,
  ): Promise<Page<WorkflowRun>> {
    const where = ['workspace_id = ?'];
    const params: unknown[] = [ctx.workspaceId];
    const add = (sql: string, value: unknown) => (where.push(sql), params.push(value));
    if (filter.workflowKey) {
      const workflow = await this.workflows.get(ctx, { key: filter.workflowKey });
      add('workflow_id = ?', workflow?.id ?? '');
    }
    if (filter.status) add('status = ?', filter.status);
    if (filter.userId) add('user_id = ?', filter.userId);
    if (filter.since) add('created_at >= ?', toDbTime(filter.since));
    if (filter.until) add('created_at < ?', toDbTime(filter.until));
    return newestFirstPage(this.db, {
      table: 'workflow_runs',
      timeColumn: 'created_at',
      where,
      params,
      first,
      after,
      toItem: toRun,
      idPattern: /^[0-9a-f-]{36}$/,
      keyOf: (r: WorkflowRun) => ({ time: r.createdAt, id: r.id }),
    });
  }

  /** History of each run, oldest first (for DataLoader); entries have the shape of a message's. */
  async historyOf(runIds: readonly string[]): Promise<Map<string, MessageHistory[]>> {
    const map = new Map<string, MessageHistory[]>(runIds.map((id) => [id, []]));
    if (!runIds.length) return map;
    const rows = await this.db.rows<{
      id: string | number;
      run_id: string;
      at: unknown;
      type: string;
      detail: unknown;
    }>(`SELECT * FROM workflow_run_history WHERE run_id IN (${placeholders(runIds.length)}) ORDER BY id`, [...runIds]);
    for (const r of rows) map.get(r.run_id)?.push(toHistory({ ...r, message_id: r.run_id }));
    return map;
  }

  private async byIdempotencyKey(ctx: RequestContext, workflowId: string, key: string): Promise<WorkflowRun | null> {
    const rows = await this.db.rows<RunRow>(
      'SELECT * FROM workflow_runs WHERE workspace_id = ? AND workflow_id = ? AND idempotency_key = ?',
      [ctx.workspaceId, workflowId, key],
    );
    return rows.length ? toRun(rows[0]) : null;
  }
}
