import { failed, ok, startTestApp, uid, type TestApp, type TestWorkspace } from '../helpers/test-app';

/**
 * Workflow definitions over GraphQL: drafts, immutable published versions, and step validation that
 * names the step and field. (Runs are not part of this file.)
 */

const WORKFLOW = 'id key name topic cancelKeyPath window draft published publishedVersion status';
const Q = {
  create: `mutation($i: WorkflowInput!) { createWorkflow(input: $i) { ${WORKFLOW} } }`,
  update: `mutation($id: ID!, $i: WorkflowInput!) { updateWorkflow(id: $id, input: $i) { ${WORKFLOW} } }`,
  publish: `mutation($id: ID!) { publishWorkflow(id: $id) { ${WORKFLOW} } }`,
  workflow: `query($id: ID, $key: String) { workflow(id: $id, key: $key) { ${WORKFLOW} } }`,
  workflows: `{ workflows { ${WORKFLOW} } }`,
};

const steps = (template = 'cart-reminder') => [
  { ref: 'wait', type: 'delay', duration: 'PT1H' },
  { ref: 'remind', type: 'send', template },
];

function input(overrides: Record<string, unknown> = {}): Record<string, any> {
  return {
    key: uid('wf'),
    name: 'Abandoned cart',
    cancelKeyPath: 'data.cartId',
    window: { from: '08:00', until: '20:00' },
    steps: steps(),
    ...overrides,
  };
}

describe('workflows over GraphQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function workspace(): Promise<TestWorkspace & { q: (query: string, v?: Record<string, unknown>) => any }> {
    const ws = await t.newWorkspace();
    return { ...ws, q: (query, v = {}) => t.gql(query, v, ws.adminKey) };
  }

  it('createWorkflow returns a DRAFT; publishWorkflow freezes it as version 1, 2, …; updates edit the draft only', async () => {
    const ws = await workspace();
    const i = input();
    const { createWorkflow: created } = ok(await ws.q(Q.create, { i }));
    expect(created).toEqual({
      id: expect.any(String),
      key: i.key,
      name: 'Abandoned cart',
      topic: null,
      cancelKeyPath: 'data.cartId',
      window: { from: '08:00', until: '20:00' },
      draft: { name: 'Abandoned cart', topic: null, cancelKeyPath: 'data.cartId', window: i.window, steps: steps() },
      published: null,
      publishedVersion: null,
      status: 'DRAFT',
    });

    const { publishWorkflow: v1 } = ok(await ws.q(Q.publish, { id: created.id }));
    expect(v1).toMatchObject({ status: 'PUBLISHED', publishedVersion: 1, published: created.draft });

    const { updateWorkflow: edited } = ok(
      await ws.q(Q.update, { id: created.id, i: { ...i, name: 'Cart reminder', steps: steps('cart-reminder-2') } }),
    );
    // the published version is untouched by the edit
    expect(edited).toMatchObject({ name: 'Cart reminder', publishedVersion: 1, published: created.draft });
    expect(edited.draft.steps[1].template).toBe('cart-reminder-2');

    const { publishWorkflow: v2 } = ok(await ws.q(Q.publish, { id: created.id }));
    expect(v2.publishedVersion).toBe(2);
    expect(v2.published.steps[1].template).toBe('cart-reminder-2');
    expect(await t.services.workflows.version(created.id, 1)).toEqual(created.draft);

    const { workflow: byKey } = ok(await ws.q(Q.workflow, { key: i.key }));
    expect(byKey.id).toBe(created.id);
    const { workflows } = ok(await ws.q(Q.workflows));
    expect(workflows.map((w: { id: string }) => w.id)).toEqual([created.id]);
  });

  it('an invalid step is BAD_USER_INPUT naming the step and field; nothing is saved', async () => {
    const ws = await workspace();
    const bad = input({ steps: [{ ref: 'wait', type: 'delay', duration: 'soon' }] });
    failed(
      await ws.q(Q.create, { i: bad }),
      'BAD_USER_INPUT',
      'step "wait".duration: "soon" is not an ISO 8601 duration such as "PT15M", "PT1H" or "P2D"',
    );
    failed(
      await ws.q(Q.create, {
        i: input({
          steps: [{ ref: 's', type: 'send', template: 't', when: { path: 'digest.count', op: 'GT', value: 1 } }],
        }),
      }),
      'BAD_USER_INPUT',
      'step "s".when: path "digest.count" must start with "data.", "profile." or "event."',
    );
    failed(
      await ws.q(Q.create, { i: input({ window: { from: '8', until: '20:00' } }) }),
      'BAD_USER_INPUT',
      /^window\.from: /,
    );
    failed(await ws.q(Q.create, { i: input({ cancelKeyPath: 'cartId' }) }), 'BAD_USER_INPUT', /^cancelKeyPath: /);
    failed(await ws.q(Q.create, { i: input({ key: 'no spaces' }) }), 'BAD_USER_INPUT', /^key: /);
    expect(ok(await ws.q(Q.workflows)).workflows).toEqual([]);
  });

  it('keys are unique per workspace; another workspace may use the same key; unknown ids are NOT_FOUND', async () => {
    const a = await workspace();
    const b = await workspace();
    const i = input();
    ok(await a.q(Q.create, { i }));
    failed(await a.q(Q.create, { i }), 'BAD_USER_INPUT', `key: a workflow with key "${i.key}" already exists`);
    ok(await b.q(Q.create, { i }));
    const { createWorkflow: other } = ok(await a.q(Q.create, { i: input() }));
    failed(await a.q(Q.update, { id: other.id, i }), 'BAD_USER_INPUT', /already exists/);
    failed(await b.q(Q.publish, { id: other.id }), 'NOT_FOUND', `Workflow "${other.id}" not found`);
    expect(ok(await b.q(Q.workflow, { id: other.id })).workflow).toBeNull();
  });

  it('two concurrent publishes make two consecutive versions', async () => {
    const ws = await workspace();
    const { createWorkflow: wf } = ok(await ws.q(Q.create, { i: input() }));
    const results = await Promise.all([ws.q(Q.publish, { id: wf.id }), ws.q(Q.publish, { id: wf.id })]);
    const versions = results.map((r) => ok(r).publishWorkflow.publishedVersion).sort();
    expect(versions).toEqual([1, 2]);
  });
});
