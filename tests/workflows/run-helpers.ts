import { toDbTime } from '../../src/db/dialect';
import { configureProvider, createTemplate } from '../helpers/pipeline';
import { ok, startTestApp, uid, type GraphQLResult, type TestApp, type TestWorkspace } from '../helpers/test-app';

/** The fields of a run the workflow tests read. */
export const RUN = `id status reason step resumeAt cancelKey timezone version userId data createdAt updatedAt
  workflow { key } event { id name } history { at type detail } messages { id status channel data template { key } }`;

export type Q = (query: string, v?: Record<string, unknown>) => Promise<any>;

/** One workspace of a test app, with the calls the workflow tests make. */
export interface RunKit {
  t: TestApp;
  ws: TestWorkspace;
  /** GraphQL as the workspace's admin: fails the test on errors. */
  q: Q;
  /** GraphQL as the workspace's admin, errors and all. */
  raw: (query: string, v?: Record<string, unknown>) => Promise<GraphQLResult>;
  /** Creates a workflow (published unless `publish` is false). */
  workflow(steps: unknown[], extra?: Record<string, unknown>, publish?: boolean): Promise<{ id: string; key: string }>;
  /** A published SMS template with this body; returns its key. */
  smsTemplate(body?: string): Promise<string>;
  trigger(input: Record<string, unknown>): Promise<any>;
  run(id: string): Promise<any>;
  runs(filter: Record<string, unknown>, first?: number, after?: string): Promise<any[]>;
  identify(userId: string, traits?: Record<string, unknown>): Promise<void>;
  track(
    userId: string,
    event: string,
    properties?: Record<string, unknown>,
    extra?: Record<string, unknown>,
  ): Promise<void>;
  /** Maps `Segment-TrackEvent:<event>` to the workflow. */
  mapWorkflow(event: string, workflowId: string): Promise<void>;
  /** Runs due jobs of this app's workspaces until idle for `ms`. */
  drain(ms?: number): Promise<void>;
  /** Simulates time passing: the run (and its job) is due at `at` (default: a second ago). */
  makeDue(runId: string, at?: Date): Promise<void>;
  /** A new user with a phone (so SMS is available) and the given traits. */
  user(traits?: Record<string, unknown>): Promise<string>;
  /** Triggers a run, drains the worker, and reads the run back. */
  startAndDrain(workflowKey: string, userId: string, data?: Record<string, unknown>): Promise<any>;
  /** A message's stored routing plan (with the rendered content) and send options (with the digest). */
  messageRow(id: string): Promise<{ plan: any; sendOptions: any }>;
}

export async function runKit(t: TestApp, w?: TestWorkspace): Promise<RunKit> {
  const ws = w ?? (await t.newWorkspace());
  const raw = (query: string, v: Record<string, unknown> = {}) => t.gql(query, v, ws.adminKey);
  const q: Q = async (query, v = {}) => ok(await raw(query, v));
  await configureProvider(t, { channel: 'SMS', provider: 'log', config: { label: 'wf' } }, ws.adminKey);
  const worker = t.worker();
  const kit: RunKit = {
    t,
    ws,
    q,
    raw,
    async workflow(steps, extra = {}, publish = true) {
      const key = uid('wf');
      const { createWorkflow } = await q('mutation($i: WorkflowInput!) { createWorkflow(input: $i) { id key } }', {
        i: { key, name: key, steps, ...extra },
      });
      if (publish) await q('mutation($id: ID!) { publishWorkflow(id: $id) { id } }', { id: createWorkflow.id });
      return createWorkflow;
    },
    async smsTemplate(body = 'Hi {{data.name}}') {
      const key = uid('tpl');
      await createTemplate(t, { key, name: key, channels: ['SMS'], content: { sms: { body } } }, true, ws.adminKey);
      return key;
    },
    async trigger(input) {
      return (await q(`mutation($i: TriggerInput!) { trigger(input: $i) { ${RUN} } }`, { i: input })).trigger;
    },
    async run(id) {
      return (await q(`query($id: ID!) { workflowRun(id: $id) { ${RUN} } }`, { id })).workflowRun;
    },
    async runs(filter, first, after) {
      const { workflowRuns } = await q(
        `query($f: WorkflowRunFilter, $first: Int, $after: String) {
          workflowRuns(filter: $f, first: $first, after: $after) { edges { cursor node { ${RUN} } } pageInfo { hasNextPage endCursor } }
        }`,
        { f: filter, first, after },
      );
      return workflowRuns.edges.map((e: any) => e.node);
    },
    async identify(userId, traits = { phone_number: '+15555550100' }) {
      const res = await t.send('/v1/identify', { userId, traits }, ws.ingestKey);
      expect(res.statusCode).toBe(200);
    },
    async track(userId, event, properties = {}, extra = {}) {
      const res = await t.send('/v1/track', { userId, event, properties, ...extra }, ws.ingestKey);
      expect(res.statusCode).toBe(200);
    },
    async mapWorkflow(event, workflowId) {
      await q('mutation($n: String!, $w: ID!) { mapEvent(eventName: $n, workflowId: $w) { eventName } }', {
        n: `Segment-TrackEvent:${event}`,
        w: workflowId,
      });
    },
    drain: (ms = 250) => worker.drain(ms),
    async makeDue(runId, at = new Date(Date.now() - 1000)) {
      await t.db.run('UPDATE workflow_runs SET resume_at = ? WHERE id = ?', [toDbTime(at), runId]);
      await t.db.run(`UPDATE jobs SET run_at = ? WHERE message_id = ? AND kind = 'run'`, [toDbTime(at), runId]);
    },
    async user(traits = {}) {
      const userId = uid('u');
      await kit.identify(userId, { phone_number: '+15555550100', ...traits });
      return userId;
    },
    async startAndDrain(workflowKey, userId, data = {}) {
      const started = await kit.trigger({ workflowKey, userId, data });
      await kit.drain();
      return kit.run(started.id);
    },
    async messageRow(id) {
      const [row] = await t.db.rows<{ plan: unknown; send_options: unknown }>(
        'SELECT plan, send_options FROM messages WHERE id = ?',
        [id],
      );
      const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
      return { plan: parse(row.plan), sendOptions: parse(row.send_options) };
    },
  };
  return kit;
}

/** A test app and one workspace's kit; `close()` in `afterAll`. */
export async function startRunKit(): Promise<RunKit> {
  const t = await startTestApp();
  return runKit(t);
}

/** The history entry types of a run, in order. */
export const types = (run: any): string[] => run.history.map((h: any) => h.type);

/** The details of a run's history entries of one type, in order. */
export const details = (run: any, type: string): any[] =>
  run.history.filter((h: any) => h.type === type).map((h: any) => h.detail);

/** The only detail of this type (fails when there is not exactly one). */
export function detail(run: any, type: string): any {
  const found = details(run, type);
  expect(found).toHaveLength(1);
  return found[0];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
