import { randomUUID } from 'node:crypto';
import type { Database, Sql } from '../../db/database';
import { toDbTime } from '../../db/dialect';
import { CHUNK_ROWS, chunks, orNull, placeholders, updateById, type ColumnValues } from '../../db/rows';
import type { Channel } from '../channel/channel.enum';
import { RoutingMethod } from '../routing/routing.enums';
import { Delivery } from './delivery.entity';
import type { Message, SendOptions } from './message.entity';
import type { EndType, HistoryEntry, HistoryRecord } from './message-history.types';
import { DeliveryStatus, FINAL_STATUSES, MessageStatus } from './message-status.enum';
import { toDelivery, toMessage, type MessageRow } from './message-rows';

/** A message to create (`ENQUEUED`). */
export interface NewMessage {
  templateId: string;
  userId: string;
  data: Record<string, unknown>;
  eventId?: string | null;
  eventName?: string | null;
  idempotencyKey?: string | null;
  /** The workflow run whose send step created it, and that step's options. */
  runId?: string | null;
  sendOptions?: SendOptions | null;
}

/** What a status change may set besides status and reason (absent: left as it is). */
export interface MessageChanges {
  channel?: Channel;
  templateVersion?: number;
  /** The routing plan (the pipeline's own shape, stored as JSON). */
  plan?: object;
}

/** The status, channel and final history entry of a message that was handed to a provider. */
export interface SentOutcome {
  status: MessageStatus.SENT | MessageStatus.DELIVERED;
  /** The first channel sent (the message's `channel`). */
  channel: Channel;
  entry: HistoryEntry;
}

/**
 * How a sent message ends: DELIVERED when every provider that took it confirmed delivery, else SENT.
 * A SINGLE message names its channel; an ALL message the channels sent and those that failed.
 */
export function sentOutcome(
  method: RoutingMethod,
  channels: Channel[],
  failedChannels: Channel[],
  delivered: boolean,
): SentOutcome {
  const detail = method === RoutingMethod.ALL ? { channels, failedChannels } : { channel: channels[0] };
  return delivered
    ? { status: MessageStatus.DELIVERED, channel: channels[0], entry: { type: 'DELIVERED', detail } }
    : { status: MessageStatus.SENT, channel: channels[0], entry: { type: 'SENT', detail } };
}

/**
 * `entries`, ended by the final status's own entry (`{ reason }`) when `status` is final and the
 * entries do not already record it.
 */
export function withEnd(status: MessageStatus, reason: string | null, entries: HistoryEntry[]): HistoryEntry[] {
  if (!FINAL_STATUSES.has(status) || entries.some((h) => (h.type as string) === status)) return entries;
  // SENT and DELIVERED always come with their entry (see sentOutcome): what is left ends with a reason
  return [...entries, { type: status as EndType, detail: { reason } }];
}

const DELIVERY_COLUMNS = [
  'id',
  'message_id',
  'channel',
  'provider_config_id',
  'provider',
  'status',
  'attempts',
  'last_error',
  'external_id',
  'sent_at',
  'next_attempt_at',
  'created_at',
  'updated_at',
];
const time = (t: Date | null) => (t ? toDbTime(t) : null);

/** The routing state {@link MessageStore.saveRoutingIn} writes. */
const ROUTING_COLUMNS: ColumnValues<Message> = [
  ['status', (m) => m.status],
  ['reason', (m) => m.reason],
  ['channel', (m) => m.channel],
  ['template_version', (m) => m.templateVersion],
  ['plan', (m) => (m.plan ? JSON.stringify(m.plan) : null)],
  ['updated_at', (m) => toDbTime(m.updatedAt)],
];

/** A routed message's end ({@link MessageStore.saveStatusIn}). */
const STATUS_COLUMNS: ColumnValues<Message> = [
  ['status', (m) => m.status],
  ['reason', (m) => m.reason],
  ['channel', (m) => m.channel],
  ['updated_at', (m) => toDbTime(m.updatedAt)],
];

/** What a try changes on a delivery ({@link MessageStore.saveDeliveryStateIn}). */
const DELIVERY_STATE_COLUMNS: ColumnValues<Delivery> = [
  ['status', (x) => x.status],
  ['attempts', (x) => x.attempts],
  ['last_error', (x) => x.lastError],
  ['external_id', (x) => x.externalId],
  ['sent_at', (x) => time(x.sentAt)],
  ['next_attempt_at', (x) => time(x.nextAttemptAt)],
  ['updated_at', (x) => toDbTime(x.updatedAt)],
];

/**
 * Inserts `rows` into `table` in statements of at most {@link CHUNK_ROWS} rows, as `insertRows` of
 * `db/rows.ts` does, but as prepared statements on MySQL/MariaDB (`Sql.runPrepared`): the JSON of a
 * message's data and history is not escaped into the text, and the server parses each shape once.
 */
async function insertPrepared<T>(
  tx: Sql,
  table: string,
  columns: readonly string[],
  rows: readonly T[],
  values: (row: T) => unknown[],
  suffix = '',
): Promise<void> {
  const one = `(${placeholders(columns.length)})`;
  for (const part of chunks(rows, CHUNK_ROWS)) {
    await tx.runPrepared(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${part.map(() => one).join(', ')}${suffix ? ` ${suffix}` : ''}`,
      part.flatMap((row) => values(row).map(orNull)),
    );
  }
}

/**
 * A new PENDING delivery of a message through one provider configuration, `attempts` tries counted,
 * in memory: {@link MessageStore.saveDeliveriesIn} stores it (in bulk), or {@link MessageStore.createDelivery}
 * makes one of zero tries when none exists yet.
 */
export function newDelivery(
  messageId: string,
  channel: Channel,
  configId: string,
  provider: string,
  attempts: number,
  now = new Date(),
): Delivery {
  return Object.assign(new Delivery(), {
    id: randomUUID(),
    messageId,
    channel,
    providerConfigId: configId,
    provider,
    status: DeliveryStatus.PENDING,
    attempts,
    lastError: null,
    externalId: null,
    sentAt: null,
    deliveredAt: null,
    openedAt: null,
    clickedAt: null,
    nextAttemptAt: null,
    createdAt: now,
    updatedAt: now,
  });
}

/**
 * The only writer of `messages`, `deliveries` and `message_history` (reads are in `MessageService`).
 * Methods ending in `In` run in the caller's transaction; the others open their own. Writes of many
 * rows are multi-row statements, so the pipeline's bulk path stays a constant number of statements.
 */
export class MessageStore {
  constructor(private readonly db: Database) {}

  // ---- in the caller's transaction ---------------------------------------------------------------

  /** Inserts new `ENQUEUED` messages and their `ENQUEUED` history entries, both stamped `at`. */
  async createMessagesIn(
    tx: Sql,
    workspaceId: number,
    messages: readonly (NewMessage & { id: string })[],
    at: Date,
  ): Promise<void> {
    if (!messages.length) return;
    const now = toDbTime(at);
    await insertPrepared(
      tx,
      'messages',
      [
        'id',
        'workspace_id',
        'status',
        'template_id',
        'event_id',
        'event_name',
        'user_id',
        'data',
        'idempotency_key',
        'run_id',
        'send_options',
        'created_at',
        'updated_at',
      ],
      messages,
      (m) => [
        m.id,
        workspaceId,
        MessageStatus.ENQUEUED,
        m.templateId,
        m.eventId ?? null,
        m.eventName ?? null,
        m.userId,
        JSON.stringify(m.data ?? {}),
        m.idempotencyKey ?? null,
        m.runId ?? null,
        m.sendOptions ? JSON.stringify(m.sendOptions) : null,
        now,
        now,
      ],
    );
    await this.appendHistoryIn(
      tx,
      messages.map((m) => ({
        messageId: m.id,
        type: 'ENQUEUED',
        detail: m.runId
          ? {
              source: 'workflow',
              runId: m.runId,
              step: m.sendOptions?.step ?? null,
              templateId: m.templateId,
              userId: m.userId,
              eventId: m.eventId ?? null,
            }
          : m.eventName
            ? {
                source: 'event',
                eventName: m.eventName,
                eventId: m.eventId ?? null,
                templateId: m.templateId,
                userId: m.userId,
              }
            : { source: 'send', templateId: m.templateId, userId: m.userId, idempotencyKey: m.idempotencyKey ?? null },
      })),
      at,
    );
  }

  /**
   * Writes the routing state of existing messages (status, reason, channel, template version, plan,
   * updatedAt) as they are in memory: one `UPDATE … WHERE id IN (…)` per {@link ROUTING_CHUNK} messages, a
   * column the messages share set once and the others by `CASE id`. Only these columns travel (a message's
   * data is never sent back), and a message that is gone stays gone.
   */
  saveRoutingIn(tx: Sql, messages: readonly Message[]): Promise<void> {
    return updateById(tx, 'messages', ROUTING_COLUMNS, messages);
  }

  /** Writes the status, reason, channel and updatedAt of messages whose plan is stored already (their end). */
  saveStatusIn(tx: Sql, messages: readonly Message[]): Promise<void> {
    return updateById(tx, 'messages', STATUS_COLUMNS, messages);
  }

  /**
   * Writes what a try changed on deliveries that are stored already (status, tries, last error, external id,
   * sent and retry times, updatedAt), as they are in memory; like {@link saveRoutingIn}, by id.
   */
  saveDeliveryStateIn(tx: Sql, deliveries: readonly Delivery[]): Promise<void> {
    return updateById(tx, 'deliveries', DELIVERY_STATE_COLUMNS, deliveries);
  }

  /** Inserts deliveries as they are in memory, or updates their outcome when they exist (multi-row upserts). */
  async saveDeliveriesIn(tx: Sql, deliveries: readonly Delivery[]): Promise<void> {
    if (!deliveries.length) return;
    const d = tx.dialect;
    const changed = ['status', 'attempts', 'last_error', 'external_id', 'sent_at', 'next_attempt_at', 'updated_at'];
    await insertPrepared(
      tx,
      'deliveries',
      DELIVERY_COLUMNS,
      deliveries,
      (x) => [
        x.id,
        x.messageId,
        x.channel,
        x.providerConfigId,
        x.provider,
        x.status,
        x.attempts,
        x.lastError,
        x.externalId,
        time(x.sentAt),
        time(x.nextAttemptAt),
        toDbTime(x.createdAt),
        toDbTime(x.updatedAt),
      ],
      d.onConflictUpdate(['id'], changed.map((c) => `${c} = ${d.inserted(c)}`).join(', ')),
    );
  }

  /** Appends history entries (of any messages), all stamped `at`, in order. */
  async appendHistoryIn(tx: Sql, records: readonly HistoryRecord[], at: Date = new Date()): Promise<void> {
    if (!records.length) return;
    const stamp = toDbTime(at);
    await insertPrepared(tx, 'message_history', ['message_id', 'at', 'type', 'detail'], records, (h) => [
      h.messageId,
      stamp,
      h.type,
      JSON.stringify(h.detail),
    ]);
  }

  /**
   * The deliveries provider callbacks name, by `configId|externalId`: matched by (provider configuration,
   * external id), else by delivery id, else by message id within the configuration (the webhook provider's
   * callbacks name the delivery or its message). Not locked: {@link lockMessagesIn} locks what is changed.
   */
  async findCallbackDeliveriesIn(
    tx: Sql,
    keys: readonly { configId: string; externalId: string }[],
  ): Promise<Map<string, Delivery>> {
    const found = new Map<string, Delivery>();
    const key = (configId: string, externalId: string) => `${configId}|${externalId}`;
    const unique = [...new Map(keys.map((k) => [key(k.configId, k.externalId), k])).values()];
    for (const part of chunks(unique, 200)) {
      const rows = await tx.rows<Record<string, any>>(
        `SELECT * FROM deliveries WHERE ${part.map(() => '(provider_config_id = ? AND external_id = ?)').join(' OR ')}`,
        part.flatMap((k) => [k.configId, k.externalId]),
      );
      for (const r of rows) found.set(key(r.provider_config_id, r.external_id), toDelivery(r));
    }
    const byId = unique.filter((k) => !found.has(key(k.configId, k.externalId)) && k.externalId.length <= 36);
    for (const part of chunks(byId, 200)) {
      const rows = await tx.rows<Record<string, any>>(
        `SELECT * FROM deliveries WHERE id IN (${placeholders(part.length)})`,
        part.map((k) => k.externalId),
      );
      for (const r of rows) {
        if (part.some((k) => k.externalId === r.id && k.configId === r.provider_config_id)) {
          found.set(key(r.provider_config_id, r.id), toDelivery(r));
        }
      }
    }
    // the message's id (a webhook receiver reporting the `messageId` of Pigeon's post): its delivery through
    // that configuration (one per channel; a configuration serves one channel)
    const byMessage = unique.filter((k) => !found.has(key(k.configId, k.externalId)) && k.externalId.length <= 36);
    for (const part of chunks(byMessage, 200)) {
      const rows = await tx.rows<Record<string, any>>(
        `SELECT * FROM deliveries WHERE ${part.map(() => '(message_id = ? AND provider_config_id = ?)').join(' OR ')}`,
        part.flatMap((k) => [k.externalId, k.configId]),
      );
      for (const r of rows) found.set(key(r.provider_config_id, r.message_id), toDelivery(r));
    }
    return found;
  }

  /**
   * Locks messages and all their deliveries (`FOR UPDATE` on MySQL/MariaDB, deliveries first, in id order) and
   * reads them as they are now, so concurrent callback batches for one message apply one after the other.
   */
  async lockMessagesIn(
    tx: Sql,
    messageIds: readonly string[],
  ): Promise<{ messages: Map<string, Message>; deliveries: Map<string, Delivery[]> }> {
    const messages = new Map<string, Message>();
    const deliveries = new Map<string, Delivery[]>();
    const ids = [...new Set(messageIds)].sort();
    for (const part of chunks(ids, 200)) {
      // deliveries before their messages: the order the send pipeline writes them in (fewer lock waits in a cycle)
      const found = await tx.rows<Record<string, any>>(
        `SELECT * FROM deliveries WHERE message_id IN (${placeholders(part.length)}) ORDER BY message_id, created_at, id${tx.dialect.forUpdate}`,
        part,
      );
      const rows = await tx.rows<MessageRow>(
        `SELECT * FROM messages WHERE id IN (${placeholders(part.length)}) ORDER BY id${tx.dialect.forUpdate}`,
        part,
      );
      for (const r of rows) {
        messages.set(r.id, toMessage(r));
        deliveries.set(r.id, []);
      }
      for (const r of found) deliveries.get(r.message_id)?.push(toDelivery(r));
    }
    return { messages, deliveries };
  }

  /**
   * Writes what provider callbacks changed on deliveries, as it is in memory: status, last error and the
   * delivered / opened / clicked times (README, "Delivery tracking").
   */
  async saveDeliveryOutcomesIn(tx: Sql, deliveries: readonly Delivery[]): Promise<void> {
    for (const x of deliveries) {
      await tx.run(
        `UPDATE deliveries SET status = ?, last_error = ?, delivered_at = ?, opened_at = ?, clicked_at = ?, updated_at = ?
         WHERE id = ?`,
        [x.status, x.lastError, time(x.deliveredAt), time(x.openedAt), time(x.clickedAt), toDbTime(x.updatedAt), x.id],
      );
    }
  }

  // ---- one message or delivery, each call its own transaction --------------------------------------

  /** Appends history entries of one message. */
  appendHistory(messageId: string, entries: readonly HistoryEntry[]): Promise<void> {
    return this.db.transaction((tx) => this.appendHistoryIn(tx, ofMessage(messageId, entries)));
  }

  /**
   * The PENDING delivery of a message through one provider configuration, with no try counted; the one
   * that exists already when a concurrent run created it first (the unique key decides).
   */
  async createDelivery(messageId: string, channel: Channel, configId: string, provider: string): Promise<Delivery> {
    const d = newDelivery(messageId, channel, configId, provider, 0);
    await this.db.run(
      `INSERT INTO deliveries (id, message_id, channel, provider_config_id, provider, status, attempts, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ${this.db.dialect.onConflictIgnore(['message_id', 'channel', 'provider_config_id'])}`,
      [
        d.id,
        messageId,
        channel,
        configId,
        provider,
        d.status,
        d.attempts,
        toDbTime(d.createdAt),
        toDbTime(d.updatedAt),
      ],
    );
    const rows = await this.db.rows<Record<string, any>>(
      'SELECT * FROM deliveries WHERE message_id = ? AND channel = ? AND provider_config_id = ?',
      [messageId, channel, configId],
    );
    return toDelivery(rows[0]);
  }

  /**
   * Counts one more try of `delivery` before the provider is called (a worker that dies mid-send still
   * used it up) and clears its retry time; `delivery.attempts` is the new count.
   */
  async countAttempt(delivery: Delivery): Promise<void> {
    const attempt = delivery.attempts + 1;
    await this.db.run('UPDATE deliveries SET attempts = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ?', [
      attempt,
      toDbTime(new Date()),
      delivery.id,
    ]);
    delivery.attempts = attempt;
  }

  /** Writes the outcome of a try (as recorded on `delivery` in memory) and its history entry. */
  saveAttempt(delivery: Delivery, entry: HistoryEntry): Promise<void> {
    return this.db.transaction(async (tx) => {
      await this.saveDeliveriesIn(tx, [delivery]);
      await this.appendHistoryIn(tx, ofMessage(delivery.messageId, [entry]));
    });
  }

  /** Marks a delivery FAILED for good with `error` (at most 1,000 characters kept), with history entries. */
  failDelivery(delivery: Delivery, error: string, entries: readonly HistoryEntry[]): Promise<void> {
    return this.db.transaction(async (tx) => {
      await tx.run(
        'UPDATE deliveries SET status = ?, last_error = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ?',
        [DeliveryStatus.FAILED, error.slice(0, 1000), toDbTime(new Date()), delivery.id],
      );
      await this.appendHistoryIn(tx, ofMessage(delivery.messageId, entries));
    });
  }

  /** Moves a message to `status` with its history entries; `message.status` follows. */
  async update(
    message: Message,
    status: MessageStatus,
    reason: string | null,
    entries: readonly HistoryEntry[],
    changes: MessageChanges = {},
  ): Promise<void> {
    await this.db.transaction((tx) => this.updateIn(tx, message, status, reason, entries, changes));
    message.status = status;
  }

  /** {@link update} inside the caller's transaction (`message.status` is left to the caller, after commit). */
  async updateIn(
    tx: Sql,
    message: Message,
    status: MessageStatus,
    reason: string | null,
    entries: readonly HistoryEntry[],
    changes: MessageChanges = {},
  ): Promise<void> {
    await tx.run(
      `UPDATE messages SET status = ?, reason = ?, channel = COALESCE(?, channel), template_version = COALESCE(?, template_version),
       plan = COALESCE(?, plan), updated_at = ? WHERE id = ?`,
      [
        status,
        reason,
        changes.channel ?? null,
        changes.templateVersion ?? null,
        changes.plan ? JSON.stringify(changes.plan) : null,
        toDbTime(new Date()),
        message.id,
      ],
    );
    await this.appendHistoryIn(tx, ofMessage(message.id, entries));
  }

  /** {@link update} to a final status, its history ended by the status's own entry (see {@link withEnd}). */
  finish(
    message: Message,
    status: MessageStatus,
    reason: string | null,
    entries: HistoryEntry[],
    changes: MessageChanges = {},
  ): Promise<void> {
    return this.update(message, status, reason, withEnd(status, reason, entries), changes);
  }
}

/** `entries` as records of one message. */
export function ofMessage(messageId: string, entries: readonly HistoryEntry[]): HistoryRecord[] {
  return entries.map((h) => ({ messageId, ...h }));
}

/** Messages in these statuses still read their event (routing renders `event.*`). */
const READS_EVENT: readonly MessageStatus[] = [MessageStatus.ENQUEUED, MessageStatus.ROUTED];

/**
 * An SQL condition, for other tables' owners: true when `refColumn` (a column holding a message id, or a
 * workflow run id) names a message that is not routed yet — or a run with such a message — so the row it
 * points from must be kept.
 *
 * @example
 * ```ts
 * const busy = messageReadsEvent('inbound_events.message_ref');
 * await tx.run(`DELETE FROM inbound_events WHERE id = ? AND NOT ${busy.sql}`, [id, ...busy.params]);
 * ```
 */
export function messageReadsEvent(refColumn: string): { sql: string; params: unknown[] } {
  return {
    sql:
      `(EXISTS (SELECT 1 FROM messages m WHERE m.id = ${refColumn} AND m.status IN (${placeholders(READS_EVENT.length)}))` +
      ` OR EXISTS (SELECT 1 FROM messages m WHERE m.run_id = ${refColumn} AND m.status IN (${placeholders(READS_EVENT.length)})))`,
    params: [...READS_EVENT, ...READS_EVENT],
  };
}
