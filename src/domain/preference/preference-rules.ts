import type { Channel } from '../channel/channel.enum';
import { PreferenceState, TopicState } from './preference.enums';

/** A preference as the decision reads it (`null`: all). */
export interface PreferenceRule {
  topic: string | null;
  channel: Channel | null;
  state: PreferenceState;
}

/** The topic a message is sent under, as far as it is known. */
export interface MessageTopic {
  key: string;
  /** null when no topic with this key exists (deleted, or named before it was created): judged as ON. */
  defaultState: TopicState | null;
}

/** Why a channel is allowed or not. */
export type PreferenceVerdict =
  | { allowed: true; decidedBy: 'REQUIRED' }
  | { allowed: boolean; decidedBy: 'PREFERENCE'; preference: PreferenceRule }
  | { allowed: false; decidedBy: 'TRAIT'; preference: { topic: null; channel: null; trait: 'unsubscribed' } }
  | { allowed: boolean; decidedBy: 'DEFAULT'; defaultState: TopicState };

/**
 * Whether a message of `topic` may go out on `channel` to a user with these preference rows and traits
 * (README, "Preferences and topics"). A pure function:
 *
 * 1. a `REQUIRED` topic → allowed;
 * 2. else the most specific row: (topic, channel), (topic, all), (all, channel), (all, all) — the trait
 *    `unsubscribed: true` counts as an (all, all) OPTED_OUT row, and at that level an opt-out wins;
 * 3. else the topic's `defaultState` (`ON` without a topic, or for a key no topic has).
 *
 * @example
 * ```ts
 * judgeChannel(Channel.EMAIL, { key: 'news', defaultState: TopicState.OFF }, [], {}).allowed; // false
 * ```
 */
export function judgeChannel(
  channel: Channel,
  topic: MessageTopic | null,
  rows: readonly PreferenceRule[],
  traits: Record<string, unknown>,
): PreferenceVerdict {
  if (topic?.defaultState === TopicState.REQUIRED) return { allowed: true, decidedBy: 'REQUIRED' };
  const find = (t: string | null, c: Channel | null) => rows.find((r) => r.topic === t && r.channel === c);
  const specific = topic ? (find(topic.key, channel) ?? find(topic.key, null)) : undefined;
  const found = specific ?? find(null, channel);
  if (found)
    return { allowed: found.state === PreferenceState.OPTED_IN, decidedBy: 'PREFERENCE', preference: rule(found) };
  const all = find(null, null);
  if (traits.unsubscribed === true && all?.state !== PreferenceState.OPTED_OUT) {
    return { allowed: false, decidedBy: 'TRAIT', preference: { topic: null, channel: null, trait: 'unsubscribed' } };
  }
  if (all) return { allowed: all.state === PreferenceState.OPTED_IN, decidedBy: 'PREFERENCE', preference: rule(all) };
  const defaultState = topic?.defaultState ?? TopicState.ON;
  return { allowed: defaultState !== TopicState.OFF, decidedBy: 'DEFAULT', defaultState };
}

const rule = (r: PreferenceRule): PreferenceRule => ({ topic: r.topic, channel: r.channel, state: r.state });
