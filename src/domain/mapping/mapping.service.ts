import type { Database, Sql } from '../../db/database';
import { fromDbTime, toDbTime } from '../../db/dialect';
import { chunks, placeholders } from '../../db/rows';
import { InvalidInputError, NotFoundError } from '../domain-error';
import { TRACK_EVENT_PREFIX } from '../event-log/inbound-event.entity';
import type { RequestContext } from '../request-context';
import { EventMapping } from './event-mapping.entity';

interface MappingRow {
  workspace_id: number;
  event_name: string;
  template_id: string;
  created_at: unknown;
  updated_at: unknown;
}

function toMapping(row: MappingRow): EventMapping {
  return Object.assign(new EventMapping(), {
    workspaceId: Number(row.workspace_id),
    eventName: row.event_name,
    templateId: row.template_id,
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  });
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

/** Event mappings: an inbound event name → the template a message of that event is sent with. */
export class MappingService {
  constructor(private readonly db: Database) {}

  /**
   * Upsert keyed by the full inbound name; mapping to a template that is not published yet is allowed.
   * A name without the `Segment-TrackEvent:` prefix (e.g. the bare `Trial Ending` of a Segment `track`)
   * could never match an event, so it is refused with the full name as a hint instead of being stored.
   */
  async map(ctx: RequestContext, eventName: string, templateId: string): Promise<EventMapping> {
    if (!eventName || eventName.length > 255)
      throw new InvalidInputError('eventName must be 1–255 characters, e.g. "Segment-TrackEvent:Order Completed"');
    if (eventName.toLowerCase() === TRACK_EVENT_PREFIX.toLowerCase()) {
      throw new InvalidInputError(
        `eventName "${eventName}" names no event, e.g. "${TRACK_EVENT_PREFIX}Order Completed"`,
      );
    }
    if (!hasTrackPrefix(eventName)) {
      throw new InvalidInputError(
        `eventName "${eventName}" is not a full inbound name and would never match an event: ` +
          `did you mean "${TRACK_EVENT_PREFIX}${eventName}"? (track events are logged as "${TRACK_EVENT_PREFIX}<event>")`,
      );
    }
    const now = toDbTime(new Date());
    await this.db.transaction(async (tx) => {
      const template = await tx.rows('SELECT id FROM templates WHERE workspace_id = ? AND id = ?', [
        ctx.workspaceId,
        templateId,
      ]);
      if (!template.length) throw new NotFoundError('Template', templateId);
      await tx.run(
        `INSERT INTO event_mappings (workspace_id, event_name, template_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ${tx.dialect.onConflictUpdate(['workspace_id', 'event_name'], `template_id = ${tx.dialect.inserted('template_id')}, updated_at = ${tx.dialect.inserted('updated_at')}`)}`,
        [ctx.workspaceId, eventName, templateId, now, now],
      );
    });
    return (await this.get(ctx, eventName))!;
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

  /** The template each of `eventNames` maps to, read inside the caller's transaction. */
  async templatesFor(sql: Sql, workspaceId: number, eventNames: string[]): Promise<Map<string, string>> {
    const map = new Map<string, string>();
    const names = [...new Set(eventNames)];
    for (const part of chunks(names)) {
      const rows = await sql.rows<{ event_name: string; template_id: string }>(
        `SELECT event_name, template_id FROM event_mappings WHERE workspace_id = ? AND event_name IN (${placeholders(part.length)})`,
        [workspaceId, ...part],
      );
      rows.forEach((r) => map.set(r.event_name, r.template_id));
    }
    return map;
  }
}
