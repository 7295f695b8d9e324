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
import { findAddress } from '../domain/channel/channel-address';
import { conditionHolds, type ConditionTrace } from '../domain/routing/condition';
import { orderRules, type RoutingRuleService } from '../domain/routing/routing-rule.service';
import type { RoutingRule } from '../domain/routing/routing-rule.entity';
import type { Profile } from '../domain/profile/profile.entity';
import type { InboundEvent } from '../domain/event-log/inbound-event.entity';
import { RoutingAction, RoutingMethod } from '../domain/routing/routing.enums';
import { contentKey, type Channel } from '../domain/channel/channel.enum';
import type { ChannelContent } from '../domain/channel/channel-content';
import { renderContent } from '../domain/template/render';
import type { PublishedTemplate, TemplateService } from '../domain/template/template.service';
import type { ProviderRegistry } from '../domain/provider/provider-registry';
import { PermanentProviderError, type ProviderError } from '../domain/provider/provider.errors';
import type { RenderedContent } from '../domain/provider/provider-plugin';
import { retryDelayMs, type RetryPolicy } from './retry-policy';
import type { DeliveryOutcome, PipelineTelemetry } from './pipeline-telemetry';

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

interface RoutingInputs {
  published: Map<string, PublishedTemplate | null>;
  rules: RoutingRule[];
  configs: OpenProviderConfig[];
  profiles: Map<string, Profile>;
  events: Map<string, InboundEvent>;
}

/** What routing decided for a message: ROUTED with a plan, or a final status with its reason. */
interface Decision {
  history: HistoryEntry[];
  status: MessageStatus;
  reason: string | null;
  templateVersion: number | null;
  plan?: Plan;
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
  /** Metrics and logs of status changes and delivery attempts (optional). */
  telemetry?: PipelineTelemetry;
}

/** The ids every telemetry event carries. */
const ids = (message: Message) => ({ workspaceId: message.workspaceId, messageId: message.id });

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

  /**
   * Runs the pipeline for many messages at once (what a worker claims in one go). New messages take
   * a fast path: routing inputs are loaded once per workspace, the decisions and first attempts are
   * written in one transaction, the first sends go out together, and their results are written in a
   * second transaction. Whatever the fast path does not finish — a failed attempt, a retry, a message
   * already ROUTED — continues through {@link run}, one message at a time.
   */
  async runMany(
    jobs: { workspaceId: number; messageId: string }[],
    signal: AbortSignal = new AbortController().signal,
  ): Promise<RunOutcome[]> {
    const outcomes = new Map<string, RunOutcome>();
    const byWorkspace = new Map<number, string[]>();
    for (const j of jobs) byWorkspace.set(j.workspaceId, [...(byWorkspace.get(j.workspaceId) ?? []), j.messageId]);
    for (const [workspaceId, ids] of byWorkspace) {
      const ctx: RequestContext = { workspaceId };
      const found = await this.deps.messages.getByIds(ctx, ids);
      const fresh = [...found.values()].filter((m) => m.status === MessageStatus.ENQUEUED);
      const rest = ids.filter((id) => !fresh.some((m) => m.id === id));
      const unfinished = fresh.length ? await this.fastPath(ctx, fresh, signal) : [];
      for (const m of fresh) if (!unfinished.includes(m.id)) outcomes.set(m.id, { done: true });
      await Promise.all(
        [...rest, ...unfinished].map(async (id) => outcomes.set(id, await this.run(workspaceId, id, signal))),
      );
    }
    return jobs.map((j) => outcomes.get(j.messageId) ?? { done: true });
  }

  /** Routes and sends the first attempt of new messages in bulk; returns the ids it did not finish. */
  private async fastPath(ctx: RequestContext, messages: Message[], signal: AbortSignal): Promise<string[]> {
    const inputs = await this.loadInputs(ctx, messages);
    const traits = (m: Message) => inputs.profiles.get(m.userId)?.traits ?? {};
    const now = new Date();
    const decided = messages.map((message) => ({ message, decision: this.decide(message, inputs) }));
    // the first attempt of each message: SINGLE → the first channel's first provider; ALL → every channel's
    const attempts = decided.flatMap(({ message, decision }) =>
      !decision.plan
        ? []
        : (decision.plan.method === RoutingMethod.ALL
            ? decision.plan.channels
            : decision.plan.channels.slice(0, 1)
          ).map((planned) => ({
            message,
            plan: decision.plan!,
            planned,
            delivery: {
              id: randomUUID(),
              messageId: message.id,
              channel: planned.channel,
              providerConfigId: planned.providers[0].configId,
              provider: planned.providers[0].provider,
              status: DeliveryStatus.PENDING,
              attempts: 1,
              lastError: null,
              externalId: null,
              sentAt: null,
              nextAttemptAt: null,
              createdAt: now,
              updatedAt: now,
            } as Delivery,
          })),
    );
    await this.deps.db.transaction(async (tx) => {
      await this.saveMessages(
        tx,
        decided.map(({ message, decision }) =>
          Object.assign(message, {
            status: decision.status,
            reason: decision.reason,
            templateVersion: decision.templateVersion,
            plan: decision.plan ?? null,
            updatedAt: now,
          }),
        ),
      );
      // attempts are counted before the calls: a worker that dies mid-send still used them up
      await this.saveDeliveries(
        tx,
        attempts.map((a) => a.delivery),
      );
      await this.insertHistoryMany(
        tx,
        decided.flatMap(({ message, decision }) => {
          const end = FINAL_STATUSES.has(decision.status)
            ? [{ type: decision.status, detail: { reason: decision.reason } }]
            : [];
          return [...decision.history, ...end].map((h) => ({ messageId: message.id, ...h }));
        }),
      );
    });
    for (const { message, decision } of decided) {
      this.deps.telemetry?.status({ ...ids(message), status: decision.status, reason: decision.reason });
    }

    const configs = new Map(inputs.configs.map((c) => [c.id, c]));
    const results = await Promise.all(
      attempts.map(async (a) => {
        const outcome = await this.attempt(
          a.message,
          a.plan,
          a.planned,
          a.delivery,
          configs.get(a.delivery.providerConfigId)!,
          traits(a.message),
          signal,
        );
        return { a, ok: outcome.sent, history: outcome.history };
      }),
    );

    // a message is finished here when every first attempt it made was sent; the others go on in run()
    const unfinished = new Set(results.filter((r) => !r.ok).map((r) => r.a.message.id));
    const sent = new Map<string, { message: Message; channels: Channel[]; delivered: boolean }>();
    for (const r of results) {
      if (unfinished.has(r.a.message.id)) continue;
      const entry = sent.get(r.a.message.id) ?? { message: r.a.message, channels: [], delivered: true };
      entry.channels.push(r.a.delivery.channel);
      entry.delivered &&= r.a.delivery.status === DeliveryStatus.DELIVERED;
      sent.set(r.a.message.id, entry);
    }
    await this.deps.db.transaction(async (tx) => {
      await this.saveDeliveries(
        tx,
        results.map((r) => r.a.delivery),
      );
      const finished = [...sent.values()].map(({ message, channels, delivered }) =>
        Object.assign(message, {
          status: delivered ? MessageStatus.DELIVERED : MessageStatus.SENT,
          channel: channels[0],
          updatedAt: new Date(),
        }),
      );
      await this.saveMessages(tx, finished);
      await this.insertHistoryMany(tx, [
        ...results.map((r) => ({ messageId: r.a.message.id, ...r.history })),
        ...[...sent.values()].map(({ message, channels }) => ({
          messageId: message.id,
          type: message.status,
          detail:
            message.plan && (message.plan as unknown as Plan).method === RoutingMethod.ALL
              ? { channels, failedChannels: [] }
              : { channel: channels[0] },
        })),
      ]);
    });
    for (const { message } of sent.values()) {
      this.deps.telemetry?.status({ ...ids(message), status: message.status, reason: null });
    }
    return [...unfinished];
  }

  // ---- routing: steps 2–5 ------------------------------------------------------------------------

  /** Everything routing reads, loaded once for a set of messages of one workspace. */
  private async loadInputs(ctx: RequestContext, messages: Message[]): Promise<RoutingInputs> {
    const { templates, profiles, rules, providerConfigs, events } = this.deps;
    const templateIds = [...new Set(messages.flatMap((m) => (m.templateId ? [m.templateId] : [])))];
    const userIds = [...new Set(messages.map((m) => m.userId))];
    const eventIds = [...new Set(messages.flatMap((m) => (m.eventId ? [m.eventId] : [])))];
    const [published, allRules, configs, byUser, eventsById] = await Promise.all([
      templates.publishedMany(ctx, templateIds),
      rules.list(ctx),
      providerConfigs.enabled(ctx),
      profiles.getByIds(ctx, userIds),
      events.getByIds(ctx, eventIds),
    ]);
    // a message for an anonymous id that was merged later finds the user's profile
    const missing = userIds.filter((u) => !byUser.has(u));
    if (missing.length) {
      const aliases = await profiles.resolveAliases(this.deps.db, ctx.workspaceId, missing);
      const targets = await profiles.getByIds(ctx, [...new Set(aliases.values())]);
      for (const [anonymousId, userId] of aliases) {
        const profile = targets.get(userId);
        if (profile) byUser.set(anonymousId, profile);
      }
    }
    return { published, rules: allRules, configs, profiles: byUser, events: eventsById };
  }

  /** Steps 2–5 for one message, as a pure decision over the loaded inputs. */
  private decide(message: Message, inputs: RoutingInputs): Decision {
    const history: HistoryEntry[] = [];
    const published = message.templateId ? (inputs.published.get(message.templateId) ?? null) : null;
    if (!published) {
      history.push({ type: 'TEMPLATE', detail: { templateId: message.templateId, published: false } });
      return { history, status: MessageStatus.UNDELIVERABLE, reason: 'UNPUBLISHED', templateVersion: null };
    }
    const templateVersion = published.version;
    history.push({
      type: 'TEMPLATE',
      detail: { templateId: published.templateId, version: published.version, channels: published.channels },
    });

    const profile = inputs.profiles.get(message.userId);
    const traits = profile?.traits ?? {};
    history.push({
      type: 'PROFILE',
      detail: { userId: message.userId, found: Boolean(profile), profileUserId: profile?.userId ?? null },
    });

    const stored = message.eventId ? inputs.events.get(message.eventId) : undefined;
    const event = stored
      ? { ...stored.payload, name: stored.name, id: stored.id, receivedAt: stored.receivedAt.toISOString() }
      : {};
    const scope = { data: message.data, profile: traits, event };

    const evaluated: {
      ruleId: string;
      name: string;
      priority: number;
      templateId: string | null;
      holds: boolean;
      trace: ConditionTrace[];
    }[] = [];
    const ordered = orderRules(
      inputs.rules.filter((r) => r.enabled && (r.templateId === null || r.templateId === published.templateId)),
    );
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
      return { history, status: MessageStatus.FILTERED, reason: 'SUPPRESSED', templateVersion };
    }
    const method = matched?.method ?? RoutingMethod.SINGLE;
    const wanted = matched?.channels ?? published.channels;

    const available: PlannedChannel[] = [];
    const unavailable: { channel: Channel; reasons: string[] }[] = [];
    for (const channel of wanted) {
      const reasons: string[] = [];
      if (!(published.content as Record<string, unknown>)[contentKey(channel)]) {
        reasons.push(`the template has no ${contentKey(channel)} content`);
      }
      const providers = inputs.configs
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
      return { history, status: MessageStatus.UNROUTABLE, reason: 'NO_AVAILABLE_CHANNEL', templateVersion };
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
      return { history, status: MessageStatus.UNDELIVERABLE, reason: 'RENDER_FAILED', templateVersion };
    }
    history.push({ type: 'ROUTED', detail: { method, channels: available.map((c) => c.channel) } });
    return {
      history,
      status: MessageStatus.ROUTED,
      reason: null,
      templateVersion,
      plan: { method, channels: available, rendered },
    };
  }

  /** Routes one message and records the decision; the plan when it was ROUTED, else null (finished). */
  private async route(ctx: RequestContext, message: Message): Promise<Plan | null> {
    const decision = this.decide(message, await this.loadInputs(ctx, [message]));
    const extra = { templateVersion: decision.templateVersion ?? undefined, plan: decision.plan };
    if (decision.plan) {
      await this.update(message, decision.status, null, decision.history, extra);
      return decision.plan;
    }
    await this.finish(message, decision.status, decision.reason, decision.history, extra);
    return null;
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
        this.deps.telemetry?.attempt({
          workspaceId: message.workspaceId,
          messageId: message.id,
          deliveryId: delivery.id,
          channel: planned.channel,
          provider,
          providerConfigId: configId,
          attempt: delivery.attempts,
          outcome: 'SKIPPED',
        });
        continue;
      }

      const attempt = delivery.attempts + 1;
      // counted before the call: a worker that dies mid-send still used up this try
      await this.deps.db.run(
        'UPDATE deliveries SET attempts = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ?',
        [attempt, toDbTime(new Date()), delivery.id],
      );
      delivery.attempts = attempt;
      const outcome = await this.attempt(message, plan, planned, delivery, config, traits, signal);
      await this.deps.db.transaction(async (tx) => {
        await this.saveDeliveries(tx, [delivery!]);
        await this.insertHistory(tx, message.id, [outcome.history]);
      });
      if (outcome.sent) return { kind: 'sent', delivered: delivery.status === DeliveryStatus.DELIVERED };
      if (outcome.retryAt) return { kind: 'retry', at: outcome.retryAt };
    }
    return { kind: 'failed' };
  }

  /**
   * One try of one delivery (its `attempts` already counted): calls the provider, records the outcome
   * on `delivery` in memory — sent, a retry at a time with backoff (or `Retry-After`), or failed — and
   * returns the history entry. The callers persist it, one delivery at a time or in bulk.
   */
  private async attempt(
    message: Message,
    plan: Plan,
    planned: PlannedChannel,
    delivery: Delivery,
    config: OpenProviderConfig,
    traits: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<{ sent: boolean; retryAt: Date | null; history: HistoryEntry }> {
    const base = {
      channel: delivery.channel,
      provider: delivery.provider,
      providerConfigId: delivery.providerConfigId,
      deliveryId: delivery.id,
      attempt: delivery.attempts,
    };
    const started = Date.now();
    const report = (outcome: DeliveryOutcome, failure?: { error: string; status: number | null }) =>
      this.deps.telemetry?.attempt({ ...base, ...ids(message), ...failure, outcome, ms: Date.now() - started });
    try {
      const result = await this.deps.registry.get(delivery.provider)!.send({
        channel: delivery.channel,
        settings: config.settings,
        address: planned.address,
        content: (plan.rendered as Record<string, unknown>)[contentKey(delivery.channel)] as RenderedContent,
        profile: { userId: message.userId, traits },
        message: { id: message.id, eventName: message.eventName, data: message.data },
        idempotencyKey: delivery.id,
        signal,
      });
      const status = result.delivered ? DeliveryStatus.DELIVERED : DeliveryStatus.SENT;
      const now = new Date();
      Object.assign(delivery, {
        status,
        externalId: result.externalId ?? null,
        lastError: null,
        sentAt: now,
        nextAttemptAt: null,
        updatedAt: now,
      });
      report(status);
      return {
        sent: true,
        retryAt: null,
        history: { type: 'ATTEMPT', detail: { ...base, outcome: status, externalId: result.externalId ?? null } },
      };
    } catch (err) {
      const error = toError(err);
      const failure = {
        ...base,
        error: error.message.slice(0, 1000),
        status: error.status ?? null,
        retryable: error.retryable,
      };
      if (error.retryable && delivery.attempts < this.retry.attempts) {
        const delay = retryDelayMs(
          this.retry,
          delivery.attempts,
          'retryAfterMs' in error ? (error.retryAfterMs as number | undefined) : undefined,
        );
        const retryAt = new Date(Date.now() + delay);
        Object.assign(delivery, { lastError: failure.error, nextAttemptAt: retryAt, updatedAt: new Date() });
        report('RETRY', failure);
        return {
          sent: false,
          retryAt,
          history: { type: 'ATTEMPT', detail: { ...failure, outcome: 'RETRY', retryInMs: delay } },
        };
      }
      Object.assign(delivery, {
        status: DeliveryStatus.FAILED,
        lastError: failure.error,
        nextAttemptAt: null,
        updatedAt: new Date(),
      });
      report('FAILED', failure);
      const next =
        planned.providers[planned.providers.findIndex((p) => p.configId === delivery.providerConfigId) + 1] ?? null;
      const why = error.retryable ? `out of tries (${this.retry.attempts})` : 'permanent error';
      return {
        sent: false,
        retryAt: null,
        history: { type: 'ATTEMPT', detail: { ...failure, outcome: 'FAILED', why, next } },
      };
    }
  }

  // ---- persistence --------------------------------------------------------------------------------

  /** Writes messages' routing state in one statement (they exist: an upsert only updates them). */
  private async saveMessages(tx: Sql, messages: Message[]): Promise<void> {
    if (!messages.length) return;
    const d = tx.dialect;
    const cols = ['status', 'reason', 'channel', 'template_version', 'plan', 'updated_at'];
    await tx.run(
      `INSERT INTO messages (id, workspace_id, status, reason, template_id, template_version, event_id, event_name, user_id, data,
        channel, plan, idempotency_key, created_at, updated_at) VALUES ${messages.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
       ${d.onConflictUpdate(['id'], cols.map((c) => `${c} = ${d.inserted(c)}`).join(', '))}`,
      messages.flatMap((m) => [
        m.id,
        m.workspaceId,
        m.status,
        m.reason,
        m.templateId,
        m.templateVersion,
        m.eventId,
        m.eventName,
        m.userId,
        JSON.stringify(m.data ?? {}),
        m.channel,
        m.plan ? JSON.stringify(m.plan) : null,
        m.idempotencyKey,
        toDbTime(m.createdAt),
        toDbTime(m.updatedAt),
      ]),
    );
  }

  /** Inserts deliveries, or updates their outcome when they exist, in one statement. */
  private async saveDeliveries(tx: Sql, deliveries: Delivery[]): Promise<void> {
    if (!deliveries.length) return;
    const d = tx.dialect;
    const cols = ['status', 'attempts', 'last_error', 'external_id', 'sent_at', 'next_attempt_at', 'updated_at'];
    const time = (t: Date | null) => (t ? toDbTime(t) : null);
    await tx.run(
      `INSERT INTO deliveries (id, message_id, channel, provider_config_id, provider, status, attempts, last_error, external_id,
        sent_at, next_attempt_at, created_at, updated_at) VALUES ${deliveries.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
       ${d.onConflictUpdate(['id'], cols.map((c) => `${c} = ${d.inserted(c)}`).join(', '))}`,
      deliveries.flatMap((x) => [
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
      ]),
    );
  }

  private async insertHistoryMany(tx: Sql, entries: (HistoryEntry & { messageId: string })[]): Promise<void> {
    const at = toDbTime(new Date());
    for (let i = 0; i < entries.length; i += 500) {
      const part = entries.slice(i, i + 500);
      await tx.run(
        `INSERT INTO message_history (message_id, at, type, detail) VALUES ${part.map(() => '(?, ?, ?, ?)').join(', ')}`,
        part.flatMap((h) => [h.messageId, at, h.type, JSON.stringify(h.detail)]),
      );
    }
  }

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
    this.deps.telemetry?.status({ workspaceId: message.workspaceId, messageId: message.id, status, reason });
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
