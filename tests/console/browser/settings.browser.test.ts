import path from 'node:path';
import type { Page } from 'playwright-core';
import { axeViolations, chromiumAvailable, startRig, type BrowserRig } from './browser';

/**
 * The settings pages in a real headless Chromium: a provider form generated from the plugin's settingsSchema
 * (secrets as password fields, read back only as the mask, the callback URL shown), topics, and API keys (the
 * secret shown once, then revoked). With PIGEON_SCREENSHOTS=1 it saves the pages to docs/console/.
 */
const run = chromiumAvailable() ? describe : describe.skip;
const SHOTS = process.env.PIGEON_SCREENSHOTS ? path.resolve(__dirname, '../../../docs/console') : null;
const PUBLIC_URL = 'https://pigeon.example.com';

run('providers, topics and API keys in the console', () => {
  let rig: BrowserRig;
  let page: Page;

  const shot = async (name: string) => {
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    rig = await startRig({ publicUrl: PUBLIC_URL });
    page = rig.page;
    await page.goto(`${rig.base}/console`);
    await page.getByLabel('Admin API key').fill(rig.t.ws.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Event log' }).waitFor();
  });
  afterAll(async () => {
    await rig?.close();
  });
  afterEach(() => {
    expect(rig.problems).toEqual([]);
    expect(rig.outside).toEqual([]);
  });

  it('a provider form from the settingsSchema saves, masks the secret and shows the callback URL', async () => {
    await page.getByRole('link', { name: 'Providers' }).click();
    await page.getByRole('heading', { name: 'Providers', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'New provider' }).click();
    await page.getByLabel('Plugin').selectOption('webhook');
    const secret = page.getByLabel('secret (secret)');
    expect(await secret.getAttribute('type')).toBe('password');
    expect(await axeViolations(page)).toEqual([]);
    // a bad value: the server's message at the field, the rest kept
    await page.getByLabel('url (required)').fill('not a url');
    await secret.fill('whsec-123');
    await page.getByRole('button', { name: 'Add provider' }).click();
    await page.locator('#provider-url-error').waitFor();
    expect(await secret.inputValue()).toBe('whsec-123');

    await page.getByLabel('url (required)').fill('https://hooks.example.com/pigeon');
    await page.getByRole('button', { name: 'Add provider' }).click();
    await page.getByText('Saved.').waitFor();
    const row = page.getByRole('row').filter({ hasText: 'webhook' });
    await row.getByText(`${PUBLIC_URL}/hooks/`, { exact: false }).waitFor();
    expect(await row.textContent()).toContain('secret: ********');
    expect(await page.content()).not.toContain('whsec-123');

    // edit: the secret field holds the mask; saving it unchanged keeps the stored secret
    await page.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'Edit webhook WEBHOOK' }).click();
    expect(await page.getByLabel('secret (secret)').inputValue()).toBe('********');
    await page.getByLabel('Priority (lower is tried first)').fill('3');
    await page.getByRole('button', { name: 'Save provider' }).click();
    await page.getByText('Saved.').waitFor();
    await page.getByRole('cell', { name: '3', exact: true }).waitFor();
    const stored = await rig.t.services.providerConfigs.enabled({ workspaceId: rig.t.ws.workspaceId } as never);
    expect(stored.find((c) => c.provider === 'webhook')?.settings).toMatchObject({ secret: 'whsec-123' });
    await page.getByRole('button', { name: 'Close' }).click();
    expect(await axeViolations(page)).toEqual([]);
    await shot('providers');
  });

  it('creates and edits a topic', async () => {
    await page.getByRole('link', { name: 'Topics' }).click();
    await page.getByRole('heading', { name: 'Topics', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'New topic' }).click();
    await page.getByLabel('Key').fill('order-updates');
    await page.getByLabel('Name').fill('Order updates');
    await page.getByRole('button', { name: 'Create topic' }).click();
    await page.getByText('Created the topic order-updates.').waitFor();
    await page.getByRole('button', { name: 'Edit order-updates' }).click();
    await page.getByLabel('Name').fill('Order news');
    await page.getByLabel('Default').selectOption('OFF');
    await page.getByLabel(/Commercial/).check();
    await page.getByRole('button', { name: 'Save topic' }).click();
    await page.getByText('Saved the topic order-updates.').waitFor();
    const row = page.getByRole('row').filter({ hasText: 'order-updates' });
    expect((await row.locator('td').allTextContents()).slice(0, 4)).toEqual([
      'order-updates',
      'Order news',
      'OFF',
      'yes',
    ]);
    // a duplicate key: the server's message next to the form, what was typed kept
    await page.getByRole('button', { name: 'New topic' }).click();
    await page.getByLabel('Key').fill('order-updates');
    await page.getByLabel('Name').fill('Again');
    await page.getByRole('button', { name: 'Create topic' }).click();
    await page.getByRole('alert').first().waitFor();
    expect(await page.getByLabel('Name').inputValue()).toBe('Again');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await shot('topics');
  });

  it('creates an API key (its secret shown once) and revokes it', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.getByLabel('Name (optional)').fill('CI ingest');
    await page.getByLabel('Scope').selectOption('INGEST');
    await page.getByRole('button', { name: 'Create key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Your new API key' });
    await dialog.waitFor();
    const secret = (await dialog.getByTestId('new-secret').textContent())!;
    expect(secret.length).toBeGreaterThan(20);
    expect(await axeViolations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Done' }).click();
    await page.getByTestId('new-secret').waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(secret); // shown once only
    const row = page.getByRole('row').filter({ hasText: 'CI ingest' });
    await row.getByRole('cell', { name: 'INGEST', exact: true }).waitFor();
    await shot('api-keys');

    await row.getByRole('button', { name: /^Revoke / }).click();
    await row.getByRole('button', { name: 'Confirm revoke' }).click();
    await page.getByText(/^Revoked the key/).waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
    const res = await rig.t.send('/v1/track', { userId: 'u', event: 'x' }, secret);
    expect([401, 403]).toContain(res.statusCode); // the revoked key is refused
  });
});
