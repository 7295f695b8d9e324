import type { Database } from '../../db/database';
import { fromDbTime, toDbTime } from '../../db/dialect';
import { placeholders } from '../../db/rows';
import { messageReadsEvent } from '../message/message-store';
import { runReadsEvent } from '../workflow/run-store';

/** Reports retention work (the process's metrics implement it). */
export interface RetentionObserver {
  /** `rows` event-log rows were deleted by one batch. */
  retentionBatch(rows: number): void;
  /** A whole run ended. */
  retentionRun(result: { ok: boolean; ms: number; at: Date }): void;
}

export interface RetentionOptions {
  /** Rows looked at (and at most deleted) per statement; default 1,000. */
  batchSize?: number;
  /** Pause between batches, so other writers get the tables; default 0. */
  pauseMs?: number;
  /** Stop after this many batches (per run); default unlimited. */
  maxBatches?: number;
  /** Only these workspaces; default every workspace. */
  workspaceIds?: readonly number[];
}

export interface RetentionResult {
  /** Rows deleted. */
  purged: number;
  /** Old rows kept because they are linked to a message not yet routed or sent. */
  kept: number;
  cutoff: Date;
  ms: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Event retention (`PIGEON_EVENT_RETENTION_DAYS`): deletes `inbound_events` rows received before a
 * cutoff, workspace by workspace, in small batches — each batch is one short transaction that
 * deletes by primary key, so no statement holds locks for long and ingest keeps flowing.
 * Rows linked to a message that is still `ENQUEUED` or `ROUTED` are kept until a later run.
 *
 * The `event_names` counters behind `eventNames` are lifetime counts: retention does not lower
 * them, so a name (and its mapping) stays listed after its events are purged.
 *
 * Profiles, groups and messages are not touched: a purged event's message keeps its history,
 * its `event` field just resolves to null.
 *
 * @example
 * ```ts
 * const result = await services.retention.purgeOlderThan(30); // { purged, kept, cutoff, ms }
 * ```
 */
export class EventRetentionService {
  constructor(
    private readonly db: Database,
    private readonly observer?: RetentionObserver,
  ) {}

  /** Purges events received more than `days` days ago. */
  purgeOlderThan(days: number, options: RetentionOptions = {}): Promise<RetentionResult> {
    if (!(days > 0)) throw new RangeError(`retention days must be > 0, got ${days}`);
    return this.purgeBefore(new Date(Date.now() - days * DAY_MS), options);
  }

  /** Purges events received before `cutoff`. */
  async purgeBefore(cutoff: Date, options: RetentionOptions = {}): Promise<RetentionResult> {
    const started = Date.now();
    const batchSize = Math.max(1, Math.floor(options.batchSize ?? 1000));
    let purged = 0;
    let kept = 0;
    let batches = 0;
    try {
      const workspaces =
        options.workspaceIds ??
        (await this.db.rows<{ id: number }>('SELECT id FROM workspaces ORDER BY id')).map((w) => Number(w.id));
      outer: for (const workspaceId of workspaces) {
        // keyset over (received_at, id) on IDX_inbound_events_ws_received: kept rows are never scanned twice
        let after: { at: string; id: string } | null = null;
        for (;;) {
          if (options.maxBatches !== undefined && batches >= options.maxBatches) break outer;
          const params: unknown[] = [workspaceId, toDbTime(cutoff)];
          let keyset = '';
          if (after) {
            keyset = ' AND (received_at > ? OR (received_at = ? AND id > ?))';
            params.push(after.at, after.at, after.id);
          }
          const rows = await this.db.rows<{ id: string | number; received_at: unknown }>(
            `SELECT id, received_at FROM inbound_events WHERE workspace_id = ? AND received_at < ?${keyset}
             ORDER BY received_at, id LIMIT ${batchSize}`,
            params,
          );
          if (!rows.length) break;
          const last = rows[rows.length - 1];
          after = { at: toDbTime(fromDbTime(last.received_at)), id: String(last.id) };
          const ids = rows.map((r) => String(r.id));
          // an event whose message is not routed yet, or whose workflow run goes on, is kept: they still read it
          const busy = messageReadsEvent('inbound_events.message_ref');
          const running = runReadsEvent('inbound_events.message_ref');
          const deleted = await this.db.transaction((tx) =>
            tx.run(
              `DELETE FROM inbound_events WHERE workspace_id = ? AND id IN (${placeholders(ids.length)})
               AND NOT ${busy.sql} AND NOT ${running.sql}`,
              [workspaceId, ...ids, ...busy.params, ...running.params],
            ),
          );
          batches++;
          purged += deleted;
          kept += ids.length - deleted;
          if (deleted) this.observer?.retentionBatch(deleted);
          if (rows.length < batchSize) break;
          if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
        }
      }
    } catch (err) {
      this.observer?.retentionRun({ ok: false, ms: Date.now() - started, at: new Date() });
      throw err;
    }
    const ms = Date.now() - started;
    this.observer?.retentionRun({ ok: true, ms, at: new Date() });
    return { purged, kept, cutoff, ms };
  }
}
