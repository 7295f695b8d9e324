import type { Sql } from '../../db/database';
import { fromDbTime, toDbTime } from '../../db/dialect';
import { chunks, insertRows, placeholders } from '../../db/rows';
import type { Channel } from '../channel/channel.enum';
import type { CallbackEvent, CallbackOutcome } from '../provider/provider-callback';

/** What applying one stored callback did (`provider_callbacks.result`). */
export type CallbackResult = 'APPLIED' | 'NO_EFFECT' | 'UNKNOWN_DELIVERY';

/** A verified callback event to store, with the configuration whose URL it came to. */
export interface NewCallback {
  workspaceId: number;
  providerConfigId: string;
  provider: string;
  channel: Channel;
  event: CallbackEvent;
  receivedAt: Date;
}

/** A stored callback waiting to be applied, as the applier reads it (`raw` is not read back). */
export interface StoredCallback {
  id: string;
  workspaceId: number;
  providerConfigId: string;
  provider: string;
  channel: Channel;
  externalId: string | null;
  outcome: CallbackOutcome;
  happenedAt: Date;
  reason: string | null;
  errorCode: string | null;
  receivedAt: Date;
}

const COLUMNS = [
  'workspace_id',
  'provider_config_id',
  'provider',
  'channel',
  'event_id',
  'external_id',
  'outcome',
  'happened_at',
  'reason',
  'error_code',
  'raw',
  'received_at',
] as const;

/** The key a provider's event is stored once under: (configuration, provider event id). */
export const callbackKey = (providerConfigId: string, eventId: string) => `${providerConfigId}\u0000${eventId}`;

/** `AND workspace_id IN (…)` when the caller serves some workspaces only. */
const onlyIn = (workspaceIds?: readonly number[]) =>
  workspaceIds ? ` AND workspace_id IN (${placeholders(workspaceIds.length)})` : '';

/**
 * The one owner of `provider_callbacks`. The callback intake ({@link CallbackIntakeService}) stores verified
 * events with {@link insertIn}; workers claim pending rows with {@link claimPendingIn} and mark them with
 * {@link markAppliedIn} in the transaction that applies them (`pipeline/callback-applier.ts`). A row is
 * pending while `applied_at` is NULL.
 */
export class CallbackStore {
  /**
   * Inserts `rows` in multi-row statements. With `ignoreTaken` a (configuration, event id) already stored is
   * skipped; without, the unique key refuses the statement (the caller then looks for the stored ones).
   */
  async insertIn(tx: Sql, rows: readonly NewCallback[], ignoreTaken: boolean): Promise<void> {
    await insertRows(
      tx,
      'provider_callbacks',
      COLUMNS,
      rows,
      (r) => [
        r.workspaceId,
        r.providerConfigId,
        r.provider,
        r.channel,
        r.event.eventId,
        r.event.externalId,
        r.event.outcome,
        toDbTime(r.event.at),
        r.event.reason,
        r.event.errorCode,
        JSON.stringify(r.event.raw ?? {}),
        toDbTime(r.receivedAt),
      ],
      ignoreTaken ? tx.dialect.onConflictIgnore(['provider_config_id', 'event_id']) : '',
    );
  }

  /** The {@link callbackKey}s among `rows` that are stored already. */
  async storedKeysIn(tx: Sql, rows: readonly NewCallback[]): Promise<Set<string>> {
    const found = new Set<string>();
    const byConfig = new Map<string, string[]>();
    for (const r of rows)
      byConfig.set(r.providerConfigId, [...(byConfig.get(r.providerConfigId) ?? []), r.event.eventId]);
    for (const [configId, eventIds] of byConfig) {
      for (const part of chunks(eventIds)) {
        const stored = await tx.rows<{ event_id: string }>(
          `SELECT event_id FROM provider_callbacks WHERE provider_config_id = ? AND event_id IN (${placeholders(part.length)})`,
          [configId, ...part],
        );
        for (const r of stored) found.add(callbackKey(configId, r.event_id));
      }
    }
    return found;
  }

  /** Whether a callback waits to be applied (one indexed query: what an idle worker asks). */
  async hasPending(sql: Sql, workspaceIds?: readonly number[]): Promise<boolean> {
    if (workspaceIds?.length === 0) return false;
    const rows = await sql.rows(
      `SELECT id FROM provider_callbacks WHERE applied_at IS NULL${onlyIn(workspaceIds)} ORDER BY id LIMIT 1`,
      [...(workspaceIds ?? [])],
    );
    return rows.length > 0;
  }

  /**
   * Up to `limit` pending rows, oldest first, locked for this transaction; rows another worker holds are skipped
   * (`FOR UPDATE SKIP LOCKED` on MySQL/MariaDB; SQLite has one writer), and so are the ids in `skip`.
   */
  async claimPendingIn(
    tx: Sql,
    options: { limit: number; workspaceIds?: readonly number[]; skip?: readonly string[] },
  ): Promise<StoredCallback[]> {
    const skip = options.skip ?? [];
    const notSkipped = skip.length ? ` AND id NOT IN (${placeholders(skip.length)})` : '';
    const rows = await tx.rows<Record<string, any>>(
      `SELECT id, workspace_id, provider_config_id, provider, channel, external_id, outcome, happened_at, reason,
         error_code, received_at FROM provider_callbacks WHERE applied_at IS NULL${onlyIn(options.workspaceIds)}${notSkipped}
       ORDER BY id LIMIT ${Math.floor(options.limit)}${tx.dialect.forUpdateSkipLocked}`,
      [...(options.workspaceIds ?? []), ...skip],
    );
    return rows.map((r) => ({
      id: String(r.id),
      workspaceId: Number(r.workspace_id),
      providerConfigId: r.provider_config_id,
      provider: r.provider,
      channel: r.channel,
      externalId: r.external_id,
      outcome: r.outcome,
      happenedAt: fromDbTime(r.happened_at),
      reason: r.reason,
      errorCode: r.error_code,
      receivedAt: fromDbTime(r.received_at),
    }));
  }

  /** Marks claimed rows applied at `at`, each with what applying it did (one UPDATE per result). */
  async markAppliedIn(tx: Sql, results: ReadonlyMap<string, CallbackResult>, at: Date): Promise<void> {
    const byResult = new Map<CallbackResult, string[]>();
    for (const [id, result] of results) byResult.set(result, [...(byResult.get(result) ?? []), id]);
    for (const [result, ids] of byResult) {
      for (const part of chunks(ids)) {
        await tx.run(
          `UPDATE provider_callbacks SET applied_at = ?, result = ? WHERE id IN (${placeholders(part.length)})`,
          [toDbTime(at), result, ...part],
        );
      }
    }
  }
}
