import { timeOrderedId } from '../ids';
import type { Database, Sql } from '../../db/database';
import { isUniqueViolation } from '../../db/database';
import { toDbTime } from '../../db/dialect';
import { placeholders } from '../../db/rows';
import { newestFirstPage } from '../newest-first';
import { InvalidInputError, NotFoundError } from '../domain-error';
import type { Page } from '../pagination';
import { isJsonObject } from '../../lib/json';
import type { RequestContext } from '../request-context';
import type { TemplateService } from '../template/template.service';
import type { Delivery } from './delivery.entity';
import type { Message } from './message.entity';
import type { MessageHistory } from './message-history.entity';
import type { MessageStatus } from './message-status.enum';
import type { MessageStore, NewMessage } from './message-store';
import { toDelivery, toHistory, toMessage, type HistoryRow, type MessageRow } from './message-rows';

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

/**
 * Messages: created by mapped track events (the event mapper, in the transaction that stores the
 * event or by `replayEvents`) and by `send`; read with their deliveries and history. The pipeline
 * moves them on; every write goes through the {@link MessageStore}.
 */
export class MessageService {
  constructor(
    private readonly db: Database,
    private readonly templates: TemplateService,
    private readonly store: MessageStore,
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
    const created = messages.map((m) => ({ ...m, id: m.id ?? timeOrderedId() }));
    await this.store.createMessagesIn(tx, workspaceId, created, at);
    const ids = created.map((m) => m.id);
    await this.scheduler.enqueue(tx, workspaceId, ids);
    return ids;
  }

  /** The messages these idempotency keys name already (key → message id), read in the caller's transaction. */
  async takenKeysIn(tx: Sql, workspaceId: number, keys: readonly string[]): Promise<Map<string, string>> {
    if (!keys.length) return new Map();
    const rows = await tx.rows<{ id: string; idempotency_key: string }>(
      `SELECT id, idempotency_key FROM messages WHERE workspace_id = ? AND idempotency_key IN (${placeholders(keys.length)})`,
      [workspaceId, ...keys],
    );
    return new Map(rows.map((r) => [r.idempotency_key, r.id]));
  }

  /** The messages workflow runs created, oldest first (for DataLoader). */
  async ofRuns(runIds: readonly string[]): Promise<Map<string, Message[]>> {
    const map = new Map<string, Message[]>(runIds.map((id) => [id, []]));
    if (!runIds.length) return map;
    const rows = await this.db.rows<MessageRow>(
      `SELECT * FROM messages WHERE run_id IN (${placeholders(runIds.length)}) ORDER BY created_at, id`,
      [...runIds],
    );
    rows.forEach((r) => map.get(r.run_id!)?.push(toMessage(r)));
    return map;
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
      `SELECT * FROM messages WHERE workspace_id = ? AND id IN (${placeholders(ids.length)})`,
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
      `SELECT * FROM deliveries WHERE message_id IN (${placeholders(messageIds.length)}) ORDER BY created_at, id`,
      [...messageIds],
    );
    rows.forEach((r) => map.get(r.message_id)?.push(toDelivery(r)));
    return map;
  }

  /** History of each message, oldest first (for DataLoader). */
  async historyOf(messageIds: readonly string[]): Promise<Map<string, MessageHistory[]>> {
    const map = new Map<string, MessageHistory[]>(messageIds.map((id) => [id, []]));
    if (!messageIds.length) return map;
    const rows = await this.db.rows<HistoryRow>(
      `SELECT * FROM message_history WHERE message_id IN (${placeholders(messageIds.length)}) ORDER BY id`,
      [...messageIds],
    );
    rows.forEach((r) => map.get(r.message_id)?.push(toHistory(r)));
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
