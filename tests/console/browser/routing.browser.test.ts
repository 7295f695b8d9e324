import path from 'node:path';
import type { Page } from 'playwright-core';
import { configureProvider, createRule, createTemplate, identify } from '../../helpers/pipeline';
import { uid } from '../../helpers/test-app';
import { axeViolations, chromiumAvailable, startRig, type BrowserRig } from './browser';

/**
 * The routing rules page in a real headless Chromium: create a rule (a bad condition shows the server's error at
 * the condition field, and nothing typed is lost), edit it, reorder, and test routing for a profile and sample data
 * (`previewRouting`: which rule matched, and why). With PIGEON_SCREENSHOTS=1 it saves the page to docs/console/.
 */
const run = chromiumAvailable() ? describe : describe.skip;
const SHOTS = process.env.PIGEON_SCREENSHOTS ? path.resolve(__dirname, '../../../docs/console') : null;

run('routing rules in the console', () => {
  let rig: BrowserRig;
  let page: Page;
  const userId = SHOTS ? 'ada@example.com' : uid('ada');
  const templateName = SHOTS ? 'Order completed' : `Order completed ${uid('t')}`;
  const templateKey = SHOTS ? 'order-completed' : `order-${uid()}`;

  beforeAll(async () => {
    rig = await startRig();
    page = rig.page;
    await configureProvider(rig.t, { channel: 'EMAIL', provider: 'log', config: { label: 'mail' } });
    await configureProvider(rig.t, { channel: 'SMS', provider: 'log', config: { label: 'sms' } });
    await createTemplate(
      rig.t,
      {
        key: templateKey,
        name: templateName,
        channels: ['EMAIL', 'SMS'],
        content: {
          email: { subject: 'Order {{data.orderId}}', text: 'Thanks' },
          sms: { body: 'Order {{data.orderId}}' },
        },
      },
      true,
    );
    await identify(
      rig.t,
      userId,
      { email: 'ada@example.com', phone_number: '+15555550100', plan: 'pro' },
      rig.t.ws.ingestKey,
    );
    await createRule(rig.t, {
      name: 'Quiet hours',
      priority: 10,
      action: 'SUPPRESS',
      when: { path: 'data.quiet', op: 'EQ', value: true },
    });
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

  it("creates a rule — a bad condition shows the server's error at the field — edits, reorders and tests it", async () => {
    await page.getByRole('link', { name: 'Routing rules' }).click();
    await page.getByRole('heading', { name: 'Routing rules', level: 1 }).waitFor();
    await page.getByRole('row').filter({ hasText: 'Quiet hours' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'New rule' }).click();
    await page.getByLabel('Name').fill('Big orders by SMS');
    await page.getByLabel('Priority (lower is evaluated first)').fill('20');
    await page.getByRole('checkbox', { name: 'SMS' }).check();
    const when = page.getByLabel('Condition (JSON; empty: always holds)');
    await when.fill('{"path": "data.total", "op": "GT"}');
    await page.getByRole('button', { name: 'Create rule' }).click();
    const error = page.locator('#rule-when-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/^when: /);
    expect(await when.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Name').inputValue()).toBe('Big orders by SMS'); // nothing typed is lost
    expect(await axeViolations(page)).toEqual([]);

    await when.fill('{"path": "data.total", "op": "GT", "value": 100}');
    await page.getByRole('button', { name: 'Create rule' }).click();
    await page.getByText('Created "Big orders by SMS".').waitFor();
    const row = page.getByRole('row').filter({ hasText: 'Big orders by SMS' });
    await row.getByText('data.total is greater than 100').waitFor();

    // edit: the rule moves to the top by its priority
    await page.getByRole('button', { name: 'Edit Big orders by SMS' }).click();
    await page.getByLabel('Priority (lower is evaluated first)').fill('5');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByText('Saved "Big orders by SMS".').waitFor();
    const names = () => page.locator('table.rules tbody tr td:nth-child(2)').allTextContents();
    expect(await names()).toEqual(['Big orders by SMS', 'Quiet hours']);

    // reorder: move Quiet hours up (priorities rewritten), then back down
    await page.getByRole('button', { name: 'Move Quiet hours up' }).click();
    await page.getByText('Moved "Quiet hours" up.').waitFor();
    expect(await names()).toEqual(['Quiet hours', 'Big orders by SMS']);
    await page.getByRole('button', { name: 'Move Quiet hours down' }).click();
    await page.getByText('Moved "Quiet hours" down.').waitFor();
    expect(await names()).toEqual(['Big orders by SMS', 'Quiet hours']);

    // test: which rule matched and why
    await page.getByLabel('Template').selectOption({ label: `${templateName} (${templateKey})` });
    await page.getByLabel('Profile (user id)').fill(userId);
    await page.getByLabel('Sample data (JSON)').fill('{"orderId": "A-1", "total": 500}');
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    await page.getByText('Matched rule: Big orders by SMS').waitFor();
    await page.getByText('data.total is greater than 100 — it is 500: yes').waitFor();
    await page.getByText(/would send SINGLE on SMS/).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'routing.png'), fullPage: true });

    await page.getByLabel('Sample data (JSON)').fill('{"total": 5, "quiet": true}');
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    await page.getByText('Matched rule: Quiet hours').waitFor();
    await page.getByText('FILTERED').waitFor();

    // disable, then delete with confirmation
    await page.getByRole('button', { name: 'Disable Quiet hours' }).click();
    await page.getByText('Disabled "Quiet hours".').waitFor();
    await page.getByRole('button', { name: 'Delete Quiet hours' }).click();
    await page.getByRole('button', { name: 'Confirm delete' }).click();
    await page.getByText('Deleted "Quiet hours".').waitFor();
    expect(await names()).toEqual(['Big orders by SMS']);

    // a phone: still no serious accessibility problem
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await axeViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 1200, height: 900 });
  });
});
