import { configureProvider, createTemplate, identify, send } from '../helpers/pipeline';
import { fixture, startTestApp, uid, type TestApp } from '../helpers/test-app';
import { METRIC_NAMES } from '../../src/ops/metrics';
import { sampleValue, scrape } from './metrics-text';

/** GET /metrics: a registry per app, ingest/HTTP/pipeline/queue metrics, bounded labels. */
describe('Prometheus metrics', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('serves the Prometheus text format with every Pigeon metric declared', async () => {
    const res = await t.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of Object.values(METRIC_NAMES)) expect(res.body).toContain(`# TYPE ${name} `);
  });

  it('counts ingested events by type and outcome: stored, duplicate, rejected', async () => {
    const track = fixture('track', { userId: uid() });
    expect((await t.send('/segment', track)).statusCode).toBe(202);
    expect((await t.send('/segment', track)).statusCode).toBe(202); // the same messageId again
    expect((await t.send('/v1/track', { userId: uid() })).statusCode).toBe(400); // no event
    expect((await t.send('/segment', { type: 'nonsense', userId: uid() })).statusCode).toBe(501);
    const batch = await t.send('/v1/batch', {
      batch: [
        { type: 'identify', userId: uid(), traits: { plan: 'pro' } },
        { type: 'group', userId: uid() }, // no groupId
        { type: 'page', anonymousId: uid(), name: 'Home' },
      ],
    });
    expect(batch.json()).toEqual({ success: true, rejected: [{ index: 1, message: 'group requires groupId' }] });

    const { samples } = await scrape(t);
    const n = (type: string, outcome: string) => sampleValue(samples, METRIC_NAMES.eventsIngested, { type, outcome });
    expect(n('track', 'stored')).toBe(1);
    expect(n('track', 'duplicate')).toBe(1);
    expect(n('track', 'rejected')).toBe(1);
    expect(n('unknown', 'rejected')).toBe(1);
    expect(n('identify', 'stored')).toBe(1);
    expect(n('group', 'rejected')).toBe(1);
    expect(n('page', 'stored')).toBe(1);
    // only the six types and `unknown` ever appear as a type label
    const types = new Set(samples.filter((s) => s.name === METRIC_NAMES.eventsIngested).map((s) => s.labels.type));
    for (const type of types)
      expect(['identify', 'track', 'group', 'page', 'screen', 'alias', 'unknown']).toContain(type);
  });

  it('times HTTP requests by route pattern and status, never by raw URL', async () => {
    const secretPath = `/no-such-${uid()}`;
    expect((await t.inject({ method: 'GET', url: secretPath })).statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: '/healthz?probe=1' })).statusCode).toBe(200);
    const { text, samples } = await scrape(t);
    const count = `${METRIC_NAMES.httpDuration}_count`;
    expect(sampleValue(samples, count, { method: 'GET', route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, count, { method: 'GET', route: '/healthz', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, count, { method: 'POST', route: '/segment', status: '202' })).toBeGreaterThanOrEqual(2);
    expect(sampleValue(samples, count, { method: 'POST', route: '/v1/batch', status: '200' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(text).not.toContain(secretPath);
    expect(text).not.toContain('probe=1');
  });

  it('counts messages by status and reason and deliveries by provider, with latency, without ids or names', async () => {
    const ok = t.ws;
    const failing = await t.newWorkspace();
    for (const ws of [ok, failing]) {
      await configureProvider(
        t,
        {
          channel: 'EMAIL',
          provider: 'log',
          config: ws === failing ? { simulateFailure: 'permanent', label: 'x' } : { label: 'x' },
        },
        ws.adminKey,
      );
    }
    const content = { email: { subject: 'Hi {{data.n}}', text: 'Hello' } };
    const eventName = `Metrics Probe ${uid()}`;
    const userId = uid();
    const sent: string[] = [];
    for (const ws of [ok, failing]) {
      const templateId = await createTemplate(
        t,
        { key: 'm', name: 'M', channels: ['EMAIL'], content },
        true,
        ws.adminKey,
      );
      await identify(t, userId, { email: `${userId}@example.com` }, ws.ingestKey);
      sent.push((await send(t, { userId, templateId, data: { n: 1 } }, ws.adminKey)).id);
    }
    const unpublished = await createTemplate(t, { key: 'u', name: 'U', channels: ['EMAIL'], content }, false);
    sent.push((await send(t, { userId, templateId: unpublished }, ok.adminKey)).id);

    const before = await scrape(t);
    expect(sampleValue(before.samples, METRIC_NAMES.queueDepth)).toBeGreaterThanOrEqual(3);
    expect(sampleValue(before.samples, METRIC_NAMES.queueOldest)).toBeGreaterThanOrEqual(0);

    await t.worker().drain(300);

    const { text, samples } = await scrape(t);
    const messages = (status: string, reason = '') => sampleValue(samples, METRIC_NAMES.messages, { status, reason });
    expect(messages('ROUTED')).toBe(2);
    expect(messages('SENT')).toBe(1);
    expect(messages('UNDELIVERABLE', 'ALL_CHANNELS_FAILED')).toBe(1);
    expect(messages('UNDELIVERABLE', 'UNPUBLISHED')).toBe(1);
    const deliveries = (outcome: string) =>
      sampleValue(samples, METRIC_NAMES.deliveries, { provider: 'log', channel: 'EMAIL', outcome });
    expect(deliveries('SENT')).toBe(1);
    expect(deliveries('FAILED')).toBe(1);
    expect(sampleValue(samples, `${METRIC_NAMES.deliveryDuration}_count`, { provider: 'log' })).toBe(2);
    expect(sampleValue(samples, `${METRIC_NAMES.deliveryDuration}_bucket`, { provider: 'log', le: '+Inf' })).toBe(2);

    // bounded cardinality: no user ids, event names, message ids, keys or workspace names in any label
    for (const value of [userId, eventName, ...sent, ok.ingestKey, ok.adminKey, ok.name, failing.name])
      expect(text).not.toContain(value);
  });

  it('keeps a registry per app, so two apps in one process count separately', async () => {
    const other = await startTestApp();
    try {
      await other.send('/v1/screen', { userId: uid(), name: 'Settings' });
      await other.send('/v1/screen', { userId: uid(), name: 'Settings' });
      await t.send('/v1/screen', { userId: uid(), name: 'Settings' });
      const mine = await scrape(t);
      const theirs = await scrape(other);
      const screens = (s: typeof mine) =>
        sampleValue(s.samples, METRIC_NAMES.eventsIngested, { type: 'screen', outcome: 'stored' });
      expect(screens(mine)).toBe(1);
      expect(screens(theirs)).toBe(2);
    } finally {
      await other.close();
    }
  });

  it('adds the default process metrics once asked to', async () => {
    t.services.metrics.collectDefaults();
    t.services.metrics.collectDefaults(); // twice is harmless
    const { samples } = await scrape(t);
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
  });
  it('counts workflow runs by status, shows the runs waiting, and times how late a due step started', async () => {
    const ws = await t.newWorkspace();
    await configureProvider(t, { channel: 'SMS', provider: 'log', config: { label: 'wf' } }, ws.adminKey);
    const template = uid('tpl');
    await createTemplate(
      t,
      { key: template, name: 'x', channels: ['SMS'], content: { sms: { body: 'x' } } },
      true,
      ws.adminKey,
    );
    const gql = async (query: string, variables: Record<string, unknown>) => {
      const res = await t.gql(query, variables, ws.adminKey);
      expect(res.errors).toBeUndefined();
      return res.data!;
    };
    const workflow = async (key: string, steps: unknown[]) => {
      const { createWorkflow } = await gql('mutation($i: WorkflowInput!) { createWorkflow(input: $i) { id } }', {
        i: { key, name: key, steps },
      });
      await gql('mutation($id: ID!) { publishWorkflow(id: $id) { id } }', { id: createWorkflow.id });
    };
    await workflow('short', [
      { ref: 'wait', type: 'delay', duration: 'PT0.3S' },
      { ref: 'send', type: 'send', template },
    ]);
    await workflow('long', [
      { ref: 'wait', type: 'delay', duration: 'P1D' },
      { ref: 'send', type: 'send', template },
    ]);
    const userId = uid();
    await identify(t, userId, { phone_number: '+15555550100' }, ws.ingestKey);
    const trigger = 'mutation($i: TriggerInput!) { trigger(input: $i) { id } }';
    await gql(trigger, { i: { workflowKey: 'short', userId } });
    await gql(trigger, { i: { workflowKey: 'long', userId } });
    await gql(trigger, { i: { workflowKey: 'long', userId } });

    const before = (await scrape(t)).samples;
    await t.worker().drain(800);
    const { samples } = await scrape(t);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(samples, name, labels) - sampleValue(before, name, labels);
    // the runner counts the two runs whose day-long wait it started (a leading PT… delay starts with its run)
    expect(delta(METRIC_NAMES.workflowRuns, { status: 'WAITING' })).toBe(2);
    expect(delta(METRIC_NAMES.workflowRuns, { status: 'COMPLETED' })).toBe(1);
    // the two runs waiting a day, read from the database (other files' workspaces may add theirs on MySQL)
    expect(sampleValue(samples, METRIC_NAMES.workflowRunsWaiting)).toBeGreaterThanOrEqual(2);
    expect(delta(`${METRIC_NAMES.workflowStepLateness}_count`)).toBe(1);
    expect(delta(`${METRIC_NAMES.workflowStepLateness}_bucket`, { le: '+Inf' })).toBe(1);
  });
});
