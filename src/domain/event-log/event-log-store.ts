import type { Sql } from '../../db/database';
import { parseJsonColumn, placeholders } from '../../db/rows';
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

/**
 * Marks an UNMAPPED event MAPPED to the message `messageRef`. A conditional update: false when the
 * event was mapped already (by a concurrent replay or ingest), so each event becomes at most one message.
 */
export async function claimEvent(
  sql: Sql,
  workspaceId: number,
  eventId: string,
  messageRef: string | null,
): Promise<boolean> {
  const claimed = await sql.run(
    'UPDATE inbound_events SET status = ?, message_ref = ? WHERE id = ? AND workspace_id = ? AND status = ?',
    [EventStatus.MAPPED, messageRef, eventId, workspaceId, EventStatus.UNMAPPED],
  );
  return claimed > 0;
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
