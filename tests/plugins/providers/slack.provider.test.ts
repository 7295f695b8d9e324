import { Channel } from '../../../src/domain/channel/channel.enum';
import { PermanentProviderError, RetryableProviderError } from '../../../src/domain/provider/provider.errors';
import { slackProvider, type SlackSettings } from '../../../src/plugins/providers/slack/slack.provider';
import { refusedUrl } from '../../helpers/fakes/http-fake';
import { sendContext } from '../../helpers/fakes/send-context';
import { failure, sendThrough } from '../../helpers/provider-send';
import { slackError, SlackFake } from '../../helpers/fakes/slack-fake';

let fake: SlackFake;
let settings: SlackSettings;

beforeEach(async () => {
  fake = await SlackFake.start({ tokens: ['xoxb-bot-token', 'xoxb-000-example'] });
  settings = { botToken: 'xoxb-bot-token', defaultChannel: '#general', baseUrl: fake.url };
});
afterEach(() => fake.close());

function send(address: unknown, overrides: Partial<SlackSettings> = {}, text = 'Order shipped') {
  return sendThrough(
    slackProvider,
    sendContext({ channel: Channel.SLACK, settings: { ...settings, ...overrides }, address, content: { text } }),
  );
}

describe('slack provider', () => {
  it('declares its channel and a described settings schema with the bot token secret', () => {
    expect(slackProvider.slug).toBe('slack');
    expect(slackProvider.channels).toEqual([Channel.SLACK]);
    for (const prop of Object.values(slackProvider.settings.properties)) expect(prop.description).toBeTruthy();
    expect(slackProvider.settings.properties.botToken.secret).toBe(true);
  });

  it('posts JSON to chat.postMessage with the profile token and channel and returns ts', async () => {
    const result = await send({ access_token: 'xoxb-000-example', channel: 'C0000000001' });
    expect(result.externalId).toBe('1700000000.000001');
    const req = fake.http.requests[0];
    expect(req.method).toBe('POST');
    expect(req.pathname).toBe('/api/chat.postMessage');
    expect(req.headers.authorization).toBe('Bearer xoxb-000-example');
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    expect(req.json).toEqual({ channel: 'C0000000001', text: 'Order shipped' });
  });

  it('takes a string address (tokens.slackToken) as the token, posting to defaultChannel', async () => {
    await send('xoxb-000-example');
    expect(fake.http.requests[0].headers.authorization).toBe('Bearer xoxb-000-example');
    expect(fake.posted).toEqual([{ channel: '#general', text: 'Order shipped' }]);
  });

  it('DMs slack.user_id with the configured bot token', async () => {
    await send({ user_id: 'U0000000ADA' });
    expect(fake.http.requests[0].headers.authorization).toBe('Bearer xoxb-bot-token');
    expect(fake.posted[0].channel).toBe('U0000000ADA');
  });

  it('looks the user up by email when the profile has no channel or user id', async () => {
    const result = await send({ email: 'ada@example.com' });
    expect(result.externalId).toBeTruthy();
    const [lookup, post] = fake.http.requests;
    expect(lookup.method).toBe('GET');
    expect(lookup.pathname).toBe('/api/users.lookupByEmail');
    expect(lookup.query.get('email')).toBe('ada@example.com');
    expect(lookup.headers.authorization).toBe('Bearer xoxb-bot-token');
    expect(post.json).toEqual({ channel: 'U0000000ADA', text: 'Order shipped' });
  });

  it('fails permanently when the email has no Slack user (users_not_found)', async () => {
    const err = await failure(send({ email: 'nobody@example.com' }));
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.message).toBe('Slack users.lookupByEmail: users_not_found');
    expect(fake.posted).toHaveLength(0);
  });

  it('fails permanently without a token or a channel', async () => {
    const noToken = await failure(send({ channel: 'C0000000001' }, { botToken: undefined }));
    expect(noToken).toBeInstanceOf(PermanentProviderError);
    expect(noToken.message).toMatch(/no token/);
    const noChannel = await failure(send({}, { defaultChannel: undefined }));
    expect(noChannel).toBeInstanceOf(PermanentProviderError);
    expect(noChannel.message).toMatch(/no channel/);
    expect(fake.http.requests).toHaveLength(0);
  });

  it.each(['invalid_auth', 'not_authed', 'channel_not_found', 'account_inactive', 'token_revoked', 'no_text'])(
    'maps ok:false %s to permanent',
    async (error) => {
      fake.http.respondOnce(slackError(error));
      const err = await failure(send({ channel: 'C0000000001' }));
      expect(err).toBeInstanceOf(PermanentProviderError);
      expect(err.message).toBe(`Slack chat.postMessage: ${error}`);
    },
  );

  it('gets invalid_auth and channel_not_found from the fake itself', async () => {
    expect((await failure(send({ access_token: 'xoxb-revoked', channel: 'C0000000001' }))).message).toMatch(
      /invalid_auth$/,
    );
    expect((await failure(send({ channel: 'C0000000404' }))).message).toMatch(/channel_not_found$/);
  });

  it.each(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout'])(
    'maps ok:false %s to retryable',
    async (error) => {
      fake.http.respondOnce(slackError(error));
      expect(await failure(send({ channel: 'C0000000001' }))).toBeInstanceOf(RetryableProviderError);
    },
  );

  it('maps ok:false ratelimited to retryable, honouring Retry-After', async () => {
    fake.http.respondOnce(slackError('ratelimited', { 'retry-after': '2' }));
    const err = await failure(send({ channel: 'C0000000001' }));
    expect(err).toBeInstanceOf(RetryableProviderError);
    expect((err as RetryableProviderError).retryAfterMs).toBe(2000);
  });

  it('maps HTTP 429 with Retry-After to retryable with retryAfterMs', async () => {
    fake.http.respondOnce({ status: 429, headers: { 'retry-after': '30' }, body: { ok: false, error: 'ratelimited' } });
    const err = await failure(send({ channel: 'C0000000001' }));
    expect(err).toBeInstanceOf(RetryableProviderError);
    expect(err.status).toBe(429);
    expect((err as RetryableProviderError).retryAfterMs).toBe(30_000);
  });

  it('maps HTTP 5xx to retryable and other HTTP 4xx to permanent', async () => {
    fake.http.respondOnce({ status: 502, body: 'Bad Gateway' });
    expect(await failure(send({ channel: 'C0000000001' }))).toBeInstanceOf(RetryableProviderError);
    fake.http.respondOnce({ status: 404, body: 'Not Found' });
    expect(await failure(send({ channel: 'C0000000001' }))).toBeInstanceOf(PermanentProviderError);
  });

  it('maps a timeout and a refused connection to retryable', async () => {
    fake.http.respondOnce({ hang: true });
    const timeout = await failure(send({ channel: 'C0000000001' }, { timeoutMs: 100 }));
    expect(timeout).toBeInstanceOf(RetryableProviderError);
    expect(timeout.message).toMatch(/no answer within 100 ms/);
    const refused = await failure(send({ channel: 'C0000000001' }, { baseUrl: await refusedUrl() }));
    expect(refused).toBeInstanceOf(RetryableProviderError);
  });
});
