import { mergePatch, patchDeletes, type JsonObject } from '../lib/json';
import type { Sql } from './database';
import { toDbTime } from './dialect';
import { insertRows, placeholders } from './rows';

/** One identify-style change: merge `patch` (RFC 7396) into the traits of the row `key`. */
export interface TraitPatch {
  key: string;
  patch: JsonObject;
}

/**
 * A table holding one JSON `traits` object per key within a workspace, with `created_at` and
 * `updated_at` columns and a unique key on (`scopeColumn`, `keyColumn`): `profiles` (by `user_id`),
 * `user_groups` (by `group_id`).
 */
export interface TraitTable {
  table: string;
  scopeColumn: string;
  keyColumn: string;
}

/**
 * Applies trait patches to `target` in the given order, each merged by the database in one atomic
 * upsert (JSON_MERGE_PATCH / json_patch), so concurrent writers never lose a trait. Consecutive
 * patches that delete nothing go out as multi-row upserts (the rows of one statement apply in order,
 * so the same key twice merges twice); a patch holding `null`s gets a statement of its own, so a new
 * row never stores the nulls and MariaDB's merge of a deleting patch is worked around
 * (`Dialect.jsonMergeDeleting`).
 *
 * Each multi-row run is sorted by key first, so concurrent transactions lock the same rows in the
 * same order and cannot deadlock each other; the sort is stable, so one key's patches keep their order.
 */
export async function upsertTraits(
  tx: Sql,
  target: TraitTable,
  scope: number,
  patches: readonly TraitPatch[],
  at: Date,
): Promise<void> {
  const now = toDbTime(at);
  const d = tx.dialect;
  const { table, scopeColumn, keyColumn } = target;
  const columns = [scopeColumn, keyColumn, 'traits', 'created_at', 'updated_at'];
  const conflict = [scopeColumn, keyColumn];
  const touched = `updated_at = ${d.inserted('updated_at')}`;
  const merge = d.onConflictUpdate(
    conflict,
    `traits = ${d.jsonMergePatch('traits', d.inserted('traits'))}, ${touched}`,
  );
  let run: TraitPatch[] = [];
  const flush = async () => {
    run.sort((a, b) => byKey(a.key, b.key));
    await insertRows(tx, table, columns, run, (p) => [scope, p.key, JSON.stringify(p.patch), now, now], merge);
    run = [];
  };
  for (const p of patches) {
    if (!patchDeletes(p.patch)) {
      run.push(p);
      continue;
    }
    await flush();
    const merged = d.jsonMergeDeleting('traits', p.patch);
    await tx.run(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${placeholders(columns.length)})
       ${d.onConflictUpdate(conflict, `traits = ${merged.sql}, ${touched}`)}`,
      [scope, p.key, JSON.stringify(mergePatch({}, p.patch)), now, now, ...merged.params],
    );
  }
  await flush();
}

/** Code-unit order of two keys, for sorting rows into lock order. */
export function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
