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
    // the condition as JSON (the editor's JSON view)
    await page.getByRole('button', { name: 'JSON', exact: true }).click();
    const when = page.getByLabel('Condition as JSON (empty: always holds)');
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
  it("builds a condition with the structured editor, in sync with its JSON; the server's error is shown at the node", async () => {
    await page.getByRole('button', { name: 'New rule' }).click();
    await page.getByLabel('Name').fill('Pro customers by email');
    await page.getByLabel('Priority (lower is evaluated first)').fill('1');
    await page.getByRole('checkbox', { name: 'EMAIL' }).check();
    const editor = page.getByRole('group', { name: 'Condition (none: always holds)' });
    await editor.getByRole('button', { name: 'Add a group' }).click();
    const first = editor.getByRole('group', { name: 'Condition when.all[0]' });
    await first.locator('[name$="-path"]').fill('profile.plan');
    await first.locator('[name$="-value"]').fill('pro');
    await editor.getByRole('button', { name: 'Add condition to group when' }).click();
    const second = editor.getByRole('group', { name: 'Condition when.all[1]' });
    await second.locator('[name$="-path"]').fill('data.total');
    await second.locator('[name$="-op"]').selectOption('GTE');
    // a value that is not a number yet: an error at the value, the text kept, and saving is refused
    await second.locator('[name$="-value"]').fill('12abc');
    await second.getByRole('alert').getByText('Enter a number, e.g. 100 or 10.5.').waitFor();
    expect(await second.locator('[name$="-value"]').inputValue()).toBe('12abc');
    await page.getByRole('button', { name: 'Create rule' }).click();
    await page.getByText(/^The condition is not saved as typed: A value is not valid/).waitFor();
    await second.locator('[name$="-value"]').fill('50');
    await page.getByText('Reads: (profile.plan equals "pro") and (data.total is at least 50)').waitFor();
    // negate and un-negate a node
    await editor.getByRole('button', { name: 'Negate condition when.all[0]' }).click();
    await page.getByText('Reads: (not (profile.plan equals "pro")) and (data.total is at least 50)').waitFor();
    await editor.getByRole('button', { name: 'Un-negate not when.all[0]' }).click();
    await page.getByText('Reads: (profile.plan equals "pro") and (data.total is at least 50)').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    // leaving with the unsaved rule asks first; declined, the form stays as it was
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.dismiss();
    });
    await page.getByRole('link', { name: 'Event log' }).click();
    for (let i = 0; i < 100 && asked.length === 0; i++) await page.waitForTimeout(50);
    expect(asked).toEqual(['This routing rule has unsaved changes. Leave this page?']);
    expect(await second.locator('[name$="-path"]').inputValue()).toBe('data.total');

    // the JSON view shows the same tree; invalid text is an error and is kept
    const tree = {
      all: [
        { path: 'profile.plan', op: 'EQ', value: 'pro' },
        { path: 'data.total', op: 'GTE', value: 50 },
      ],
    };
    const toggle = editor.getByRole('button', { name: 'JSON', exact: true });
    await toggle.click();
    const json = editor.getByLabel('Condition as JSON (empty: always holds)');
    expect(JSON.parse(await json.inputValue())).toEqual(tree);
    await json.fill('{"all": [');
    await editor
      .getByRole('alert')
      .getByText(/^Not valid JSON/)
      .waitFor();
    expect(await json.inputValue()).toBe('{"all": [');
    expect(await toggle.isDisabled()).toBe(true);
    await json.fill(JSON.stringify({ all: [...tree.all, { any: [] }] }));
    await toggle.click();

    // back in the visual editor, with the empty group the JSON added: the server refuses it, and says so there
    const empty = editor.getByRole('group', { name: 'Group when.all[2]' });
    await empty.getByText('Empty group: add a condition to it.').waitFor();
    await page.getByRole('button', { name: 'Create rule' }).click();
    await empty
      .getByRole('alert')
      .getByText(/^when\.all\[2\]: "any" must be a non-empty array/)
      .waitFor();
    expect(await page.getByLabel('Name').inputValue()).toBe('Pro customers by email'); // nothing typed is lost
    expect(await first.locator('[name$="-value"]').inputValue()).toBe('pro');
    expect(await axeViolations(page)).toEqual([]);
    await empty.getByRole('button', { name: 'Remove group when.all[2]' }).click();
    await page.getByRole('button', { name: 'Create rule' }).click();
    await page.getByText('Created "Pro customers by email".').waitFor();
    const row = page.getByRole('row').filter({ hasText: 'Pro customers by email' });
    await row.getByText('(profile.plan equals "pro") and (data.total is at least 50)').waitFor();
    const { data } = await rig.t.gql<any>('{ routingRules { name when } }');
    expect(data!.routingRules.find((r: any) => r.name === 'Pro customers by email').when).toEqual(tree);

    // test it: the profile's plan is pro, the order 60
    await page.getByLabel('Template').selectOption({ label: `${templateName} (${templateKey})` });
    await page.getByLabel('Profile (user id)').fill(userId);
    await page.getByLabel('Sample data (JSON)').fill('{"orderId": "A-2", "total": 60}');
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    await page.getByText('Matched rule: Pro customers by email').waitFor();
    await page.getByText('data.total is at least 50 — it is 60: yes').waitFor();
    await page.getByText(/would send SINGLE on EMAIL/).waitFor();

    // editing it opens the same tree in the structured editor
    await page.getByRole('button', { name: 'Edit Pro customers by email' }).click();
    expect(
      await editor.getByRole('group', { name: 'Condition when.all[1]' }).locator('[name$="-value"]').inputValue(),
    ).toBe('50');
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  });
});
