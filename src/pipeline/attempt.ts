import { Channel, contentKey } from '../domain/channel/channel.enum';
import type { Delivery } from '../domain/message/delivery.entity';
import type { HistoryEntry, PlannedProvider } from '../domain/message/message-history.types';
import type { Message } from '../domain/message/message.entity';
import { DeliveryStatus } from '../domain/message/message-status.enum';
import type { OpenProviderConfig } from '../domain/provider/provider-config.service';
import type { RenderedContent } from '../domain/provider/provider-plugin';
import type { ProviderRegistry } from '../domain/provider/provider-registry';
import { PermanentProviderError, type ProviderError } from '../domain/provider/provider.errors';
import { suppressionForErrorCode, type SuppressionInput } from '../domain/suppression/suppression.service';
import type { DeliveryOutcome, PipelineTelemetry } from './pipeline-telemetry';
import { retryDelayMs, type RetryPolicy } from './retry-policy';
import type { Plan, PlannedChannel } from './routing/decide';

/** What a provider attempt needs besides its input. */
export interface AttemptDeps {
  registry: ProviderRegistry;
  retry: RetryPolicy;
  telemetry?: PipelineTelemetry;
}

/** One try of one delivery: the message, its plan, the channel, and the delivery with its try counted. */
export interface AttemptInput {
  message: Message;
  plan: Plan;
  planned: PlannedChannel;
  /** Its `attempts` already counts this try. */
  delivery: Delivery;
  config: OpenProviderConfig;
  /** The profile's traits (the provider may read them). */
  traits: Record<string, unknown>;
  signal: AbortSignal;
}

/** How a try ended: sent, to be retried at `retryAt`, or failed for good (neither); with its history entry. */
export interface AttemptOutcome {
  sent: boolean;
  retryAt: Date | null;
  entry: HistoryEntry;
  /** The suppression a failed try calls for (Twilio 21610: the recipient replied STOP); the caller records it. */
  suppress?: SuppressionInput;
}

/** The ids every telemetry event carries. */
export const telemetryIds = (message: Message) => ({ workspaceId: message.workspaceId, messageId: message.id });

/** A provider's error, typed: a plugin that throws anything else failed permanently. */
function toError(err: unknown): ProviderError {
  // duck-typed: a provider error is anything with a boolean `retryable` (class identity may differ across bundles)
  if (err && typeof (err as ProviderError).retryable === 'boolean') return err as ProviderError;
  return new PermanentProviderError(`provider failed unexpectedly: ${(err as Error)?.message ?? String(err)}`);
}

/**
 * One try of one delivery: calls the provider and records the outcome on `delivery` in memory — sent
 * (DELIVERED when the provider confirms), a retry at a time with exponential backoff (or the provider's
 * `Retry-After`) while tries are left and the error is retryable, or FAILED — and returns the history
 * entry. The caller persists both, one delivery at a time or in bulk.
 */
export async function attempt(deps: AttemptDeps, input: AttemptInput): Promise<AttemptOutcome> {
  const { message, plan, planned, delivery, config, traits, signal } = input;
  const base = {
    channel: delivery.channel,
    provider: delivery.provider,
    providerConfigId: delivery.providerConfigId,
    deliveryId: delivery.id,
    attempt: delivery.attempts,
  };
  const started = Date.now();
  const report = (outcome: DeliveryOutcome, failure?: { error: string; status: number | null }) =>
    deps.telemetry?.attempt({ ...base, ...telemetryIds(message), ...failure, outcome, ms: Date.now() - started });
  try {
    const result = await deps.registry.send(delivery.provider, {
      channel: delivery.channel,
      settings: config.settings,
      address: planned.address,
      content: (plan.rendered as Record<string, unknown>)[contentKey(delivery.channel)] as RenderedContent,
      ...(plan.emailHeaders && delivery.channel === Channel.EMAIL ? { headers: plan.emailHeaders } : {}),
      profile: { userId: message.userId, traits },
      message: { id: message.id, eventName: message.eventName, data: message.data },
      idempotencyKey: delivery.id,
      signal,
      ...(config.callbackUrl ? { callbackUrl: config.callbackUrl } : {}),
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
      entry: { type: 'ATTEMPT', detail: { ...base, outcome: status, externalId: result.externalId ?? null } },
    };
  } catch (err) {
    const error = toError(err);
    const failure = {
      ...base,
      error: error.message.slice(0, 1000),
      status: error.status ?? null,
      retryable: error.retryable,
    };
    if (error.retryable && delivery.attempts < deps.retry.attempts) {
      const delay = retryDelayMs(
        deps.retry,
        delivery.attempts,
        'retryAfterMs' in error ? (error.retryAfterMs as number | undefined) : undefined,
      );
      const retryAt = new Date(Date.now() + delay);
      Object.assign(delivery, { lastError: failure.error, nextAttemptAt: retryAt, updatedAt: new Date() });
      report('RETRY', failure);
      return {
        sent: false,
        retryAt,
        entry: { type: 'ATTEMPT', detail: { ...failure, outcome: 'RETRY', retryInMs: delay } },
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
    const why = error.retryable ? `out of tries (${deps.retry.attempts})` : 'permanent error';
    const stop = suppressionForErrorCode(delivery.channel, error.code);
    const address = planned.address;
    return {
      sent: false,
      retryAt: null,
      entry: { type: 'ATTEMPT', detail: { ...failure, outcome: 'FAILED', why, next } },
      ...(stop && (typeof address === 'string' || typeof address === 'number')
        ? { suppress: { channel: delivery.channel, address: String(address), reason: stop } }
        : {}),
    };
  }
}

/** Why a skipped try's delivery failed (its `lastError`) when its configuration is gone. */
export const SKIPPED_ERROR = 'the provider configuration was removed or disabled after routing';

/**
 * A try that is not made because the provider configuration (or its plugin) is gone since routing, or
 * cannot be used (`problem`, e.g. its secrets cannot be decrypted with PIGEON_SECRET): `persist`
 * records the delivery as failed with the returned history entry, then the skip is reported (one log line).
 */
export async function skipAttempt(
  deps: Pick<AttemptDeps, 'telemetry'>,
  input: { message: Message; planned: PlannedChannel; provider: PlannedProvider; delivery: Delivery },
  next: PlannedProvider | null,
  persist: (entry: HistoryEntry) => Promise<void>,
  problem?: string,
): Promise<void> {
  const { message, planned, provider, delivery } = input;
  await persist({
    type: 'ATTEMPT',
    detail: {
      channel: planned.channel,
      provider: provider.provider,
      providerConfigId: provider.configId,
      deliveryId: delivery.id,
      outcome: 'SKIPPED',
      error: problem ?? 'configuration removed or disabled',
      next,
    },
  });
  deps.telemetry?.attempt({
    ...telemetryIds(message),
    deliveryId: delivery.id,
    channel: planned.channel,
    provider: provider.provider,
    providerConfigId: provider.configId,
    attempt: delivery.attempts,
    outcome: 'SKIPPED',
    ...(problem ? { error: problem } : {}),
  });
}
