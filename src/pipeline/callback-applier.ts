import type { Database, Sql } from '../db/database';
import { parseJsonColumn } from '../db/rows';
import type { CallbackResult, CallbackStore, StoredCallback } from '../domain/callback/callback-store';
import type { Channel } from '../domain/channel/channel.enum';
import type { Delivery } from '../domain/message/delivery.entity';
import type { HistoryEntry, HistoryRecord } from '../domain/message/message-history.types';
import type { Message } from '../domain/message/message.entity';
import { DeliveryStatus, MessageStatus } from '../domain/message/message-status.enum';
import { sentOutcome, type MessageStore } from '../domain/message/message-store';
import type { MessageScheduler } from '../domain/message/message.service';
import { normalizeAddress } from '../domain/provider/provider-callback';
import type { RequestContext } from '../domain/request-context';
import { RoutingMethod } from '../domain/routing/routing.enums';
import {
  suppressionForErrorCode,
  SuppressionReason,
  type SoftBounceInput,
  type SuppressionInput,
} from '../domain/suppression/suppression.service';
import type { PipelineTelemetry } from './pipeline-telemetry';
import type { Plan } from './routing/decide';

export type { CallbackResult };

/** The reason a SINGLE message ends UNDELIVERABLE with when its last channel bounced or failed after sending. */
export const BOUNCED = 'BOUNCED';

/** The suppression service (`domain/suppression/suppression.service.ts`) as the applier uses it, in the batch's transaction. */
export interface CallbackSuppressions {
  suppressIn(tx: Sql, ctx: RequestContext, input: SuppressionInput): Promise<unknown>;
  /** Records a soft bounce of one delivery; true when it made the address suppressed (for 7 days). */
  softBounceIn(tx: Sql, ctx: RequestContext, input: SoftBounceInput): Promise<boolean>;
}

/** What the applier reports (metrics): callbacks applied, by provider plugin and result. */
export interface CallbackTelemetry {
  applied(provider: string, result: CallbackResult, n: number): void;
}

export interface CallbackApplierDeps {
  db: Database;
  /** The owner of `provider_callbacks`: pending rows are claimed and marked through it. */
  callbacks: CallbackStore;
  /** The only writer of messages, deliveries and their history. */
  store: MessageStore;
  /** Queues the send of a message that fails over to its next channel (the job queue). */
  scheduler: MessageScheduler;
  /** Absent: callbacks change statuses and history only. */
  suppressions?: CallbackSuppressions;
  telemetry?: CallbackTelemetry;
  /** Status changes of messages, like the send pipeline's. */
  pipelineTelemetry?: PipelineTelemetry;
}

export interface CallbackApplierOptions {
  /** Stored callbacks applied per transaction. */
  batchSize?: number;
  /**
   * How long a callback that arrives while its delivery is still being sent (the delivery PENDING, or its
   * message not yet SENT) is left for a later pass, counted from when it was received.
   */
  holdMs?: number;
}

/** What one pass applied: rows claimed, and of those marked applied (the rest are held for a later pass). */
export interface CallbackPass {
  claimed: number;
  applied: number;
}

const SENT_STATES: ReadonlySet<DeliveryStatus> = new Set([DeliveryStatus.SENT, DeliveryStatus.DELIVERED]);
const ENDED_STATES: ReadonlySet<DeliveryStatus> = new Set([DeliveryStatus.BOUNCED, DeliveryStatus.FAILED]);
/** Messages whose sends are done (callbacks may move SENT on). */
const SETTLED: ReadonlySet<MessageStatus> = new Set([
  MessageStatus.SENT,
  MessageStatus.DELIVERED,
  MessageStatus.UNDELIVERABLE,
  MessageStatus.FILTERED,
  MessageStatus.UNROUTABLE,
]);

/** How soon a row held back (its delivery still being sent) is looked at again by the applier that held it. */
const HELD_RECHECK_MS = 1000;
/** Held rows an applier skips at most (beyond, they are simply claimed again). */
const MAX_HELD_SKIPPED = 1000;

/** The earlier of two times (null: none yet). */
const earliest = (a: Date | null, b: Date) => (a && a.getTime() <= b.getTime() ? a : b);

/**
 * Applies stored provider callbacks (`provider_callbacks`, stored by the callback intake through the
 * {@link CallbackStore}) to deliveries and
 * messages (README, "Delivery tracking" → "What callbacks change"). Workers call {@link applyOnce} in their
 * loop: pending rows (`applied_at IS NULL`) are claimed in batches like jobs (`FOR UPDATE SKIP LOCKED` on
 * MySQL/MariaDB; SQLite has one writer), matched to their delivery by (provider configuration, external id),
 * and applied in one transaction per batch, in `happened_at` order, through the message store. Statuses only
 * move forward: a delivery goes `SENT → DELIVERED` or ends `BOUNCED` / `FAILED`; an end is never left. A hard
 * bounce or failure of the channel SINGLE routing chose fails the message over to the plan's next channel.
 */
export class CallbackApplier {
  private readonly batchSize: number;
  private readonly holdMs: number;
  /**
   * Rows this applier held back (their delivery still being sent), by id → when to look at them again: its
   * next batches skip them meanwhile, so held rows never fill a batch ahead of newer ones. Bounded.
   */
  private readonly heldUntil = new Map<string, number>();

  constructor(
    private readonly deps: CallbackApplierDeps,
    options: CallbackApplierOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 100;
    this.holdMs = options.holdMs ?? 60_000;
  }

  /** Whether a callback waits to be applied (one indexed query: what an idle worker asks). */
  hasPending(workspaceIds?: readonly number[]): Promise<boolean> {
    return this.deps.callbacks.hasPending(this.deps.db, workspaceIds);
  }

  /**
   * One worker-loop step: applies one batch when callbacks are pending; true when a full batch was applied
   * (more may be waiting: the worker should not sleep).
   */
  async applyOnce(workspaceIds?: readonly number[]): Promise<boolean> {
    if (!(await this.hasPending(workspaceIds))) return false;
    const pass = await this.applyBatch(workspaceIds);
    return pass.claimed === this.batchSize && pass.applied > 0;
  }

  /** Applies batches until none is pending but held ones (tests, scripts); the rows applied. */
  async applyAll(workspaceIds?: readonly number[]): Promise<number> {
    let total = 0;
    for (;;) {
      const pass = await this.applyBatch(workspaceIds);
      total += pass.applied;
      if (pass.claimed < this.batchSize || pass.applied === 0) return total;
    }
  }

  /** Claims up to one batch of pending callbacks and applies them in one transaction. */
  async applyBatch(workspaceIds?: readonly number[]): Promise<CallbackPass> {
    if (workspaceIds?.length === 0) return { claimed: 0, applied: 0 };
    const counts = new Map<string, number>();
    const pass = await this.deps.db.transaction(async (tx) => {
      counts.clear();
      const rows = await this.claimIn(tx, workspaceIds);
      if (!rows.length) return { claimed: 0, applied: 0, changed: [] as Message[] };
      const batch = new Batch(this.deps, tx, this.holdMs);
      const { results, changed } = await batch.apply(rows);
      await this.deps.callbacks.markAppliedIn(tx, results, new Date());
      const lookAgain = Date.now() + HELD_RECHECK_MS;
      for (const row of rows) {
        const result = results.get(row.id);
        if (result) counts.set(`${row.provider}|${result}`, (counts.get(`${row.provider}|${result}`) ?? 0) + 1);
        else if (this.heldUntil.size < MAX_HELD_SKIPPED) this.heldUntil.set(row.id, lookAgain);
      }
      return { claimed: rows.length, applied: results.size, changed };
    });
    for (const [key, n] of counts) {
      const [provider, result] = key.split('|');
      this.deps.telemetry?.applied(provider, result as CallbackResult, n);
    }
    for (const m of pass.changed) {
      this.deps.pipelineTelemetry?.status({
        workspaceId: m.workspaceId,
        messageId: m.id,
        status: m.status,
        reason: m.reason,
      });
    }
    if (pass.changed.some((m) => m.status === MessageStatus.ROUTED)) this.deps.scheduler.wake();
    return { claimed: pass.claimed, applied: pass.applied };
  }

  /** Pending rows, oldest first, locked for this transaction (skipping those another worker holds or this one held). */
  private claimIn(tx: Sql, workspaceIds?: readonly number[]): Promise<StoredCallback[]> {
    const now = Date.now();
    for (const [id, until] of this.heldUntil) if (until <= now) this.heldUntil.delete(id);
    return this.deps.callbacks.claimPendingIn(tx, {
      limit: this.batchSize,
      workspaceIds,
      skip: [...this.heldUntil.keys()],
    });
  }
}

/** What one callback did to its delivery and message. */
interface Effect {
  result: CallbackResult;
  /** The delivery ended (BOUNCED / FAILED) by this callback. */
  ended?: boolean;
  /** The delivery was confirmed by this callback. */
  confirmed?: boolean;
}

/** One batch, in one transaction: the messages and deliveries it touches, in memory until written. */
class Batch {
  private messages = new Map<string, Message>();
  private deliveries = new Map<string, Delivery[]>();
  private readonly changedDeliveries = new Set<Delivery>();
  private readonly changedMessages = new Set<Message>();
  private readonly history: HistoryRecord[] = [];
  private readonly enqueue = new Map<number, string[]>();

  constructor(
    private readonly deps: CallbackApplierDeps,
    private readonly tx: Sql,
    private readonly holdMs: number,
  ) {}

  /** Applies `rows` (held ones get no result) and writes everything they changed. */
  async apply(rows: StoredCallback[]): Promise<{ results: Map<string, CallbackResult>; changed: Message[] }> {
    const { store } = this.deps;
    const keyOf = (r: StoredCallback) => `${r.providerConfigId}|${r.externalId}`;
    const found = await store.findCallbackDeliveriesIn(
      this.tx,
      rows.flatMap((r) => (r.externalId ? [{ configId: r.providerConfigId, externalId: r.externalId }] : [])),
    );
    const locked = await store.lockMessagesIn(
      this.tx,
      [...found.values()].map((d) => d.messageId),
    );
    this.messages = locked.messages;
    this.deliveries = locked.deliveries;

    const results = new Map<string, CallbackResult>();
    // rows of one delivery apply in the order they happened (providers send them in any order)
    const ordered = [...rows].sort(
      (a, b) => a.happenedAt.getTime() - b.happenedAt.getTime() || Number(a.id) - Number(b.id),
    );
    const now = Date.now();
    for (const row of ordered) {
      const matched = row.externalId ? found.get(keyOf(row)) : undefined;
      const message = matched && this.messages.get(matched.messageId);
      const delivery = message && this.deliveries.get(message.id)?.find((d) => d.id === matched.id);
      if (!message || !delivery || message.workspaceId !== row.workspaceId) {
        results.set(row.id, 'UNKNOWN_DELIVERY');
        continue;
      }
      // the send of this delivery has not finished writing: wait for it (a bounded time)
      const sending =
        delivery.status === DeliveryStatus.PENDING ||
        (SENT_STATES.has(delivery.status) && !SETTLED.has(message.status));
      if (sending && now - row.receivedAt.getTime() < this.holdMs) continue;
      const effect = await this.applyOne(row, message, delivery);
      results.set(row.id, effect.result);
    }

    await store.saveDeliveryOutcomesIn(this.tx, [...this.changedDeliveries]);
    for (const m of this.changedMessages) await store.updateIn(this.tx, m, m.status, m.reason, []);
    await store.appendHistoryIn(this.tx, this.history);
    for (const [workspaceId, ids] of this.enqueue) await this.deps.scheduler.enqueue(this.tx, workspaceId, ids);
    return { results, changed: [...this.changedMessages] };
  }

  /** One callback: the delivery's status and times, suppression, the message's status, its history. */
  private async applyOne(row: StoredCallback, message: Message, delivery: Delivery): Promise<Effect> {
    const effect = await this.deliveryEffect(row, message, delivery);
    this.note(message, {
      type: 'CALLBACK',
      detail: {
        deliveryId: delivery.id,
        channel: delivery.channel,
        provider: row.provider,
        outcome: row.outcome,
        at: row.happenedAt.toISOString(),
        reason: row.reason,
        errorCode: row.errorCode,
        applied: effect.result === 'APPLIED',
      },
    });
    if (effect.confirmed) this.confirmed(message, delivery);
    if (effect.ended) this.ended(row, message, delivery);
    return effect;
  }

  /** What the callback changes on its delivery (and the address's suppression). */
  private async deliveryEffect(row: StoredCallback, message: Message, delivery: Delivery): Promise<Effect> {
    const at = row.happenedAt;
    let changed = false;
    let confirmed = false;
    let ended = false;
    const touch = () => {
      changed = true;
      delivery.updatedAt = new Date();
      this.changedDeliveries.add(delivery);
    };
    /** SENT → DELIVERED (an open or a click implies it); a delivery confirmed by its send gets its time. */
    const deliver = () => {
      if (delivery.status === DeliveryStatus.SENT) {
        delivery.status = DeliveryStatus.DELIVERED;
        delivery.deliveredAt = earliest(delivery.deliveredAt, at);
        confirmed = true;
        touch();
      } else if (delivery.status === DeliveryStatus.DELIVERED && !delivery.deliveredAt) {
        delivery.deliveredAt = at;
        touch();
      }
    };
    /** SENT (or DELIVERED, a time only) → an end; an end stays as it is. */
    const end = (status: DeliveryStatus.BOUNCED | DeliveryStatus.FAILED) => {
      if (delivery.status !== DeliveryStatus.SENT) return;
      delivery.status = status;
      delivery.lastError = (row.reason ?? row.outcome).slice(0, 1000);
      ended = true;
      touch();
    };
    const wasEnded = ENDED_STATES.has(delivery.status);
    const sent = SENT_STATES.has(delivery.status);

    switch (row.outcome) {
      case 'DELIVERED':
        deliver();
        break;
      case 'OPENED':
      case 'CLICKED': {
        if (!sent) break;
        deliver();
        const field = row.outcome === 'OPENED' ? 'openedAt' : 'clickedAt';
        const first = earliest(delivery[field], at);
        if (first !== delivery[field]) {
          delivery[field] = first;
          touch();
        }
        break;
      }
      case 'BOUNCED_HARD':
        end(DeliveryStatus.BOUNCED);
        // evidence about the address, whatever the delivery's status: a repeat of an end changes nothing
        if (!wasEnded && (await this.suppress(row, message, delivery, SuppressionReason.HARD_BOUNCE))) changed = true;
        break;
      case 'FAILED':
        end(DeliveryStatus.FAILED);
        break;
      case 'BOUNCED_SOFT': {
        // a deferral or block of a delivery not yet confirmed; counted per delivery by the suppression service
        const address = this.addressOf(message, delivery);
        if (delivery.status === DeliveryStatus.SENT && address && this.deps.suppressions) {
          await this.deps.suppressions.softBounceIn(
            this.tx,
            { workspaceId: message.workspaceId },
            { channel: delivery.channel, address, deliveryId: delivery.id, at },
          );
          changed = true;
        }
        break;
      }
      case 'SPAM_COMPLAINT':
        if (await this.suppress(row, message, delivery, SuppressionReason.SPAM_COMPLAINT)) changed = true;
        break;
      case 'UNSUBSCRIBED':
        // the recipient's act at the provider (which keeps its own list): recorded in the history only
        changed = true;
        break;
    }
    // Twilio 21610: the recipient replied STOP (SMS, WhatsApp)
    const stop = suppressionForErrorCode(delivery.channel, row.errorCode);
    if (stop && (await this.suppress(row, message, delivery, stop))) changed = true;
    return { result: changed ? 'APPLIED' : 'NO_EFFECT', confirmed, ended };
  }

  /** Suppresses the delivery's (channel, address); false when the plan holds no address for it. */
  private async suppress(row: StoredCallback, message: Message, delivery: Delivery, reason: string): Promise<boolean> {
    const address = this.addressOf(message, delivery);
    if (!address || !this.deps.suppressions) return false;
    await this.deps.suppressions.suppressIn(
      this.tx,
      { workspaceId: row.workspaceId },
      { channel: delivery.channel, address, reason },
    );
    return true;
  }

  /** The address the delivery went to, from the message's plan, normalized (null: none, e.g. a webhook). */
  private addressOf(message: Message, delivery: Delivery): string | null {
    const plan = this.planOf(message);
    const address = plan?.channels.find((c) => c.channel === delivery.channel)?.address;
    return typeof address === 'string' && address.trim() ? normalizeAddress(delivery.channel, address) : null;
  }

  private planOf(message: Message): Plan | null {
    const plan = message.plan as unknown;
    return (typeof plan === 'string' ? parseJsonColumn(plan) : plan) as Plan | null;
  }

  /** A delivery was confirmed: a SENT message becomes DELIVERED. */
  private confirmed(message: Message, delivery: Delivery): void {
    if (message.status !== MessageStatus.SENT) return;
    const plan = this.planOf(message);
    const method = plan?.method ?? RoutingMethod.SINGLE;
    // SINGLE names the channel confirmed; ALL the channels sent and those that failed (as its SENT entry did)
    const sentChannels = method === RoutingMethod.ALL ? this.channelsSent(message) : [delivery.channel];
    const failed = (plan?.channels ?? []).map((c) => c.channel).filter((c) => !sentChannels.includes(c));
    const end = sentOutcome(method, sentChannels, failed, true);
    this.setStatus(message, MessageStatus.DELIVERED, null);
    this.note(message, end.entry);
  }

  /**
   * A delivery ended (BOUNCED / FAILED) after it was sent. SINGLE: the channel it chose fails over to the plan's
   * next channel (the message goes back to ROUTED with a send job), or the message ends UNDELIVERABLE `BOUNCED`.
   * ALL: the message ends UNDELIVERABLE `BOUNCED` when every delivery it sent ended so.
   */
  private ended(row: StoredCallback, message: Message, delivery: Delivery): void {
    if (message.status !== MessageStatus.SENT) return;
    const plan = this.planOf(message);
    if (!plan) return;
    if (plan.method === RoutingMethod.ALL) {
      const sent = (this.deliveries.get(message.id) ?? []).filter((d) => d.sentAt);
      if (sent.length && sent.every((d) => ENDED_STATES.has(d.status))) {
        this.setStatus(message, MessageStatus.UNDELIVERABLE, BOUNCED);
        this.note(message, { type: 'UNDELIVERABLE', detail: { reason: BOUNCED } });
      }
      return;
    }
    if (message.channel && message.channel !== delivery.channel) return;
    const index = plan.channels.findIndex((c) => c.channel === delivery.channel);
    const next = index >= 0 ? (plan.channels[index + 1]?.channel ?? null) : null;
    this.note(message, {
      type: 'FAILOVER_AFTER_BOUNCE',
      detail: { channel: delivery.channel, next, reason: row.reason ?? row.outcome },
    });
    if (next) {
      this.setStatus(message, MessageStatus.ROUTED, null);
      this.enqueue.set(message.workspaceId, [...(this.enqueue.get(message.workspaceId) ?? []), message.id]);
    } else {
      this.setStatus(message, MessageStatus.UNDELIVERABLE, BOUNCED);
      this.note(message, { type: 'UNDELIVERABLE', detail: { reason: BOUNCED } });
    }
  }

  /** The channels the message was sent on, in plan order. */
  private channelsSent(message: Message): Channel[] {
    const sent = new Set((this.deliveries.get(message.id) ?? []).filter((d) => d.sentAt).map((d) => d.channel));
    const order = (this.planOf(message)?.channels ?? []).map((c) => c.channel);
    return [...order.filter((c) => sent.has(c)), ...[...sent].filter((c) => !order.includes(c))];
  }

  private setStatus(message: Message, status: MessageStatus, reason: string | null): void {
    message.status = status;
    message.reason = reason;
    this.changedMessages.add(message);
  }

  private note(message: Message, entry: HistoryEntry): void {
    this.history.push({ messageId: message.id, ...entry });
  }
}
