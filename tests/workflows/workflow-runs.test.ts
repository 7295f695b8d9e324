import { configureProvider, createTemplate } from '../helpers/pipeline';
import { ok, startTestApp, uid, type TestApp, type TestWorkspace } from '../helpers/test-app';

/**
 * Workflow runs end to end on the real app and database: a mapped track or `trigger` starts a run, a
 * worker advances it through its steps, and the run's history explains each one.
 */

const RUN = `id status reason step resumeAt cancelKey timezone version userId data createdAt updatedAt
  workflow { key } event { id name } history { at type detail } messages { id status channel data }`;

describe('workflow runs', () => {
  let t: TestApp;
  let ws: TestWorkspace & { q: (query: string, v?: Record<string, unknown>) => Promise<any> };
  beforeAll(async () => {
    t = await startTestApp();
    const w = await t.newWorkspace();
    ws = { ...w, q: async (query, v = {}) => ok(await t.gql(query, v, w.adminKey)) };
    await configureProvider(t, { channel: 'SMS', provider: 'log', config: { label: 'wf' } }, w.adminKey);
  });
  afterAll(() => t.close());

  async function workflow(steps: unknown[], extra: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
    const key = uid('wf');
    const { createWorkflow } = await ws.q('mutation($i: WorkflowInput!) { createWorkflow(input: $i) { id key } }', {
      i: { key, name: key, steps, ...extra },
    });
    await ws.q('mutation($id: ID!) { publishWorkflow(id: $id) { id } }', { id: createWorkflow.id });
    return createWorkflow;
  }

  async function smsTemplate(body = 'Hi {{data.name}}'): Promise<string> {
    const key = uid('tpl');
    await createTemplate(t, { key, name: key, channels: ['SMS'], content: { sms: { body } } }, true, ws.adminKey);
    return key;
  }

  async function run(id: string): Promise<any> {
    return (await ws.q(`query($id: ID!) { workflowRun(id: $id) { ${RUN} } }`, { id })).workflowRun;
  }

  it('a mapped track starts a run: delay, then send; the message names its run', async () => {
    const template = await smsTemplate();
    const wf = await workflow([
      { ref: 'wait', type: 'delay', duration: 'PT1S' },
      { ref: 'remind', type: 'send', template },
    ]);
    const eventName = `Segment-TrackEvent:${uid('Cart')}`;
    await ws.q(
      'mutation($n: String!, $w: ID!) { mapEvent(eventName: $n, workflowId: $w) { eventName workflow { key } template { id } } }',
      {
        n: eventName,
        w: wf.id,
      },
    );
    const userId = uid('u');
    await t.send('/v1/identify', { userId, traits: { phone_number: '+15555550100' } }, ws.ingestKey);
    const res = await t.send(
      '/v1/track',
      { userId, event: eventName.split(':')[1], properties: { name: 'Ada' } },
      ws.ingestKey,
    );
    expect(res.statusCode).toBe(200);

    const worker = t.worker();
    await worker.drain(300);
    const { workflowRuns } = await ws.q(
      `query($k: String!) { workflowRuns(filter: {workflowKey: $k}) { edges { node { ${RUN} } } } }`,
      { k: wf.key },
    );
    expect(workflowRuns.edges).toHaveLength(1);
    const waiting = workflowRuns.edges[0].node;
    expect(waiting).toMatchObject({ status: 'WAITING', step: 'wait', timezone: 'UTC', version: 1, userId });
    expect(waiting.history.map((h: any) => h.type)).toEqual(['STARTED', 'TIMEZONE', 'WAITING']);

    await worker.drain(1500);
    const done = await run(waiting.id);
    expect(done.status).toBe('COMPLETED');
    expect(done.history.map((h: any) => h.type)).toEqual([
      'STARTED',
      'TIMEZONE',
      'WAITING',
      'RESUMED',
      'SENT',
      'COMPLETED',
    ]);
    expect(done.messages).toEqual([{ id: expect.any(String), status: 'SENT', channel: 'SMS', data: { name: 'Ada' } }]);
    const { message } = await ws.q(`query($id: ID!) { message(id: $id) { run { id } history { type detail } } }`, {
      id: done.messages[0].id,
    });
    expect(message.run.id).toBe(done.id);
    expect(message.history[0]).toMatchObject({
      type: 'ENQUEUED',
      detail: { source: 'workflow', runId: done.id, step: 'remind' },
    });
  });
});
