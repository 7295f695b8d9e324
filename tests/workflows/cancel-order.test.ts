import { configureProvider, createTemplate } from '../helpers/pipeline';
import { ok, startTestApp, uid, type TestApp } from '../helpers/test-app';

/** A cancelling event applies in the order events were received, within one batch too (§2: in order received). */
describe('cancelling events in one batch', () => {
  let t: TestApp;
  let workflowId: string;
  const gql = async (query: string, variables: Record<string, unknown> = {}) => ok(await t.gql(query, variables));
  beforeAll(async () => {
    t = await startTestApp();
    await configureProvider(t, { channel: 'SMS', provider: 'log', config: { label: 'order' } });
    const template = uid('tpl');
    await createTemplate(t, { key: template, name: 'x', channels: ['SMS'], content: { sms: { body: 'x' } } });
    const { createWorkflow } = await gql('mutation($i: WorkflowInput!) { createWorkflow(input: $i) { id } }', {
      i: {
        key: uid('cart'),
        name: 'cart',
        cancelKeyPath: 'data.cartId',
        steps: [
          { ref: 'wait', type: 'delay', duration: 'PT1H' },
          { ref: 'send', type: 'send', template },
        ],
      },
    });
    workflowId = createWorkflow.id;
    await gql('mutation($id: ID!) { publishWorkflow(id: $id) { id } }', { id: workflowId });
    await gql(
      `mutation($w: ID!) {
        mapEvent(eventName: "Segment-TrackEvent:Cart Abandoned", workflowId: $w) { eventName }
        mapCancel(eventName: "Segment-TrackEvent:Order Completed", workflowId: $w, keyPath: "data.cartId") { keyPath } }`,
      { w: workflowId },
    );
  });
  afterAll(() => t.close());

  async function runOf(userId: string): Promise<{ status: string; history: { type: string }[] }> {
    const { workflowRuns } = await gql(
      'query($u: String!) { workflowRuns(filter: {userId: $u}) { edges { node { status history { type } } } } }',
      { u: userId },
    );
    expect(workflowRuns.edges).toHaveLength(1);
    return workflowRuns.edges[0].node;
  }

  it('[start, cancel] in one batch: the run is cancelled; [cancel, start]: it is not', async () => {
    const start = (userId: string) => ({ type: 'track', userId, event: 'Cart Abandoned', properties: { cartId: 'c' } });
    const cancel = (userId: string) => ({
      type: 'track',
      userId,
      event: 'Order Completed',
      properties: { cartId: 'c' },
    });
    const first = uid('u');
    const second = uid('u');
    expect((await t.send('/v1/batch', { batch: [start(first), cancel(first)] })).json()).toEqual({ success: true });
    expect((await t.send('/v1/batch', { batch: [cancel(second), start(second)] })).json()).toEqual({ success: true });
    await t.worker().drain(200);
    expect((await runOf(first)).status).toBe('CANCELLED');
    const notCancelled = await runOf(second);
    expect(notCancelled.status).toBe('WAITING');
    expect(notCancelled.history.map((h) => h.type)).not.toContain('CANCELLED');
  });
});
