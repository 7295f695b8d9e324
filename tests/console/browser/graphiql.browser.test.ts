import path from 'node:path';
import { chromiumAvailable, startRig, type BrowserRig } from './browser';

/**
 * The GraphQL IDE at `GET /graphql`: GraphiQL from the console's bundle, offline (every request that leaves the
 * app is aborted and recorded), under the console's CSP, sending the admin key the tab signed in with.
 */
const run = chromiumAvailable() ? describe : describe.skip;
const SHOTS = process.env.PIGEON_SCREENSHOTS ? path.resolve(__dirname, '../../../docs/console') : null;

run('the GraphQL IDE in a browser', () => {
  let rig: BrowserRig;

  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('opens GraphiQL offline from GET /graphql and runs a query with the signed-in key', async () => {
    const { page, t } = rig;
    await page.goto(`${rig.base}/console`);
    await page.getByLabel('Admin API key').fill(t.ws.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'GraphQL IDE' }).click();
    await page.waitForURL(`${rig.base}/graphql`);
    await page.getByText('Queries run with the admin key this tab signed in with.').waitFor();
    await page.locator('.graphiql-container').waitFor();

    const editor = page.locator('.graphiql-query-editor .CodeMirror').first();
    await editor.waitFor();
    await editor.evaluate((el, q) => (el as any).CodeMirror.setValue(q), '{ topics { key } templates { id } }');
    const answer = page.waitForResponse(
      (r) =>
        r.url() === `${rig.base}/graphql` &&
        r.request().method() === 'POST' &&
        /topics/.test(r.request().postData() ?? ''),
    );
    await page.getByRole('button', { name: /Execute query/ }).click();
    const res = await answer;
    expect(res.request().headers()['authorization']).toBe(`Bearer ${t.ws.adminKey}`);
    expect(await res.json()).toEqual({ data: { topics: [], templates: [] } });
    await page.locator('.result-window').getByText('"topics": []').waitFor();
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'graphiql.png') });

    expect(rig.outside).toEqual([]);
    expect(rig.problems).toEqual([]);
  });
});
