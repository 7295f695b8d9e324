import path from 'node:path';
import type { Dialog, Page } from 'playwright-core';
import { createTemplate } from '../../helpers/pipeline';
import { uid } from '../../helpers/test-app';
import { axeViolations, chromiumAvailable, startRig, type BrowserRig } from './browser';

/**
 * Published versions and unsaved-edit warnings in a real headless Chromium: a template published as v1 is edited and
 * published as v2 in the editor; v1 opens read-only with its preview and is restored into the draft (not published);
 * a workflow's v1 is restored likewise. With unsaved edits, leaving a template or workflow asks first (dismiss keeps
 * the edits, accept leaves) and the tab's beforeunload is cancelled. With PIGEON_SCREENSHOTS=1 it saves
 * docs/console/template-versions.png.
 */
const run = chromiumAvailable() ? describe : describe.skip;
const SHOTS = process.env.PIGEON_SCREENSHOTS ? path.resolve(__dirname, '../../../docs/console') : null;
const LEAVE = 'You have unsaved changes. Leave this page?';

async function shot(page: Page, name: string) {
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

run('versions and unsaved edits in the console', () => {
  let rig: BrowserRig;
  const templateKey = SHOTS ? 'receipt' : uid('tpl');
  const workflowKey = SHOTS ? 'reminder' : uid('wf');
  let templateId: string;
  let workflowId: string;

  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await rig.t.gql<any>(query, variables);
    expect(res.errors).toBeUndefined();
    return res.data!;
  };
  const axe = async (page: Page) => expect(await axeViolations(page)).toEqual([]);
  /** Answers the next dialog (accept or dismiss) and resolves to it. */
  const nextDialog = (page: Page, accept: boolean) =>
    new Promise<Dialog>((resolve) =>
      page.once('dialog', (dialog) => {
        void (accept ? dialog.accept() : dialog.dismiss()).then(() => resolve(dialog));
      }),
    );
  /** True when a beforeunload now would ask the user (the console's handler cancels it). */
  const warnsOnUnload = (page: Page) =>
    page.evaluate<boolean>(
      "(() => { const e = new Event('beforeunload', { cancelable: true }); dispatchEvent(e); return e.defaultPrevented; })()",
    );

  beforeAll(async () => {
    rig = await startRig();
    templateId = await createTemplate(rig.t, {
      key: templateKey,
      name: 'Receipt',
      channels: ['EMAIL'],
      content: { email: { subject: 'Receipt v1 for {{data.orderId}}', text: 'Thanks for order {{data.orderId}}.' } },
    });
    const steps = (duration: string) => [
      { ref: 'wait', type: 'delay', duration },
      { ref: 'send', type: 'send', template: templateKey },
    ];
    const created = await gql('mutation($i: WorkflowInput!) { createWorkflow(input: $i) { id } }', {
      i: { key: workflowKey, name: 'Reminder', steps: steps('PT1H') },
    });
    workflowId = created.createWorkflow.id;
    await gql('mutation($id: ID!) { publishWorkflow(id: $id) { id } }', { id: workflowId });
    await gql('mutation($id: ID!, $i: WorkflowInput!) { updateWorkflow(id: $id, input: $i) { id } }', {
      id: workflowId,
      i: { key: workflowKey, name: 'Reminder', steps: steps('PT2H') },
    });
    await gql('mutation($id: ID!) { publishWorkflow(id: $id) { id } }', { id: workflowId });
  });
  afterAll(async () => {
    await rig?.close();
  });
  afterEach(() => {
    expect(rig.problems).toEqual([]);
    expect(rig.outside).toEqual([]);
  });

  it('publishes v2, opens v1 read-only with its preview, restores it into the draft without publishing', async () => {
    const { page } = rig;
    await page.goto(`${rig.base}/console#/templates/${encodeURIComponent(templateId)}`);
    await page.getByLabel('Admin API key').fill(rig.t.ws.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Template Receipt' }).waitFor();
    const subject = page.getByLabel('Email subject');
    expect(await subject.inputValue()).toBe('Receipt v1 for {{data.orderId}}');

    await subject.fill('Receipt v2 for {{data.orderId}}');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByText('Published version 2.').waitFor();
    const versions = page.getByRole('list', { name: 'Published versions' });
    await versions.getByRole('button', { name: 'Version 2', exact: true }).waitFor();
    expect(await versions.getByRole('listitem').count()).toBe(2);
    await versions.getByRole('listitem').first().getByText('what messages use').waitFor();

    // v1, read-only, rendered over the editor's sample data
    await page.getByLabel('Sample data (JSON)').fill('{"orderId": "A-17"}');
    await versions.getByRole('button', { name: 'Version 1', exact: true }).click();
    await page.getByRole('heading', { name: 'Version 1 (read-only)' }).waitFor();
    await page.waitForFunction(() => (globalThis as any).document.activeElement?.id === 'version-view-title');
    const content = page.getByRole('group', { name: 'Content of version 1' });
    await content.getByText('Receipt v1 for {{data.orderId}}').waitFor();
    expect(await content.locator('input, textarea').count()).toBe(0);
    await page.getByRole('article', { name: 'email as version 1 renders' }).getByText('Receipt v1 for A-17').waitFor();
    expect(await versions.getByRole('button', { name: 'Version 1', exact: true }).getAttribute('aria-pressed')).toBe(
      'true',
    );
    await axe(page);
    await shot(page, 'template-versions');

    // restore: the form and the saved draft are v1 again, v2 is still what messages use
    await page.getByRole('button', { name: 'Restore into draft' }).click();
    await page.getByText('Version 1 restored into the draft (not published).').waitFor();
    expect(await subject.inputValue()).toBe('Receipt v1 for {{data.orderId}}');
    await page.getByText('The saved draft differs from it: publish to make it version 3.').waitFor();
    const saved = await gql('query($id: ID) { template(id: $id) { draft publishedVersion published } }', {
      id: templateId,
    });
    expect(saved.template.publishedVersion).toBe(2);
    expect(saved.template.draft.email.subject).toBe('Receipt v1 for {{data.orderId}}');
    expect(saved.template.published.email.subject).toBe('Receipt v2 for {{data.orderId}}');
    expect(await warnsOnUnload(page)).toBe(false);
    await axe(page);
  });

  it('asks before leaving a template with unsaved edits: dismiss keeps them, accept leaves', async () => {
    const { page } = rig;
    const subject = page.getByLabel('Email subject');
    await subject.fill('Typed, not saved');
    expect(await warnsOnUnload(page)).toBe(true);

    const dismissed = nextDialog(page, false);
    await page.getByRole('link', { name: 'Event log' }).click();
    expect((await dismissed).message()).toBe(LEAVE);
    await page.getByRole('heading', { name: 'Template Receipt' }).waitFor();
    expect(await subject.inputValue()).toBe('Typed, not saved');
    expect(await page.evaluate<string>('location.hash')).toBe(`#/templates/${encodeURIComponent(templateId)}`);
    await page.getByText('You have unsaved changes.').waitFor();

    // typing it back as it was saved: nothing to lose, no question
    await subject.fill('Receipt v1 for {{data.orderId}}');
    expect(await warnsOnUnload(page)).toBe(false);
    await subject.fill('Typed again');

    const accepted = nextDialog(page, true);
    await page.getByRole('link', { name: 'Templates', exact: true }).click();
    expect((await accepted).message()).toBe(LEAVE);
    await page.getByRole('heading', { name: 'Templates', exact: true }).waitFor();
    expect(await warnsOnUnload(page)).toBe(false);
    const { template } = await gql('query($id: ID) { template(id: $id) { draft } }', { id: templateId });
    expect(template.draft.email.subject).toBe('Receipt v1 for {{data.orderId}}');
  });

  it('a new template asks only once something is typed, and a declined leave keeps the saved template’s address', async () => {
    const { page } = rig;
    await page.getByRole('link', { name: 'New template' }).click();
    await page.getByRole('heading', { name: 'New template' }).waitFor();
    expect(await warnsOnUnload(page)).toBe(false);
    await page.getByLabel('Key', { exact: true }).fill(`${templateKey}-2`);
    expect(await warnsOnUnload(page)).toBe(true);
    await page.getByLabel('Name', { exact: true }).fill('Second');
    await page.getByLabel('Email subject').fill('Hello');
    await page.getByLabel('Email text body (optional)').fill('Hi');
    await page.getByRole('button', { name: 'Create draft' }).click();
    await page.getByText('Draft saved.').waitFor();
    expect(await warnsOnUnload(page)).toBe(false);
    const saved = await page.evaluate<string>('location.hash');
    expect(saved).toMatch(/^#\/templates\/(?!new)/);

    await page.getByLabel('Email subject').fill('Hello again');
    const dismissed = nextDialog(page, false);
    await page.goBack();
    expect((await dismissed).message()).toBe(LEAVE);
    await page.getByRole('heading', { name: 'Template Second' }).waitFor();
    expect(await page.evaluate<string>('location.hash')).toBe(saved);
    expect(await page.getByLabel('Email subject').inputValue()).toBe('Hello again');
    await axe(page);
    const accepted = nextDialog(page, true);
    await page.getByRole('link', { name: 'Workflows', exact: true }).click();
    expect((await accepted).message()).toBe(LEAVE);
    await page.getByRole('heading', { name: 'Workflows', exact: true }).waitFor();
  });

  it('restores a workflow version into the draft; leaving unsaved workflow edits asks first', async () => {
    const { page } = rig;
    await page.getByRole('heading', { name: 'Workflows', exact: true }).waitFor();
    await page.getByRole('link', { name: workflowKey, exact: true }).click();
    await page.getByRole('heading', { name: `Workflow ${workflowKey}` }).waitFor();
    const versions = page.getByRole('list', { name: 'Published versions' });
    await versions.getByRole('button', { name: 'Version 2', exact: true }).waitFor();
    await versions.getByRole('button', { name: 'Version 1', exact: true }).click();
    await page.getByRole('heading', { name: 'Version 1 (read-only)' }).waitFor();
    await page.getByRole('list', { name: 'Steps of version 1' }).getByText('"duration":"PT1H"').waitFor();
    await axe(page);

    const duration = page.getByRole('group', { name: /^Step 1: wait/ }).getByLabel('Duration');
    expect(await duration.inputValue()).toBe('PT2H');
    await page.getByRole('button', { name: 'Restore into draft' }).click();
    await page.getByText('Version 1 restored into the draft (not published).').waitFor();
    expect(await duration.inputValue()).toBe('PT1H');
    const { workflow } = await gql('query($id: ID) { workflow(id: $id) { draft publishedVersion } }', {
      id: workflowId,
    });
    expect(workflow.publishedVersion).toBe(2);
    expect(workflow.draft.steps[0].duration).toBe('PT1H');
    expect(await warnsOnUnload(page)).toBe(false);

    // unsaved edits: leaving asks; dismissing keeps them
    await page.getByLabel('Name', { exact: true }).fill('Reminder, renamed');
    expect(await warnsOnUnload(page)).toBe(true);
    const dismissed = nextDialog(page, false);
    await page.getByRole('link', { name: '← Workflows' }).click();
    expect((await dismissed).message()).toBe(LEAVE);
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('Reminder, renamed');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('Draft saved.').waitFor();
    expect(await warnsOnUnload(page)).toBe(false);
    await page.getByRole('link', { name: '← Workflows' }).click();
    await page.getByRole('heading', { name: 'Workflows', exact: true }).waitFor();
  });
});
