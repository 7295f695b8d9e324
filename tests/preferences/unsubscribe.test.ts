import { ConfigError, loadConfig } from '../../src/config';
import { Channel } from '../../src/domain/channel/channel.enum';
import { buildMailSendBody } from '../../src/plugins/providers/sendgrid/sendgrid.provider';
import { SmtpFake } from '../helpers/fakes/smtp-fake';
import {
  configureProvider,
  createTemplate,
  historyOf,
  identify,
  message,
  send,
  SMTP_LOGIN,
  smtpProvider,
} from '../helpers/pipeline';
import { ok, startTestApp, uid, type TestApp, type TestWorkspace } from '../helpers/test-app';

const PUBLIC_URL = 'https://pigeon.example.com';

/**
 * Signed unsubscribe and preferences links (README, "Preferences and topics"): `{{unsubscribeUrl}}` and
 * `{{preferencesUrl}}`, RFC 8058 headers on commercial email only, GET changes nothing, POST opts out
 * (idempotent), a forged or altered token is 404 and changes nothing.
 */
describe('unsubscribe and preferences links', () => {
  let t: TestApp;
  let smtp: SmtpFake;

  beforeAll(async () => {
    t = await startTestApp({ publicUrl: PUBLIC_URL });
    smtp = await SmtpFake.start(SMTP_LOGIN);
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  async function setup(commercial: boolean) {
    const ws = await t.newWorkspace();
    await configureProvider(t, smtpProvider(smtp), ws.adminKey);
    ok(
      await t.gql(
        'mutation($i: TopicInput!) { createTopic(input: $i) { key } }',
        { i: { key: 'news', name: 'Product <news>', commercial } },
        ws.adminKey,
      ),
    );
    await t.gql(
      'mutation { createTopic(input: { key: "tips", name: "Tips", defaultState: OFF }) { key } }',
      {},
      ws.adminKey,
    );
    await t.gql(
      'mutation { createTopic(input: { key: "security", name: "Security", defaultState: REQUIRED }) { key } }',
      {},
      ws.adminKey,
    );
    const templateId = await createTemplate(
      t,
      {
        key: uid('news'),
        name: 'News',
        topic: 'news',
        channels: ['EMAIL'],
        content: { email: { subject: 'News', text: 'Stop: {{unsubscribeUrl}} Manage: {{preferencesUrl}}' } },
      },
      true,
      ws.adminKey,
    );
    const userId = uid('user');
    await identify(t, userId, { email: `${userId}@example.com` }, ws.ingestKey);
    return { ws, templateId, userId };
  }

  async function mailTo(ws: TestWorkspace, userId: string, templateId: string) {
    const created = await send(t, { userId, templateId }, ws.adminKey);
    await t.worker().drain(300);
    const m = await message(t, created.id, ws.adminKey);
    const mail = smtp.messages.filter((x) => x.envelope.to.includes(`${userId}@example.com`)).pop();
    return { m, mail };
  }

  const links = (text: string) => {
    const [, unsubscribe, preferences] = /Stop: (\S+) Manage: (\S+)/.exec(text)!;
    return { unsubscribe, preferences };
  };
  const path = (url: string) => url.slice(PUBLIC_URL.length);
  const prefs = async (ws: TestWorkspace, userId: string) =>
    ok(
      await t.gql(
        'query($u: String!) { profile(userId: $u) { preferences { topic channel state } } }',
        { u: userId },
        ws.adminKey,
      ),
    ).profile.preferences;

  it('a commercial email carries RFC 8058 headers and its links; POST opts out of the topic, GET changes nothing', async () => {
    const { ws, templateId, userId } = await setup(true);
    const { m, mail } = await mailTo(ws, userId, templateId);
    expect(m.status).toBe('SENT');
    const { unsubscribe, preferences } = links(mail!.text!);
    expect(unsubscribe.startsWith(`${PUBLIC_URL}/unsubscribe/`)).toBe(true);
    expect(preferences.startsWith(`${PUBLIC_URL}/preferences/`)).toBe(true);
    expect(mail!.headers['list-unsubscribe']).toBe(`<${unsubscribe}>`);
    expect(mail!.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(historyOf(m, 'RENDERED')[0].missingVariables).toEqual([]);

    const shown = await t.inject({ method: 'GET', url: path(unsubscribe) });
    expect(shown.statusCode).toBe(200);
    expect(shown.headers['content-security-policy']).toContain("default-src 'none'");
    expect(shown.body).toContain('<form method="post">');
    expect(shown.body).toContain('Product &lt;news&gt;');
    expect(await prefs(ws, userId)).toEqual([]);

    // what a mail client's one-click request looks like (RFC 8058), twice: idempotent
    for (let i = 0; i < 2; i++) {
      const posted = await t.inject({
        method: 'POST',
        url: path(unsubscribe),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      });
      expect(posted.statusCode).toBe(200);
    }
    expect(await prefs(ws, userId)).toEqual([{ topic: 'news', channel: null, state: 'OPTED_OUT' }]);
    expect((await mailTo(ws, userId, templateId)).m).toMatchObject({ status: 'FILTERED', reason: 'OPTED_OUT' });
  });

  it('a non-commercial email has its links but no one-click headers', async () => {
    const { ws, templateId, userId } = await setup(false);
    const { mail } = await mailTo(ws, userId, templateId);
    expect(mail!.text).toContain(`${PUBLIC_URL}/unsubscribe/`);
    expect(mail!.headers['list-unsubscribe']).toBeUndefined();
    expect(mail!.headers['list-unsubscribe-post']).toBeUndefined();
  });

  it('forged, altered or misused tokens are 404 and change nothing', async () => {
    const { ws, templateId, userId } = await setup(true);
    const { mail } = await mailTo(ws, userId, templateId);
    const { unsubscribe, preferences } = links(mail!.text!);
    const token = path(unsubscribe).slice('/unsubscribe/'.length);
    const [payload, signature] = token.split('.');
    const otherUser = Buffer.from(JSON.stringify([ws.workspaceId, 'someone-else', 'news', 'u'])).toString('base64url');
    const flipped = signature.slice(0, -2) + (signature.endsWith('AA') ? 'BB' : 'AA');
    const bad = [
      `${otherUser}.${signature}`,
      `${payload}.${flipped}`,
      payload,
      `${payload}.`,
      'x',
      path(preferences).slice('/preferences/'.length), // a preferences token is not an unsubscribe token
    ];
    for (const b of bad) {
      for (const method of ['GET', 'POST'] as const) {
        const res = await t.inject({
          method,
          url: `/unsubscribe/${encodeURIComponent(b)}`,
          payload: 'List-Unsubscribe=One-Click',
        });
        expect({ b, method, status: res.statusCode }).toEqual({ b, method, status: 404 });
      }
    }
    for (const method of ['GET', 'POST'] as const) {
      expect((await t.inject({ method, url: `/preferences/${token}`, payload: 'topic=news' })).statusCode).toBe(404);
    }
    expect(await prefs(ws, userId)).toEqual([]);
  });

  it('the preferences page lists the topics with their state and saves the choices', async () => {
    const { ws, templateId, userId } = await setup(true);
    const { mail } = await mailTo(ws, userId, templateId);
    const url = path(links(mail!.text!).preferences);
    const shown = await t.inject({ method: 'GET', url });
    expect(shown.statusCode).toBe(200);
    expect(shown.body).toMatch(/value="news" checked/);
    expect(shown.body).toMatch(/value="tips">/); // OFF by default
    expect(shown.body).toMatch(/value="security" checked disabled/);
    expect(shown.body).toContain('width=device-width');
    expect(await prefs(ws, userId)).toEqual([]);

    const saved = await t.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'topic=tips',
    });
    expect(saved.statusCode).toBe(200);
    expect(saved.body).toContain('Saved.');
    expect(saved.body).toMatch(/value="tips" checked/);
    expect(saved.body).toMatch(/value="news">/);
    expect(await prefs(ws, userId)).toEqual([
      { topic: 'news', channel: null, state: 'OPTED_OUT' },
      { topic: 'tips', channel: null, state: 'OPTED_IN' },
    ]);
  });

  it('SendGrid gets the one-click headers in its Mail Send body, and none when there are none', () => {
    const ctx = {
      channel: Channel.EMAIL,
      settings: { apiKey: 'SG.x', fromEmail: 'shop@example.com', baseUrl: 'https://api.sendgrid.com', timeoutMs: 1000 },
      address: 'ada@example.com',
      content: { subject: 'S', text: 'T' },
      profile: { userId: 'ada', traits: {} },
      message: { id: 'm1', eventName: null, data: {} },
      idempotencyKey: 'd1',
      signal: new AbortController().signal,
    } as unknown as Parameters<typeof buildMailSendBody>[0];
    const headers = { 'List-Unsubscribe': '<https://p/u/x>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
    expect(buildMailSendBody({ ...ctx, headers }).headers).toEqual(headers);
    expect(buildMailSendBody(ctx)).not.toHaveProperty('headers');
  });

  it('without PIGEON_PUBLIC_URL there are no links: the variables are reported missing, no headers', async () => {
    const plain = await startTestApp();
    try {
      const ws = await plain.newWorkspace();
      await configureProvider(plain, smtpProvider(smtp), ws.adminKey);
      await plain.gql(
        'mutation { createTopic(input: { key: "news", name: "News", commercial: true }) { key } }',
        {},
        ws.adminKey,
      );
      const templateId = await createTemplate(
        plain,
        {
          key: 'n',
          name: 'N',
          topic: 'news',
          channels: ['EMAIL'],
          content: { email: { subject: 'S', text: 'Stop: {{unsubscribeUrl}}' } },
        },
        true,
        ws.adminKey,
      );
      const userId = uid('user');
      await identify(plain, userId, { email: `${userId}@example.com` }, ws.ingestKey);
      const created = await send(plain, { userId, templateId }, ws.adminKey);
      await plain.worker().drain(300);
      const m = await message(plain, created.id, ws.adminKey);
      expect(m.status).toBe('SENT');
      expect(historyOf(m, 'RENDERED')[0].missingVariables).toEqual(['unsubscribeUrl']);
      const mail = smtp.messages.filter((x) => x.envelope.to.includes(`${userId}@example.com`)).pop()!;
      expect(mail.headers['list-unsubscribe']).toBeUndefined();
      expect((await plain.inject({ method: 'GET', url: '/unsubscribe/anything' })).statusCode).toBe(404);
    } finally {
      await plain.close();
    }
  });

  it('PIGEON_PUBLIC_URL: an http(s) URL, trailing slashes dropped', () => {
    expect(loadConfig({ PIGEON_PUBLIC_URL: 'https://pigeon.example.com/' }).publicUrl).toBe(
      'https://pigeon.example.com',
    );
    expect(loadConfig({ PIGEON_PUBLIC_URL: 'http://10.0.0.1:3000/pigeon' }).publicUrl).toBe(
      'http://10.0.0.1:3000/pigeon',
    );
    expect(loadConfig({}).publicUrl).toBeUndefined();
    for (const bad of ['pigeon.example.com', 'ftp://x.example.com', 'https://x.example.com/?a=1']) {
      expect(() => loadConfig({ PIGEON_PUBLIC_URL: bad })).toThrow(ConfigError);
    }
  });
});
