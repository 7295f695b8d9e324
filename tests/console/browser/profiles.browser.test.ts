import type { Page } from 'playwright-core';
import { identify } from '../../helpers/pipeline';
import { uid } from '../../helpers/test-app';
import { axeViolations, chromiumAvailable, startRig, type BrowserRig } from './browser';

/**
 * A profile's page in a real headless Chromium: edit its traits (merge, replace; bad JSON is an error at the field and
 * the text is kept), set and clear a preference, lift a suppression of its address, follow its recent events, and
 * delete it after typing its user id.
 */
const run = chromiumAvailable() ? describe : describe.skip;

run('a profile in the console', () => {
  let rig: BrowserRig;
  let page: Page;
  const userId = uid('ada');
  const email = `${uid('ada')}@example.com`;
  const topic = uid('news');
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await rig.t.gql<any>(query, variables);
    expect(res.errors).toBeUndefined();
    return res.data!;
  };
  const traits = async () =>
    (await gql('query($u: String!) { profile(userId: $u) { traits } }', { u: userId })).profile;
  const axe = async () => expect(await axeViolations(page)).toEqual([]);

  beforeAll(async () => {
    rig = await startRig();
    page = rig.page;
    await identify(
      rig.t,
      userId,
      { email, phone_number: '+15555550100', plan: 'free', name: 'Ada' },
      rig.t.ws.ingestKey,
    );
    await gql('mutation($k: String!) { createTopic(input: {key: $k, name: "News"}) { key } }', { k: topic });
    await gql(
      'mutation($a: String!) { addSuppression(address: $a, channel: EMAIL, reason: "complained by phone") { address } }',
      {
        a: email,
      },
    );
    await page.goto(`${rig.base}/console`);
    await page.getByLabel('Admin API key').fill(rig.t.ws.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Event log' }).waitFor();
    await page.goto(`${rig.base}/console#/profiles/${encodeURIComponent(userId)}`);
    await page.getByRole('heading', { name: `Profile ${userId}` }).waitFor();
  });
  afterAll(async () => {
    await rig?.close();
  });
  afterEach(() => {
    expect(rig.problems).toEqual([]);
    expect(rig.outside).toEqual([]);
  });

  it('edits traits: bad JSON is an error that keeps the text; merge changes only what is given; replace', async () => {
    const box = page.getByLabel('Traits (JSON)');
    expect(JSON.parse(await box.inputValue())).toEqual({
      email,
      phone_number: '+15555550100',
      plan: 'free',
      name: 'Ada',
    });
    await axe();

    await box.fill('{"plan": "pro", "name": null');
    await page.getByRole('button', { name: 'Merge' }).click();
    await page
      .locator('#traits-error')
      .getByText(/^Not valid JSON/)
      .waitFor();
    expect(await box.getAttribute('aria-invalid')).toBe('true');
    expect(await box.inputValue()).toBe('{"plan": "pro", "name": null'); // nothing typed is lost
    await axe();
    // leaving with unsaved traits asks first; declined, the page and the text stay
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.dismiss();
    });
    await page.getByRole('link', { name: 'Profiles', exact: true }).click();
    for (let i = 0; i < 100 && asked.length === 0; i++) await page.waitForTimeout(50);
    expect(asked).toEqual(["This profile's traits have unsaved changes. Leave this page?"]);
    // the router puts the old address back once the dialog is answered, which can come after the dialog event
    const stayed = `#/profiles/${encodeURIComponent(userId)}`;
    await page
      .waitForFunction((hash) => (globalThis as any).location.hash === hash, stayed, { timeout: 5000 })
      .catch(() => undefined);
    expect(page.url()).toBe(`${rig.base}/console${stayed}`);
    expect(await box.inputValue()).toBe('{"plan": "pro", "name": null');
    // a JSON value that is not an object
    await box.fill('[1]');
    await page.getByRole('button', { name: 'Merge' }).click();
    await page.locator('#traits-error').getByText('The traits must be a JSON object, e.g. {"plan": "pro"}.').waitFor();

    // merge (RFC 7396): plan changes, name goes, the rest stays
    await box.fill('{"plan": "pro", "name": null}');
    await page.getByRole('button', { name: 'Merge' }).click();
    await page.getByRole('status').getByText('Traits merged.').waitFor();
    expect(await traits()).toEqual({ traits: { email, phone_number: '+15555550100', plan: 'pro' } });
    expect(JSON.parse(await box.inputValue())).toEqual({ email, phone_number: '+15555550100', plan: 'pro' });

    // replace: exactly this object
    await box.fill(JSON.stringify({ email, phone_number: '+15555550100', plan: 'team', tags: ['vip'] }));
    await page.getByRole('button', { name: 'Replace' }).click();
    await page.getByRole('status').getByText('Traits replaced.').waitFor();
    expect(await traits()).toEqual({ traits: { email, phone_number: '+15555550100', plan: 'team', tags: ['vip'] } });
  });

  it('sets and clears a preference for a topic and channel', async () => {
    const form = page.getByRole('form', { name: 'Set a preference' });
    await form.getByLabel('Topic').selectOption(topic);
    await form.getByLabel('Channel').selectOption('EMAIL');
    await form.getByLabel('Choice').selectOption('OPTED_OUT');
    await form.getByRole('button', { name: 'Set preference' }).click();
    await page.getByText(`Set opted out for ${topic}, EMAIL.`).waitFor();
    const row = page.getByRole('row').filter({ hasText: topic });
    await row.getByText('opted out').waitFor();
    const stored = async () =>
      (await gql('query($u: String!) { profile(userId: $u) { preferences { topic channel state } } }', { u: userId }))
        .profile.preferences;
    expect(await stored()).toEqual([{ topic, channel: 'EMAIL', state: 'OPTED_OUT' }]);
    await axe();

    await page.getByRole('button', { name: `Clear the preference for ${topic}, EMAIL` }).click();
    await page.getByText(`Cleared the preference for ${topic}, EMAIL.`).waitFor();
    await page.getByText("No choice stored: every topic's default applies.").waitFor();
    expect(await stored()).toEqual([]);
  });

  it("shows the suppressions of the profile's addresses and lifts one", async () => {
    const row = page.getByRole('row').filter({ hasText: email });
    await row.getByText('complained by phone').waitFor();
    await row.getByText('until lifted').waitFor();
    await axe();
    await row.getByRole('button', { name: `Lift the suppression of ${email} on EMAIL` }).click();
    await page.getByText(`Lifted the suppression of ${email} on EMAIL.`).waitFor();
    await page.getByText(/is suppressed\.$/).waitFor();
    const { suppressions } = await gql(
      'query($a: String!) { suppressions(filter: {address: $a}) { edges { node { address } } } }',
      {
        a: email,
      },
    );
    expect(suppressions.edges).toEqual([]);
  });

  it('links its recent events, then deletes the profile after its user id is typed', async () => {
    const events = page.getByRole('list', { name: 'Recent events' });
    const link = events.getByRole('link', { name: /^IDENTIFY/ }).first();
    await link.waitFor();
    const { events: stored } = await gql(
      'query($u: String!) { events(filter: {userId: $u}) { edges { node { id } } } }',
      {
        u: userId,
      },
    );
    expect(await link.getAttribute('href')).toBe(`#/events/${encodeURIComponent(stored.edges[0].node.id)}`);
    expect(await page.getByRole('list', { name: 'Recent messages' }).count()).toBe(0);
    await page.getByText('No message to this user.').waitFor();

    await page.getByRole('button', { name: 'Delete profile…' }).click();
    const confirm = page.getByRole('button', { name: 'Delete profile', exact: true });
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel('User id to delete').fill(`${userId}x`);
    expect(await confirm.isDisabled()).toBe(true);
    await axe();
    await page.getByLabel('User id to delete').fill(userId);
    await confirm.click();
    await page.getByRole('heading', { name: 'Profiles', level: 1 }).waitFor();
    expect(await traits()).toBeNull();
  });
});
