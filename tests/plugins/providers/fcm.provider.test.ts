import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Channel } from '../../../src/domain/channel/channel.enum';
import { PermanentProviderError, RetryableProviderError } from '../../../src/domain/provider/provider.errors';
import { fcmProvider, type FcmSettings, type ServiceAccount } from '../../../src/plugins/providers/fcm/fcm.provider';
import type { SendContext } from '../../../src/domain/provider/provider-plugin';
import { FCM_SCOPE, fcmError, FcmFake } from '../../helpers/fakes/fcm-fake';
import { refusedUrl } from '../../helpers/fakes/http-fake';
import { sendContext } from '../../helpers/fakes/send-context';
import { failure, sendThrough } from '../../helpers/provider-send';

const DEVICE = 'fcm-device-token-1';
const GONE = 'fcm-device-token-gone';

let keys: { publicKey: KeyObject; privateKey: KeyObject };
let otherKeys: { publicKey: KeyObject; privateKey: KeyObject };
let fake: FcmFake;
let account: ServiceAccount;
let settings: FcmSettings;
let accountNo = 0;

beforeAll(() => {
  keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  otherKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
});

beforeEach(async () => {
  // A service account of its own per test, so no access token is cached from an earlier test.
  accountNo += 1;
  const clientEmail = `pigeon-${accountNo}@pigeon-test.iam.gserviceaccount.com`;
  fake = await FcmFake.start({
    projectId: 'pigeon-test',
    accounts: { [clientEmail]: keys.publicKey },
    registered: [DEVICE],
    unregistered: [GONE],
  });
  account = {
    client_email: clientEmail,
    private_key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    private_key_id: 'key-1',
    project_id: 'pigeon-test',
    token_uri: fake.tokenUrl,
  };
  settings = { serviceAccount: account, baseUrl: fake.url };
});
afterEach(() => fake.close());

function send(address: unknown, overrides: Partial<FcmSettings> = {}, extra: Partial<SendContext<FcmSettings>> = {}) {
  return sendThrough(
    fcmProvider,
    sendContext({
      channel: Channel.PUSH,
      settings: { ...settings, ...overrides },
      address,
      content: { title: 'Shipped', body: 'Your order is on its way' },
      ...extra,
    }),
  );
}

describe('fcm provider', () => {
  it('declares its channel and a described settings schema with the service account secret', () => {
    expect(fcmProvider.slug).toBe('fcm');
    expect(fcmProvider.channels).toEqual([Channel.PUSH]);
    const { properties } = fcmProvider.settings;
    for (const prop of Object.values(properties)) expect(prop.description).toBeTruthy();
    expect(properties.serviceAccount.secret).toBe(true);
    for (const prop of Object.values(properties.serviceAccount.properties ?? {})) expect(prop.description).toBeTruthy();
    expect(properties.serviceAccount.properties?.private_key.secret).toBe(true);
  });

  it('exchanges a signed JWT for an access token, then sends with it and returns the message name', async () => {
    const result = await send(DEVICE);
    expect(result.externalId).toBe('projects/pigeon-test/messages/0:170000000000001%fake');

    const [tokenReq] = fake.tokenRequests;
    expect(tokenReq.method).toBe('POST');
    expect(tokenReq.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(fake.assertions).toHaveLength(1);
    const { header, claims } = fake.assertions[0];
    expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: 'key-1' });
    expect(claims).toMatchObject({ iss: account.client_email, scope: FCM_SCOPE, aud: fake.tokenUrl });
    expect(claims.exp - claims.iat).toBe(3600);

    const [sendReq] = fake.sendRequests;
    expect(sendReq.method).toBe('POST');
    expect(sendReq.pathname).toBe('/v1/projects/pigeon-test/messages:send');
    expect(sendReq.headers.authorization).toBe(`Bearer ${fake.issued[0]}`);
    expect(sendReq.json).toEqual({
      message: {
        token: DEVICE,
        notification: { title: 'Shipped', body: 'Your order is on its way' },
        data: { orderId: 'o-42', amount: '120', pigeonMessageId: 'msg-1' },
      },
    });
  });

  it('caches the access token: two sends, one token request', async () => {
    await send(DEVICE);
    await send(DEVICE);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.sendRequests).toHaveLength(2);
    expect(fake.sendRequests.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${fake.issued[0]}`,
      `Bearer ${fake.issued[0]}`,
    ]);
  });

  it('shares one token request between concurrent sends', async () => {
    await Promise.all([send(DEVICE), send(DEVICE), send(DEVICE)]);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.sent).toHaveLength(3);
  });

  it('renews a cached token that FCM rejects with 401, once', async () => {
    await send(DEVICE);
    fake.revoke(fake.issued[0]);
    await send(DEVICE);
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.sendRequests.at(-1)?.headers.authorization).toBe(`Bearer ${fake.issued[1]}`);
  });

  it('accepts the service account as JSON text and a projectId setting', async () => {
    const json = JSON.stringify({ ...account, project_id: 'another-project' });
    await send(DEVICE, { serviceAccount: json, projectId: 'pigeon-test' });
    expect(fake.sent).toHaveLength(1);
  });

  it('takes tokens.push objects and firebaseToken, turns data into strings and drops reserved keys', async () => {
    const data = { from: 'x', google_x: 'y', nested: { a: 1 }, flag: true, text: 'plain' };
    await send({ token: DEVICE }, {}, { message: { id: 'msg-2', eventName: null, data } });
    expect(fake.sent[0].data).toEqual({ nested: '{"a":1}', flag: 'true', text: 'plain', pigeonMessageId: 'msg-2' });
    await send(undefined, {}, { profile: { userId: 'u', traits: { firebaseToken: DEVICE } } });
    expect(fake.sent).toHaveLength(2);
  });

  it('refuses an APNs token alone as permanent, without calling Google', async () => {
    const apn = 'a1b2c3d4e5f6';
    const err = await failure(send(apn, {}, { profile: { userId: 'u', traits: { apn } } }));
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.message).toMatch(/FCM registration token/);
    expect(err.message).toMatch(/apn/);
    expect(fake.http.requests).toHaveLength(0);
  });

  it('fails permanently on missing or broken settings', async () => {
    const none = await failure(send(DEVICE, { serviceAccount: undefined as unknown as ServiceAccount }));
    expect(none).toBeInstanceOf(PermanentProviderError);
    expect(none.message).toMatch(/serviceAccount/);
    const noProject = await failure(send(DEVICE, { serviceAccount: { ...account, project_id: undefined } }));
    expect(noProject).toBeInstanceOf(PermanentProviderError);
    expect(noProject.message).toMatch(/projectId/);
    const badJson = await failure(send(DEVICE, { serviceAccount: '{not json' }));
    expect(badJson).toBeInstanceOf(PermanentProviderError);
    const badKey = await failure(send(DEVICE, { serviceAccount: { ...account, private_key: 'not a key' } }));
    expect(badKey).toBeInstanceOf(PermanentProviderError);
    expect(badKey.message).toMatch(/private_key/);
    expect(fake.http.requests).toHaveLength(0);
  });

  it('maps a JWT the token endpoint rejects (invalid_grant) to permanent', async () => {
    const wrongKey = otherKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const err = await failure(send(DEVICE, { serviceAccount: { ...account, private_key: wrongKey } }));
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.status).toBe(400);
    expect(err.message).toContain('invalid_grant');
    expect(err.message).toContain('Invalid JWT Signature.');
    expect(fake.sendRequests).toHaveLength(0);
  });

  it('maps a token endpoint 401 to permanent and a 503 to retryable, caching neither', async () => {
    fake.http.respondOnce({
      status: 401,
      body: { error: 'invalid_client', error_description: 'The OAuth client was not found.' },
    });
    expect(await failure(send(DEVICE))).toBeInstanceOf(PermanentProviderError);
    fake.http.respondOnce({ status: 503, headers: { 'retry-after': '3' } });
    const unavailable = await failure(send(DEVICE));
    expect(unavailable).toBeInstanceOf(RetryableProviderError);
    expect((unavailable as RetryableProviderError).retryAfterMs).toBe(3000);
    await send(DEVICE);
    expect(fake.tokenRequests).toHaveLength(3);
  });

  it('overrides token_uri with the tokenUrl setting', async () => {
    await send(DEVICE, {
      serviceAccount: { ...account, token_uri: 'https://oauth2.googleapis.com/token' },
      tokenUrl: fake.tokenUrl,
    });
    expect(fake.sent).toHaveLength(1);
  });

  it('maps 404 UNREGISTERED and 400 INVALID_ARGUMENT to permanent', async () => {
    const gone = await failure(send(GONE));
    expect(gone).toBeInstanceOf(PermanentProviderError);
    expect(gone.status).toBe(404);
    expect(gone.message).toBe('FCM messages:send: HTTP 404 UNREGISTERED: Requested entity was not found.');
    const invalid = await failure(send('not-a-registered-token'));
    expect(invalid).toBeInstanceOf(PermanentProviderError);
    expect(invalid.status).toBe(400);
    expect(invalid.message).toContain('INVALID_ARGUMENT');
  });

  it('maps 429 QUOTA_EXCEEDED with Retry-After to retryable with retryAfterMs', async () => {
    await send(DEVICE); // the token is cached, so the next request is messages:send
    fake.http.respondOnce(
      fcmError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded', 'QUOTA_EXCEEDED', { 'retry-after': '60' }),
    );
    const err = await failure(send(DEVICE));
    expect(err).toBeInstanceOf(RetryableProviderError);
    expect(err.status).toBe(429);
    expect((err as RetryableProviderError).retryAfterMs).toBe(60_000);
    expect(err.message).toContain('QUOTA_EXCEEDED');
  });

  it('maps 503 UNAVAILABLE and 500 INTERNAL to retryable', async () => {
    await send(DEVICE);
    fake.http.respondOnce(fcmError(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'UNAVAILABLE'));
    expect(await failure(send(DEVICE))).toBeInstanceOf(RetryableProviderError);
    fake.http.respondOnce(fcmError(500, 'INTERNAL', 'Internal error encountered.', 'INTERNAL'));
    const internal = await failure(send(DEVICE));
    expect(internal).toBeInstanceOf(RetryableProviderError);
    expect(internal.message).toContain('INTERNAL');
  });

  it('maps a timeout to retryable', async () => {
    await send(DEVICE);
    fake.http.respondOnce({ hang: true });
    const err = await failure(send(DEVICE, { timeoutMs: 100 }));
    expect(err).toBeInstanceOf(RetryableProviderError);
    expect(err.message).toMatch(/no answer within 100 ms/);
  });

  it('maps a refused connection (FCM or the token endpoint) to retryable', async () => {
    const refusedFcm = await failure(send(DEVICE, { baseUrl: await refusedUrl() }));
    expect(refusedFcm).toBeInstanceOf(RetryableProviderError);
    const refusedToken = await failure(
      send(DEVICE, {
        serviceAccount: { ...account, client_email: 'other@x.iam.gserviceaccount.com' },
        tokenUrl: await refusedUrl(),
      }),
    );
    expect(refusedToken).toBeInstanceOf(RetryableProviderError);
    expect(refusedToken.message).toMatch(/FCM OAuth token: connection failed/);
  });
});
