import { randomUUID } from 'node:crypto';
import type { Database, Sql } from '../db/database';
import { toDbTime } from '../db/dialect';
import type { EventLogService } from '../domain/event-log/event-log.service';
import type { Delivery } from '../domain/message/delivery.entity';
import type { Message } from '../domain/message/message.entity';
import { DeliveryStatus, FINAL_STATUSES, MessageStatus } from '../domain/message/message-status.enum';
import { toDelivery, type MessageService } from '../domain/message/message.service';
import type { ProfileService } from '../domain/profile/profile.service';
import type { OpenProviderConfig, ProviderConfigService } from '../domain/provider/provider-config.service';
import type { RequestContext } from '../domain/request-context';
import { findAddress } from '../domain/routing/channel-address';
import { conditionHolds, type ConditionTrace } from '../domain/routing/condition';
import type { RoutingRuleService } from '../domain/routing/routing-rule.service';
import { RoutingAction, RoutingMethod } from '../domain/routing/routing.enums';
import { contentKey, type Channel } from '../domain/template/channel.enum';
import type { ChannelContent } from '../domain/template/channel-content';
import { renderContent } from '../domain/template/render';
import type { TemplateService } from '../domain/template/template.service';
import type { ProviderRegistry } from '../plugins/providers';
import { PermanentProviderError, type ProviderError } from '../plugins/providers/errors';
import type { RenderedContent } from '../plugins/providers/types';
import { retryDelayMs, type RetryPolicy } from './retry-policy';

/** The routing decision, fixed when a message is ROUTED, so retries continue the same plan. */
export interface Plan {
  method: RoutingMethod;
  channels: PlannedChannel[];
  rendered: ChannelContent;
}

export interface PlannedChannel {
  channel: Channel;
  /** The trait the address came from (null for WEBHOOK). */
  addressFrom: string | null;
  address: unknown;
  /** Enabled provider configurations for the channel, by priority. */
  providers: { configId: string; provider: string }[];
}

/** What one pipeline run ended with: finished, or to be run again at `retryAt`. */
export type RunOutcome = { done: true } | { done: false; retryAt: Date };

type ChannelOutcome = { kind: 'sent'; delivered: boolean } | { kind: 'retry'; at: Date } | { kind: 'failed' };

interface HistoryEntry {
  type: string;
  detail: Record<string, unknown>;
}

export interface PipelineDeps {
  db: Database;
  templates: TemplateService;
  profiles: ProfileService;
  rules: RoutingRuleService;
  providerConfigs: ProviderConfigService;
  messages: MessageService;
  events: EventLogService;
  registry: ProviderRegistry;
}

function toError(err: unknown): ProviderError {
  // duck-typed: a provider error is anything with a boolean `retryable` (class identity may differ across bundles)
  if (err && typeof (err as ProviderError).retryable === 'boolean') return err as ProviderError;
  return new PermanentProviderError(`provider failed unexpectedly: ${(err as Error)?.message ?? String(err)}`);
}

/**
 * The send pipeline of CONTRACT §3.2, one message at a time: published template → profile → routing
 * rules → available channels → SINGLE/ALL dispatch with provider priority, retries and failover.
 * Every step is written to the message history with the facts that decided it. A run either finishes
 * the message or asks to be run again later (a retry with backoff); all state is in the database.
 */
export class SendPipeline {
  constructor(
    private readonly deps: PipelineDeps,
    private readonly retry: RetryPolicy,
  ) {}

  async run(
    workspaceId: number,
    messageId: string,
    signal: AbortSignal = new AbortController().signal,
  ): Promise<RunOutcome> {
    const ctx: RequestContext = { workspaceId };
    const message = await this.deps.messages.get(ctx, messageId);
    if (!message || FINAL_STATUSES.has(message.status)) return { done: true };
    let plan = message.plan as Plan | null;
    if (message.status === MessageStatus.ENQUEUED || !plan) {
      plan = await this.route(ctx, message);
      if (!plan) return { done: true };
    }
    return this.dispatch(ctx, message, plan, signal);
  }

  // ---- routing: steps 2–5 ------------------------------------------------------------------------

  private async route(ctx: RequestContext, message: Message): Promise<Plan | null> {
    const { templates, profiles, rules, providerConfigs, events } = this.deps;
    const history: HistoryEntry[] = [];

    const published = message.templateId ? await templates.published(ctx, message.templateId) : null;
    if (!published) {
      history.push({ type: 'TEMPLATE', detail: { templateId: message.templateId, published: false } });
      await this.finish(message, MessageStatus.UNDELIVERABLE, 'UNPUBLISHED', history);
      return null;
    }
    history.push({
      type: 'TEMPLATE',
      detail: { templateId: published.templateId, version: published.version, channels: published.channels },
    });

    const profile = await profiles.get(ctx, message.userId);
    const traits = profile?.traits ?? {};
    history.push({
      type: 'PROFILE',
      detail: { userId: message.userId, found: Boolean(profile), profileUserId: profile?.userId ?? null },
    });

    let event: Record<string, unknown> = {};
    if (message.eventId) {
      const stored = await events.get(ctx, message.eventId);
      if (stored)
        event = { ...stored.payload, name: stored.name, id: stored.id, receivedAt: stored.receivedAt.toISOString() };
    }
    const scope = { data: message.data, profile: traits, event };

    const evaluated: {
      ruleId: string;
      name: string;
      priority: number;
      templateId: string | null;
      holds: boolean;
      trace: ConditionTrace[];
    }[] = [];
    const ordered = (await rules.list(ctx, published.templateId)).filter((r) => r.enabled);
    const matched = ordered.find((rule) => {
      const { result, trace } = conditionHolds(rule.when, scope);
      evaluated.push({
        ruleId: rule.id,
        name: rule.name,
        priority: rule.priority,
        templateId: rule.templateId,
        holds: result,
        trace,
      });
      return result;
    });
    history.push({
      type: 'RULES',
      detail: {
        evaluated,
        matched: matched
          ? {
              ruleId: matched.id,
              name: matched.name,
              action: matched.action,
              method: matched.method,
              channels: matched.channels,
            }
          : null,
        ...(matched ? {} : { fallback: 'no rule matched: the template channels, SINGLE' }),
      },
    });
    if (matched?.action === RoutingAction.SUPPRESS) {
      await this.finish(message, MessageStatus.FILTERED, 'SUPPRESSED', history, { templateVersion: published.version });
      return null;
    }
    const method = matched?.method ?? RoutingMethod.SINGLE;
    const wanted = matched?.channels ?? published.channels;

    const configs = await providerConfigs.enabled(ctx);
    const available: PlannedChannel[] = [];
    const unavailable: { channel: Channel; reasons: string[] }[] = [];
    for (const channel of wanted) {
      const reasons: string[] = [];
      if (!(published.content as Record<string, unknown>)[contentKey(channel)])
        reasons.push(`the template has no ${contentKey(channel)} content`);
      const providers = configs
        .filter((c) => c.channel === channel)
        .map((c) => ({ configId: c.id, provider: c.provider }));
      if (!providers.length) reasons.push(`no enabled provider is configured for ${channel}`);
      const address = findAddress(channel, traits);
      if (!address.found) reasons.push(`the profile has no address (looked at ${address.tried.join(', ')})`);
      if (reasons.length || !address.found) unavailable.push({ channel, reasons });
      else available.push({ channel, addressFrom: address.path, address: address.address, providers });
    }
    history.push({
      type: 'CHANNELS',
      detail: {
        method,
        considered: wanted,
        available: available.map((c) => ({ channel: c.channel, addressFrom: c.addressFrom, providers: c.providers })),
        unavailable,
      },
    });
    if (!available.length) {
      await this.finish(message, MessageStatus.UNROUTABLE, 'NO_AVAILABLE_CHANNEL', history, {
        templateVersion: published.version,
      });
      return null;
    }

    let rendered: ChannelContent;
    try {
      const result = renderContent(
        available.map((c) => c.channel),
        published.content,
        scope,
      );
      rendered = result.rendered;
      history.push({
        type: 'RENDERED',
        detail: { channels: available.map((c) => c.channel), missingVariables: result.missingVariables },
      });
    } catch (err) {
      history.push({ type: 'RENDERED', detail: { error: (err as Error).message } });
      await this.finish(message, MessageStatus.UNDELIVERABLE, 'RENDER_FAILED', history, {
        templateVersion: published.version,
      });
      return null;
    }

    const plan: Plan = { method, channels: available, rendered };
    history.push({ type: 'ROUTED', detail: { method, channels: available.map((c) => c.channel) } });
    await this.update(message, MessageStatus.ROUTED, null, history, { templateVersion: published.version, plan });
    return plan;
  }

  // ---- dispatch: step 6 ---------------------------------------------------------------------------

  private async dispatch(ctx: RequestContext, message: Message, plan: Plan, signal: AbortSignal): Promise<RunOutcome> {
    const deliveries = new Map(
      (await this.deps.messages.deliveriesOf([message.id]))
        .get(message.id)!
        .map((d) => [`${d.channel}|${d.providerConfigId}`, d]),
    );
    const configs = new Map((await this.deps.providerConfigs.enabled(ctx)).map((c) => [c.id, c]));
    const profile = await this.deps.profiles.get(ctx, message.userId);
    const traits = profile?.traits ?? {};
    const runChannel = (planned: PlannedChannel) =>
      this.runChannel(message, plan, planned, deliveries, configs, traits, signal);

    if (plan.method === RoutingMethod.ALL) {
      const outcomes = await Promise.all(plan.channels.map(runChannel));
      const retries = outcomes.flatMap((o) => (o.kind === 'retry' ? [o.at.getTime()] : []));
      if (retries.length) return { done: false, retryAt: new Date(Math.min(...retries)) };
      const sent = plan.channels.filter((_, i) => outcomes[i].kind === 'sent');
      const failed = plan.channels.filter((_, i) => outcomes[i].kind === 'failed').map((c) => c.channel);
      if (!sent.length) {
        await this.finish(message, MessageStatus.UNDELIVERABLE, 'ALL_CHANNELS_FAILED', [
          { type: 'UNDELIVERABLE', detail: { failedChannels: failed } },
        ]);
      } else {
        const delivered = outcomes.every((o) => o.kind !== 'sent' || o.delivered);
        await this.finish(
          message,
          delivered ? MessageStatus.DELIVERED : MessageStatus.SENT,
          null,
          [
            {
              type: delivered ? 'DELIVERED' : 'SENT',
              detail: { channels: sent.map((c) => c.channel), failedChannels: failed },
            },
          ],
          { channel: sent[0].channel },
        );
      }
      return { done: true };
    }

    for (let i = 0; i < plan.channels.length; i++) {
      const planned = plan.channels[i];
      const outcome = await runChannel(planned);
      if (outcome.kind === 'retry') return { done: false, retryAt: outcome.at };
      if (outcome.kind === 'sent') {
        const status = outcome.delivered ? MessageStatus.DELIVERED : MessageStatus.SENT;
        await this.finish(message, status, null, [{ type: status, detail: { channel: planned.channel } }], {
          channel: planned.channel,
        });
        return { done: true };
      }
      const next = plan.channels[i + 1]?.channel ?? null;
      await this.appendHistory(message.id, [{ type: 'CHANNEL_FAILED', detail: { channel: planned.channel, next } }]);
    }
    await this.finish(message, MessageStatus.UNDELIVERABLE, 'ALL_CHANNELS_FAILED', [
      { type: 'UNDELIVERABLE', detail: { failedChannels: plan.channels.map((c) => c.channel) } },
    ]);
    return { done: true };
  }

  /** One channel: its providers by priority; each gets the configured tries, then the next takes over. */
  private async runChannel(
    message: Message,
    plan: Plan,
    planned: PlannedChannel,
    deliveries: Map<string, Delivery>,
    configs: Map<string, OpenProviderConfig>,
    traits: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<ChannelOutcome> {
    for (let p = 0; p < planned.providers.length; p++) {
      const { configId, provider } = planned.providers[p];
      let delivery = deliveries.get(`${planned.channel}|${configId}`);
      if (delivery?.status === DeliveryStatus.SENT || delivery?.status === DeliveryStatus.DELIVERED) {
        return { kind: 'sent', delivered: delivery.status === DeliveryStatus.DELIVERED };
      }
      if (delivery?.status === DeliveryStatus.FAILED) continue;
      if (delivery?.nextAttemptAt && delivery.nextAttemptAt.getTime() > Date.now())
        return { kind: 'retry', at: delivery.nextAttemptAt };

      delivery ??= await this.createDelivery(message.id, planned.channel, configId, provider);
      const config = configs.get(configId);
      const plugin = this.deps.registry.get(provider);
      const next = planned.providers[p + 1] ?? null;
      if (!config || !plugin) {
        await this.failDelivery(delivery, 'the provider configuration was removed or disabled after routing', [
          {
            type: 'ATTEMPT',
            detail: {
              channel: planned.channel,
              provider,
              providerConfigId: configId,
              deliveryId: delivery.id,
              outcome: 'SKIPPED',
              error: 'configuration removed or disabled',
              next,
            },
          },
        ]);
        continue;
      }

      const attempt = delivery.attempts + 1;
      // counted before the call: a worker that dies mid-send still used up this try
      await this.deps.db.run(
        'UPDATE deliveries SET attempts = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ?',
        [attempt, toDbTime(new Date()), delivery.id],
      );
      const base = { channel: planned.channel, provider, providerConfigId: configId, deliveryId: delivery.id, attempt };
      try {
        const result = await plugin.send({
          channel: planned.channel,
          settings: config.settings,
          address: planned.address,
          content: (plan.rendered as Record<string, unknown>)[contentKey(planned.channel)] as RenderedContent,
          profile: { userId: message.userId, traits },
          message: { id: message.id, eventName: message.eventName, data: message.data },
          idempotencyKey: delivery.id,
          signal,
        });
        const status = result.delivered ? DeliveryStatus.DELIVERED : DeliveryStatus.SENT;
        const now = new Date();
        await this.deps.db.transaction(async (tx) => {
          await tx.run(
            'UPDATE deliveries SET status = ?, external_id = ?, last_error = NULL, sent_at = ?, updated_at = ? WHERE id = ?',
            [status, result.externalId ?? null, toDbTime(now), toDbTime(now), delivery!.id],
          );
          await this.insertHistory(tx, message.id, [
            { type: 'ATTEMPT', detail: { ...base, outcome: status, externalId: result.externalId ?? null } },
          ]);
        });
        return { kind: 'sent', delivered: Boolean(result.delivered) };
      } catch (err) {
        const error = toError(err);
        const failure = {
          ...base,
          error: error.message.slice(0, 1000),
          status: error.status ?? null,
          retryable: error.retryable,
        };
        if (error.retryable && attempt < this.retry.attempts) {
          const delay = retryDelayMs(
            this.retry,
            attempt,
            'retryAfterMs' in error ? (error.retryAfterMs as number | undefined) : undefined,
          );
          const at = new Date(Date.now() + delay);
          await this.deps.db.transaction(async (tx) => {
            await tx.run('UPDATE deliveries SET next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?', [
              toDbTime(at),
              failure.error,
              toDbTime(new Date()),
              delivery!.id,
            ]);
            await this.insertHistory(tx, message.id, [
              { type: 'ATTEMPT', detail: { ...failure, outcome: 'RETRY', retryInMs: delay } },
            ]);
          });
          return { kind: 'retry', at };
        }
        await this.failDelivery(delivery, failure.error, [
          {
            type: 'ATTEMPT',
            detail: {
              ...failure,
              outcome: 'FAILED',
              why: error.retryable ? `out of tries (${this.retry.attempts})` : 'permanent error',
              next,
            },
          },
        ]);
      }
    }
    return { kind: 'failed' };
  }

  // ---- persistence --------------------------------------------------------------------------------

  private async createDelivery(
    messageId: string,
    channel: Channel,
    configId: string,
    provider: string,
  ): Promise<Delivery> {
    const now = toDbTime(new Date());
    const id = randomUUID();
    await this.deps.db.run(
      `INSERT INTO deliveries (id, message_id, channel, provider_config_id, provider, status, attempts, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?) ${this.deps.db.dialect.onConflictIgnore(['message_id', 'channel', 'provider_config_id'])}`,
      [id, messageId, channel, configId, provider, DeliveryStatus.PENDING, now, now],
    );
    const rows = await this.deps.db.rows<Record<string, any>>(
      'SELECT * FROM deliveries WHERE message_id = ? AND channel = ? AND provider_config_id = ?',
      [messageId, channel, configId],
    );
    return toDelivery(rows[0]);
  }

  private async failDelivery(delivery: Delivery, error: string, history: HistoryEntry[]): Promise<void> {
    await this.deps.db.transaction(async (tx) => {
      await tx.run(
        'UPDATE deliveries SET status = ?, last_error = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ?',
        [DeliveryStatus.FAILED, error.slice(0, 1000), toDbTime(new Date()), delivery.id],
      );
      await this.insertHistory(tx, delivery.messageId, history);
    });
  }

  private finish(
    message: Message,
    status: MessageStatus,
    reason: string | null,
    history: HistoryEntry[],
    extra: { channel?: Channel; templateVersion?: number } = {},
  ): Promise<void> {
    const end: HistoryEntry[] =
      FINAL_STATUSES.has(status) && !history.some((h) => h.type === status)
        ? [{ type: status, detail: { reason } }]
        : [];
    return this.update(message, status, reason, [...history, ...end], extra);
  }

  private async update(
    message: Message,
    status: MessageStatus,
    reason: string | null,
    history: HistoryEntry[],
    extra: { channel?: Channel; templateVersion?: number; plan?: Plan },
  ): Promise<void> {
    await this.deps.db.transaction(async (tx) => {
      await tx.run(
        `UPDATE messages SET status = ?, reason = ?, channel = COALESCE(?, channel), template_version = COALESCE(?, template_version),
         plan = COALESCE(?, plan), updated_at = ? WHERE id = ?`,
        [
          status,
          reason,
          extra.channel ?? null,
          extra.templateVersion ?? null,
          extra.plan ? JSON.stringify(extra.plan) : null,
          toDbTime(new Date()),
          message.id,
        ],
      );
      await this.insertHistory(tx, message.id, history);
    });
    message.status = status;
  }

  private appendHistory(messageId: string, history: HistoryEntry[]): Promise<void> {
    return this.deps.db.transaction((tx) => this.insertHistory(tx, messageId, history));
  }

  private async insertHistory(tx: Sql, messageId: string, history: HistoryEntry[]): Promise<void> {
    if (!history.length) return;
    const at = toDbTime(new Date());
    await tx.run(
      `INSERT INTO message_history (message_id, at, type, detail) VALUES ${history.map(() => '(?, ?, ?, ?)').join(', ')}`,
      history.flatMap((h) => [messageId, at, h.type, JSON.stringify(h.detail)]),
    );
  }
}
