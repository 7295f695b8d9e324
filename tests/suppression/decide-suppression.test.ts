import { Channel } from '../../src/domain/channel/channel.enum';
import { Message } from '../../src/domain/message/message.entity';
import { MessageStatus } from '../../src/domain/message/message-status.enum';
import { Profile } from '../../src/domain/profile/profile.entity';
import { RoutingMethod } from '../../src/domain/routing/routing.enums';
import { Suppression } from '../../src/domain/suppression/suppression.entity';
import { suppressionKey } from '../../src/domain/suppression/suppression.service';
import { decide, type RoutingInputs } from '../../src/pipeline/routing/decide';

/** decide, a pure function: a channel whose address is in `suppressions` is not available. */
describe('decide: suppressed addresses', () => {
  const suppression = (channel: Channel, address: string, expiresAt: Date | null = null) =>
    Object.assign(new Suppression(), { channel, address, reason: 'HARD_BOUNCE', createdAt: new Date(), expiresAt });
  const inputs = (traits: Record<string, unknown>, suppressed: Suppression[]): RoutingInputs => ({
    published: new Map([
      [
        'tpl',
        {
          templateId: 'tpl',
          version: 1,
          channels: [Channel.EMAIL, Channel.SMS],
          content: { email: { subject: 's', text: 't' }, sms: { body: 'b' } },
          topic: null,
        },
      ],
    ]),
    rules: [],
    configs: [
      { id: 'c1', channel: Channel.EMAIL, provider: 'log', priority: 0, settings: {} },
      { id: 'c2', channel: Channel.SMS, provider: 'log', priority: 0, settings: {} },
    ],
    profiles: new Map([['u1', Object.assign(new Profile(), { userId: 'u1', traits })]]),
    events: new Map(),
    topics: new Map(),
    preferences: new Map(),
    suppressions: new Map(suppressed.map((s) => [suppressionKey(s.channel, s.address), s])),
  });
  const message = (sendOptions: Message['sendOptions'] = null) =>
    Object.assign(new Message(), { id: 'm1', templateId: 'tpl', userId: 'u1', data: {}, eventId: null, sendOptions });
  const traits = { email: 'Ada@Example.com', phone_number: 14155550100 };

  it('ALL sends to the channels left; the address from the profile is matched normalized', () => {
    const d = decide(
      message({ method: RoutingMethod.ALL }),
      inputs(traits, [suppression(Channel.EMAIL, 'ada@example.com')]),
    );
    expect(d.status).toBe(MessageStatus.ROUTED);
    expect(d.plan!.channels.map((c) => c.channel)).toEqual([Channel.SMS]);
    const entry = d.history.find((h) => h.type === 'SUPPRESSED');
    expect(entry?.detail).toEqual({
      channel: Channel.EMAIL,
      address: 'ada@example.com',
      reason: 'HARD_BOUNCE',
      expiresAt: null,
    });
  });

  it('a number-valued phone trait is matched as its digits', () => {
    const d = decide(
      message(),
      inputs(traits, [suppression(Channel.EMAIL, 'ada@example.com'), suppression(Channel.SMS, '14155550100')]),
    );
    expect(d).toMatchObject({ status: MessageStatus.UNROUTABLE, reason: 'SUPPRESSED' });
  });

  it('no suppressions (or none given): nothing changes', () => {
    expect(decide(message(), inputs(traits, [])).status).toBe(MessageStatus.ROUTED);
    const { suppressions: _none, ...without } = inputs(traits, [suppression(Channel.EMAIL, 'ada@example.com')]);
    expect(decide(message(), without).plan!.channels[0].channel).toBe(Channel.EMAIL);
  });

  it('a channel without an address, the other suppressed: UNROUTABLE, SUPPRESSED', () => {
    const d = decide(message(), inputs({ email: 'ada@example.com' }, [suppression(Channel.EMAIL, 'ada@example.com')]));
    expect(d).toMatchObject({ status: MessageStatus.UNROUTABLE, reason: 'SUPPRESSED' });
    const channels = d.history.find((h) => h.type === 'CHANNELS')?.detail as { unavailable: unknown[] };
    expect(channels.unavailable).toEqual([
      { channel: Channel.EMAIL, reasons: ['the address is suppressed (HARD_BOUNCE)'] },
      { channel: Channel.SMS, reasons: [expect.stringContaining('no address')] },
    ]);
  });
});
