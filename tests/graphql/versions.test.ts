import { ok, startTestApp, uid, type GraphQLResult, type TestApp, type TestWorkspace } from '../helpers/test-app';

/**
 * `Template.versions` and `Workflow.versions`: every published version, newest first, with the content (or
 * definition) it was published with; draft edits are not versions; a list of templates reads its versions in one
 * batch; another workspace never sees them.
 */

const Q = {
  createTemplate: `mutation($i: TemplateInput!) { createTemplate(input: $i) { id } }`,
  updateTemplate: `mutation($id: ID!, $i: TemplateInput!) { updateTemplate(id: $id, input: $i) { id } }`,
  publishTemplate: `mutation($id: ID!) { publishTemplate(id: $id) { publishedVersion } }`,
  template: `query($id: ID) { template(id: $id) { id draft versions { version channels content topic publishedAt } } }`,
  templates: `{ templates { id versions { version } } }`,
  createWorkflow: `mutation($i: WorkflowInput!) { createWorkflow(input: $i) { id } }`,
  updateWorkflow: `mutation($id: ID!, $i: WorkflowInput!) { updateWorkflow(id: $id, input: $i) { id } }`,
  publishWorkflow: `mutation($id: ID!) { publishWorkflow(id: $id) { publishedVersion } }`,
  workflow: `query($id: ID) { workflow(id: $id) { id versions { version definition steps publishedAt } } }`,
  workflows: `{ workflows { id versions { version } } }`,
  topic: `mutation($i: TopicInput!) { createTopic(input: $i) { key } }`,
};

const content = (v: string) => ({ email: { subject: `Subject ${v}`, text: `Hello {{profile.firstName}} ${v}` } });
const steps = (duration: string) => [
  { ref: 'wait', type: 'delay', duration },
  { ref: 'remind', type: 'send', template: 'cart-reminder' },
];

describe('Template.versions and Workflow.versions', () => {
  let t: TestApp;
  let a: TestWorkspace;
  let b: TestWorkspace;
  const asA = (query: string, v: Record<string, unknown> = {}): Promise<GraphQLResult> => t.gql(query, v, a.adminKey);
  const asB = (query: string, v: Record<string, unknown> = {}): Promise<GraphQLResult> => t.gql(query, v, b.adminKey);

  beforeAll(async () => {
    t = await startTestApp();
    a = await t.newWorkspace();
    b = await t.newWorkspace();
  });
  afterAll(() => t.close());

  /** A template of A published three times (v1 SMS-less, v3 with a topic), then edited as a draft. */
  async function publishedThrice(): Promise<string> {
    const topic = uid('topic');
    ok(await asA(Q.topic, { i: { key: topic, name: 'News', defaultState: 'ON' } }));
    const { id } = ok(
      await asA(Q.createTemplate, {
        i: { key: uid('tpl'), name: 'Order', channels: ['EMAIL'], content: content('v1') },
      }),
    ).createTemplate;
    ok(await asA(Q.publishTemplate, { id }));
    ok(
      await asA(Q.updateTemplate, {
        id,
        i: { channels: ['SMS', 'EMAIL'], content: { ...content('v2'), sms: { body: 'SMS v2' } } },
      }),
    );
    ok(await asA(Q.publishTemplate, { id }));
    ok(await asA(Q.updateTemplate, { id, i: { content: content('v3'), topic } }));
    expect(ok(await asA(Q.publishTemplate, { id })).publishTemplate.publishedVersion).toBe(3);
    ok(await asA(Q.updateTemplate, { id, i: { content: content('draft only') } }));
    return id;
  }

  it('lists every published template version newest first, with its channels, content and topic', async () => {
    const id = await publishedThrice();
    const { template } = ok(await asA(Q.template, { id }));
    expect(template.draft.email.subject).toBe('Subject draft only');
    expect(template.versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    const [v3, v2, v1] = template.versions;
    expect(v1).toMatchObject({ channels: ['EMAIL'], content: content('v1'), topic: null });
    expect(v2).toMatchObject({
      channels: ['SMS', 'EMAIL'],
      content: { ...content('v2'), sms: { body: 'SMS v2' } },
      topic: null,
    });
    expect(v3.content.email).toEqual(content('v3').email);
    expect(v3.topic).toEqual(expect.stringMatching(/^topic/));
    // draft edits are not versions
    expect(JSON.stringify(template.versions)).not.toContain('draft only');
    for (const v of template.versions) expect(Number.isNaN(Date.parse(v.publishedAt))).toBe(false);
    expect(Date.parse(v3.publishedAt)).toBeGreaterThanOrEqual(Date.parse(v1.publishedAt));
  });

  it('a template never published has no versions', async () => {
    const { id } = ok(
      await asA(Q.createTemplate, { i: { key: uid('tpl'), name: 'New', channels: ['EMAIL'], content: content('x') } }),
    ).createTemplate;
    expect(ok(await asA(Q.template, { id })).template.versions).toEqual([]);
  });

  it('reads the versions of a list of templates in one batch', async () => {
    const ids = [await publishedThrice(), await publishedThrice()];
    const spy = jest.spyOn(t.services.templates, 'versionHistory');
    try {
      const { templates } = ok(await asA(Q.templates));
      for (const id of ids) {
        expect(templates.find((x: { id: string }) => x.id === id).versions).toEqual([
          { version: 3 },
          { version: 2 },
          { version: 1 },
        ]);
      }
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('lists every published workflow version newest first, with its definition and steps', async () => {
    const key = uid('wf');
    const base = { key, name: 'Cart', steps: steps('PT1H') };
    const { id } = ok(await asA(Q.createWorkflow, { i: base })).createWorkflow;
    ok(await asA(Q.publishWorkflow, { id }));
    ok(await asA(Q.updateWorkflow, { id, i: { ...base, steps: steps('PT2H') } }));
    ok(await asA(Q.publishWorkflow, { id }));
    ok(await asA(Q.updateWorkflow, { id, i: { ...base, name: 'Cart v3', steps: steps('PT3H') } }));
    ok(await asA(Q.publishWorkflow, { id }));
    ok(await asA(Q.updateWorkflow, { id, i: { ...base, steps: steps('PT9H') } }));
    const { workflow } = ok(await asA(Q.workflow, { id }));
    expect(workflow.versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    expect(workflow.versions.map((v: { steps: { duration?: string }[] }) => v.steps[0].duration)).toEqual([
      'PT3H',
      'PT2H',
      'PT1H',
    ]);
    expect(workflow.versions[0].definition).toMatchObject({ name: 'Cart v3', steps: steps('PT3H') });
    expect(workflow.versions[2].definition).toMatchObject({ name: 'Cart', steps: steps('PT1H') });
    expect(JSON.stringify(workflow.versions)).not.toContain('PT9H');

    const spy = jest.spyOn(t.services.workflows, 'versionHistory');
    try {
      const { workflows } = ok(await asA(Q.workflows));
      expect(workflows.find((w: { id: string }) => w.id === id).versions).toHaveLength(3);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('another workspace never sees the versions', async () => {
    const templateId = await publishedThrice();
    const { id: workflowId } = ok(
      await asA(Q.createWorkflow, { i: { key: uid('wf'), name: 'Secret', steps: steps('PT5H') } }),
    ).createWorkflow;
    ok(await asA(Q.publishWorkflow, { id: workflowId }));

    expect(ok(await asB(Q.template, { id: templateId })).template).toBeNull();
    expect(ok(await asB(Q.workflow, { id: workflowId })).workflow).toBeNull();
    const lists = JSON.stringify([ok(await asB(Q.templates)), ok(await asB(Q.workflows))]);
    expect(lists).not.toContain(templateId);
    expect(lists).not.toContain(workflowId);

    // the domain reads are scoped too: B's context gets nothing for A's ids
    const ctxB = { workspaceId: b.workspaceId };
    expect((await t.services.templates.versionHistory(ctxB, [templateId])).get(templateId)).toEqual([]);
    expect((await t.services.workflows.versionHistory(ctxB, [workflowId])).get(workflowId)).toEqual([]);
    const ctxA = { workspaceId: a.workspaceId };
    expect((await t.services.templates.versionHistory(ctxA, [templateId])).get(templateId)).toHaveLength(3);
  });
});
