import path from 'node:path';
import { Analytics } from '@segment/analytics-node';
import type { Page } from 'playwright-core';
import { SmtpFake } from '../../helpers/fakes/smtp-fake';
import { configureProvider, createRule, createTemplate, SMTP_LOGIN, smtpProvider } from '../../helpers/pipeline';
import { uid } from '../../helpers/test-app';
import { axeViolations, chromiumAvailable, startRig, type BrowserRig } from './browser';

/**
 * The console's seed flow in a real headless Chromium: a track sent with the Segment library arrives UNMAPPED,
 * is mapped to a published template in the UI, its earlier events are replayed, and the message page shows it
 * SENT through the SMTP fake with its history in plain words. Also: a wrong key, a key revoked mid-session.
 * With PIGEON_SCREENSHOTS=1 (npm run console:screenshots) it saves the pages to docs/console/.
 */
const run = chromiumAvailable() ? describe : describe.skip;
const SHOTS = process.env.PIGEON_SCREENSHOTS ? path.resolve(__dirname, '../../../docs/console') : null;

async function shot(page: Page, name: string) {
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

run('the console in a browser', () => {
  let rig: BrowserRig;
  let smtp: SmtpFake;
  let analytics: Analytics;
  // unique names (test files share a MariaDB database), except for screenshots, taken on a fresh SQLite file
  const unique = (prefix: string) => (SHOTS ? '' : ` ${uid(prefix)}`);
  const userId = SHOTS ? 'ada@example.com' : uid('ada');
  const eventName = `Order Shipped${unique('n')}`;
  const fullName = `Segment-TrackEvent:${eventName}`;
  const templateName = `Order shipped${unique('t')}`;

  const flushed = (send: (done: (err?: unknown) => void) => void) =>
    new Promise<void>((resolve, reject) => send((err) => (err ? reject(err) : resolve())));

  beforeAll(async () => {
    rig = await startRig();
    smtp = await SmtpFake.start(SMTP_LOGIN);
    await configureProvider(rig.t, smtpProvider(smtp));
    const templateId = await createTemplate(rig.t, {
      key: SHOTS ? 'order-shipped' : `tour-${uid()}`,
      name: templateName,
      channels: ['EMAIL'],
      content: { email: { subject: 'Welcome aboard, {{profile.firstName}}', text: 'Your plan: {{data.plan}}.' } },
    });
    // a rule that does not hold for the tour's user: the timeline says it was checked
    await createRule(rig.t, {
      name: 'VIP by email',
      priority: 1,
      templateId,
      action: 'ROUTE',
      method: 'SINGLE',
      channels: ['EMAIL'],
      when: { path: 'profile.vip', op: 'EQ', value: true },
    });
    analytics = new Analytics({ writeKey: rig.t.ws.ingestKey, host: rig.base, flushInterval: 20, maxRetries: 1 });
    await flushed((done) =>
      analytics.identify(
        { userId, traits: { email: SHOTS ? userId : `${userId}@example.com`, firstName: 'Ada' } },
        done,
      ),
    );
    await flushed((done) => analytics.track({ userId, event: eventName, properties: { plan: 'pro' } }, done));
  });
  afterAll(async () => {
    await analytics?.closeAndFlush({ timeout: 5000 });
    await rig?.close();
    await smtp?.close();
  });
  afterEach(() => {
    expect(rig.problems).toEqual([]);
    expect(rig.outside).toEqual([]);
  });

  async function signIn(page: Page, key: string) {
    await page.getByLabel('Admin API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it("a wrong key shows the server's message and keeps what was typed", async () => {
    const { page } = rig;
    await page.goto(`${rig.base}/console`);
    await expect(page.getByRole('heading', { name: 'Sign in to the Pigeon console' }).isVisible()).resolves.toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, 'sign-in');
    await signIn(page, 'pk_admin_wrong');
    await page.getByRole('alert').getByText('Unknown API key').waitFor();
    expect(await page.getByLabel('Admin API key').inputValue()).toBe('pk_admin_wrong');
  });

  it('UNMAPPED in the event log → Map to a published template → replay → the message is SENT, with its timeline', async () => {
    const { page, t } = rig;
    const worker = t.worker();
    worker.start();
    await page.getByLabel('Admin API key').fill('');
    await signIn(page, t.ws.adminKey);
    await page.getByRole('heading', { name: 'Event log' }).waitFor();
    // the heading takes the focus after navigation
    await page.waitForFunction(() => (globalThis as any).document.activeElement?.tagName === 'H1');
    const row = page.getByRole('row').filter({ hasText: fullName });
    await row.getByText('UNMAPPED').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, 'event-log');

    // a filter narrows the log; the list keeps it when coming back from an event
    await page.getByLabel('Name', { exact: true }).fill(fullName);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('row').nth(2).waitFor({ state: 'detached' }); // only the header and our event
    await row.getByRole('link', { name: `Map ${fullName}` }).click();
    await page.getByRole('heading', { name: `Event ${fullName}` }).waitFor();
    await page.getByLabel('Event payload').getByText('"plan": "pro"').waitFor();
    expect(await axeViolations(page)).toEqual([]);

    const option = await page.locator('option', { hasText: templateName }).getAttribute('value');
    await page.getByLabel('Send with').selectOption(option!);
    await shot(page, 'map-event');
    await page.getByRole('button', { name: 'Map', exact: true }).click();
    await page.getByText(`${fullName} is now mapped to template “${templateName}”`).waitFor();
    await page.getByRole('button', { name: 'Replay earlier unmapped events of this name' }).click();
    await page.getByText('Replayed: 1 event became a message.').waitFor();
    await shot(page, 'map-replayed');

    // the event now links to its message, which the worker sends through the SMTP fake
    await page.getByRole('link', { name: /^[0-9a-f-]{36}$/ }).click();
    await page.getByRole('heading', { name: `Message to ${userId}` }).waitFor();
    const status = page.locator('dt:text-is("Status") + dd');
    await status.getByText('SENT', { exact: true }).waitFor({ timeout: 20_000 });
    const timeline = page.getByRole('list', { name: 'History' });
    await timeline.getByText(`Created by event “${fullName}” for user ${userId}.`).waitFor();
    await timeline
      .getByText('Checked 1 routing rule: “VIP by email” did not hold. No rule matched', { exact: false })
      .waitFor();
    await timeline.getByText(/Try 1 on EMAIL through smtp: handed over/).waitFor();
    await timeline.getByText('Sent on EMAIL.').waitFor();
    expect(smtp.messages.filter((m) => m.envelope.to.includes(SHOTS ? userId : `${userId}@example.com`))).toHaveLength(
      1,
    );
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, 'message');
    // dark (prefers-color-scheme) keeps the contrast; and a phone-sized screen still reads
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, 'message-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, 'message-phone');
    await page.setViewportSize({ width: 1200, height: 900 });

    await page.getByRole('link', { name: 'Messages', exact: true }).click();
    await page.getByRole('heading', { name: 'Messages' }).waitFor();
    await page.getByRole('row').filter({ hasText: userId }).getByText('SENT').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, 'messages');

    await page.getByRole('link', { name: 'Event log', exact: true }).click();
    await page.getByRole('heading', { name: 'Event log' }).waitFor();
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe(fullName); // the filter was kept
    await worker.stop(1000);
  });

  it('the event-names page maps an unmapped name and replays its events; a name opens its events', async () => {
    const { page, t } = rig;
    const other = `Trial Started${unique('n')}`;
    await flushed((done) => analytics.track({ userId, event: other, properties: { plan: 'team' } }, done));
    const worker = t.worker();
    worker.start();
    await page.getByRole('link', { name: 'Event names', exact: true }).click();
    await page.getByRole('heading', { name: 'Event names' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: `Segment-TrackEvent:${other}` });
    await row.getByRole('button', { name: `Map Segment-TrackEvent:${other}` }).click();
    await page.waitForFunction(() => (globalThis as any).document.activeElement?.id === 'map-title');
    const option = await page.locator('option', { hasText: templateName }).getAttribute('value');
    await page.getByLabel('Send with').selectOption(option!);
    await page.getByRole('button', { name: 'Map', exact: true }).click();
    await page.getByRole('button', { name: 'Replay earlier unmapped events of this name' }).click();
    await page.getByText('Replayed: 1 event became a message.').waitFor();
    await row.getByText(`Template ${templateName}`).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, 'event-names');

    await row.getByRole('link', { name: `Segment-TrackEvent:${other}` }).click();
    await page.getByRole('heading', { name: 'Event log' }).waitFor();
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe(`Segment-TrackEvent:${other}`);
    await page.getByRole('row').filter({ hasText: other }).getByText('MAPPED', { exact: true }).waitFor();
    await worker.stop(1000);
  });

  it('profiles: search, a profile with its traits, preferences, and the messages sent to it', async () => {
    const { page, t } = rig;
    await t.gql('mutation($u: String!) { setPreference(userId: $u, channel: SMS, state: OPTED_OUT) { state } }', {
      u: userId,
    });
    await page.getByRole('link', { name: 'Profiles', exact: true }).click();
    await page.getByRole('heading', { name: 'Profiles' }).waitFor();
    await page.getByLabel('User id or email contains').fill(userId);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('row').nth(2).waitFor({ state: 'detached' });
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('link', { name: userId }).click();
    await page.getByRole('heading', { name: `Profile ${userId}` }).waitFor();
    // the traits arrive in their editor, as JSON
    await page.waitForFunction(() =>
      (globalThis as any).document.querySelector('textarea[name="traits"]')?.value.includes('"firstName": "Ada"'),
    );
    const preference = page.getByLabel('Preferences').getByRole('row').filter({ hasText: 'every topic' });
    await preference.getByText('opted out').waitFor();
    expect(await preference.getByRole('cell').nth(1).textContent()).toBe('SMS');
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, 'profile');
    await page.getByRole('link', { name: 'Messages to this user' }).click();
    await page.getByRole('heading', { name: 'Messages' }).waitFor();
    expect(await page.getByLabel('User id', { exact: true }).inputValue()).toBe(userId);
    // both messages of the tour (one per mapped name), and the first one SENT
    await page.getByRole('row').filter({ hasText: userId }).nth(1).waitFor();
    await page
      .getByRole('row')
      .filter({ hasText: `Segment-TrackEvent:${eventName}` })
      .getByText('SENT')
      .waitFor();
  });

  it('templates: status, version and the event names mapped to each; routing rules are on their own page', async () => {
    const { page } = rig;
    await page.getByRole('link', { name: 'Templates', exact: true }).click();
    await page.getByRole('heading', { name: 'Templates', exact: true }).waitFor();
    const row = page.getByRole('row').filter({ hasText: templateName });
    await row.getByText('version 1').waitFor();
    await row.getByRole('link', { name: eventName, exact: true }).waitFor();
    expect(await page.getByText('VIP by email').count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, 'templates');
    await page.getByRole('link', { name: 'Routing rules' }).click();
    await page.getByRole('heading', { name: 'Routing rules', level: 1 }).waitFor();
    await page.getByText('VIP by email').first().waitFor();
  });

  it('a key revoked mid-session signs the user out with a message', async () => {
    const { page, t } = rig;
    const created = await t.gql<any>('mutation { createApiKey(name: "tour", scope: ADMIN) { secret apiKey { id } } }');
    const { secret, apiKey } = created.data!.createApiKey;
    await page.goto(`${rig.base}/console#/events`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You signed out.').waitFor();
    await signIn(page, secret);
    await page.getByRole('heading', { name: 'Event log' }).waitFor();
    await t.gql(`mutation { revokeApiKey(id: "${apiKey.id}") { id } }`);
    // the next request (here the event log's auto-refresh, every 5 s) is refused
    await page.getByText('You were signed out: This API key has been revoked').waitFor();
    await page.getByRole('heading', { name: 'Sign in to the Pigeon console' }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });
});
