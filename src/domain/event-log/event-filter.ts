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
