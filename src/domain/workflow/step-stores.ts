import { createHash, randomUUID } from 'node:crypto';
import type { Sql } from '../../db/database';
import { isUniqueViolation } from '../../db/database';
import { fromDbTime, toDbTime } from '../../db/dialect';
import { parseJsonColumn, placeholders } from '../../db/rows';
import { MAX_DURATION_DAYS } from './duration';
import type { DigestValue } from './workflow-run';

/** How many items' data a digest hands the collecting run (the count covers them all). */
export const DIGEST_ITEMS = 50;

/** The identity of a throttle or digest: (workspace, workflow, step, recipient, key value), hashed to 64 hex. */
export function stepIdentity(
  workspaceId: number,
  workflowId: string,
  ref: string,
  userId: string,
  key: string | null,
): string {
  return createHash('sha256')
    .update(JSON.stringify([workspaceId, workflowId, ref, userId, key]))
    .digest('hex');
}

/**
 * Throttle admissions, exact under any number of workers: the throttle's row is locked (`FOR UPDATE`; on
 * SQLite the one writer) while the admissions inside the window are counted and this one is added, so two
 * transactions never count the same state. Only this module writes `workflow_throttles` and its admissions.
 */
export async function admitIn(
  tx: Sql,
  workspaceId: number,
  identity: string,
  runId: string,
  limit: number,
  windowMs: number,
  now: Date,
): Promise<{ admitted: boolean; count: number }> {
  const at = toDbTime(now);
  await tx.run(
    `INSERT INTO workflow_throttles (id, workspace_id, updated_at) VALUES (?, ?, ?) ${tx.dialect.onConflictIgnore(['id'])}`,
    [identity, workspaceId, at],
  );
  await tx.rows(`SELECT id FROM workflow_throttles WHERE id = ?${tx.dialect.forUpdate}`, [identity]);
  const since = toDbTime(new Date(now.getTime() - windowMs));
  // admissions that left the window no longer count: dropped while the row is held
  await tx.run('DELETE FROM workflow_throttle_admissions WHERE throttle_id = ? AND at <= ?', [identity, since]);
  const [row] = await tx.rows<{ n: number | string }>(
    'SELECT COUNT(*) AS n FROM workflow_throttle_admissions WHERE throttle_id = ? AND at > ?',
    [identity, since],
  );
  const count = Number(row.n);
  if (count >= limit) return { admitted: false, count };
  await tx.run('INSERT INTO workflow_throttle_admissions (throttle_id, run_id, at) VALUES (?, ?, ?)', [
    identity,
    runId,
    at,
  ]);
  await tx.run('UPDATE workflow_throttles SET updated_at = ? WHERE id = ?', [at, identity]);
  return { admitted: true, count: count + 1 };
}

/** What a run reaching a digest step got: its own open bucket, or its data went into another's. */
export type DigestArrival =
  | { kind: 'opened'; digestId: string; closeAt: Date; closedNow: boolean }
  | { kind: 'joined'; digestId: string; collectorRunId: string; count: number; closedNow: boolean; duplicate: boolean };

export interface DigestSettings {
  windowMs: number;
  /** SLIDING: the close may move to each new item's time + window, never past this after opening (null: up to 366 days). */
  maxWindowMs: number | null;
  sliding: boolean;
  maxItems: number | null;
}

interface BucketRow {
  id: string;
  collector_run_id: string;
  status: string;
  item_count: number | string;
  opened_at: unknown;
  close_at: unknown;
  max_close_at: unknown;
  first_at: unknown;
  last_at: unknown;
  closed_by: string | null;
}

/**
 * Adds a run's data to the open bucket of its identity, or opens one with the run as its collector. At
 * most one bucket per identity is open — a unique key over the open bucket's identity enforces it: when
 * two runs open at once one insert fails and that run joins the other's bucket. An item's identity is the
 * Segment messageId of the run's event (a retried event is never counted twice). A bucket that reaches
 * `maxItems` is closed here and its collector made due now.
 */
export async function arriveIn(
  tx: Sql,
  workspaceId: number,
  identity: string,
  run: { id: string; sourceKey: string; data: Record<string, unknown> },
  settings: DigestSettings,
  now: Date,
): Promise<DigestArrival> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const [open] = await tx.rows<BucketRow>(
      `SELECT * FROM workflow_digests WHERE bucket_key = ? AND status = 'open'${tx.dialect.forUpdate}`,
      [identity],
    );
    if (open) return join(tx, open, run, settings, now);
    const digestId = randomUUID();
    const closeAt = new Date(now.getTime() + settings.windowMs);
    // SLIDING without maxWindow: the close may move up to the longest wait a workflow allows
    const maxCloseAt = settings.sliding
      ? new Date(now.getTime() + (settings.maxWindowMs ?? MAX_DURATION_DAYS * 86_400_000))
      : closeAt;
    const closesNow = settings.maxItems !== null && settings.maxItems <= 1;
    try {
      await tx.run(
        `INSERT INTO workflow_digests (id, workspace_id, bucket_key, collector_run_id, status, item_count, opened_at, close_at,
           max_close_at, first_at, last_at, closed_by, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)`,
        [
          digestId,
          workspaceId,
          identity,
          run.id,
          closesNow ? 'closed' : 'open',
          toDbTime(now),
          toDbTime(closeAt),
          toDbTime(settings.sliding ? (maxCloseAt > closeAt ? maxCloseAt : closeAt) : closeAt),
          toDbTime(now),
          toDbTime(now),
          closesNow ? 'MAX_ITEMS' : null,
          toDbTime(now),
        ],
      );
    } catch (err) {
      // another run opened this identity's bucket at the same moment: join it
      if (isUniqueViolation(err)) continue;
      throw err;
    }
    await addItem(tx, digestId, run, now);
    return { kind: 'opened', digestId, closeAt, closedNow: closesNow };
  }
  throw new Error(`digest ${identity}: could not open or join a bucket`);
}

async function addItem(
  tx: Sql,
  digestId: string,
  run: { id: string; sourceKey: string; data: Record<string, unknown> },
  now: Date,
): Promise<boolean> {
  const added = await tx.run(
    `INSERT INTO workflow_digest_items (digest_id, item_key, run_id, data, at) VALUES (?, ?, ?, ?, ?) ${tx.dialect.onConflictIgnore(['digest_id', 'item_key'])}`,
    [digestId, run.sourceKey, run.id, JSON.stringify(run.data), toDbTime(now)],
  );
  return added > 0;
}

async function join(
  tx: Sql,
  bucket: BucketRow,
  run: { id: string; sourceKey: string; data: Record<string, unknown> },
  settings: DigestSettings,
  now: Date,
): Promise<DigestArrival> {
  const added = await addItem(tx, bucket.id, run, now);
  const before = Number(bucket.item_count);
  const count = added ? before + 1 : before;
  const closedNow = added && settings.maxItems !== null && count >= settings.maxItems;
  if (added) {
    let closeAt = fromDbTime(bucket.close_at);
    if (settings.sliding) {
      const slid = new Date(now.getTime() + settings.windowMs);
      const cap = fromDbTime(bucket.max_close_at);
      closeAt = new Date(Math.max(closeAt.getTime(), Math.min(slid.getTime(), cap.getTime())));
    }
    await tx.run(
      `UPDATE workflow_digests SET item_count = ?, last_at = ?, close_at = ?, status = ?, closed_by = ?, updated_at = ?
       WHERE id = ? AND status = 'open'`,
      [
        count,
        toDbTime(now),
        toDbTime(closeAt),
        closedNow ? 'closed' : 'open',
        closedNow ? 'MAX_ITEMS' : null,
        toDbTime(now),
        bucket.id,
      ],
    );
  }
  return {
    kind: 'joined',
    digestId: bucket.id,
    collectorRunId: bucket.collector_run_id,
    count,
    closedNow,
    duplicate: !added,
  };
}

/**
 * The collector's bucket when its run comes due: closed already (by `maxItems`) or closable now — the
 * close is a conditional update (`status = 'open' AND close_at <= now`), so a bucket whose SLIDING window
 * moved is not closed and the collector waits again until `closeAt`.
 */
export async function closeIn(
  tx: Sql,
  collectorRunId: string,
  identity: string,
  now: Date,
): Promise<
  | { kind: 'closed'; digestId: string; closedBy: 'WINDOW' | 'MAX_ITEMS'; digest: DigestValue }
  | { kind: 'moved'; closeAt: Date }
  | { kind: 'missing' }
> {
  const [bucket] = await tx.rows<BucketRow>(
    `SELECT * FROM workflow_digests WHERE collector_run_id = ? AND bucket_key = ?${tx.dialect.forUpdate}`,
    [collectorRunId, identity],
  );
  if (!bucket) return { kind: 'missing' };
  let closedBy = bucket.closed_by as 'WINDOW' | 'MAX_ITEMS' | null;
  if (bucket.status === 'open') {
    const closed = await tx.run(
      `UPDATE workflow_digests SET status = 'closed', closed_by = 'WINDOW', updated_at = ? WHERE id = ? AND status = 'open' AND close_at <= ?`,
      [toDbTime(now), bucket.id, toDbTime(now)],
    );
    if (!closed) return { kind: 'moved', closeAt: fromDbTime(bucket.close_at) };
    closedBy = 'WINDOW';
  }
  const items = await tx.rows<{ data: unknown }>(
    `SELECT data FROM workflow_digest_items WHERE digest_id = ? ORDER BY id LIMIT ${DIGEST_ITEMS}`,
    [bucket.id],
  );
  // the collector carries the digest from here on: the items have served their purpose
  await tx.run('DELETE FROM workflow_digest_items WHERE digest_id = ?', [bucket.id]);
  return {
    kind: 'closed',
    digestId: bucket.id,
    closedBy: closedBy ?? 'WINDOW',
    digest: {
      count: Number(bucket.item_count),
      items: items.map((i) => parseJsonColumn<Record<string, unknown>>(i.data)),
      firstAt: fromDbTime(bucket.first_at).toISOString(),
      lastAt: fromDbTime(bucket.last_at).toISOString(),
    },
  };
}

/**
 * Closes the open buckets of collecting runs that were cancelled, in the cancel's transaction: nobody
 * would ever close them, so runs reaching the digest step later open a bucket of their own instead of
 * joining one that is never sent. The items the bucket held go with their collector.
 */
export async function dropBucketsOfIn(tx: Sql, collectorRunIds: readonly string[], at: Date): Promise<void> {
  if (!collectorRunIds.length) return;
  const ids = await tx.rows<{ id: string }>(
    `SELECT id FROM workflow_digests WHERE collector_run_id IN (${placeholders(collectorRunIds.length)}) AND status = 'open'${tx.dialect.forUpdate}`,
    [...collectorRunIds],
  );
  if (!ids.length) return;
  const digestIds = ids.map((r) => r.id);
  await tx.run(
    `UPDATE workflow_digests SET status = 'closed', closed_by = 'CANCELLED', updated_at = ? WHERE id IN (${placeholders(digestIds.length)})`,
    [toDbTime(at), ...digestIds],
  );
  await tx.run(`DELETE FROM workflow_digest_items WHERE digest_id IN (${placeholders(digestIds.length)})`, digestIds);
}
