import type { ChannelContent } from '../../domain/channel/channel-content';
import { describeMissingAddress, findAddress } from '../../domain/channel/channel-address';
import { Channel, contentKey } from '../../domain/channel/channel.enum';
import type { InboundEvent } from '../../domain/event-log/inbound-event.entity';
import type { HistoryEntry, PlannedProvider, RuleEvaluation } from '../../domain/message/message-history.types';
import type { Message } from '../../domain/message/message.entity';
import { MessageStatus } from '../../domain/message/message-status.enum';
import type { RecipientLinks } from '../../domain/preference/preference-links';
import type { Preference } from '../../domain/preference/preference.entity';
import { judgeChannel, type MessageTopic } from '../../domain/preference/preference-rules';
import type { Topic } from '../../domain/preference/topic.entity';
import type { Profile } from '../../domain/profile/profile.entity';
import type { OpenProviderConfig } from '../../domain/provider/provider-config.service';
import { conditionHolds } from '../../domain/routing/condition';
import type { RoutingRule } from '../../domain/routing/routing-rule.entity';
import { orderRules } from '../../domain/routing/routing-rule.service';
import { RoutingAction, RoutingMethod } from '../../domain/routing/routing.enums';
import { suppressionKey } from '../../domain/suppression/suppression.service';
import type { Suppression } from '../../domain/suppression/suppression.entity';
import { renderContent } from '../../domain/template/render';
import type { PublishedTemplate } from '../../domain/template/template.service';

/** The routing decision, fixed when a message is ROUTED (stored as its `plan`), so retries continue the same plan. */
export interface Plan {
  method: RoutingMethod;
  channels: PlannedChannel[];
  rendered: ChannelContent;
  /** Extra email headers (RFC 8058 `List-Unsubscribe` on an email of a commercial topic). */
  emailHeaders?: Record<string, string>;
}

/** The history entry of a channel left out because its address is suppressed (at routing, or before a failover). */
export function suppressedEntry(channel: Channel, suppression: Suppression): HistoryEntry {
  return {
    type: 'SUPPRESSED',
    detail: {
      channel,
      address: suppression.address,
      reason: suppression.reason,
      expiresAt: suppression.expiresAt?.toISOString() ?? null,
    },
  };
}

export interface PlannedChannel {
  channel: Channel;
  /** The trait the address came from (null for WEBHOOK). */
  addressFrom: string | null;
  address: unknown;
  /** Enabled provider configurations for the channel, by priority. */
  providers: PlannedProvider[];
}

/** Topics and preferences, read in the transaction that records the decision (`loadPreferencesIn`). */
export interface PreferenceInputs {
  /** The topics messages name, by key (a key no topic has is absent). */
  topics: Map<string, Topic>;
  /** Stored preference rows by user id (the profile's user id when the message names a merged anonymous id). */
  preferences: Map<string, Preference[]>;
}

/** Suppressed addresses, read in the transaction that records the decision (`loadSuppressionsIn`). */
export interface SuppressionInputs {
  /**
   * The suppressions in force for the recipients' addresses, by `suppressionKey(channel, address)`
   * (absent: nothing is suppressed).
   */
  suppressions?: Map<string, Suppression>;
}

/** Everything routing reads, loaded once for a set of messages of one workspace (see `load-inputs.ts`). */
export interface RoutingInputs extends PreferenceInputs, SuppressionInputs {
  /** Published template version by template id (null: none published). */
  published: Map<string, PublishedTemplate | null>;
  rules: RoutingRule[];
  /** The workspace's enabled provider configurations, by priority. */
  configs: OpenProviderConfig[];
  /** Profiles by the user id (or anonymous id) messages name. */
  profiles: Map<string, Profile>;
  /** The stored events messages came from, by id. */
  events: Map<string, InboundEvent>;
  /** A recipient's signed unsubscribe/preferences links (absent or null: PIGEON_PUBLIC_URL or PIGEON_SECRET unset). */
  links?: (userId: string, topic: string | null) => RecipientLinks | null;
}

/** The suppression in force for a channel's address (string or number), if any. */
/** The suppression in force for (channel, address) among those read (`SuppressionService.activeIn`), if any. */
export function suppressionOf(
  suppressions: Map<string, Suppression> | undefined,
  channel: Channel,
  address: unknown,
): Suppression | undefined {
  if (!suppressions?.size || (typeof address !== 'string' && typeof address !== 'number')) return undefined;
  return suppressions.get(suppressionKey(channel, String(address)));
}

/** The headers RFC 8058 one-click unsubscribe asks of an email of a commercial topic. */
export function oneClickHeaders(unsubscribeUrl: string): Record<string, string> {
  return { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

/** What routing decided for a message: ROUTED with a plan, or a final status with its reason. */
export interface Decision {
  history: HistoryEntry[];
  status: MessageStatus;
  reason: string | null;
  templateVersion: number | null;
  plan?: Plan;
}

/**
 * Routes one message, as a pure function of the loaded inputs (no database, no clock): the published
 * template → the profile → the first routing rule whose condition holds (else the template's channels,
 * SINGLE) → the recipient's preferences for the message's topic, per channel (an opted-out channel is not
 * available: `SKIPPED_PREFERENCE`) → the channels available (content, an enabled provider, an address that
 * is not suppressed: else `SUPPRESSED`, also for REQUIRED topics) → the rendered content.
 * Every step adds a history entry with the facts that decided it. The message ends FILTERED,
 * UNROUTABLE or UNDELIVERABLE here, or is ROUTED with the {@link Plan} dispatch follows.
 */
export function decide(message: Message, inputs: RoutingInputs): Decision {
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
  const options = message.sendOptions;
  // preferences (README, "Preferences and topics"): the workflow's topic, else the published template's
  const topicKey = options?.topic ?? published.topic ?? null;
  const recipient = profile?.userId ?? message.userId;
  const links = inputs.links?.(recipient, topicKey) ?? null;
  const scope = {
    data: message.data,
    profile: traits,
    event,
    ...(options?.digest ? { digest: options.digest } : {}),
    ...(links ?? {}),
  };

  const evaluated: RuleEvaluation[] = [];
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
  // a workflow's send step may replace the template's defaults; a matching rule still decides first
  const method = matched?.method ?? options?.method ?? RoutingMethod.SINGLE;
  const wanted = matched?.channels ?? options?.channels ?? published.channels;

  const topic = topicKey ? inputs.topics.get(topicKey) : undefined;
  const messageTopic: MessageTopic | null = topicKey
    ? { key: topicKey, defaultState: topic?.defaultState ?? null }
    : null;
  if (topicKey) {
    history.push({
      type: 'TOPIC',
      detail: {
        key: topicKey,
        found: Boolean(topic),
        defaultState: topic?.defaultState ?? null,
        commercial: topic?.commercial ?? false,
        from: options?.topic ? 'workflow' : 'template',
      },
    });
  }
  const rows = inputs.preferences.get(recipient) ?? [];

  const available: PlannedChannel[] = [];
  const unavailable: { channel: Channel; reasons: string[] }[] = [];
  let optedOut = 0;
  let suppressed = 0;
  for (const channel of wanted) {
    const verdict = judgeChannel(channel, messageTopic, rows, traits);
    if (!verdict.allowed) {
      optedOut++;
      history.push({ type: 'SKIPPED_PREFERENCE', detail: { channel, topic: topicKey, ...verdict } });
      unavailable.push({ channel, reasons: [`the recipient opted out (${verdict.decidedBy})`] });
      continue;
    }
    const address = findAddress(channel, traits);
    const suppression = address.found ? suppressionOf(inputs.suppressions, channel, address.address) : undefined;
    if (suppression) {
      suppressed++;
      history.push(suppressedEntry(channel, suppression));
      unavailable.push({ channel, reasons: [`the address is suppressed (${suppression.reason})`] });
      continue;
    }
    const reasons: string[] = [];
    if (!(published.content as Record<string, unknown>)[contentKey(channel)]) {
      reasons.push(`the template has no ${contentKey(channel)} content`);
    }
    const providers = inputs.configs
      .filter((c) => c.channel === channel)
      .map((c) => ({ configId: c.id, provider: c.provider }));
    if (!providers.length) reasons.push(`no enabled provider is configured for ${channel}`);
    if (!address.found) reasons.push(describeMissingAddress(address));
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
  if (!available.length && optedOut) {
    return { history, status: MessageStatus.FILTERED, reason: 'OPTED_OUT', templateVersion };
  }
  if (!available.length && suppressed) {
    return { history, status: MessageStatus.UNROUTABLE, reason: 'SUPPRESSED', templateVersion };
  }
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
  // RFC 8058: an email of a commercial topic carries one-click unsubscribe headers (when links can be made)
  const oneClick = topic?.commercial && links && available.some((c) => c.channel === Channel.EMAIL);
  return {
    history,
    status: MessageStatus.ROUTED,
    reason: null,
    templateVersion,
    plan: {
      method,
      channels: available,
      rendered,
      ...(oneClick ? { emailHeaders: oneClickHeaders(links.unsubscribeUrl) } : {}),
    },
  };
}
