import type { Database, Sql } from '../../db/database';
import { findAddress } from '../../domain/channel/channel-address';
import { ALL_CHANNELS, type Channel } from '../../domain/channel/channel.enum';
import type { EventLogService } from '../../domain/event-log/event-log.service';
import type { Message } from '../../domain/message/message.entity';
import type { PreferenceLinks } from '../../domain/preference/preference-links';
import type { PreferenceService } from '../../domain/preference/preference.service';
import type { TopicService } from '../../domain/preference/topic.service';
import type { ProfileService } from '../../domain/profile/profile.service';
import type { ProviderConfigService } from '../../domain/provider/provider-config.service';
import type { RequestContext } from '../../domain/request-context';
import type { RoutingRuleService } from '../../domain/routing/routing-rule.service';
import type { SuppressionService } from '../../domain/suppression/suppression.service';
import type { TemplateService } from '../../domain/template/template.service';
import type { PreferenceInputs, RoutingInputs, SuppressionInputs } from './decide';

/** The services routing reads from. */
export interface RoutingSources {
  db: Database;
  templates: TemplateService;
  profiles: ProfileService;
  rules: RoutingRuleService;
  providerConfigs: ProviderConfigService;
  events: EventLogService;
  topics: TopicService;
  preferences: PreferenceService;
  /** Suppressed addresses (the only writer of `suppressions` and `soft_bounces`). */
  suppressions: SuppressionService;
  /** Signed unsubscribe/preferences links (enabled with PIGEON_PUBLIC_URL and PIGEON_SECRET). */
  links?: PreferenceLinks;
}

/**
 * Everything `decide` reads for a set of messages of one workspace, in one query per kind
 * (templates, rules, provider configurations, profiles, events), whatever the number of messages.
 */
export async function loadInputs(
  sources: RoutingSources,
  ctx: RequestContext,
  messages: readonly Message[],
): Promise<RoutingInputs> {
  const { db, templates, profiles, rules, providerConfigs, events } = sources;
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
    const aliases = await profiles.resolveAliases(db, ctx.workspaceId, missing);
    const targets = await profiles.getByIds(ctx, [...new Set(aliases.values())]);
    for (const [anonymousId, userId] of aliases) {
      const profile = targets.get(userId);
      if (profile) byUser.set(anonymousId, profile);
    }
  }
  return {
    published,
    rules: allRules,
    configs,
    profiles: byUser,
    events: eventsById,
    topics: new Map(),
    preferences: new Map(),
    links: sources.links?.enabled
      ? (userId, topic) => sources.links!.forRecipient({ workspaceId: ctx.workspaceId, userId, topic })
      : undefined,
  };
}

/** The topic key a message is judged by: its workflow's (send options), else its published template's. */
export function topicOf(message: Message, inputs: Pick<RoutingInputs, 'published'>): string | null {
  const published = message.templateId ? inputs.published.get(message.templateId) : null;
  return message.sendOptions?.topic ?? published?.topic ?? null;
}

/**
 * The topics and preference rows routing needs for these messages, read through `tx` — the transaction
 * that records the routing decision, so a preference is read at the moment of sending and nothing caches
 * it (README, "Preferences and topics"). One query for the topics, one per 1,000 recipients for the rows.
 */
export async function loadPreferencesIn(
  sources: Pick<RoutingSources, 'topics' | 'preferences'>,
  tx: Sql,
  ctx: RequestContext,
  messages: readonly Message[],
  inputs: Pick<RoutingInputs, 'published' | 'profiles'>,
): Promise<PreferenceInputs> {
  const keys = [...new Set(messages.flatMap((m) => topicOf(m, inputs) ?? []))];
  // a message for an anonymous id merged into a user is judged by that user's preferences
  const users = [...new Set(messages.map((m) => inputs.profiles.get(m.userId)?.userId ?? m.userId))];
  const topics = await sources.topics.byKeysIn(tx, ctx, keys);
  const preferences = await sources.preferences.byUsersIn(tx, ctx, users);
  return { topics, preferences };
}

/**
 * The suppressions in force at `now` for the addresses these messages' recipients have on any channel,
 * read through `tx` — the transaction that records the routing decision, like {@link loadPreferencesIn}
 * (README, "Delivery tracking" → "Suppression"). One query per 1,000 addresses.
 */
export async function loadSuppressionsIn(
  sources: Pick<RoutingSources, 'suppressions'>,
  tx: Sql,
  ctx: RequestContext,
  messages: readonly Message[],
  inputs: Pick<RoutingInputs, 'profiles'>,
  now: Date = new Date(),
): Promise<SuppressionInputs> {
  const pairs: { channel: Channel; address: string }[] = [];
  for (const userId of new Set(messages.map((m) => m.userId))) {
    const traits = inputs.profiles.get(userId)?.traits;
    if (!traits) continue;
    for (const channel of ALL_CHANNELS) {
      const found = findAddress(channel, traits);
      if (found.found && (typeof found.address === 'string' || typeof found.address === 'number')) {
        pairs.push({ channel, address: String(found.address) });
      }
    }
  }
  if (!pairs.length) return { suppressions: new Map() };
  return { suppressions: await sources.suppressions.activeIn(tx, ctx, pairs, now) };
}
