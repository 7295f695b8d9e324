import { Channel } from '../../src/domain/channel/channel.enum';
import { Message } from '../../src/domain/message/message.entity';
import { MessageStatus } from '../../src/domain/message/message-status.enum';
import { Preference } from '../../src/domain/preference/preference.entity';
import { PreferenceState, TopicState } from '../../src/domain/preference/preference.enums';
import { Topic } from '../../src/domain/preference/topic.entity';
import { Profile } from '../../src/domain/profile/profile.entity';
import { decide, type RoutingInputs } from '../../src/pipeline/routing/decide';

/** Which topic a message is judged by: its workflow's (send options), else its published template's. */
describe('decide: the topic of a message', () => {
  const topic = (key: string, defaultState: TopicState) =>
    Object.assign(new Topic(), { key, defaultState, commercial: false });
  const inputs = (templateTopic: string | null, preferences: Preference[] = []): RoutingInputs => ({
    published: new Map([
      [
        'tpl',
        {
          templateId: 'tpl',
          version: 1,
          channels: [Channel.EMAIL],
          content: { email: { subject: 's', text: 't' } },
          topic: templateTopic,
        },
      ],
    ]),
    rules: [],
    configs: [{ id: 'c1', channel: Channel.EMAIL, provider: 'log', priority: 0, settings: {} }],
    profiles: new Map([['u1', Object.assign(new Profile(), { userId: 'u1', traits: { email: 'u1@example.com' } })]]),
    events: new Map(),
    topics: new Map([
      ['wf-topic', topic('wf-topic', TopicState.OFF)],
      ['tpl-topic', topic('tpl-topic', TopicState.ON)],
    ]),
    preferences: new Map([['u1', preferences]]),
  });
  const message = (sendOptions: Message['sendOptions']) =>
    Object.assign(new Message(), { id: 'm1', templateId: 'tpl', userId: 'u1', data: {}, eventId: null, sendOptions });

  it("the workflow's topic comes first", () => {
    const d = decide(message({ step: 'send', topic: 'wf-topic' }), inputs('tpl-topic'));
    expect(d).toMatchObject({ status: MessageStatus.FILTERED, reason: 'OPTED_OUT' });
    expect(d.history.find((h) => h.type === 'TOPIC')?.detail).toMatchObject({ key: 'wf-topic', from: 'workflow' });
  });

  it("else the published template's", () => {
    const d = decide(message({ step: 'send' }), inputs('tpl-topic'));
    expect(d.status).toBe(MessageStatus.ROUTED);
    expect(d.history.find((h) => h.type === 'TOPIC')?.detail).toMatchObject({ key: 'tpl-topic', from: 'template' });
  });

  it('no topic at all: no TOPIC entry, and only (all, …) rows count', () => {
    const optOut = Object.assign(new Preference(), {
      topic: null,
      channel: Channel.EMAIL,
      state: PreferenceState.OPTED_OUT,
    });
    const d = decide(message(null), inputs(null, [optOut]));
    expect(d.history.some((h) => h.type === 'TOPIC')).toBe(false);
    expect(d).toMatchObject({ status: MessageStatus.FILTERED, reason: 'OPTED_OUT' });
  });

  it('a key no topic has (deleted, or imported before it existed) is judged as ON, its rows still count', () => {
    const d = decide(message({ topic: 'gone' }), inputs(null));
    expect(d.status).toBe(MessageStatus.ROUTED);
    expect(d.history.find((h) => h.type === 'TOPIC')?.detail).toMatchObject({
      key: 'gone',
      found: false,
      defaultState: null,
    });
    const optOut = Object.assign(new Preference(), { topic: 'gone', channel: null, state: PreferenceState.OPTED_OUT });
    expect(decide(message({ topic: 'gone' }), inputs(null, [optOut])).status).toBe(MessageStatus.FILTERED);
  });
});
