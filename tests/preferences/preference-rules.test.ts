import { Channel } from '../../src/domain/channel/channel.enum';
import { PreferenceState, TopicState } from '../../src/domain/preference/preference.enums';
import { judgeChannel, type PreferenceRule } from '../../src/domain/preference/preference-rules';

const { OPTED_IN: IN, OPTED_OUT: OUT } = PreferenceState;
const E = Channel.EMAIL;
const row = (topic: string | null, channel: Channel | null, state: PreferenceState): PreferenceRule => ({
  topic,
  channel,
  state,
});

/** The precedence of README, "Preferences and topics" — every level against the ones below it. */
describe('judgeChannel: REQUIRED, then (topic, channel), (topic, all), (all, channel), (all, all)/trait, then the default', () => {
  const news = (defaultState: TopicState | null) => ({ key: 'news', defaultState });
  const levels = [row('news', E, OUT), row('news', null, IN), row(null, E, OUT), row(null, null, IN)];

  it.each([
    ['(topic, channel) beats everything below', levels, false, { topic: 'news', channel: E, state: OUT }],
    [
      '(topic, all) beats (all, channel) and (all, all)',
      levels.slice(1),
      true,
      { topic: 'news', channel: null, state: IN },
    ],
    ['(all, channel) beats (all, all)', levels.slice(2), false, { topic: null, channel: E, state: OUT }],
    ['(all, all) alone', levels.slice(3), true, { topic: null, channel: null, state: IN }],
  ])('%s', (_name, rows, allowed, preference) => {
    expect(judgeChannel(E, news(TopicState.OFF), rows, {})).toEqual({ allowed, decidedBy: 'PREFERENCE', preference });
  });

  it('rows of another topic or channel do not count', () => {
    const rows = [row('other', E, OUT), row('news', Channel.SMS, OUT), row(null, Channel.SMS, OUT)];
    expect(judgeChannel(E, news(TopicState.ON), rows, {})).toEqual({
      allowed: true,
      decidedBy: 'DEFAULT',
      defaultState: TopicState.ON,
    });
  });

  it.each([
    [TopicState.ON, true],
    [TopicState.OFF, false],
    [null, true], // a key no topic has (deleted, or never created): judged as ON
  ])('no row: the default %s → allowed %s', (state, allowed) => {
    expect(judgeChannel(E, news(state), [], {})).toEqual({
      allowed,
      decidedBy: 'DEFAULT',
      defaultState: state ?? TopicState.ON,
    });
  });

  it('REQUIRED ignores every row and the trait', () => {
    const rows = [row('news', E, OUT), row(null, null, OUT)];
    expect(judgeChannel(E, news(TopicState.REQUIRED), rows, { unsubscribed: true })).toEqual({
      allowed: true,
      decidedBy: 'REQUIRED',
    });
  });

  it('the trait unsubscribed: true is an (all, all) opt-out that more specific rows override', () => {
    const trait = { topic: null, channel: null, trait: 'unsubscribed' };
    expect(judgeChannel(E, news(TopicState.ON), [], { unsubscribed: true })).toEqual({
      allowed: false,
      decidedBy: 'TRAIT',
      preference: trait,
    });
    expect(judgeChannel(E, null, [], { unsubscribed: true })).toMatchObject({ allowed: false, decidedBy: 'TRAIT' });
    // at its own level an opt-out wins: a stored (all, all) OPTED_IN does not undo the trait
    expect(judgeChannel(E, null, [row(null, null, IN)], { unsubscribed: true })).toMatchObject({
      allowed: false,
      decidedBy: 'TRAIT',
    });
    for (const r of [row('news', E, IN), row('news', null, IN), row(null, E, IN)]) {
      expect(judgeChannel(E, news(TopicState.ON), [r], { unsubscribed: true })).toMatchObject({
        allowed: true,
        decidedBy: 'PREFERENCE',
      });
    }
    for (const value of [false, null, 'true', 1]) {
      expect(judgeChannel(E, null, [], { unsubscribed: value })).toMatchObject({ allowed: true, decidedBy: 'DEFAULT' });
    }
  });

  it('without a topic: only (all, channel), (all, all) and the trait count; topic rows never do', () => {
    expect(judgeChannel(E, null, [row('news', E, OUT)], {})).toMatchObject({ allowed: true, decidedBy: 'DEFAULT' });
    expect(judgeChannel(E, null, [row(null, E, OUT)], {})).toMatchObject({ allowed: false, decidedBy: 'PREFERENCE' });
    expect(judgeChannel(E, null, [row(null, null, OUT)], {})).toMatchObject({ allowed: false });
  });

  it('every combination of default × rows × trait follows the order', () => {
    const states = [TopicState.ON, TopicState.OFF, TopicState.REQUIRED];
    const options = [undefined, IN, OUT];
    let cases = 0;
    for (const d of states)
      for (const tc of options)
        for (const ta of options)
          for (const ac of options)
            for (const aa of options)
              for (const unsubscribed of [false, true]) {
                const rows = [
                  tc && row('news', E, tc),
                  ta && row('news', null, ta),
                  ac && row(null, E, ac),
                  aa && row(null, null, aa),
                ].filter((r): r is PreferenceRule => Boolean(r));
                const expected =
                  d === TopicState.REQUIRED
                    ? true
                    : (tc ?? ta ?? ac) !== undefined
                      ? (tc ?? ta ?? ac) === IN
                      : unsubscribed || aa === OUT
                        ? false
                        : aa === IN
                          ? true
                          : d === TopicState.ON;
                expect({
                  d,
                  tc,
                  ta,
                  ac,
                  aa,
                  unsubscribed,
                  allowed: judgeChannel(E, news(d), rows, { unsubscribed }).allowed,
                }).toEqual({ d, tc, ta, ac, aa, unsubscribed, allowed: expected });
                cases++;
              }
    expect(cases).toBe(3 * 81 * 2);
  });
});
