import { toDbTime } from '../../db/dialect';
import type { EventStatus } from './event-status.enum';
import type { EventType } from './event-type.enum';

/** Which events of the log a query (the `events` list, `replayEvents`) is about. */
export interface EventFilter {
  type?: EventType | null;
  status?: EventStatus | null;
  /** The full inbound name, e.g. `Segment-TrackEvent:Order Completed`. */
  name?: string | null;
  userId?: string | null;
  /** receivedAt ≥ since */
  since?: Date | null;
  /** receivedAt < until */
  until?: Date | null;
}

/** The SQL conditions of an {@link EventFilter} on `inbound_events` (times are on `received_at`). */
export function eventWhere(workspaceId: number, filter: EventFilter): { where: string[]; params: unknown[] } {
  const where = ['workspace_id = ?'];
  const params: unknown[] = [workspaceId];
  const add = (sql: string, value: unknown) => {
    where.push(sql);
    params.push(value);
  };
  if (filter.type) add('type = ?', filter.type);
  if (filter.status) add('status = ?', filter.status);
  if (filter.name) add('name = ?', filter.name);
  if (filter.userId) add('user_id = ?', filter.userId);
  if (filter.since) add('received_at >= ?', toDbTime(filter.since));
  if (filter.until) add('received_at < ?', toDbTime(filter.until));
  return { where, params };
}

/**
 * The index a list of events filtered by user or by name is read through: `(workspace, user_id, received_at, id)`
 * for a user (a user's events are few, whatever else the filter asks), else `(workspace, name, received_at, id)`
 * for a name. Either gives the rows newest first with the keyset condition as a range, so a page reads its
 * rows and no others. Left to itself, MariaDB's optimizer picked `(workspace, received_at, id)` for the
 * most frequent names (an ORDER BY … LIMIT estimate) and read thousands of rows for one page of 50 (the
 * GraphQL reads of bench/README.md, scenario 4); pinned, it also weighs no other index for each page.
 * Undefined for other filters: the optimizer chooses.
 */
export function eventListIndex(filter: EventFilter): string | undefined {
  if (filter.userId) return 'IDX_inbound_events_ws_user_received';
  if (filter.name) return 'IDX_inbound_events_ws_name_received';
  return undefined;
}

/** `inbound_events` as the FROM of a list with `filter`: pinned to {@link eventListIndex} when there is one. */
export function eventListSource(filter: EventFilter, engine: 'mysql' | 'sqlite'): string {
  const index = eventListIndex(filter);
  if (!index) return 'inbound_events';
  return engine === 'mysql' ? `inbound_events FORCE INDEX (${index})` : `inbound_events INDEXED BY ${index}`;
}

/** The fields of an event a read may leave out; `id` and `receivedAt` (the keyset) are always read. */
export type EventField =
  | 'workspaceId'
  | 'messageId'
  | 'type'
  | 'name'
  | 'userId'
  | 'anonymousId'
  | 'status'
  | 'payload'
  | 'timestamp'
  | 'messageRef';

const EVENT_FIELD_COLUMNS: Record<EventField, string> = {
  workspaceId: 'workspace_id',
  messageId: 'message_id',
  type: 'type',
  name: 'name',
  userId: 'user_id',
  anonymousId: 'anonymous_id',
  status: 'status',
  payload: 'payload',
  timestamp: 'timestamp',
  messageRef: 'message_ref',
};

/** Every {@link EventField}: a read of all of them gets whole events. */
export const ALL_EVENT_FIELDS = Object.keys(EVENT_FIELD_COLUMNS) as EventField[];

/** The column list of a read of `fields` (plus `id` and `received_at`), in table order. */
export function eventColumns(fields: readonly EventField[]): string {
  const wanted = new Set(fields);
  return [
    'id',
    ...ALL_EVENT_FIELDS.filter((f) => wanted.has(f)).map((f) => EVENT_FIELD_COLUMNS[f]),
    'received_at',
  ].join(', ');
}

/**
 * What the list indexes of {@link eventListIndex} hold besides their key (migration
 * EventListIndexes1765000003000): each field with the expression that gives it. The messageId is
 * `list_message_id`, its first 200 characters: NULL when it is longer.
 */
const LIST_INDEX_FIELDS: Partial<Record<EventField, string>> = {
  workspaceId: 'workspace_id',
  messageId: 'list_message_id AS message_id',
  type: 'type',
  name: 'name',
  userId: 'user_id',
  status: 'status',
  timestamp: 'timestamp',
};

/** How a page of events with `filter` and `fields` is read: {@link eventListRead}. */
export interface EventListRead {
  /** The FROM: `inbound_events`, pinned to {@link eventListIndex} when there is one. */
  source: string;
  columns: string;
  /**
   * True when the columns come from the list index alone and include its `list_message_id`: a row
   * whose `message_id` is NULL has a longer messageId, to be read from the row itself.
   */
  shortMessageIds: boolean;
}

/**
 * The read of a page of events: from the list index alone when it holds every field asked for (a page then
 * costs a few adjacent index pages, not a row page per event), else the columns of `fields` from the rows.
 */
export function eventListRead(
  filter: EventFilter,
  fields: readonly EventField[],
  engine: 'mysql' | 'sqlite',
): EventListRead {
  const source = eventListSource(filter, engine);
  if (!eventListIndex(filter) || !fields.every((f) => LIST_INDEX_FIELDS[f])) {
    return { source, columns: eventColumns(fields), shortMessageIds: false };
  }
  const wanted = new Set(fields);
  const columns = [
    'id',
    ...ALL_EVENT_FIELDS.filter((f) => wanted.has(f)).map((f) => LIST_INDEX_FIELDS[f]),
    'received_at',
  ];
  return { source, columns: columns.join(', '), shortMessageIds: wanted.has('messageId') };
}
