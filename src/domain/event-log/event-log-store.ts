import type { Sql } from '../../db/database';
import { chunks, parseJsonColumn, placeholders, updateById, type ColumnValues } from '../../db/rows';
import { eventWhere, type EventFilter } from './event-filter';
import { EventStatus } from './event-status.enum';
import { EventType } from './event-type.enum';

/**
 * What the event log offers the event mapper (`domain/mapping/event-mapper.ts`): finding stored
 * tracks and claiming them for a message. The event log owns `inbound_events`; nothing outside
 * `domain/event-log/` runs SQL on it.
 */

/** A stored track event that may become a message. */
export interface StoredTrack {
  id: string;
  /** The full inbound name, `Segment-TrackEvent:<event>`. */
  name: string;
  userId: string | null;
  anonymousId: string | null;
  /** The Segment messageId. */
  messageId: string;
  /** The whole stored message (a cancel key path may read `event.<…>`; `context.timezone` for workflows). */
  payload: Record<string, unknown>;
  /** The track's `properties` (the message's data when it is an object). */
  properties: unknown;
}

/** The ids of the events a workspace stored under these Segment messageIds, in the order the database returns them. */
export async function storedEventIds(
  sql: Sql,
  workspaceId: number,
  messageIds: readonly string[],
): Promise<{ id: string; messageId: string }[]> {
  const rows = await sql.rows<{ id: string | number; message_id: string }>(
    `SELECT id, message_id FROM inbound_events WHERE workspace_id = ? AND message_id IN (${placeholders(messageIds.length)})`,
    [workspaceId, ...messageIds],
  );
  return rows.map((r) => ({ id: String(r.id), messageId: r.message_id }));
}

/** An event to claim and the message or run it becomes (`null`: it only cancels runs). */
export interface EventClaim {
  eventId: string;
  messageRef: string | null;
}

/** What a claim writes: MAPPED, and the message or run the event becomes. */
const CLAIM_COLUMNS: ColumnValues<{ id: string; messageRef: string | null }> = [
  ['status', () => EventStatus.MAPPED],
  ['message_ref', (c) => c.messageRef],
];

/**
 * Marks UNMAPPED events MAPPED to their message or run, a few statements for many events: the events are
 * locked and read (a concurrent replay or ingest that claimed one first has made it MAPPED, and it is left
 * out), then updated together (`updateById`). Returns the ids claimed, so each event becomes at most one message.
 */
export async function claimEvents(sql: Sql, workspaceId: number, claims: readonly EventClaim[]): Promise<Set<string>> {
  const claimed = new Set<string>();
  for (const part of chunks(claims)) {
    const ids = part.map((c) => c.eventId);
    const open = await sql.rows<{ id: string | number }>(
      `SELECT id FROM inbound_events WHERE workspace_id = ? AND status = ? AND id IN (${placeholders(ids.length)})${sql.dialect.forUpdate}`,
      [workspaceId, EventStatus.UNMAPPED, ...ids],
    );
    if (!open.length) continue;
    const openIds = new Set(open.map((r) => String(r.id)));
    const mine = part.filter((c) => openIds.has(c.eventId));
    await updateById(
      sql,
      'inbound_events',
      CLAIM_COLUMNS,
      mine.map((c) => ({ id: c.eventId, messageRef: c.messageRef })),
    );
    for (const c of mine) claimed.add(c.eventId);
  }
  return claimed;
}

/** Up to `limit` UNMAPPED tracks matching `filter` with an id above `afterId`, by id. */
export async function unmappedTracks(
  sql: Sql,
  workspaceId: number,
  filter: EventFilter,
  afterId: string,
  limit: number,
): Promise<StoredTrack[]> {
  const { where, params } = eventWhere(workspaceId, { ...filter, type: EventType.TRACK, status: EventStatus.UNMAPPED });
  where.push('id > ?');
  params.push(afterId);
  const rows = await sql.rows<{
    id: string | number;
    name: string;
    user_id: string | null;
    anonymous_id: string | null;
    message_id: string;
    payload: unknown;
  }>(
    `SELECT id, name, user_id, anonymous_id, message_id, payload FROM inbound_events WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${limit}`,
    params,
  );
  return rows.map((r) => {
    const payload = parseJsonColumn<Record<string, unknown>>(r.payload);
    return {
      id: String(r.id),
      name: r.name,
      userId: r.user_id,
      anonymousId: r.anonymous_id,
      messageId: r.message_id,
      payload,
      properties: payload.properties,
    };
  });
}
