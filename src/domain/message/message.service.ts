import { timeOrderedId } from '../ids';
import type { Database, Sql } from '../../db/database';
import { isUniqueViolation } from '../../db/database';
import { fromDbTime, toDbTime } from '../../db/dialect';
import { newestFirstPage } from '../newest-first';
import { InvalidInputError, NotFoundError } from '../domain-error';
import { eventWhere, type EventFilter } from '../event-log/event-log.service';
import { EventStatus } from '../event-log/event-status.enum';
import { EventType } from '../event-log/event-type.enum';
import type { MappingService } from '../mapping/mapping.service';
import type { Page } from '../pagination';
import { isJsonObject } from '../../lib/json';
import type { ProfileService } from '../profile/profile.service';
import type { RequestContext } from '../request-context';
import type { Channel } from '../channel/channel.enum';
import type { TemplateService } from '../template/template.service';
import { Delivery } from './delivery.entity';
import { Message } from './message.entity';
import { MessageHistory } from './message-history.entity';
import { DeliveryStatus, MessageStatus } from './message-status.enum';
import { parseJsonColumn } from '../../db/rows';

/**
 * Where new messages are handed to the send pipeline. The pipeline's job queue implements it; the
 * domain only knows this interface (it never imports the pipeline).
 */
export interface MessageScheduler {
  /** Queues the pipeline run of each message, inside the transaction that creates them. */
  enqueue(tx: Sql, workspaceId: number, messageIds: string[]): Promise<void>;
  /** Called after that transaction committed, so a worker in this process starts at once. */
  wake(): void;
}

export interface NewMessage {
  templateId: string;
  userId: string;
  data: Record<string, unknown>;
  eventId?: string | null;
  eventName?: string | null;
  idempotencyKey?: string | null;
}

export interface SendInput {
  userId: string;
  templateId?: string | null;
  templateKey?: string | null;
  data?: Record<string, unknown> | null;
  idempotencyKey?: string | null;
}

export interface MessageFilter {
  status?: MessageStatus | null;
  userId?: string | null;
  templateId?: string | null;
  eventName?: string | null;
  since?: Date | null;
  until?: Date | null;
}

/** A stored track event that may become a message. */
export interface MappableEvent {
  id: string;
  name: string;
  userId: string | null;
  anonymousId: string | null;
  properties: unknown;
}

interface MessageRow {
  id: string;
  workspace_id: number;
  status: string;
  reason: string | null;
  template_id: string | null;
  template_version: number | null;
  event_id: string | number | null;
  event_name: string | null;
  user_id: string;
  data: unknown;
  channel: string | null;
  plan: unknown;
  idempotency_key: string | null;
  created_at: unknown;
  updated_at: unknown;
}


export function toMessage(row: MessageRow): Message {
  return Object.assign(new Message(), {
    id: row.id,
    workspaceId: Number(row.workspace_id),
    status: row.status as MessageStatus,
    reason: row.reason,
    templateId: row.template_id,
    templateVersion: row.template_version === null ? null : Number(row.template_version),
    eventId: row.event_id === null ? null : String(row.event_id),
    eventName: row.event_name,
    userId: row.user_id,
    data: parseJsonColumn(row.data) ?? {},
    channel: row.channel as Channel | null,
    plan: row.plan === null || row.plan === undefined ? null : parseJsonColumn(row.plan),
    idempotencyKey: row.idempotency_key,
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  });
}

export function toDelivery(row: Record<string, any>): Delivery {
  return Object.assign(new Delivery(), {
    id: row.id,
    messageId: row.message_id,
    channel: row.channel,
    providerConfigId: row.provider_config_id,
    provider: row.provider,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    externalId: row.external_id,
    sentAt: row.sent_at ? fromDbTime(row.sent_at) : null,
    nextAttemptAt: row.next_attempt_at ? fromDbTime(row.next_attempt_at) : null,
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  });
}

const REPLAY_PAGE = 500;

/**
 * Messages: created by mapped track events (in the transaction that stores the event), by `send`,
 * or by `replayEvents`; read with their deliveries and history. The pipeline moves them on.
 */
export class MessageService {
  constructor(
    private readonly db: Database,
    private readonly templates: TemplateService,
    private readonly mappings: MappingService,
    private readonly profiles: ProfileService,
    private readonly scheduler: MessageScheduler,
  ) {}

  /** Creates messages inside the caller's transaction, with their first history entry and their jobs. */
  async createIn(
    tx: Sql,
    workspaceId: number,
    messages: (NewMessage & { id?: string })[],
    at: Date,
  ): Promise<string[]> {
    if (!messages.length) return [];
    const now = toDbTime(at);
    const ids = messages.map((m) => m.id ?? timeOrderedId());
    for (let i = 0; i < messages.length; i += 500) {
      const part = messages.slice(i, i + 500);
      await tx.run(
        `INSERT INTO messages (id, workspace_id, status, template_id, event_id, event_name, user_id, data, idempotency_key, created_at, updated_at)
         VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        part.flatMap((m, j) => [
          ids[i + j],
          workspaceId,
          MessageStatus.ENQUEUED,
          m.templateId,
          m.eventId ?? null,
          m.eventName ?? null,
          m.userId,
          JSON.stringify(m.data ?? {}),
          m.idempotencyKey ?? null,
          now,
          now,
        ]),
      );
      await tx.run(
        `INSERT INTO message_history (message_id, at, type, detail) VALUES ${part.map(() => '(?, ?, ?, ?)').join(', ')}`,
        part.flatMap((m, j) => [
          ids[i + j],
          now,
          'ENQUEUED',
          JSON.stringify(
            m.eventName
              ? {
                  source: 'event',
                  eventName: m.eventName,
                  eventId: m.eventId,
                  templateId: m.templateId,
                  userId: m.userId,
                }
              : {
                  source: 'send',
                  templateId: m.templateId,
                  userId: m.userId,
                  idempotencyKey: m.idempotencyKey ?? null,
                },
          ),
        ]),
      );
    }
    await this.scheduler.enqueue(tx, workspaceId, ids);
    return ids;
  }

  /**
   * Turns stored track events into messages for the mapped ones and marks them MAPPED, each at most
   * once (a conditional update guards against a concurrent replay). Returns how many became messages.
   */
  async mapEventsIn(
    tx: Sql,
    workspaceId: number,
    events: MappableEvent[],
    at: Date,
    templates?: Map<string, string>,
  ): Promise<number> {
    templates ??= await this.mappings.templatesFor(
      tx,
      workspaceId,
      events.map((e) => e.name),
    );
    const mapped = events.filter((e) => templates.has(e.name));
    if (!mapped.length) return 0;
    const anonymous = mapped.filter((e) => !e.userId && e.anonymousId).map((e) => e.anonymousId!);
    const aliases = anonymous.length ? await this.profiles.resolveAliases(tx, workspaceId, anonymous) : new Map();
    const created: (NewMessage & { id: string })[] = [];
    for (const e of mapped) {
      const id = timeOrderedId();
      const claimed = await tx.run(
        'UPDATE inbound_events SET status = ?, message_ref = ? WHERE id = ? AND workspace_id = ? AND status = ?',
        [EventStatus.MAPPED, id, e.id, workspaceId, EventStatus.UNMAPPED],
      );
      if (!claimed) continue;
      created.push({
        id,
        templateId: templates.get(e.name)!,
        userId: e.userId ?? aliases.get(e.anonymousId!) ?? e.anonymousId!,
        data: isJsonObject(e.properties) ? e.properties : {},
        eventId: e.id,
        eventName: e.name,
      });
    }
    await this.createIn(tx, workspaceId, created, at);
    return created.length;
  }

  /** Lets a worker in this process start on messages created by a transaction that has committed. */
  wake(): void {
    this.scheduler.wake();
  }

  /** The direct Send API. With an `idempotencyKey`, a repeat returns the message created the first time. */
  async send(ctx: RequestContext, input: SendInput): Promise<Message> {
    if (!input.userId || input.userId.length > 255) throw new InvalidInputError('userId must be 1–255 characters');
    if (
      input.idempotencyKey !== undefined &&
      input.idempotencyKey !== null &&
      (input.idempotencyKey === '' || input.idempotencyKey.length > 255)
    ) {
      throw new InvalidInputError('idempotencyKey must be 1–255 characters');
    }
    if (input.data !== undefined && input.data !== null && !isJsonObject(input.data))
      throw new InvalidInputError('data must be a JSON object');
    if (input.idempotencyKey) {
      const existing = await this.byIdempotencyKey(ctx, input.idempotencyKey);
      if (existing) return existing;
    }
    const template = await this.templates.get(ctx, { id: input.templateId, key: input.templateKey });
    if (!template) throw new NotFoundError('Template', String(input.templateId ?? input.templateKey));
    let id: string;
    try {
      [id] = await this.db.transaction((tx) =>
        this.createIn(
          tx,
          ctx.workspaceId,
          [
            {
              templateId: template.id,
              userId: input.userId,
              data: input.data ?? {},
              idempotencyKey: input.idempotencyKey ?? null,
            },
          ],
          new Date(),
        ),
      );
    } catch (err) {
      // the same key sent twice at once: the other call created it
      if (input.idempotencyKey && isUniqueViolation(err))
        return (await this.byIdempotencyKey(ctx, input.idempotencyKey))!;
      throw err;
    }
    this.scheduler.wake();
    return (await this.get(ctx, id))!;
  }

  /** `replayEvents`: re-runs mapping for stored track events that are still UNMAPPED. */
  async replay(ctx: RequestContext, filter: EventFilter): Promise<number> {
    if ((filter.type && filter.type !== EventType.TRACK) || (filter.status && filter.status !== EventStatus.UNMAPPED))
      return 0;
    let total = 0;
    let lastId = '0';
    for (;;) {
      const { where, params } = eventWhere(ctx.workspaceId, {
        ...filter,
        type: EventType.TRACK,
        status: EventStatus.UNMAPPED,
      });
      where.push('id > ?');
      params.push(lastId);
      const rows = await this.db.rows<{
        id: string | number;
        name: string;
        user_id: string | null;
        anonymous_id: string | null;
        payload: unknown;
      }>(
        `SELECT id, name, user_id, anonymous_id, payload FROM inbound_events WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${REPLAY_PAGE}`,
        params,
      );
      if (!rows.length) break;
      lastId = String(rows[rows.length - 1].id);
      const events = rows.map((r) => ({
        id: String(r.id),
        name: r.name,
        userId: r.user_id,
        anonymousId: r.anonymous_id,
        properties: (parseJsonColumn(r.payload) as Record<string, unknown>).properties,
      }));
      total += await this.db.transaction((tx) => this.mapEventsIn(tx, ctx.workspaceId, events, new Date()));
      if (rows.length < REPLAY_PAGE) break;
    }
    if (total) this.scheduler.wake();
    return total;
  }

  async get(ctx: RequestContext, id: string): Promise<Message | null> {
    const rows = await this.db.rows<MessageRow>('SELECT * FROM messages WHERE id = ? AND workspace_id = ?', [
      id,
      ctx.workspaceId,
    ]);
    return rows.length ? toMessage(rows[0]) : null;
  }

  async getByIds(ctx: RequestContext, ids: readonly string[]): Promise<Map<string, Message>> {
    if (!ids.length) return new Map();
    const rows = await this.db.rows<MessageRow>(
      `SELECT * FROM messages WHERE workspace_id = ? AND id IN (${ids.map(() => '?').join(', ')})`,
      [ctx.workspaceId, ...ids],
    );
    return new Map(rows.map((r) => [r.id, toMessage(r)]));
  }

  /** Messages newest first (createdAt, then id), keyset-paginated. */
  async list(ctx: RequestContext, filter: MessageFilter, first: number, after?: string | null): Promise<Page<Message>> {
    const where = ['workspace_id = ?'];
    const params: unknown[] = [ctx.workspaceId];
    const add = (sql: string, value: unknown) => (where.push(sql), params.push(value));
    if (filter.status) add('status = ?', filter.status);
    if (filter.userId) add('user_id = ?', filter.userId);
    if (filter.templateId) add('template_id = ?', filter.templateId);
    if (filter.eventName) add('event_name = ?', filter.eventName);
    if (filter.since) add('created_at >= ?', toDbTime(filter.since));
    if (filter.until) add('created_at < ?', toDbTime(filter.until));
    return newestFirstPage(this.db, {
      table: 'messages',
      timeColumn: 'created_at',
      where,
      params,
      first,
      after,
      toItem: toMessage,
      idPattern: /^[0-9a-f-]{36}$/,
      keyOf: (m: Message) => ({ time: m.createdAt, id: m.id }),
    });
  }

  /** Deliveries of each message, in the order they were first tried (for DataLoader). */
  async deliveriesOf(messageIds: readonly string[]): Promise<Map<string, Delivery[]>> {
    const map = new Map<string, Delivery[]>(messageIds.map((id) => [id, []]));
    if (!messageIds.length) return map;
    const rows = await this.db.rows<Record<string, any>>(
      `SELECT * FROM deliveries WHERE message_id IN (${messageIds.map(() => '?').join(', ')}) ORDER BY created_at, id`,
      [...messageIds],
    );
    rows.forEach((r) => map.get(r.message_id)?.push(toDelivery(r)));
    return map;
  }

  /** History of each message, oldest first (for DataLoader). */
  async historyOf(messageIds: readonly string[]): Promise<Map<string, MessageHistory[]>> {
    const map = new Map<string, MessageHistory[]>(messageIds.map((id) => [id, []]));
    if (!messageIds.length) return map;
    const rows = await this.db.rows<{
      id: string | number;
      message_id: string;
      at: unknown;
      type: string;
      detail: unknown;
    }>(`SELECT * FROM message_history WHERE message_id IN (${messageIds.map(() => '?').join(', ')}) ORDER BY id`, [
      ...messageIds,
    ]);
    rows.forEach((r) =>
      map.get(r.message_id)?.push(
        Object.assign(new MessageHistory(), {
          id: String(r.id),
          messageId: r.message_id,
          at: fromDbTime(r.at),
          type: r.type,
          detail: parseJsonColumn(r.detail),
        }),
      ),
    );
    return map;
  }

  private async byIdempotencyKey(ctx: RequestContext, key: string): Promise<Message | null> {
    const rows = await this.db.rows<MessageRow>(
      'SELECT * FROM messages WHERE workspace_id = ? AND idempotency_key = ?',
      [ctx.workspaceId, key],
    );
    return rows.length ? toMessage(rows[0]) : null;
  }
}
