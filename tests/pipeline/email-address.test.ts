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
import { startTestApp, uid, type TestApp } from '../helpers/test-app';

/**
 * An `email` trait is untrusted (it comes from ingest): exactly one address, or the EMAIL channel is
 * unavailable for that profile (README, "From event to notification: a walk-through") — never one message to several recipients.
 */
describe('the email trait must be exactly one address', () => {
  let t: TestApp;
  let smtp: SmtpFake;

  beforeAll(async () => {
    t = await startTestApp();
    smtp = await SmtpFake.start(SMTP_LOGIN);
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  async function workspace(channels: string[]) {
    const ws = await t.newWorkspace();
    await configureProvider(t, smtpProvider(smtp), ws.adminKey);
    await configureProvider(t, { channel: 'SMS', provider: 'log', config: { label: 'sms' } }, ws.adminKey);
    const templateId = await createTemplate(
      t,
      {
        key: `welcome-${uid()}`,
        name: 'Welcome',
        channels,
        content: { email: { subject: 'Welcome', text: 'Hello' }, sms: { body: 'Hello' } },
      },
      true,
      ws.adminKey,
    );
    return { ws, templateId };
  }

  async function deliver(ws: { adminKey: string }, input: Record<string, unknown>) {
    const created = await send(t, input, ws.adminKey);
    await t.worker().drain(300);
    return message(t, created.id, ws.adminKey);
  }

  it.each([
    ['a comma-separated list', (u: string) => `${u}-a@example.com, ${u}-b@example.com, ${u}-c@example.com`],
    ['a semicolon-separated list', (u: string) => `${u}-a@example.com;${u}-b@example.com`],
    ['a group', (u: string) => `team: ${u}-a@example.com, ${u}-b@example.com;`],
    ['a display name that is an address', (u: string) => `${u}-a@example.com <${u}-b@example.com>`],
  ])('%s: EMAIL is unavailable (the CHANNELS entry says why) and the next channel is used', async (_name, value) => {
    const { ws, templateId } = await workspace(['EMAIL', 'SMS']);
    const userId = uid();
    await identify(t, userId, { email: value(userId), phone_number: '+15555550100' }, ws.ingestKey);
    const before = smtp.messages.length;
    const m = await deliver(ws, { userId, templateId });
    expect(m).toMatchObject({ status: 'SENT', channel: 'SMS' });
    const channels = historyOf(m, 'CHANNELS')[0];
    expect(channels.available.map((c: any) => c.channel)).toEqual(['SMS']);
    expect(channels.unavailable).toEqual([
      { channel: 'EMAIL', reasons: [expect.stringMatching(/^the profile's email is not a usable address: it /)] },
    ]);
    expect(smtp.messages.slice(before).filter((mail) => mail.raw.includes(userId))).toEqual([]);
  });

  it('a list and no other channel: UNROUTABLE / NO_AVAILABLE_CHANNEL, nothing is sent', async () => {
    const { ws, templateId } = await workspace(['EMAIL']);
    const userId = uid();
    await identify(t, userId, { email: `${userId}@example.com, victim@example.com` }, ws.ingestKey);
    const before = smtp.messages.length;
    const m = await deliver(ws, { userId, templateId });
    expect(m).toMatchObject({ status: 'UNROUTABLE', reason: 'NO_AVAILABLE_CHANNEL', deliveries: [] });
    expect(historyOf(m, 'CHANNELS')[0].unavailable[0].reasons).toEqual([
      "the profile's email is not a usable address: it holds several addresses; it must be exactly one",
    ]);
    expect(smtp.messages.length).toBe(before);
  });

  it('one address (surrounding spaces trimmed) is sent to that one recipient', async () => {
    const { ws, templateId } = await workspace(['EMAIL']);
    const userId = uid();
    await identify(t, userId, { email: `  ${userId}@example.com ` }, ws.ingestKey);
    const m = await deliver(ws, { userId, templateId });
    expect(m).toMatchObject({ status: 'SENT', channel: 'EMAIL' });
    const mail = smtp.messages.find((x) => x.envelope.to.includes(`${userId}@example.com`))!;
    expect(mail.envelope.to).toEqual([`${userId}@example.com`]);
  });
});
