import { Channel } from '../../../src/domain/channel/channel.enum';
import { PermanentProviderError, RetryableProviderError } from '../../../src/domain/provider/provider.errors';
import { msTeamsProvider, type MsTeamsSettings } from '../../../src/plugins/providers/msteams/msteams.provider';
import { refusedUrl } from '../../helpers/fakes/http-fake';
import { CONNECTOR_PATH, MsTeamsFake } from '../../helpers/fakes/msteams-fake';
import { sendContext } from '../../helpers/fakes/send-context';
import { failure, sendThrough } from '../../helpers/provider-send';

let fake: MsTeamsFake;

beforeEach(async () => {
  fake = await MsTeamsFake.start();
});
afterEach(() => fake.close());

function send(address: unknown, settings: MsTeamsSettings = {}, text = 'Deploy finished') {
  return sendThrough(msTeamsProvider, sendContext({ channel: Channel.MSTEAMS, settings, address, content: { text } }));
}

const teamsDelivery429 =
  'Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0,server=msgapi-production-eus-azsc2-4-170,cv=deadbeef.0..';

describe('msteams provider', () => {
  it('declares its channel and a described settings schema with the webhook URL secret', () => {
    expect(msTeamsProvider.slug).toBe('msteams');
    expect(msTeamsProvider.channels).toEqual([Channel.MSTEAMS]);
    for (const prop of Object.values(msTeamsProvider.settings.properties)) expect(prop.description).toBeTruthy();
    expect(msTeamsProvider.settings.properties.webhookUrl.secret).toBe(true);
  });

  it("posts a MessageCard to the profile's ms_teams.webhook_url", async () => {
    const result = await send({ webhook_url: fake.connectorUrl });
    expect(result).toEqual({ externalId: null });
    const req = fake.http.requests[0];
    expect(req.method).toBe('POST');
    expect(req.pathname).toBe(CONNECTOR_PATH);
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    expect(req.json).toEqual({
      '@type': 'MessageCard',
      '@context': 'https://schema.org/extensions',
      summary: 'Deploy finished',
      text: 'Deploy finished',
    });
  });

  it('cuts the summary to 100 characters', async () => {
    const text = 'x'.repeat(150);
    await send({ webhookUrl: fake.connectorUrl }, {}, text);
    expect(fake.accepted[0]).toMatchObject({ summary: 'x'.repeat(100), text });
  });

  it('takes a string address that is a URL, and falls back to the configured webhookUrl otherwise', async () => {
    await send(fake.connectorUrl);
    await send('teams-example', { webhookUrl: fake.connectorUrl });
    await send({ conversation_id: 'x' }, { webhookUrl: fake.connectorUrl });
    expect(fake.accepted).toHaveLength(3);
  });

  it('posts an Adaptive Card attachment to a Workflows webhook (202, empty body)', async () => {
    await send(undefined, { webhookUrl: fake.workflowUrl, cardFormat: 'AdaptiveCard' });
    expect(fake.http.requests[0].json).toMatchObject({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: { type: 'AdaptiveCard', body: [{ type: 'TextBlock', text: 'Deploy finished', wrap: true }] },
        },
      ],
    });
    expect(fake.accepted).toHaveLength(1);
  });

  it('fails permanently without a webhook URL, or with one that is not http(s), without echoing it', async () => {
    const none = await failure(send('teams-example'));
    expect(none).toBeInstanceOf(PermanentProviderError);
    expect(none.message).toMatch(/no webhook URL/);
    const bad = await failure(send({ webhook_url: 'ftp://secret-hook.example/abc' }));
    expect(bad).toBeInstanceOf(PermanentProviderError);
    expect(bad.message).not.toContain('secret-hook');
    expect(fake.http.requests).toHaveLength(0);
  });

  it('maps a 4xx (bad payload, unknown webhook) to permanent', async () => {
    const wrongFormat = await failure(send({ webhook_url: fake.workflowUrl }));
    expect(wrongFormat).toBeInstanceOf(PermanentProviderError);
    expect(wrongFormat.status).toBe(400);
    const unknown = await failure(send({ webhook_url: `${fake.http.url}/webhookb2/gone` }));
    expect(unknown).toBeInstanceOf(PermanentProviderError);
    expect(unknown.status).toBe(404);
  });

  it('maps a 200 error text mentioning 429 to retryable', async () => {
    fake.http.respondOnce({ status: 200, body: teamsDelivery429 });
    const err = await failure(send({ webhook_url: fake.connectorUrl }));
    expect(err).toBeInstanceOf(RetryableProviderError);
    expect(err.status).toBe(429);
    expect(err.message).toContain('Webhook message delivery failed');
  });

  it('maps any other 200 error text to permanent', async () => {
    fake.http.respondOnce({
      status: 200,
      body: 'Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 403 with ContextId x',
    });
    const err = await failure(send({ webhook_url: fake.connectorUrl }));
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.status).toBe(200);
  });

  it('maps HTTP 429 with Retry-After and 5xx to retryable', async () => {
    fake.http.respondOnce({ status: 429, headers: { 'retry-after': '5' }, body: 'Too many requests' });
    const limited = await failure(send({ webhook_url: fake.connectorUrl }));
    expect(limited).toBeInstanceOf(RetryableProviderError);
    expect((limited as RetryableProviderError).retryAfterMs).toBe(5000);
    fake.http.respondOnce({ status: 500, body: 'oops' });
    expect(await failure(send({ webhook_url: fake.connectorUrl }))).toBeInstanceOf(RetryableProviderError);
  });

  it('maps a timeout and a refused connection to retryable', async () => {
    fake.http.respondOnce({ hang: true });
    const timeout = await failure(send({ webhook_url: fake.connectorUrl }, { timeoutMs: 100 }));
    expect(timeout).toBeInstanceOf(RetryableProviderError);
    expect(timeout.message).toMatch(/no answer within 100 ms/);
    const refused = await failure(send({ webhook_url: `${await refusedUrl()}${CONNECTOR_PATH}` }));
    expect(refused).toBeInstanceOf(RetryableProviderError);
    expect(refused.message).not.toContain(CONNECTOR_PATH);
  });
});
