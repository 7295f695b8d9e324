import path from 'node:path';
import { Analytics } from '@segment/analytics-node';
import type { Page } from 'playwright-core';
import { SmtpFake } from '../../helpers/fakes/smtp-fake';
import { configureProvider, SMTP_LOGIN, smtpProvider } from '../../helpers/pipeline';
import { uid } from '../../helpers/test-app';
import { axeViolations, chromiumAvailable, startRig, type BrowserRig } from './browser';

/**
 * The Templates page in a real headless Chromium: from an UNMAPPED name's Map panel, "Create a template" opens the
 * editor prefilled for that event; the live preview renders the typed content over the event's user and properties,
 * flags a missing variable and shows a Handlebars error next to its field with its line; a refused save keeps what
 * was typed and shows the server's message next to the field; publishing offers the mapping, the replay sends the
 * earlier event through the SMTP fake. With PIGEON_SCREENSHOTS=1 it saves docs/console/templates-*.png.
 */
const run = chromiumAvailable() ? describe : describe.skip;
const SHOTS = process.env.PIGEON_SCREENSHOTS ? path.resolve(__dirname, '../../../docs/console') : null;

async function shot(page: Page, name: string) {
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

run('the template editor in a browser', () => {
  let rig: BrowserRig;
  let smtp: SmtpFake;
  let analytics: Analytics;
  const userId = SHOTS ? 'grace@example.com' : uid('grace');
  const email = SHOTS ? userId : `${userId}@example.com`;
  const eventName = SHOTS ? 'Trial Ended' : `Trial Ended ${uid('n')}`;
  const fullName = `Segment-TrackEvent:${eventName}`;

  const flushed = (send: (done: (err?: unknown) => void) => void) =>
    new Promise<void>((resolve, reject) => send((err) => (err ? reject(err) : resolve())));

  beforeAll(async () => {
    rig = await startRig();
    smtp = await SmtpFake.start(SMTP_LOGIN);
    await configureProvider(rig.t, smtpProvider(smtp));
    analytics = new Analytics({ writeKey: rig.t.ws.ingestKey, host: rig.base, flushInterval: 20, maxRetries: 1 });
    await flushed((done) => analytics.identify({ userId, traits: { email, firstName: 'Grace' } }, done));
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

  it('Map → create a template → live preview, missing variable, Handlebars error → publish → map → SENT', async () => {
    const { page, t } = rig;
    const worker = t.worker();
    worker.start();
    await page.goto(`${rig.base}/console#/event-names`);
    await page.getByLabel('Admin API key').fill(t.ws.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Event names' }).waitFor();
    await page.getByRole('button', { name: `Map ${fullName}` }).click();
    await page.getByRole('link', { name: 'Create a template for this event' }).click();

    // the editor, prefilled for the event: key and name from its name, sample from its latest event
    await page.getByRole('heading', { name: 'New template' }).waitFor();
    await page.waitForFunction(() => (globalThis as any).document.activeElement?.tagName === 'H1');
    expect(await page.getByLabel('Key', { exact: true }).inputValue()).toMatch(/^trial-ended/);
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe(eventName);
    expect(await page.getByLabel('EMAIL', { exact: true }).isChecked()).toBe(true);
    await page.waitForFunction(() =>
      ((globalThis as any).document.getElementById('preview-data')?.value ?? '').includes('"plan": "pro"'),
    );
    expect(await page.getByLabel('Profile (user id)').inputValue()).toBe(userId);

    // live preview: the profile's trait, then a missing variable flagged
    const preview = page.getByRole('article', { name: 'email preview' });
    await page.getByLabel('Email subject').fill('Your trial ended, {{profile.firstName}}');
    await preview.getByText('Your trial ended, Grace').waitFor();
    const body = page.getByLabel('Email text body (optional)');
    await body.fill('You were on {{data.plan}}.\nOrder {{data.orderId}}');
    await preview.getByText('You were on pro.', { exact: false }).waitFor();
    await page.locator('#preview-missing').getByText('data.orderId').waitFor();

    // a Handlebars error: shown next to its field, with its line; what was typed stays
    await body.fill('You were on {{data.plan}}.\n{{#if data.plan}}Thanks');
    const fieldError = page.locator('#tpl-email-text-error');
    await fieldError.getByText(/line 2/).waitFor();
    expect(await body.getAttribute('aria-invalid')).toBe('true');
    await page
      .locator('#preview-error')
      .getByText(/email\.text/)
      .waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, 'templates-editor-error');

    // the server refuses a bad key: its message next to the field, nothing typed is lost
    const key = page.getByLabel('Key', { exact: true });
    const goodKey = await key.inputValue();
    await body.fill('You were on {{data.plan}}.{{#if data.vip}} Thanks for being a VIP.{{/if}}');
    await fieldError.waitFor({ state: 'detached' });
    await key.fill('not a key');
    await page.getByRole('button', { name: 'Create draft' }).click();
    await page.locator('#tpl-key-error').getByText('key must be').waitFor();
    await page.waitForFunction(() => (globalThis as any).document.activeElement?.id === 'tpl-key');
    expect(await page.getByLabel('Email subject').inputValue()).toBe('Your trial ended, {{profile.firstName}}');
    await key.fill(goodKey);

    // publish (saves the draft first), then map the event from there and replay it
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByText('Published version 1.').waitFor();
    await page.getByText('Version 1 is what messages use.', { exact: false }).waitFor();
    await shot(page, 'templates-editor');
    await page.waitForFunction(() => (globalThis as any).document.activeElement?.id === 'map-title');
    await page.getByRole('button', { name: 'Map', exact: true }).click();
    await page.getByText(`${fullName} is now mapped to template “${eventName}”`).waitFor();
    await page.getByRole('button', { name: 'Replay earlier unmapped events of this name' }).click();
    await page.getByText('Replayed: 1 event became a message.').waitFor();

    await page.goto(`${rig.base}/console#/messages?userId=${encodeURIComponent(userId)}`);
    await page
      .getByRole('row')
      .filter({ hasText: fullName })
      .getByText('SENT', { exact: true })
      .waitFor({ timeout: 20_000 });
    const sent = smtp.messages.filter((m) => m.envelope.to.includes(email));
    expect(sent).toHaveLength(1);
    expect(sent[0].subject).toBe('Your trial ended, Grace');
    await worker.stop(1000);

    // the list: status, version, channels; a template opens its editor with its versions
    await page.getByRole('link', { name: 'Templates', exact: true }).click();
    const row = page.getByRole('row').filter({ hasText: goodKey });
    await row.getByText('PUBLISHED').waitFor();
    await row.getByText('version 1').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, 'templates-list');
    await row.getByRole('link', { name: goodKey, exact: true }).click();
    await page.getByRole('heading', { name: `Template ${eventName}` }).waitFor();
    await page.getByRole('article', { name: 'email preview' }).getByText('Your trial ended, Grace').waitFor();
    await page.getByText('The draft is the same as it.', { exact: false }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    // dark, and a phone-sized screen
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, 'templates-editor-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, 'templates-editor-phone');
    await page.setViewportSize({ width: 1200, height: 900 });
  });
});
