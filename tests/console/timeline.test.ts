import { Channel } from '../../src/domain/channel/channel.enum';
import type { HistoryDetails, HistoryType } from '../../src/domain/message/message-history.types';
import { DeliveryStatus } from '../../src/domain/message/message-status.enum';
import { TopicState } from '../../src/domain/preference/preference.enums';
import { RoutingAction, RoutingMethod } from '../../src/domain/routing/routing.enums';
import { describe as sentence } from '../../src/console/client/timeline';

/**
 * One sample of every history entry type the domain writes: the mapped type makes a new entry type a compile
 * error here, so the console's timeline (src/console/client/timeline.ts) is taught to tell it in words.
 */
const SAMPLES: { [K in HistoryType]: HistoryDetails[K] } = {
  ENQUEUED: {
    source: 'event',
    eventName: 'Segment-TrackEvent:Order Shipped',
    eventId: 'e1',
    templateId: 't1',
    userId: 'u1',
  },
  TEMPLATE: { templateId: 't1', version: 3, channels: [Channel.EMAIL, Channel.SMS] },
  PROFILE: { userId: 'anon-1', found: true, profileUserId: 'u1' },
  RULES: {
    evaluated: [{ ruleId: 'r1', name: 'VIP by SMS', priority: 1, templateId: null, holds: false, trace: [] }],
    matched: null,
    fallback: 'no rule matched: the template channels, SINGLE',
  },
  TOPIC: { key: 'orders', found: true, defaultState: TopicState.ON, commercial: false, from: 'template' },
  SKIPPED_PREFERENCE: {
    channel: Channel.SMS,
    topic: 'orders',
    allowed: false,
    decidedBy: 'TRAIT',
    preference: { topic: null, channel: null, trait: 'unsubscribed' },
  },
  SUPPRESSED: { channel: Channel.EMAIL, address: 'a@example.com', reason: 'HARD_BOUNCE', expiresAt: null },
  CHANNELS: {
    method: RoutingMethod.SINGLE,
    considered: [Channel.EMAIL, Channel.SMS],
    available: [{ channel: Channel.EMAIL, addressFrom: 'email', providers: [{ configId: 'p1', provider: 'smtp' }] }],
    unavailable: [{ channel: Channel.SMS, reasons: ['no phone trait'] }],
  },
  RENDERED: { channels: [Channel.EMAIL], missingVariables: ['data.orderId'] },
  ROUTED: { method: RoutingMethod.SINGLE, channels: [Channel.EMAIL] },
  ATTEMPT: {
    channel: Channel.EMAIL,
    provider: 'smtp',
    providerConfigId: 'p1',
    deliveryId: 'd1',
    attempt: 1,
    outcome: 'RETRY',
    error: 'connection reset',
    status: null,
    retryable: true,
    retryInMs: 2000,
  },
  CHANNEL_FAILED: { channel: Channel.EMAIL, next: Channel.SMS },
  CALLBACK: {
    deliveryId: 'd1',
    channel: Channel.EMAIL,
    provider: 'sendgrid',
    outcome: 'delivered',
    at: '2026-12-04T10:00:00Z',
    reason: null,
    errorCode: null,
    applied: true,
  },
  FAILOVER_AFTER_BOUNCE: { channel: Channel.EMAIL, next: Channel.SMS, reason: 'mailbox unknown' },
  SENT: { channel: Channel.EMAIL },
  DELIVERED: { channels: [Channel.EMAIL, Channel.PUSH], failedChannels: [Channel.PUSH] },
  UNDELIVERABLE: { failedChannels: [Channel.EMAIL] },
  UNROUTABLE: { reason: null },
  FILTERED: { reason: 'OPTED_OUT' },
};

describe("the console's message timeline", () => {
  it.each(Object.entries(SAMPLES))('tells %s in a sentence, not as raw JSON', (type, detail) => {
    const text = sentence(type, detail as Record<string, unknown>);
    expect(text).toMatch(/^[A-Z“]/);
    expect(text).toMatch(/\.$/);
    expect(text).not.toContain('{');
    expect(text).not.toContain('undefined');
  });

  it('says what decided', () => {
    expect(sentence('ENQUEUED', SAMPLES.ENQUEUED)).toBe(
      'Created by event “Segment-TrackEvent:Order Shipped” for user u1.',
    );
    expect(sentence('PROFILE', SAMPLES.PROFILE)).toBe('Sent to profile u1 (through alias anon-1).');
    expect(sentence('RULES', SAMPLES.RULES)).toBe(
      'Checked 1 routing rule: “VIP by SMS” did not hold. No rule matched: the template channels, SINGLE.',
    );
    expect(sentence('CHANNELS', SAMPLES.CHANNELS)).toBe(
      'Considered EMAIL and SMS (SINGLE). Available: EMAIL (smtp). Not available: SMS (no phone trait).',
    );
    expect(sentence('ATTEMPT', SAMPLES.ATTEMPT)).toBe(
      'Try 1 on EMAIL through smtp failed: connection reset. Retrying in 2 s.',
    );
    expect(
      sentence('ATTEMPT', {
        ...SAMPLES.ATTEMPT,
        outcome: DeliveryStatus.SENT,
        externalId: 'x-1',
      }),
    ).toBe('Try 1 on EMAIL through smtp: handed over (provider id x-1).');
    expect(
      sentence('RULES', {
        evaluated: [],
        matched: { ruleId: 'r', name: 'quiet', action: RoutingAction.SUPPRESS, method: null, channels: null },
      }),
    ).toBe('No routing rule applies. Rule “quiet” decided: SUPPRESS.');
    expect(sentence('SOMETHING_NEW', { a: 1 })).toBe('SOMETHING_NEW: {"a":1}');
  });
});
