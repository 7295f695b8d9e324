import type { Channel } from '../channel/channel.enum';
import type { PreferenceVerdict } from '../preference/preference-rules';
import type { TopicState } from '../preference/preference.enums';
import type { ConditionTrace } from '../routing/condition';
import type { RoutingAction, RoutingMethod } from '../routing/routing.enums';
import type { DeliveryStatus } from './message-status.enum';

/**
 * The history of a message: one entry per step, with the facts that decided it. Each entry `type` has
 * one `detail` shape, listed here; the message store is the only code that writes them (as JSON in
 * `message_history.detail`), and GraphQL returns them as they were written.
 *
 * @example
 * ```ts
 * const entry: HistoryEntry = { type: 'CHANNEL_FAILED', detail: { channel: Channel.EMAIL, next: Channel.SMS } };
 * ```
 */
export interface HistoryDetails {
  /** The message was created, by a mapped track event or by the Send API. */
  ENQUEUED:
    | { source: 'event'; eventName: string; eventId: string | null; templateId: string; userId: string }
    | { source: 'send'; templateId: string; userId: string; idempotencyKey: string | null }
    | {
        source: 'workflow';
        runId: string;
        step: string | null;
        templateId: string;
        userId: string;
        eventId: string | null;
      };
  /** The published template version the message is sent with (or that none is published). */
  TEMPLATE:
    { templateId: string | null; published: false } | { templateId: string; version: number; channels: Channel[] };
  /** The profile the message goes to (through an alias when the message names an anonymous id). */
  PROFILE: { userId: string; found: boolean; profileUserId: string | null };
  /** Every routing rule evaluated, in order, with its condition trace; the first that held decides. */
  RULES: {
    evaluated: RuleEvaluation[];
    matched: {
      ruleId: string;
      name: string;
      action: RoutingAction;
      method: RoutingMethod | null;
      channels: Channel[] | null;
    } | null;
    /** Present when no rule matched. */
    fallback?: string;
  };
  /**
   * The topic the message is judged by (only when it has one): the workflow's or the template's, whether a
   * topic with that key exists (an unknown key is judged as ON), its default and whether it is commercial.
   */
  TOPIC: {
    key: string;
    found: boolean;
    defaultState: TopicState | null;
    commercial: boolean;
    from: 'workflow' | 'template';
  };
  /**
   * A channel the recipient's preferences leave out (README, "Preferences and topics"): what decided —
   * a preference row (`preference`), the `unsubscribed` trait, or the topic's default (`defaultState`).
   */
  SKIPPED_PREFERENCE: { channel: Channel; topic: string | null } & PreferenceVerdict;
  /** A channel left out because its address is suppressed (README, "Delivery tracking"), also for REQUIRED topics. */
  SUPPRESSED: { channel: Channel; address: string; reason: string; expiresAt: string | null };
  /** The channels considered, those available (address and providers found) and why the others are not. */
  CHANNELS: {
    method: RoutingMethod;
    considered: Channel[];
    available: { channel: Channel; addressFrom: string | null; providers: PlannedProvider[] }[];
    unavailable: { channel: Channel; reasons: string[] }[];
  };
  /** The content rendered for the available channels, or the error that stopped it. */
  RENDERED: { channels: Channel[]; missingVariables: string[] } | { error: string };
  /** The plan the message is sent by (retries continue it). */
  ROUTED: { method: RoutingMethod; channels: Channel[] };
  /** One try of one delivery. */
  ATTEMPT: AttemptDetail;
  /** A SINGLE-method channel failed for good; `next` takes over (null: none left). */
  CHANNEL_FAILED: { channel: Channel; next: Channel | null };
  /**
   * A provider callback applied to one of the message's deliveries (`outcome` as the provider reported it,
   * `applied: false` when statuses only moving forward left it without effect).
   */
  CALLBACK: {
    deliveryId: string;
    channel: Channel;
    provider: string;
    outcome: string;
    at: string;
    reason: string | null;
    errorCode: string | null;
    applied: boolean;
  };
  /** The channel SINGLE routing chose bounced hard or failed after it was sent; `next` is tried (null: none left). */
  FAILOVER_AFTER_BOUNCE: { channel: Channel; next: Channel | null; reason: string | null };
  /** Final: handed to a provider. SINGLE names its channel; ALL the channels sent and those that failed. */
  SENT: SentDetail;
  /** Final: handed over and confirmed delivered by every provider that took it. */
  DELIVERED: SentDetail;
  /** Final: every channel failed (`failedChannels`), or routing ended it (`reason`, e.g. UNPUBLISHED). */
  UNDELIVERABLE: { failedChannels: Channel[] } | EndDetail;
  /** Final: no channel was available. */
  UNROUTABLE: EndDetail;
  /** Final: a rule suppressed the message (`SUPPRESSED`), or the recipient opted out of every channel (`OPTED_OUT`). */
  FILTERED: EndDetail;
}

/** The type of a history entry. */
export type HistoryType = keyof HistoryDetails;

/** One history entry: its `type` and that type's `detail`. */
export type HistoryEntry = { [K in HistoryType]: { type: K; detail: HistoryDetails[K] } }[HistoryType];

/** A history entry of one message, as the store writes it. */
export type HistoryRecord = HistoryEntry & { messageId: string };

/** The final statuses that end a message with a reason (the statuses SENT and DELIVERED have their own detail). */
export type EndType = 'FILTERED' | 'UNROUTABLE' | 'UNDELIVERABLE';

export interface EndDetail {
  reason: string | null;
}

export type SentDetail = { channel: Channel } | { channels: Channel[]; failedChannels: Channel[] };

export interface PlannedProvider {
  configId: string;
  provider: string;
}

export interface RuleEvaluation {
  ruleId: string;
  name: string;
  priority: number;
  templateId: string | null;
  holds: boolean;
  trace: ConditionTrace[];
}

/** What every try of a delivery records. */
export interface AttemptBase {
  channel: Channel;
  provider: string;
  providerConfigId: string;
  deliveryId: string;
  /** The try number (1 for the first). */
  attempt: number;
}

/** A provider error, as recorded. */
export interface AttemptFailure {
  /** The provider's message, at most 1,000 characters. */
  error: string;
  /** The HTTP status the provider answered, when there was one. */
  status: number | null;
  retryable: boolean;
}

export type AttemptDetail =
  | (AttemptBase & { outcome: DeliveryStatus.SENT | DeliveryStatus.DELIVERED; externalId: string | null })
  | (AttemptBase & AttemptFailure & { outcome: 'RETRY'; retryInMs: number })
  | (AttemptBase & AttemptFailure & { outcome: 'FAILED'; why: string; next: PlannedProvider | null })
  | (Omit<AttemptBase, 'attempt'> & { outcome: 'SKIPPED'; error: string; next: PlannedProvider | null });
