import dns from 'node:dns';
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

/** A send with the fake's origin trusted (the operator's test-only setting), unless `settings` says otherwise. */
function send(address: unknown, settings: MsTeamsSettings = {}, text = 'Deploy finished') {
  return sendUntrusted(address, { trustedOrigins: [fake.http.url], ...settings }, text);
}

/** A send with the settings as given: without trustedOrigins, only Microsoft's public webhook hosts. */
function sendUntrusted(address: unknown, settings: MsTeamsSettings = {}, text = 'Deploy finished') {
  return sendThrough(msTeamsProvider, sendContext({ channel: Channel.MSTEAMS, settings, address, content: { text } }));
}

/** Makes the system resolver answer `answers` in turn (the last one repeats), for host names only. */
function resolveTo(...answers: string[][]) {
  let call = 0;
  return jest.spyOn(dns.promises, 'lookup').mockImplementation((async () => {
    const addresses = answers[Math.min(call++, answers.length - 1)];
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  }) as unknown as typeof dns.promises.lookup);
}

afterEach(() => jest.restoreAllMocks());

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
    expect(err.message).toBe('MS Teams webhook: HTTP 200 with a delivery failure (rate limited)');
    expect(err.message).not.toContain('ContextId');
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
    const closed = await refusedUrl();
    const refused = await failure(send({ webhook_url: `${closed}${CONNECTOR_PATH}` }, { trustedOrigins: [closed] }));
    expect(refused).toBeInstanceOf(RetryableProviderError);
    expect(refused.message).not.toContain(CONNECTOR_PATH);
  });

  it('never echoes the answer of the webhook into the error (it may be any server)', async () => {
    const secret = 'internal-answer-7f3a: {"db_password":"hunter2"}';
    for (const status of [200, 400, 403, 404, 500, 503]) {
      fake.http.respondOnce({ status, body: secret });
      const err = await failure(send({ webhook_url: fake.connectorUrl }));
      expect(err.message).not.toContain('internal-answer');
      expect(err.message).not.toContain('hunter2');
      expect(err.status).toBe(status);
      expect(err.retryable).toBe(status >= 500);
    }
  });
});

describe('msteams provider: a webhook URL from a profile is untrusted (README, "From event to notification: a walk-through")', () => {
  const CONNECTOR = '/webhookb2/0000-1111@2222-3333/IncomingWebhook/abcdef/4444-5555';

  it('refuses an internal address without the operator trusting its origin: permanent, nothing is posted', async () => {
    for (const url of [fake.connectorUrl, fake.workflowUrl, `${fake.http.url.replace('127.0.0.1', 'localhost')}/x`]) {
      const err = await failure(sendUntrusted({ webhook_url: url }));
      expect(err).toBeInstanceOf(PermanentProviderError);
      expect(err.message).toMatch(/^MS Teams: the webhook URL is refused: /);
      expect(err.message).not.toContain(String(fake.http.port));
    }
    // the configured URL is checked the same way
    expect(await failure(sendUntrusted('teams-example', { webhookUrl: fake.connectorUrl }))).toBeInstanceOf(
      PermanentProviderError,
    );
    // a trusted origin is exactly that origin: another port of the same host is not trusted
    const other = await failure(
      sendUntrusted({ webhook_url: fake.connectorUrl }, { trustedOrigins: ['http://127.0.0.1:1'] }),
    );
    expect(other).toBeInstanceOf(PermanentProviderError);
    expect(fake.http.requests).toHaveLength(0);
  });

  it('a profile cannot trust an origin: trustedOrigins exists only in the provider configuration', async () => {
    const err = await failure(
      sendUntrusted({
        webhook_url: fake.connectorUrl,
        trustedOrigins: [fake.http.url],
        trusted_origins: [fake.http.url],
      }),
    );
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(fake.http.requests).toHaveLength(0);
  });

  it.each([
    ['http on a Microsoft host', `http://acme.webhook.office.com${CONNECTOR}`, /https/],
    ['a user name in front of the host', `https://acme.webhook.office.com@127.0.0.1${CONNECTOR}`, /./],
    ['credentials', `https://u:p@acme.webhook.office.com${CONNECTOR}`, /user name or password/],
    ['another port', `https://acme.webhook.office.com:8443${CONNECTOR}`, /default https port/],
    ['a look-alike host', `https://acme.webhook.office.com.evil.example${CONNECTOR}`, /not on the allowed list/],
    ['a suffix without the dot', `https://evilwebhook.office.com${CONNECTOR}`, /not on the allowed list/],
    ['the bare parent domain', `https://webhook.office.com${CONNECTOR}`, /not on the allowed list/],
    ['another Microsoft host', `https://graph.microsoft.com/v1.0/me`, /not on the allowed list/],
    ['an IPv4 literal', `https://127.0.0.1${CONNECTOR}`, /not an IP address/],
    ['a decimal IPv4', `https://2130706433${CONNECTOR}`, /not an IP address/],
    ['a hex IPv4', `https://0x7f.0.0.1${CONNECTOR}`, /not an IP address/],
    ['an octal IPv4', `https://0177.0.0.01${CONNECTOR}`, /not an IP address/],
    ['an IPv6 literal', `https://[::1]${CONNECTOR}`, /not an IP address/],
    ['an IPv4-mapped IPv6 literal', `https://[::ffff:169.254.169.254]/latest/meta-data`, /not an IP address/],
  ])('refuses %s before any DNS look-up or connection', async (_name, url, reason) => {
    const lookup = resolveTo(['52.96.0.1']);
    const err = await failure(sendUntrusted({ webhook_url: url }));
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.message).toMatch(reason);
    expect(err.message).not.toContain(CONNECTOR);
    expect(err.message).not.toContain('/latest/meta-data');
    expect(lookup).not.toHaveBeenCalled();
  });

  it.each([
    ['loopback', ['127.0.0.1']],
    ['a private address', ['10.1.2.3']],
    ['the cloud metadata address', ['169.254.169.254']],
    ['an IPv4-mapped loopback', ['::ffff:127.0.0.1']],
    ['IPv6 loopback', ['::1']],
    ['a unique-local IPv6 address', ['fd00::5']],
    ['the unspecified address', ['0.0.0.0']],
    ['one private address among public ones', ['52.96.0.1', '192.168.1.1']],
  ])('refuses a Microsoft host name that resolves to %s: permanent, nothing is posted', async (_name, addresses) => {
    const lookup = resolveTo(addresses);
    const err = await failure(sendUntrusted({ webhook_url: `https://acme.webhook.office.com${CONNECTOR}` }));
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.message).toMatch(/resolves to an address that is not public/);
    expect(lookup).toHaveBeenCalledWith('acme.webhook.office.com', expect.objectContaining({ all: true }));
  });

  it('DNS rebinding: a host that answers public when checked and loopback when connecting is refused at connect time', async () => {
    // checked at send time (public), then resolved again by the connection itself (loopback): refused there
    const lookup = resolveTo(['52.96.0.1'], ['127.0.0.1']);
    const err = await failure(sendUntrusted({ webhook_url: `https://rebind.webhook.office.com${CONNECTOR}` }));
    expect(lookup).toHaveBeenCalledTimes(2);
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.message).toMatch(/resolved to an address that is not public when connecting/);
  });

  it('a DNS failure is retryable', async () => {
    jest
      .spyOn(dns.promises, 'lookup')
      .mockRejectedValue(Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }));
    const err = await failure(sendUntrusted({ webhook_url: `https://gone.webhook.office.com${CONNECTOR}` }));
    expect(err).toBeInstanceOf(RetryableProviderError);
    expect(err.message).toBe('MS Teams webhook: DNS lookup failed (ENOTFOUND)');
  });

  it('documents trustedOrigins as operator-only, and it is not a secret', () => {
    const prop = msTeamsProvider.settings.properties.trustedOrigins;
    expect(prop.description).toMatch(/never a profile trait/);
    expect('secret' in prop).toBe(false);
  });
});
