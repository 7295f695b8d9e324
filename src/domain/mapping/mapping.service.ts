import type { Database, Sql } from '../../db/database';
import { fromDbTime, toDbTime } from '../../db/dialect';
import { chunks, placeholders } from '../../db/rows';
import { InvalidInputError, NotFoundError } from '../domain-error';
import { TRACK_EVENT_PREFIX } from '../event-log/inbound-event.entity';
import type { RequestContext } from '../request-context';
import { CancelMapping } from './cancel-mapping';
import { EventMapping } from './event-mapping.entity';

interface MappingRow {
  workspace_id: number;
  event_name: string;
  template_id: string | null;
  workflow_id: string | null;
  created_at: unknown;
  updated_at: unknown;
}

function toMapping(row: MappingRow): EventMapping {
  return Object.assign(new EventMapping(), {
    workspaceId: Number(row.workspace_id),
    eventName: row.event_name,
    templateId: row.template_id ?? null,
    workflowId: row.workflow_id ?? null,
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  });
}

interface CancelRow {
  workspace_id: number;
  event_name: string;
  workflow_id: string;
  key_path: string;
  created_at: unknown;
  updated_at: unknown;
}

function toCancelMapping(row: CancelRow): CancelMapping {
  return Object.assign(new CancelMapping(), {
    workspaceId: Number(row.workspace_id),
    eventName: row.event_name,
    workflowId: row.workflow_id,
    keyPath: row.key_path,
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  });
}

/** What a mapping points at: exactly one of the two. */
export interface MappingTarget {
  templateId?: string | null;
  workflowId?: string | null;
}

/** What the tracks of one name do when they arrive (read by the event mapper inside the ingest transaction). */
export interface TrackTargets {
  /** Event name → the template it sends or the workflow it starts. */
  targets: Map<string, { templateId: string; workflowId?: undefined } | { workflowId: string; templateId?: undefined }>;
  /** Event name → the workflows whose runs it cancels, and where the key is. */
  cancels: Map<string, { workflowId: string; keyPath: string }[]>;
}

/** A cancel key path reads the cancelling event: `data.<…>` (its properties) or `event.<…>`. */
export const CANCEL_KEY_PATH = /^(data|event)(\.[^.]+)+$/;

/**
 * Why `eventName` cannot be mapped (`mapEvent`, `mapCancel`, a configuration import), or undefined: it
 * must be a full track name, `Segment-TrackEvent:<event>`, of 1–255 characters.
 */
export function eventNameProblem(eventName: string): string | undefined {
  if (!eventName || eventName.length > 255)
    return 'eventName must be 1–255 characters, e.g. "Segment-TrackEvent:Order Completed"';
  if (eventName.toLowerCase() === TRACK_EVENT_PREFIX.toLowerCase())
    return `eventName "${eventName}" names no event, e.g. "${TRACK_EVENT_PREFIX}Order Completed"`;
  if (!hasTrackPrefix(eventName)) {
    return (
      `eventName "${eventName}" is not a full inbound name and would never match an event: ` +
      `did you mean "${TRACK_EVENT_PREFIX}${eventName}"? (track events are logged as "${TRACK_EVENT_PREFIX}<event>")`
    );
  }
  return undefined;
}

function checkEventName(eventName: string): void {
  const problem = eventNameProblem(eventName);
  if (problem) throw new InvalidInputError(problem);
}

/**
 * Whether `eventName` is a full track name, `Segment-TrackEvent:<event>` with a non-empty event. The prefix
 * is recognised in any letter case: such a name was written as a full name (names are case-sensitive, so it
 * matches only a track logged exactly so), not a bare event name that was meant to be completed.
 */
function hasTrackPrefix(eventName: string): boolean {
  return (
    eventName.length > TRACK_EVENT_PREFIX.length &&
    eventName.slice(0, TRACK_EVENT_PREFIX.length).toLowerCase() === TRACK_EVENT_PREFIX.toLowerCase()
  );
}

/**
 * Event mappings: an inbound event name → the template a message of that event is sent with, or the
 * workflow a run of that event starts; and cancel mappings: an event name → the workflows whose runs it
 * cancels. Only this service writes `event_mappings` and `cancel_mappings`.
 */
export class MappingService {
  constructor(private readonly db: Database) {}

  /**
   * Upsert keyed by the full inbound name, to exactly one of a template or a workflow; mapping to one
   * that is not published yet is allowed. A name without the `Segment-TrackEvent:` prefix (e.g. the bare
   * `Trial Ending` of a Segment `track`) could never match an event, so it is refused with the full name
   * as a hint instead of being stored.
   */
  async map(ctx: RequestContext, eventName: string, target: MappingTarget): Promise<EventMapping> {
    checkEventName(eventName);
    const templateId = target.templateId ?? null;
    const workflowId = target.workflowId ?? null;
    if ((templateId === null) === (workflowId === null))
      throw new InvalidInputError('give exactly one of templateId and workflowId', { field: 'templateId' });
    const now = toDbTime(new Date());
    await this.db.transaction(async (tx) => {
      if (templateId) await this.requireTemplate(tx, ctx, templateId);
      else await this.requireWorkflow(tx, ctx, workflowId!);
      await tx.run(
        `INSERT INTO event_mappings (workspace_id, event_name, template_id, workflow_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ${tx.dialect.onConflictUpdate(['workspace_id', 'event_name'], ['template_id', 'workflow_id', 'updated_at'].map((c) => `${c} = ${tx.dialect.inserted(c)}`).join(', '))}`,
        [ctx.workspaceId, eventName, templateId, workflowId, now, now],
      );
    });
    return (await this.get(ctx, eventName))!;
  }

  /**
   * Upsert keyed by (event name, workflow): events of that name cancel the workflow's RUNNING and WAITING
   * runs of their own user whose cancel key equals the value at `keyPath` (`data.<…>` or `event.<…>`).
   */
  async mapCancel(ctx: RequestContext, eventName: string, workflowId: string, keyPath: string): Promise<CancelMapping> {
    checkEventName(eventName);
    if (typeof keyPath !== 'string' || keyPath.length > 255 || !CANCEL_KEY_PATH.test(keyPath)) {
      throw new InvalidInputError(
        `keyPath must be a dotted path into the cancelling event starting with "data." or "event." (e.g. "data.cartId"), got ${JSON.stringify(keyPath)}`,
        { field: 'keyPath' },
      );
    }
    const now = toDbTime(new Date());
    await this.db.transaction(async (tx) => {
      await this.requireWorkflow(tx, ctx, workflowId);
      await tx.run(
        `INSERT INTO cancel_mappings (workspace_id, event_name, workflow_id, key_path, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ${tx.dialect.onConflictUpdate(['workspace_id', 'event_name', 'workflow_id'], `key_path = ${tx.dialect.inserted('key_path')}, updated_at = ${tx.dialect.inserted('updated_at')}`)}`,
        [ctx.workspaceId, eventName, workflowId, keyPath, now, now],
      );
    });
    const rows = await this.db.rows<CancelRow>(
      'SELECT * FROM cancel_mappings WHERE workspace_id = ? AND event_name = ? AND workflow_id = ?',
      [ctx.workspaceId, eventName, workflowId],
    );
    return toCancelMapping(rows[0]);
  }

  async unmapCancel(ctx: RequestContext, eventName: string, workflowId: string): Promise<boolean> {
    return (
      (await this.db.run('DELETE FROM cancel_mappings WHERE workspace_id = ? AND event_name = ? AND workflow_id = ?', [
        ctx.workspaceId,
        eventName,
        workflowId,
      ])) > 0
    );
  }

  /** Every cancel mapping of the workspace, by event name then workflow. */
  async cancelMappings(ctx: RequestContext): Promise<CancelMapping[]> {
    const rows = await this.db.rows<CancelRow>(
      'SELECT * FROM cancel_mappings WHERE workspace_id = ? ORDER BY event_name, workflow_id',
      [ctx.workspaceId],
    );
    return rows.map(toCancelMapping);
  }

  async unmap(ctx: RequestContext, eventName: string): Promise<boolean> {
    return (
      (await this.db.run('DELETE FROM event_mappings WHERE workspace_id = ? AND event_name = ?', [
        ctx.workspaceId,
        eventName,
      ])) > 0
    );
  }

  async get(ctx: RequestContext, eventName: string): Promise<EventMapping | null> {
    const rows = await this.db.rows<MappingRow>(
      'SELECT * FROM event_mappings WHERE workspace_id = ? AND event_name = ?',
      [ctx.workspaceId, eventName],
    );
    return rows.length ? toMapping(rows[0]) : null;
  }

  async getByNames(ctx: RequestContext, eventNames: readonly string[]): Promise<Map<string, EventMapping>> {
    if (!eventNames.length) return new Map();
    const rows = await this.db.rows<MappingRow>(
      `SELECT * FROM event_mappings WHERE workspace_id = ? AND event_name IN (${placeholders(eventNames.length)})`,
      [ctx.workspaceId, ...eventNames],
    );
    return new Map(rows.map((r) => [r.event_name, toMapping(r)]));
  }

  async list(ctx: RequestContext): Promise<EventMapping[]> {
    const rows = await this.db.rows<MappingRow>(
      'SELECT * FROM event_mappings WHERE workspace_id = ? ORDER BY event_name',
      [ctx.workspaceId],
    );
    return rows.map(toMapping);
  }

  /**
   * What each of `eventNames` does — the template it sends or workflow it starts, and the runs it
   * cancels — read inside the caller's transaction (one statement per chunk of names).
   */
  async targetsFor(sql: Sql, workspaceId: number, eventNames: string[]): Promise<TrackTargets> {
    const found: TrackTargets = { targets: new Map(), cancels: new Map() };
    const names = [...new Set(eventNames)];
    for (const part of chunks(names)) {
      const rows = await sql.rows<{
        event_name: string;
        template_id: string | null;
        workflow_id: string | null;
        key_path: string | null;
      }>(
        `SELECT event_name, template_id, workflow_id, NULL AS key_path FROM event_mappings WHERE workspace_id = ? AND event_name IN (${placeholders(part.length)})
         UNION ALL
         SELECT event_name, NULL, workflow_id, key_path FROM cancel_mappings WHERE workspace_id = ? AND event_name IN (${placeholders(part.length)})`,
        [workspaceId, ...part, workspaceId, ...part],
      );
      for (const r of rows) {
        if (r.key_path !== null) {
          const list = found.cancels.get(r.event_name) ?? [];
          list.push({ workflowId: r.workflow_id!, keyPath: r.key_path });
          found.cancels.set(r.event_name, list);
        } else if (r.template_id) found.targets.set(r.event_name, { templateId: r.template_id });
        else if (r.workflow_id) found.targets.set(r.event_name, { workflowId: r.workflow_id });
      }
    }
    return found;
  }

  private async requireTemplate(tx: Sql, ctx: RequestContext, id: string): Promise<void> {
    const rows = await tx.rows('SELECT id FROM templates WHERE workspace_id = ? AND id = ?', [ctx.workspaceId, id]);
    if (!rows.length) throw new NotFoundError('Template', id);
  }

  private async requireWorkflow(tx: Sql, ctx: RequestContext, id: string): Promise<void> {
    const rows = await tx.rows('SELECT id FROM workflows WHERE workspace_id = ? AND id = ?', [ctx.workspaceId, id]);
    if (!rows.length) throw new NotFoundError('Workflow', id);
  }
}
