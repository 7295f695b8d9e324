import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { configureProvider, createTemplate, identify } from '../../helpers/pipeline';
import { uid } from '../../helpers/test-app';
import { axeViolations, chromiumAvailable, startRig, type BrowserRig } from './browser';

/**
 * Workflows in the console, in a real headless Chromium: a workflow `delay PT1S → send` is created in the UI, a bad
 * step shows the server's message next to that step and field, it is fixed and published, a run is triggered and
 * drained, and the run page tells its history in words with its message; runs are cancelled from the UI; the Map
 * panel offers the published workflow. With PIGEON_SCREENSHOTS=1 it saves docs/console/workflows*.png.
 */
const run = chromiumAvailable() ? describe : describe.skip;
const SHOTS = process.env.PIGEON_SCREENSHOTS ? path.resolve(__dirname, '../../../docs/console') : null;

async function shot(page: Page, name: string) {
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

run('workflows in the console', () => {
  let rig: BrowserRig;
  const userId = SHOTS ? 'ada@example.com' : uid('ada');
  const templateKey = SHOTS ? 'welcome-sms' : uid('tpl');
  const workflowKey = SHOTS ? 'welcome' : uid('wf');
  const workflowName = SHOTS ? 'Welcome' : `Welcome ${workflowKey}`;

  beforeAll(async () => {
    rig = await startRig();
    await configureProvider(rig.t, { channel: 'SMS', provider: 'log', config: { label: 'console' } });
    await createTemplate(rig.t, {
      key: templateKey,
      name: 'Welcome SMS',
      channels: ['SMS'],
      content: { sms: { body: 'Welcome, {{data.name}}' } },
    });
    await identify(rig.t, userId, { phone_number: '+15555550100', timezone: 'Europe/Paris' });
  });
  afterAll(async () => {
    await rig?.close();
  });
  afterEach(() => {
    expect(rig.problems).toEqual([]);
    expect(rig.outside).toEqual([]);
  });

  const axe = async (page: Page) => expect(await axeViolations(page)).toEqual([]);
  /** Waits until `target` has the focus (the editor moves it after the render). */
  const focused = async (target: Locator) =>
    rig.page.waitForFunction((el) => el === (globalThis as any).document.activeElement, await target.elementHandle(), {
      timeout: 5000,
    });
  const trigger = async (cancelKey?: string) => {
    const res = await rig.t.gql<any>('mutation($i: TriggerInput!) { trigger(input: $i) { id status } }', {
      i: { workflowKey, userId, data: { name: 'Ada' }, ...(cancelKey ? { cancelKey } : {}) },
    });
    expect(res.errors).toBeUndefined();
    return res.data!.trigger as { id: string; status: string };
  };

  it('creates a workflow: a bad step shows the server’s message next to it, nothing typed is lost; then publishes', async () => {
    const { page } = rig;
    await page.goto(`${rig.base}/console`);
    await page.getByLabel('Admin API key').fill(rig.t.ws.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Event log' }).waitFor();
    await page.getByRole('link', { name: 'Workflows', exact: true }).click();
    await page.getByRole('heading', { name: 'Workflows' }).waitFor();
    await axe(page);

    await page.getByRole('link', { name: 'New workflow' }).click();
    await page.getByRole('heading', { name: 'New workflow' }).waitFor();
    await page.getByLabel('Key', { exact: true }).fill(workflowKey);
    await page.getByLabel('Name', { exact: true }).fill(workflowName);
    const delay = page.getByRole('group', { name: /^Step 1: delay-1/ });
    const send = page.getByRole('group', { name: /^Step 2: send-2/ });
    await send.getByLabel('Template', { exact: true }).fill(templateKey);

    // a delay with no duration: the server's message, next to that step, which takes the focus
    await page.getByRole('button', { name: 'Create workflow' }).click();
    await delay.getByRole('alert').getByText('step "delay-1": needs one of duration, until, untilPath or at').waitFor();
    await page.waitForFunction(() => (globalThis as any).document.activeElement?.tagName === 'LEGEND');
    expect(await page.getByLabel('Key', { exact: true }).inputValue()).toBe(workflowKey);
    expect(await send.getByLabel('Template', { exact: true }).inputValue()).toBe(templateKey);
    await axe(page);

    // a bad duration: the message next to the field, which is marked invalid and focused
    const duration = delay.getByLabel('Duration', { exact: true });
    await duration.fill('soon');
    await page.getByRole('button', { name: 'Create workflow' }).click();
    await delay.getByText(/^step "delay-1"\.duration: /).waitFor();
    expect(await duration.getAttribute('aria-invalid')).toBe('true');
    await focused(duration);
    await axe(page);
    await shot(page, 'workflows-editor-error');

    // the send step's condition, built in the visual editor: a `digest.` path before any digest step is refused by
    // the server, whose message is shown at that node of that step's condition, which takes the focus
    const when = send.getByRole('group', { name: /^Condition \(none: the step always runs\)/ });
    await when.getByRole('button', { name: 'Add a condition' }).click();
    const leaf = when.getByRole('group', { name: 'Condition when', exact: true });
    await leaf.getByLabel('Path').fill('digest.count');
    await leaf.getByLabel('Operator').selectOption('GT');
    await leaf.locator('[name$="-value"]').fill('1');
    await duration.fill('PT1S');
    await page.getByRole('button', { name: 'Create workflow' }).click();
    await leaf
      .getByRole('alert')
      .getByText(/^step "send-2"\.when: .*digest/)
      .waitFor();
    await focused(leaf.getByLabel('Path'));
    expect(await delay.getByRole('alert').count()).toBe(0);
    expect(await leaf.getByLabel('Path').inputValue()).toBe('digest.count'); // nothing typed is lost
    await axe(page);

    // fixed: a group of two comparisons; created, then the editor of the saved draft shows it after a reload
    await leaf.getByLabel('Path').fill('data.name');
    await leaf.getByLabel('Operator').selectOption('EQ');
    // a value that is not a number yet is not sent: the save is refused at that step's condition, the text is kept
    await leaf.locator('[name$="-value"]').fill('Ada');
    await page.getByRole('button', { name: 'Create workflow' }).click();
    await when.getByText(/^The condition is not saved as typed: A value is not valid/).waitFor();
    expect(await leaf.locator('[name$="-value"]').inputValue()).toBe('Ada');
    await leaf.getByLabel('Value type').selectOption('string');
    await leaf.locator('[name$="-value"]').fill('Ada');
    await when.getByRole('button', { name: 'Nest condition when in a group' }).click();
    const group = when.getByRole('group', { name: 'Group when', exact: true });
    await group.getByRole('button', { name: 'Add condition to group when' }).click();
    const second = group.getByRole('group', { name: 'Condition when.all[1]', exact: true });
    await second.getByLabel('Path').fill('data.name');
    await second.getByLabel('Operator').selectOption('NEQ');
    await second.locator('[name$="-value"]').fill('Bob');
    await page.getByRole('button', { name: 'Create workflow' }).click();
    await page.getByRole('heading', { name: `Workflow ${workflowKey}` }).waitFor();
    const expected = {
      all: [
        { path: 'data.name', op: 'EQ', value: 'Ada' },
        { path: 'data.name', op: 'NEQ', value: 'Bob' },
      ],
    };
    const saved = await rig.t.gql<any>('{ workflows { key draft } }');
    const savedSteps = saved.data!.workflows.find((w: any) => w.key === workflowKey).draft.steps;
    expect(savedSteps[1].when).toEqual(expected);
    await page.reload();
    await page.getByRole('heading', { name: `Workflow ${workflowKey}` }).waitFor();
    expect(
      await page
        .getByRole('group', { name: /^Step 1: delay-1/ })
        .getByLabel('Duration')
        .inputValue(),
    ).toBe('PT1S');
    const reloaded = page.getByRole('group', { name: /^Step 2: send-2/ });
    const savedWhen = reloaded.getByRole('group', { name: 'Group when', exact: true });
    expect(await savedWhen.getByRole('group', { name: 'Condition when.all[0]' }).getByLabel('Path').inputValue()).toBe(
      'data.name',
    );
    expect(
      await savedWhen.getByRole('group', { name: 'Condition when.all[1]' }).locator('[name$="-value"]').inputValue(),
    ).toBe('Bob');
    expect(await reloaded.getByLabel('Other fields, as JSON (optional)').inputValue()).toBe('');
    await axe(page);
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByText('Published as version 1.').waitFor();
    await page.getByText('Published version 1.').waitFor();
    await axe(page);
    await shot(page, 'workflows-editor');

    // steps can be added, reordered and removed (not saved)
    await page.getByLabel('New step type').selectOption('exit');
    await page.getByRole('button', { name: 'Add step' }).click();
    const exit = page.getByRole('group', { name: /^Step 3: exit-3/ });
    // a condition being typed as JSON that is not valid yet: the step does not move, and the text is kept
    await exit.getByRole('button', { name: 'JSON', exact: true }).click();
    const text = exit.getByLabel(/^Condition as JSON/);
    await text.fill('{"path": "data.done"');
    await page.getByRole('button', { name: 'Move up step exit-3' }).click();
    await exit.getByText(/^Finish or undo the condition being typed before moving this step/).waitFor();
    expect(await text.inputValue()).toBe('{"path": "data.done"');
    await text.fill('{"path": "data.done", "op": "EQ", "value": true}');
    await page.getByRole('button', { name: 'Move up step exit-3' }).click();
    await page.getByRole('group', { name: /^Step 2: exit-3/ }).waitFor();
    expect(await page.getByText(/^Finish or undo/).count()).toBe(0);
    const moved = page.getByRole('group', { name: /^Step 2: exit-3/ }).getByRole('group', { name: 'Condition when' });
    expect(await moved.getByLabel('Path').inputValue()).toBe('data.done');
    await page.getByRole('button', { name: 'Remove step exit-3' }).click();
    await page.getByRole('group', { name: /^Step 2: send-2/ }).waitFor();

    await page.getByRole('link', { name: '← Workflows' }).click();
    const row = page.getByRole('row').filter({ hasText: workflowKey });
    await row.getByText('version 1').waitFor();
    await axe(page);
    await shot(page, 'workflows');
  });

  it('a triggered run: WAITING, then its history in words and its message; phone width and dark', async () => {
    const { page, t } = rig;
    const started = await trigger();
    expect(started.status).toBe('WAITING');
    await page
      .getByRole('row')
      .filter({ hasText: workflowKey })
      .getByRole('link', { name: `Runs of ${workflowKey}` })
      .click();
    await page.getByRole('heading', { name: 'Workflow runs' }).waitFor();
    expect(await page.getByLabel('Workflow key', { exact: true }).first().inputValue()).toBe(workflowKey);
    await page.getByRole('row').filter({ hasText: userId }).getByRole('link').first().click();
    await page.getByRole('heading', { name: `Run of ${workflowKey} for ${userId}` }).waitFor();
    const history = page.getByRole('list', { name: 'Run history' });
    await history.getByText(/^Step “delay-1” waits for a delay until .* \(duration PT1S\)\.$/).waitFor();

    await t.worker().drain(1500);
    // the page follows a live run until it ends
    await page.locator('dt:text-is("Status") + dd').getByText('COMPLETED').waitFor({ timeout: 10_000 });
    await history.getByText(/^Step “delay-1” resumed, .* after its due time\.$/).waitFor();
    await history.getByText(new RegExp(`^Step “send-2” sent template “${templateKey}” as message `)).waitFor();
    await history.getByText('Completed: all 2 steps ran.').waitFor();
    await page.locator('dt:text-is("Time zone") + dd').getByText('Europe/Paris').waitFor();
    await axe(page);
    await shot(page, 'workflows-run');
    await page.emulateMedia({ colorScheme: 'dark' });
    await axe(page);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 390, height: 844 });
    await axe(page);
    await page.setViewportSize({ width: 1200, height: 900 });

    await page.getByRole('link', { name: new RegExp(`^${templateKey} `) }).click();
    await page.getByRole('heading', { name: `Message to ${userId}` }).waitFor();
    await page
      .getByRole('list', { name: 'History' })
      .getByText(/Created by a workflow run at step “send-2”/)
      .waitFor();
  });

  it('cancels runs by cancel key from the runs page, after a confirm', async () => {
    const { page } = rig;
    const cancelKey = uid('cart');
    const waiting = await trigger(cancelKey);
    await page.getByRole('link', { name: 'Workflows', exact: true }).click();
    await page.getByRole('link', { name: 'All runs' }).click();
    await page.getByRole('heading', { name: 'Workflow runs' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'WAITING' }).first().waitFor();
    await axe(page);
    await shot(page, 'workflows-runs');
    const panel = page.getByRole('region', { name: 'Cancel runs' });
    await panel.getByLabel('Workflow key').fill(workflowKey);
    await panel.getByLabel('Cancel key').fill(cancelKey);
    await panel.getByRole('button', { name: 'Cancel runs…' }).click();
    await panel.getByRole('alertdialog').getByText(`with cancel key “${cancelKey}”?`, { exact: false }).waitFor();
    await panel.getByRole('button', { name: 'Yes, cancel them' }).click();
    await panel.getByText('1 run was cancelled.').waitFor();
    await page.goto(`${rig.base}/console#/runs/${waiting.id}`);
    await page.getByRole('heading', { name: `Run of ${workflowKey} for ${userId}` }).waitFor();
    await page
      .getByRole('list', { name: 'Run history' })
      .getByText(`Cancelled by cancelRuns with cancel key “${cancelKey}”.`)
      .waitFor();
  });
  it('filters the runs list by status (the shared list: filter form, table and pager)', async () => {
    const { page } = rig;
    await page.goto(`${rig.base}/console#/runs`);
    await page.getByRole('heading', { name: 'Workflow runs' }).waitFor();
    const table = page.getByRole('region', { name: 'Workflow runs' });
    const rows = table.getByRole('row').filter({ hasText: workflowKey });
    await rows.filter({ hasText: 'CANCELLED' }).first().waitFor();
    await rows.filter({ hasText: 'COMPLETED' }).first().waitFor();

    await page.getByRole('combobox', { name: /^Status/ }).selectOption('COMPLETED');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForFunction(
      () => !(globalThis as any).document.querySelector('tbody')?.textContent.includes('CANCELLED'),
    );
    expect(await rows.filter({ hasText: 'COMPLETED' }).count()).toBe(1);
    expect(
      await table
        .getByRole('row')
        .filter({ hasText: /CANCELLED|WAITING/ })
        .count(),
    ).toBe(0);
    expect(await page.getByRole('combobox', { name: /^Status/ }).inputValue()).toBe('COMPLETED');
    await axe(page);

    await page.getByRole('combobox', { name: /^Status/ }).selectOption('RUNNING');
    await page.getByLabel('Workflow key', { exact: true }).first().fill(workflowKey);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No run matches these filters.').waitFor();
    await axe(page);

    await page.getByRole('combobox', { name: /^Status/ }).selectOption('');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await rows.filter({ hasText: 'CANCELLED' }).first().waitFor();
    await rows.filter({ hasText: 'COMPLETED' }).first().waitFor();
  });

  it('the Map panel offers the published workflow', async () => {
    const { page, t } = rig;
    const eventName = `Signed Up ${uid('n')}`;
    const res = await t.send('/v1/track', { userId, event: eventName, properties: { name: 'Ada' } });
    expect(res.statusCode).toBe(200);
    await page.getByRole('link', { name: 'Event names', exact: true }).click();
    const row = page.getByRole('row').filter({ hasText: `Segment-TrackEvent:${eventName}` });
    await row.getByRole('button', { name: `Map Segment-TrackEvent:${eventName}` }).click();
    const option = page.locator('optgroup[label="Workflows"] option', { hasText: workflowName });
    await page.getByLabel('Send with').selectOption((await option.getAttribute('value'))!);
    await page.getByRole('button', { name: 'Map', exact: true }).click();
    await page.getByText(`is now mapped to workflow “${workflowName}”`, { exact: false }).waitFor();
    await row.getByText(`Workflow ${workflowName}`).waitFor();
  });
  it('triggers a run from the runs page, cancels that one run, and maps a cancelling event', async () => {
    const { page, t } = rig;
    await page.goto(`${rig.base}/console#/runs`);
    await page.getByRole('heading', { name: 'Workflow runs' }).waitFor();
    const panel = page.getByRole('region', { name: 'Trigger a run' });
    await panel.getByLabel('Workflow').selectOption(workflowKey);
    // bad data: the error at the field, and the text is kept
    await panel.getByLabel('User id').fill(userId);
    await panel.getByLabel('Data (JSON)').fill('{"name": "Ada"');
    await panel.getByRole('button', { name: 'Trigger' }).click();
    await panel
      .locator('#trigger-data-error')
      .getByText(/^Not valid JSON/)
      .waitFor();
    expect(await panel.getByLabel('Data (JSON)').inputValue()).toBe('{"name": "Ada"');
    // the server's refusal is shown too (a cancel key longer than 255 characters)
    await panel.getByLabel('Data (JSON)').fill('{"name": "Ada"}');
    await panel.getByLabel('Cancel key (optional)').fill('k'.repeat(256));
    await panel.getByRole('button', { name: 'Trigger' }).click();
    await panel.locator('#trigger-cancelKey-error').getByText('cancelKey must be 1–255 characters').waitFor();
    await panel.getByLabel('Cancel key (optional)').fill('');
    await panel.getByRole('button', { name: 'Trigger' }).click();
    const started = panel.getByRole('list', { name: 'Runs started here' }).getByRole('link');
    await started.waitFor();
    const runId = (await started.textContent())!.match(/^Run (\S+) of/)![1];
    const stored = await t.gql<any>('query($id: ID!) { workflowRun(id: $id) { status data userId } }', { id: runId });
    expect(stored.data!.workflowRun).toEqual({ status: 'WAITING', data: { name: 'Ada' }, userId });
    await axe(page);

    // the run's page: Cancel run, after a confirm; its history says so, and its delay never sends
    await started.click();
    await page.getByRole('heading', { name: `Run of ${workflowKey} for ${userId}` }).waitFor();
    await page.getByRole('button', { name: 'Cancel run', exact: true }).click();
    await axe(page);
    await page.getByRole('button', { name: 'Yes, cancel this run' }).click();
    await page.locator('dt:text-is("Status") + dd').getByText('CANCELLED').waitFor();
    await page
      .getByRole('list', { name: 'Run history' })
      .getByText('Cancelled by hand (cancelRun), this run alone.')
      .waitFor();
    expect(await page.getByRole('button', { name: 'Cancel run', exact: true }).count()).toBe(0);
    await t.worker().drain(1500);
    const after = await t.gql<any>('query($id: ID!) { workflowRun(id: $id) { status messages { id } } }', {
      id: runId,
    });
    expect(after.data!.workflowRun).toEqual({ status: 'CANCELLED', messages: [] });

    // cancel on event: mapCancel, and the server's refusal of a bad key path next to the form
    await page.goto(`${rig.base}/console#/runs`);
    const map = page.getByRole('region', { name: 'Cancel on event' });
    await map.getByLabel('Workflow').selectOption(workflowKey);
    await map.getByLabel('Event name').fill('Segment-TrackEvent:Order Completed');
    await map.getByLabel('Key path').fill('cartId');
    await map.getByRole('button', { name: 'Map cancel' }).click();
    await map.locator('#map-cancel-error').waitFor();
    expect(await map.getByLabel('Event name').inputValue()).toBe('Segment-TrackEvent:Order Completed');
    await map.getByLabel('Key path').fill('data.cartId');
    await map.getByRole('button', { name: 'Map cancel' }).click();
    await map
      .getByRole('status')
      .getByText(/now cancels runs of .* whose cancel key is its data\.cartId/)
      .waitFor();
    const { data } = await t.gql<any>('{ cancelMappings { eventName keyPath } }');
    expect(data!.cancelMappings).toContainEqual({
      eventName: 'Segment-TrackEvent:Order Completed',
      keyPath: 'data.cartId',
    });
    await axe(page);
  });
});
