import type { Sql } from '../db/database';
import type { Channel } from '../domain/channel/channel.enum';
import type { Delivery } from '../domain/message/delivery.entity';
import type { HistoryEntry } from '../domain/message/message-history.types';
import type { Message } from '../domain/message/message.entity';
import { DeliveryStatus, FINAL_STATUSES, MessageStatus } from '../domain/message/message-status.enum';
import {
  newDelivery,
  ofMessage,
  sentOutcome,
  withEnd,
  type MessageChanges,
  type MessageStore,
  type SentOutcome,
} from '../domain/message/message-store';
import type { MessageService } from '../domain/message/message.service';
import type { OpenProviderConfig } from '../domain/provider/provider-config.service';
import type { ProviderRegistry } from '../domain/provider/provider-registry';
import type { RequestContext } from '../domain/request-context';
import { RoutingMethod } from '../domain/routing/routing.enums';
import { attempt, skipAttempt, SKIPPED_ERROR, telemetryIds, type AttemptDeps } from './attempt';
import type { PipelineTelemetry } from './pipeline-telemetry';
import type { RetryPolicy } from './retry-policy';
import {
  decide,
  suppressedEntry,
  suppressionOf,
  type Plan,
  type PlannedChannel,
  type RoutingInputs,
} from './routing/decide';
import { loadInputs, loadPreferencesIn, loadSuppressionsIn, type RoutingSources } from './routing/load-inputs';

/**
 * What one pipeline run ended with: finished, to be run again at `retryAt`, or `failed` unexpectedly
 * (database down, a bug: the worker backs off and runs it again).
 */
export type RunOutcome =
  { done: true; completed?: boolean } | { done: false; retryAt: Date } | { done: false; failed: unknown };

/**
 * Takes the jobs of finished messages off the queue inside the transaction that finishes them (the worker
 * hands in its queue's `completeIn`), so a batch's end is one commit; their outcome says `completed`.
 */
export type CompleteJobsIn = (tx: Sql, messageIds: readonly string[]) => Promise<void>;

/** `afterSend`: a delivery of the channel bounced or failed after it was sent (a callback; it failed over already). */
type ChannelOutcome =
  { kind: 'sent'; delivered: boolean } | { kind: 'retry'; at: Date } | { kind: 'failed'; afterSend?: boolean };

export interface PipelineDeps extends RoutingSources {
  messages: MessageService;
  /** The only writer of messages, deliveries and their history. */
  store: MessageStore;
  registry: ProviderRegistry;
  /** Metrics and logs of status changes and delivery attempts (optional). */
  telemetry?: PipelineTelemetry;
}

/** What every channel of one dispatch shares. */
interface DispatchRun {
  message: Message;
  plan: Plan;
  /** The message's deliveries by `channel|providerConfigId`. */
  deliveries: Map<string, Delivery>;
  configs: Map<string, OpenProviderConfig>;
  traits: Record<string, unknown>;
  signal: AbortSignal;
}

/** The channels a message's first attempt goes to: SINGLE → the first channel; ALL → every channel. */
const firstChannels = (plan: Plan) => (plan.method === RoutingMethod.ALL ? plan.channels : plan.channels.slice(0, 1));

/** The delivery of a first attempt through a channel's first provider, its try already counted. */
const firstDelivery = (message: Message, planned: PlannedChannel, now: Date) =>
  newDelivery(message.id, planned.channel, planned.providers[0].configId, planned.providers[0].provider, 1, now);

/**
 * The send pipeline (README, "From event to notification: a walk-through"; the parts are described in
 * docs/architecture.md): routing (`routing/load-inputs.ts` reads, `routing/decide.ts` decides: published
 * template → profile → routing rules → available channels → rendered content), then SINGLE/ALL dispatch
 * with provider priority, retries and failover, one provider try at a time (`attempt.ts`). Every step is
 * written to the message history with the facts that decided it, through the message store. A run
 * either finishes the message or asks to be run again later (a retry with backoff); all state is in the database.
 */
export class SendPipeline {
  private readonly attemptDeps: AttemptDeps;

  constructor(
    private readonly deps: PipelineDeps,
    retry: RetryPolicy,
  ) {
    this.attemptDeps = { registry: deps.registry, retry, telemetry: deps.telemetry };
  }

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
   * already ROUTED — continues through {@link run}, one message at a time. With `completeIn`, the jobs
   * of the messages the fast path finishes are completed in the transaction that finishes them.
   */
  async runMany(
    jobs: { workspaceId: number; messageId: string }[],
    signal: AbortSignal = new AbortController().signal,
    completeIn?: CompleteJobsIn,
  ): Promise<RunOutcome[]> {
    const outcomes = new Map<string, RunOutcome>();
    const byWorkspace = new Map<number, string[]>();
    for (const j of jobs) byWorkspace.set(j.workspaceId, [...(byWorkspace.get(j.workspaceId) ?? []), j.messageId]);
    // a failure is kept to its workspace (the fast path) or its message (run): it never reschedules the others
    for (const [workspaceId, ids] of byWorkspace) {
      const ctx: RequestContext = { workspaceId };
      let unfinished: string[];
      let rest: string[];
      try {
        const found = await this.deps.messages.getByIds(ctx, ids);
        const fresh = [...found.values()].filter((m) => m.status === MessageStatus.ENQUEUED);
        rest = ids.filter((id) => !fresh.some((m) => m.id === id));
        unfinished = fresh.length ? await this.fastPath(ctx, fresh, signal, completeIn) : [];
        const finished: RunOutcome = { done: true, completed: Boolean(completeIn) };
        for (const m of fresh) if (!unfinished.includes(m.id)) outcomes.set(m.id, finished);
      } catch (failed) {
        for (const id of ids) outcomes.set(id, { done: false, failed });
        continue;
      }
      await Promise.all(
        [...rest, ...unfinished].map(async (id) =>
          outcomes.set(
            id,
            await this.run(workspaceId, id, signal).catch((failed: unknown) => ({ done: false as const, failed })),
          ),
        ),
      );
    }
    return jobs.map((j) => outcomes.get(j.messageId) ?? { done: true });
  }

  /** Routes and sends the first attempt of new messages in bulk; returns the ids it did not finish. */
  private async fastPath(
    ctx: RequestContext,
    messages: Message[],
    signal: AbortSignal,
    completeIn?: CompleteJobsIn,
  ): Promise<string[]> {
    const { db, store, telemetry } = this.deps;
    const inputs = await loadInputs(this.deps, ctx, messages);
    const configs = new Map(inputs.configs.map((c) => [c.id, c]));
    const now = new Date();
    // a first provider whose configuration cannot be used is skipped by run(), with the reason in the history
    const usable = (planned: PlannedChannel) => !configs.get(planned.providers[0].configId)?.problem;
    const decideAll = (all: RoutingInputs) => {
      const decided = messages.map((message) => ({ message, decision: decide(message, all) }));
      const skipping = new Set(
        decided.flatMap(({ message, decision }) =>
          decision.plan && !firstChannels(decision.plan).every(usable) ? [message.id] : [],
        ),
      );
      const attempts = decided.flatMap(({ message, decision }) => {
        const plan = decision.plan;
        if (!plan) return [];
        return firstChannels(plan)
          .filter(usable)
          .map((planned) => ({
            message,
            plan,
            planned,
            delivery: firstDelivery(message, planned, now),
          }));
      });
      return { decided, skipping, attempts };
    };
    // preferences and topics are read in the transaction that records the decision (README, "Preferences
    // and topics"): the decision is taken there, from what is committed at that moment, with no cache
    const { decided, skipping, attempts } = await db.transaction(async (tx) => {
      const made = decideAll({
        ...inputs,
        ...(await loadPreferencesIn(this.deps, tx, ctx, messages, inputs)),
        ...(await loadSuppressionsIn(this.deps, tx, ctx, messages, inputs)),
      });
      const { decided, attempts } = made;
      await store.saveRoutingIn(
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
      await store.saveDeliveriesIn(
        tx,
        attempts.map((a) => a.delivery),
      );
      await store.appendHistoryIn(
        tx,
        decided.flatMap(({ message, decision }) =>
          ofMessage(message.id, withEnd(decision.status, decision.reason, decision.history)),
        ),
      );
      // a message routing ended (filtered, unroutable, …) is finished here, and so is its job
      const ended = decided.flatMap(({ message, decision }) => (decision.plan ? [] : [message.id]));
      if (completeIn && ended.length) await completeIn(tx, ended);
      return made;
    });
    for (const { message, decision } of decided) {
      telemetry?.status({ ...telemetryIds(message), status: decision.status, reason: decision.reason });
    }

    const results = await Promise.all(
      attempts.map(async (a) => {
        const config = configs.get(a.delivery.providerConfigId)!;
        const traits = inputs.profiles.get(a.message.userId)?.traits ?? {};
        return { a, outcome: await attempt(this.attemptDeps, { ...a, config, traits, signal }) };
      }),
    );

    // a message is finished here when every first attempt it made was sent; the others go on in run()
    const unfinished = new Set([...skipping, ...results.filter((r) => !r.outcome.sent).map((r) => r.a.message.id)]);
    const sent = new Map<string, { message: Message; plan: Plan; channels: Channel[]; delivered: boolean }>();
    for (const { a } of results) {
      if (unfinished.has(a.message.id)) continue;
      const entry = sent.get(a.message.id) ?? { message: a.message, plan: a.plan, channels: [], delivered: true };
      entry.channels.push(a.delivery.channel);
      entry.delivered &&= a.delivery.status === DeliveryStatus.DELIVERED;
      sent.set(a.message.id, entry);
    }
    const finished = [...sent.values()].map(({ message, plan, channels, delivered }) => ({
      message,
      end: sentOutcome(plan.method, channels, [], delivered),
    }));
    const finishedAt = new Date();
    await db.transaction(async (tx) => {
      // the deliveries were stored with their try counted in the first transaction: only what the try changed
      await store.saveDeliveryStateIn(
        tx,
        results.map((r) => r.a.delivery),
      );
      // a provider's answer that calls for a suppression (Twilio 21610: the recipient replied STOP)
      for (const { outcome } of results) {
        if (outcome.suppress) await this.deps.suppressions.suppressIn(tx, ctx, outcome.suppress);
      }
      await store.saveStatusIn(
        tx,
        finished.map(({ message, end }) =>
          Object.assign(message, { status: end.status, channel: end.channel, updatedAt: finishedAt }),
        ),
      );
      await store.appendHistoryIn(tx, [
        ...results.map((r) => ({ messageId: r.a.message.id, ...r.outcome.entry })),
        ...finished.map(({ message, end }) => ({ messageId: message.id, ...end.entry })),
      ]);
      if (completeIn && finished.length) {
        await completeIn(
          tx,
          finished.map(({ message }) => message.id),
        );
      }
    });
    for (const { message } of finished) {
      telemetry?.status({ ...telemetryIds(message), status: message.status, reason: null });
    }
    return [...unfinished];
  }

  /**
   * Routes one message and records the decision; the plan when it was ROUTED, else null (finished).
   * Preferences and topics are read, and the decision taken, in the transaction that records it.
   */
  private async route(ctx: RequestContext, message: Message): Promise<Plan | null> {
    const inputs = await loadInputs(this.deps, ctx, [message]);
    const decision = await this.deps.db.transaction(async (tx) => {
      const decision = decide(message, {
        ...inputs,
        ...(await loadPreferencesIn(this.deps, tx, ctx, [message], inputs)),
        ...(await loadSuppressionsIn(this.deps, tx, ctx, [message], inputs)),
      });
      const changes = { templateVersion: decision.templateVersion ?? undefined, plan: decision.plan };
      const reason = decision.plan ? null : decision.reason;
      const history = decision.plan ? decision.history : withEnd(decision.status, reason, decision.history);
      await this.deps.store.updateIn(tx, message, decision.status, reason, history, changes);
      return decision;
    });
    message.status = decision.status;
    this.deps.telemetry?.status({
      ...telemetryIds(message),
      status: decision.status,
      reason: decision.plan ? null : decision.reason,
    });
    return decision.plan ?? null;
  }

  /** Sends a ROUTED message by its plan: SINGLE tries channel after channel, ALL every channel at once. */
  private async dispatch(ctx: RequestContext, message: Message, plan: Plan, signal: AbortSignal): Promise<RunOutcome> {
    const stored = (await this.deps.messages.deliveriesOf([message.id])).get(message.id)!;
    const configs = new Map((await this.deps.providerConfigs.enabled(ctx)).map((c) => [c.id, c]));
    const profile = await this.deps.profiles.get(ctx, message.userId);
    const run: DispatchRun = {
      message,
      plan,
      deliveries: new Map(stored.map((d) => [`${d.channel}|${d.providerConfigId}`, d])),
      configs,
      traits: profile?.traits ?? {},
      signal,
    };
    const allFailed = (failedChannels: Channel[]) =>
      this.finish(message, MessageStatus.UNDELIVERABLE, 'ALL_CHANNELS_FAILED', [
        { type: 'UNDELIVERABLE', detail: { failedChannels } },
      ]);

    if (plan.method === RoutingMethod.ALL) {
      const outcomes = await Promise.all(plan.channels.map((planned) => this.runChannel(run, planned, false)));
      const retries = outcomes.flatMap((o) => (o.kind === 'retry' ? [o.at.getTime()] : []));
      if (retries.length) return { done: false, retryAt: new Date(Math.min(...retries)) };
      const sent = plan.channels.filter((_, i) => outcomes[i].kind === 'sent').map((c) => c.channel);
      const failed = plan.channels.filter((_, i) => outcomes[i].kind === 'failed').map((c) => c.channel);
      if (!sent.length) await allFailed(failed);
      else {
        const delivered = outcomes.every((o) => o.kind !== 'sent' || o.delivered);
        await this.finishSent(message, sentOutcome(plan.method, sent, failed, delivered));
      }
      return { done: true };
    }

    for (let i = 0; i < plan.channels.length; i++) {
      const planned = plan.channels[i];
      const outcome = await this.runChannel(run, planned, i > 0);
      if (outcome.kind === 'retry') return { done: false, retryAt: outcome.at };
      if (outcome.kind === 'sent') {
        await this.finishSent(message, sentOutcome(plan.method, [planned.channel], [], outcome.delivered));
        return { done: true };
      }
      // a channel that bounced after it was sent has its FAILOVER_AFTER_BOUNCE entry already
      if (outcome.afterSend) continue;
      const next = plan.channels[i + 1]?.channel ?? null;
      await this.deps.store.appendHistory(message.id, [
        { type: 'CHANNEL_FAILED', detail: { channel: planned.channel, next } },
      ]);
    }
    await allFailed(plan.channels.map((c) => c.channel));
    return { done: true };
  }

  /**
   * One channel: its providers by priority; each gets the configured tries, then the next takes over.
   * `afterChannelFailed`: an earlier channel of the message failed (SINGLE's failover to this one).
   */
  private async runChannel(
    run: DispatchRun,
    planned: PlannedChannel,
    afterChannelFailed: boolean,
  ): Promise<ChannelOutcome> {
    const { message, plan, deliveries, configs, traits, signal } = run;
    const { store, registry } = this.deps;
    for (let p = 0; p < planned.providers.length; p++) {
      const provider = planned.providers[p];
      const found = deliveries.get(`${planned.channel}|${provider.configId}`);
      if (found?.status === DeliveryStatus.SENT || found?.status === DeliveryStatus.DELIVERED) {
        return { kind: 'sent', delivered: found.status === DeliveryStatus.DELIVERED };
      }
      // a hard bounce or a failure reported after sending is about the address: the channel is done
      if (found?.status === DeliveryStatus.BOUNCED || (found?.status === DeliveryStatus.FAILED && found.sentAt)) {
        return { kind: 'failed', afterSend: true };
      }
      if (found?.status === DeliveryStatus.FAILED) continue;
      if (found?.nextAttemptAt && found.nextAttemptAt.getTime() > Date.now())
        return { kind: 'retry', at: found.nextAttemptAt };

      // a failover tries the address later than routing checked it: meanwhile a failed try may have suppressed
      // it (Twilio 21610: the recipient replied STOP, and the next SMS provider must not text them either)
      if (!found && (p > 0 || afterChannelFailed) && (await this.suppressedSinceRouting(message, planned))) {
        return { kind: 'failed' };
      }
      const delivery =
        found ?? (await store.createDelivery(message.id, planned.channel, provider.configId, provider.provider));
      const config = configs.get(provider.configId);
      if (!config || !registry.get(provider.provider) || config.problem) {
        const next = planned.providers[p + 1] ?? null;
        const problem = config?.problem;
        await skipAttempt(
          this.deps,
          { message, planned, provider, delivery },
          next,
          (entry) => store.failDelivery(delivery, problem ?? SKIPPED_ERROR, [entry]),
          problem,
        );
        continue;
      }

      // counted before the call: a worker that dies mid-send still used up this try
      await store.countAttempt(delivery);
      const outcome = await attempt(this.attemptDeps, {
        message,
        plan,
        planned,
        delivery,
        config,
        traits,
        signal,
      });
      await store.saveAttempt(delivery, outcome.entry);
      if (outcome.suppress) {
        await this.deps.suppressions.suppress({ workspaceId: message.workspaceId }, outcome.suppress);
      }
      if (outcome.sent) return { kind: 'sent', delivered: delivery.status === DeliveryStatus.DELIVERED };
      if (outcome.retryAt) return { kind: 'retry', at: outcome.retryAt };
    }
    return { kind: 'failed' };
  }

  /**
   * Whether the channel's address is suppressed now; when it is, the message's history says so (`SUPPRESSED`,
   * as routing writes it) and the channel is not tried. One indexed look-up, made only on a failover.
   */
  private async suppressedSinceRouting(message: Message, planned: PlannedChannel): Promise<boolean> {
    const { channel, address } = planned;
    if (typeof address !== 'string' && typeof address !== 'number') return false;
    const ctx = { workspaceId: message.workspaceId };
    const pair = { channel, address: String(address) };
    const found = await this.deps.suppressions.activeIn(this.deps.db, ctx, [pair], new Date());
    const suppression = suppressionOf(found, channel, address);
    if (!suppression) return false;
    await this.deps.store.appendHistory(message.id, [suppressedEntry(channel, suppression)]);
    return true;
  }

  // ---- status changes: written by the store, reported to telemetry ---------------------------------

  private finishSent(message: Message, end: SentOutcome): Promise<void> {
    return this.finish(message, end.status, null, [end.entry], { channel: end.channel });
  }

  private async finish(
    message: Message,
    status: MessageStatus,
    reason: string | null,
    history: HistoryEntry[],
    changes: MessageChanges = {},
  ): Promise<void> {
    await this.deps.store.finish(message, status, reason, history, changes);
    this.deps.telemetry?.status({ ...telemetryIds(message), status, reason });
  }

  private async update(
    message: Message,
    status: MessageStatus,
    reason: string | null,
    history: HistoryEntry[],
    changes: MessageChanges,
  ): Promise<void> {
    await this.deps.store.update(message, status, reason, history, changes);
    this.deps.telemetry?.status({ ...telemetryIds(message), status, reason });
  }
}
