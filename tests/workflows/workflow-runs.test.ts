import { toDbTime } from '../../src/db/dialect';
import { createTemplate } from '../helpers/pipeline';
import { failed, startTestApp, uid, type TestApp } from '../helpers/test-app';
import { detail, details, runKit, RUN, sleep, types, type RunKit } from './run-helpers';

/**
 * Workflow runs end to end on the real app and database: a mapped track or `trigger` starts a run, a
 * worker advances it through its steps, and the run's history explains each one (README, "Workflows"): starting
 * runs, versions, cancellation, mappings, listing, and workspace isolation. The steps themselves are in
 * workflow-steps-run.test.ts.
 */

describe('workflow runs', () => {
  let t: TestApp;
  let k: RunKit;
  beforeAll(async () => {
    t = await startTestApp();
    k = await runKit(t);
  });
  afterAll(() => t.close());

  const delayThenSend = (template: string) => [
    { ref: 'wait', type: 'delay', duration: 'PT1H' },
    { ref: 'send', type: 'send', template },
  ];

  it('a mapped track starts a run: delay, then send; the message names its run', async () => {
    const template = await k.smsTemplate();
    const wf = await k.workflow([
      { ref: 'wait', type: 'delay', duration: 'PT1S' },
      { ref: 'remind', type: 'send', template },
    ]);
    const event = uid('Cart');
    const { mapEvent } = await k.q(
      'mutation($n: String!, $w: ID!) { mapEvent(eventName: $n, workflowId: $w) { eventName workflow { id key } template { id } } }',
      { n: `Segment-TrackEvent:${event}`, w: wf.id },
    );
    expect(mapEvent).toEqual({ eventName: `Segment-TrackEvent:${event}`, workflow: wf, template: null });
    const userId = await k.user();
    await k.track(userId, event, { name: 'Ada' });

    await k.drain(300);
    const runs = await k.runs({ workflowKey: wf.key });
    expect(runs).toHaveLength(1);
    const waiting = runs[0];
    // a leading delay of exact elapsed time starts with the run, in the ingest transaction: no zone is needed yet
    expect(waiting).toMatchObject({ status: 'WAITING', step: 'wait', timezone: null, version: 1, userId });
    expect(waiting.event.name).toBe(`Segment-TrackEvent:${event}`);
    expect(types(waiting)).toEqual(['STARTED', 'WAITING']);
    expect(detail(waiting, 'WAITING')).toEqual({
      ref: 'wait',
      until: waiting.resumeAt,
      zone: null,
      reason: 'DELAY',
      because: 'duration PT1S',
      localUntil: waiting.resumeAt,
    });
    expect(new Date(waiting.resumeAt).getTime()).toBe(new Date(waiting.createdAt).getTime() + 1000);
    expect(detail(waiting, 'STARTED')).toEqual({
      workflowId: wf.id,
      version: 1,
      source: 'event',
      eventId: waiting.event.id,
      idempotencyKey: null,
      cancelKey: null,
    });

    await k.drain(1500);
    const done = await k.run(waiting.id);
    expect(done.status).toBe('COMPLETED');
    expect(types(done)).toEqual(['STARTED', 'WAITING', 'TIMEZONE', 'RESUMED', 'SENT', 'COMPLETED']);
    expect(done.timezone).toBe('UTC');
    expect(done.messages).toEqual([
      { id: expect.any(String), status: 'SENT', channel: 'SMS', data: { name: 'Ada' }, template: { key: template } },
    ]);
    const { message } = await k.q(`query($id: ID!) { message(id: $id) { run { id } history { type detail } } }`, {
      id: done.messages[0].id,
    });
    expect(message.run.id).toBe(done.id);
    expect(message.history[0]).toMatchObject({
      type: 'ENQUEUED',
      detail: { source: 'workflow', runId: done.id, step: 'remind' },
    });
  });

  describe('trigger', () => {
    it('starts a run with its data; the same idempotencyKey returns the same run, also when called at once', async () => {
      const wf = await k.workflow(delayThenSend(await k.smsTemplate()));
      const userId = await k.user();
      const run = await k.trigger({ workflowKey: wf.key, userId, data: { name: 'Ada', n: 1 }, idempotencyKey: 'once' });
      expect(run).toMatchObject({
        status: 'WAITING', // its leading delay started with it
        reason: null,
        version: 1,
        userId,
        data: { name: 'Ada', n: 1 },
        workflow: { key: wf.key },
        event: null,
        cancelKey: null,
        timezone: null,
        messages: [],
      });
      expect(new Date(run.resumeAt).getTime()).toBe(new Date(run.createdAt).getTime() + 3_600_000);
      expect(types(run)).toEqual(['STARTED', 'WAITING']);
      expect(detail(run, 'STARTED')).toEqual({
        workflowId: wf.id,
        version: 1,
        source: 'trigger',
        eventId: null,
        idempotencyKey: 'once',
        cancelKey: null,
      });
      const again = await k.trigger({ workflowKey: wf.key, userId, data: { name: 'Bob' }, idempotencyKey: 'once' });
      expect(again).toMatchObject({ id: run.id, data: { name: 'Ada', n: 1 } });

      const both = await Promise.all(
        [1, 2].map((n) => k.trigger({ workflowKey: wf.key, userId, data: { n }, idempotencyKey: 'together' })),
      );
      expect(both[0].id).toBe(both[1].id);
      expect(await k.runs({ workflowKey: wf.key })).toHaveLength(2);

      // the key is unique per workflow: another workflow's run may use it
      const other = await k.workflow(delayThenSend(await k.smsTemplate()));
      const elsewhere = await k.trigger({ workflowKey: other.key, userId, idempotencyKey: 'once' });
      expect(elsewhere.id).not.toBe(run.id);

      await k.drain();
      expect((await k.run(run.id)).status).toBe('WAITING');
    });

    it("takes the cancel key from trigger's cancelKey, else from the workflow's cancelKeyPath", async () => {
      const wf = await k.workflow(delayThenSend(await k.smsTemplate()), { cancelKeyPath: 'data.cartId' });
      const userId = await k.user();
      const fromPath = await k.trigger({ workflowKey: wf.key, userId, data: { cartId: 'c1' } });
      expect(fromPath.cancelKey).toBe('c1');
      expect(detail(fromPath, 'STARTED').cancelKey).toBe('c1');
      const explicit = await k.trigger({ workflowKey: wf.key, userId, data: { cartId: 'c1' }, cancelKey: 'mine' });
      expect(explicit.cancelKey).toBe('mine');
      expect((await k.trigger({ workflowKey: wf.key, userId, data: { cartId: 42 } })).cancelKey).toBe('42');
      expect((await k.trigger({ workflowKey: wf.key, userId, data: {} })).cancelKey).toBeNull();

      // a mapped track: from its properties
      const event = uid('Cart');
      await k.mapWorkflow(event, wf.id);
      const tracked = uid('u');
      await k.track(tracked, event, { cartId: 'c7' });
      const [run] = await k.runs({ workflowKey: wf.key, userId: tracked });
      expect(run).toMatchObject({ cancelKey: 'c7', data: { cartId: 'c7' } });
    });

    it('refuses bad input: unknown workflow NOT_FOUND; empty userId, data not an object BAD_USER_INPUT', async () => {
      const wf = await k.workflow(delayThenSend(await k.smsTemplate()));
      const trigger = (input: Record<string, unknown>) =>
        k.raw('mutation($i: TriggerInput!) { trigger(input: $i) { id } }', { i: input });
      failed(await trigger({ workflowKey: uid('nope'), userId: 'u1' }), 'NOT_FOUND');
      failed(await trigger({ workflowKey: wf.key, userId: '' }), 'BAD_USER_INPUT', /userId/);
      failed(await trigger({ workflowKey: wf.key, userId: 'u1', idempotencyKey: '' }), 'BAD_USER_INPUT');
      failed(await trigger({ workflowKey: wf.key, userId: 'u1', data: 'text' }), 'BAD_USER_INPUT');
      failed(await trigger({ workflowKey: wf.key, userId: 'u1', data: [1, 2] }), 'BAD_USER_INPUT');
      // written into the document instead of a variable, the same value fails the document's validation
      failed(
        await k.raw(`mutation { trigger(input: {workflowKey: "${wf.key}", userId: "u1", data: 5}) { id } }`),
        'GRAPHQL_VALIDATION_FAILED',
      );
      expect(await k.runs({ workflowKey: wf.key })).toEqual([]);
    });
  });

  describe('versions', () => {
    it('a workflow that is not published: triggered or mapped, the run ends FAILED, UNPUBLISHED', async () => {
      const wf = await k.workflow(delayThenSend(await k.smsTemplate()), {}, false);
      const userId = await k.user();
      const triggered = await k.trigger({ workflowKey: wf.key, userId });
      expect(triggered).toMatchObject({ status: 'RUNNING', version: null });
      const event = uid('Early');
      await k.mapWorkflow(event, wf.id);
      await k.track(userId, event, { a: 1 });
      await k.drain();
      const runs = await k.runs({ workflowKey: wf.key });
      expect(runs).toHaveLength(2);
      for (const run of runs) {
        expect(run).toMatchObject({ status: 'FAILED', reason: 'UNPUBLISHED', version: null, messages: [] });
        expect(types(run)).toEqual(['STARTED', 'FAILED']);
        expect(detail(run, 'FAILED')).toEqual({ reason: 'UNPUBLISHED', message: expect.any(String) });
      }
      expect(runs.map((r: any) => r.event?.name ?? null)).toEqual([`Segment-TrackEvent:${event}`, null]);
    });

    it('a run keeps the version it started with when a new one is published', async () => {
      const first = await k.smsTemplate('v1 {{data.name}}');
      const second = await k.smsTemplate('v2 {{data.name}}');
      const wf = await k.workflow(delayThenSend(first));
      const userId = await k.user();
      const old = await k.trigger({ workflowKey: wf.key, userId, data: { name: 'Ada' } });
      await k.drain();
      expect(await k.run(old.id)).toMatchObject({ status: 'WAITING', version: 1 });

      const steps = [
        { ref: 'wait', type: 'delay', duration: 'PT1H' },
        { ref: 'other', type: 'send', template: second },
        { ref: 'again', type: 'send', template: second, channels: ['SMS'] },
      ];
      await k.q('mutation($id: ID!, $i: WorkflowInput!) { updateWorkflow(id: $id, input: $i) { id } }', {
        id: wf.id,
        i: { key: wf.key, name: 'v2', steps },
      });
      const { publishWorkflow } = await k.q('mutation($id: ID!) { publishWorkflow(id: $id) { publishedVersion } }', {
        id: wf.id,
      });
      expect(publishWorkflow.publishedVersion).toBe(2);
      const fresh = await k.trigger({ workflowKey: wf.key, userId, data: { name: 'Bob' } });
      expect(fresh.version).toBe(2);
      await k.drain();

      await k.makeDue(old.id);
      await k.makeDue(fresh.id);
      await k.drain();
      const kept = await k.run(old.id);
      expect(kept).toMatchObject({ status: 'COMPLETED', version: 1, step: 'send' });
      expect(kept.messages.map((m: any) => m.template.key)).toEqual([first]);
      expect(details(kept, 'SENT').map((d: any) => d.ref)).toEqual(['send']);
      expect(detail(kept, 'COMPLETED')).toEqual({ steps: 2 });
      const next = await k.run(fresh.id);
      expect(next).toMatchObject({ status: 'COMPLETED', version: 2, step: 'again' });
      expect(next.messages.map((m: any) => m.template.key)).toEqual([second, second]);
      expect(detail(next, 'COMPLETED')).toEqual({ steps: 3 });
      expect(details(next, 'SENT')[1]).toEqual({
        ref: 'again',
        messageId: next.messages[1].id,
        template: second,
        templateId: expect.any(String),
        channels: ['SMS'],
      });
      expect((await k.messageRow(next.messages[0].id)).plan.rendered.sms.body).toBe('v2 Bob');
      expect((await k.messageRow(kept.messages[0].id)).plan.rendered.sms.body).toBe('v1 Ada');
    });
  });

  describe('cancellation', () => {
    /** A jobs row for the run, due now: what a worker holding a job from before a cancel would run. */
    async function staleJob(runId: string): Promise<void> {
      const now = toDbTime(new Date(Date.now() - 1000));
      await t.db.run(
        `INSERT INTO jobs (workspace_id, kind, message_id, status, run_at, runs, created_at, updated_at) VALUES (?, 'run', ?, 'ready', ?, 0, ?, ?)`,
        [k.ws.workspaceId, runId, now, now, now],
      );
    }

    it("a mapCancel event cancels only its own user's open runs with that key; unmapCancel stops it", async () => {
      const wf = await k.workflow(delayThenSend(await k.smsTemplate()), { cancelKeyPath: 'data.cartId' });
      const abandoned = uid('Cart Abandoned');
      const completed = uid('Order Completed');
      await k.mapWorkflow(abandoned, wf.id);
      const { mapCancel } = await k.q(
        'mutation($n: String!, $w: ID!, $p: String!) { mapCancel(eventName: $n, workflowId: $w, keyPath: $p) { eventName keyPath workflow { key } } }',
        { n: `Segment-TrackEvent:${completed}`, w: wf.id, p: 'data.cartId' },
      );
      expect(mapCancel).toEqual({
        eventName: `Segment-TrackEvent:${completed}`,
        keyPath: 'data.cartId',
        workflow: { key: wf.key },
      });
      const ada = await k.user();
      const bob = await k.user();
      await k.track(ada, abandoned, { cartId: 'c1' });
      await k.track(ada, abandoned, { cartId: 'c2' });
      await k.track(bob, abandoned, { cartId: 'c1' });
      await k.drain();
      const byKey = async (userId: string, key: string) =>
        (await k.runs({ workflowKey: wf.key, userId })).find((r: any) => r.cancelKey === key);
      for (const [u, key] of [
        [ada, 'c1'],
        [ada, 'c2'],
        [bob, 'c1'],
      ])
        expect((await byKey(u, key)).status).toBe('WAITING');

      // the cancel is in place once the event is stored: no worker needed
      await k.track(ada, completed, { cartId: 'c1' });
      const cancelled = await byKey(ada, 'c1');
      expect(cancelled).toMatchObject({ status: 'CANCELLED', resumeAt: null, messages: [] });
      expect(types(cancelled)).toEqual(['STARTED', 'WAITING', 'CANCELLED']);
      const { events } = await k.q(
        'query($u: String!, $n: String!) { events(filter: {userId: $u, name: $n}) { edges { node { id } } } }',
        { u: ada, n: `Segment-TrackEvent:${completed}` },
      );
      expect(detail(cancelled, 'CANCELLED')).toEqual({
        by: 'event',
        cancelKey: 'c1',
        eventId: events.edges[0].node.id,
        eventName: `Segment-TrackEvent:${completed}`,
      });
      expect((await byKey(ada, 'c2')).status).toBe('WAITING');
      expect((await byKey(bob, 'c1')).status).toBe('WAITING');
      const [{ n }] = await t.db.rows<{ n: number }>(
        "SELECT COUNT(*) AS n FROM jobs WHERE message_id = ? AND kind = 'run'",
        [cancelled.id],
      );
      expect(Number(n)).toBe(0);

      // its due time comes (and a job from before the cancel runs): nothing is sent
      await k.makeDue(cancelled.id);
      await staleJob(cancelled.id);
      const bobs = await byKey(bob, 'c1');
      await k.makeDue(bobs.id);
      await k.drain();
      const after = await k.run(cancelled.id);
      expect(after).toMatchObject({ status: 'CANCELLED', messages: [] });
      expect(types(after)).toEqual(types(cancelled));
      expect(await k.run(bobs.id)).toMatchObject({ status: 'COMPLETED', messages: [expect.anything()] });

      const unmap = 'mutation($n: String!, $w: ID!) { unmapCancel(eventName: $n, workflowId: $w) }';
      expect((await k.q(unmap, { n: `Segment-TrackEvent:${completed}`, w: wf.id })).unmapCancel).toBe(true);
      expect((await k.q(unmap, { n: `Segment-TrackEvent:${completed}`, w: wf.id })).unmapCancel).toBe(false);
      await k.track(ada, completed, { cartId: 'c2' });
      expect((await byKey(ada, 'c2')).status).toBe('WAITING');
    });

    it("cancelRuns cancels every user's open runs with the key and counts them; later runs go on", async () => {
      const wf = await k.workflow(delayThenSend(await k.smsTemplate()), { cancelKeyPath: 'data.cartId' });
      const [ada, bob, cy] = [await k.user(), await k.user(), await k.user()];
      const a9 = await k.trigger({ workflowKey: wf.key, userId: ada, data: { cartId: 'c9' } });
      const b9 = await k.trigger({ workflowKey: wf.key, userId: bob, data: { cartId: 'c9' } });
      const a8 = await k.trigger({ workflowKey: wf.key, userId: ada, data: { cartId: 'c8' } });
      await k.drain();
      const cancel = (workflowKey: string, cancelKey: string) =>
        k.raw('mutation($w: String!, $c: String!) { cancelRuns(workflowKey: $w, cancelKey: $c) }', {
          w: workflowKey,
          c: cancelKey,
        });
      expect((await cancel(wf.key, 'c9')).data).toEqual({ cancelRuns: 2 });
      expect((await cancel(wf.key, 'c9')).data).toEqual({ cancelRuns: 0 });
      failed(await cancel(uid('nope'), 'c9'), 'NOT_FOUND');
      for (const r of [a9, b9]) {
        const run = await k.run(r.id);
        expect(run).toMatchObject({ status: 'CANCELLED', resumeAt: null });
        expect(detail(run, 'CANCELLED')).toEqual({ by: 'cancelRuns', cancelKey: 'c9' });
      }
      const later = await k.trigger({ workflowKey: wf.key, userId: cy, data: { cartId: 'c9' } });
      await k.drain();
      expect((await k.run(later.id)).status).toBe('WAITING');
      expect((await k.run(a8.id)).status).toBe('WAITING');

      for (const r of [a9, b9, a8, later]) await k.makeDue(r.id);
      await staleJob(a9.id);
      await k.drain();
      for (const r of [a9, b9]) expect(await k.run(r.id)).toMatchObject({ status: 'CANCELLED', messages: [] });
      for (const r of [a8, later])
        expect(await k.run(r.id)).toMatchObject({ status: 'COMPLETED', messages: [expect.anything()] });
      // an ended run is not cancelled again
      expect((await cancel(wf.key, 'c9')).data).toEqual({ cancelRuns: 0 });
    });

    it('an event mapped both to start and to cancel runs cancels the older run first, then starts its own', async () => {
      const wf = await k.workflow(delayThenSend(await k.smsTemplate()), { cancelKeyPath: 'data.cartId' });
      const event = uid('Cart Updated');
      await k.mapWorkflow(event, wf.id);
      await k.q(
        'mutation($n: String!, $w: ID!) { mapCancel(eventName: $n, workflowId: $w, keyPath: "data.cartId") { eventName } }',
        {
          n: `Segment-TrackEvent:${event}`,
          w: wf.id,
        },
      );
      const userId = await k.user();
      await k.track(userId, event, { cartId: 'c1', v: 1 });
      await k.track(userId, event, { cartId: 'c1', v: 2 });
      await k.drain();
      const [newer, older] = await k.runs({ workflowKey: wf.key });
      expect(older).toMatchObject({ status: 'CANCELLED', data: { v: 1 } });
      expect(detail(older, 'CANCELLED')).toMatchObject({ by: 'event', cancelKey: 'c1', eventId: newer.event.id });
      expect(newer).toMatchObject({ status: 'WAITING', data: { v: 2 }, cancelKey: 'c1' });
    });
  });

  describe('durability', () => {
    it('a run job is taken inside the transaction that advances it: one that rolls back leaves it due', async () => {
      const own = await runKit(t);
      const template = await own.smsTemplate();
      const wf = await own.workflow([{ ref: 'send', type: 'send', template }]);
      const run = await own.trigger({ workflowKey: wf.key, userId: await own.user(), data: { name: 'Ada' } });
      // the lease-based claim of sends never hands out a run
      expect(await t.services.queue.claim('send-worker', 10, 400, [own.ws.workspaceId])).toEqual([]);
      // a worker that dies mid-batch: its transaction took the job, then rolled back
      await expect(
        t.services.db.transaction(async (tx) => {
          const due = await t.services.queue.takeDueRunsIn(tx, 10, { workspaceIds: [own.ws.workspaceId] });
          expect(due.map((d) => d.runId)).toEqual([run.id]);
          await t.services.queue.deleteIn(
            tx,
            due.map((d) => d.id),
          );
          throw new Error('worker died');
        }),
      ).rejects.toThrow('worker died');
      expect((await own.run(run.id)).status).toBe('RUNNING');

      await own.drain();
      const done = await own.run(run.id);
      expect(done).toMatchObject({ status: 'COMPLETED', messages: [{ status: 'SENT', data: { name: 'Ada' } }] });
      expect((await own.messageRow(done.messages[0].id)).plan.rendered.sms.body).toBe('Hi Ada');
      expect(done.history.filter((h: { type: string }) => h.type === 'SENT')).toHaveLength(1);
    });
  });

  describe('mappings', () => {
    it('mapEvent takes exactly one of templateId and workflowId', async () => {
      const templateId = await createTemplate(
        t,
        { key: uid('tpl'), name: 'x', channels: ['SMS'], content: { sms: { body: 'x' } } },
        true,
        k.ws.adminKey,
      );
      const wf = await k.workflow(delayThenSend(await k.smsTemplate()));
      const n = `Segment-TrackEvent:${uid('Both')}`;
      const map = (v: Record<string, unknown>) =>
        k.raw(
          'mutation($n: String!, $t: ID, $w: ID) { mapEvent(eventName: $n, templateId: $t, workflowId: $w) { eventName } }',
          {
            n,
            ...v,
          },
        );
      failed(await map({ t: templateId, w: wf.id }), 'BAD_USER_INPUT');
      failed(await map({}), 'BAD_USER_INPUT');
      failed(await map({ w: '00000000-0000-0000-0000-000000000000' }), 'NOT_FOUND');
      const { mappings } = await k.q('{ mappings { eventName } }');
      expect(mappings.map((m: any) => m.eventName)).not.toContain(n);

      // an upsert may move a name from a workflow to a template
      await map({ w: wf.id });
      await map({ t: templateId });
      const listed = (await k.q('{ mappings { eventName template { id } workflow { id } } }')).mappings;
      expect(listed.find((m: any) => m.eventName === n)).toEqual({
        eventName: n,
        template: { id: templateId },
        workflow: null,
      });
    });

    it('replayEvents starts runs for tracks stored before the name was mapped to a workflow', async () => {
      const wf = await k.workflow(delayThenSend(await k.smsTemplate()));
      const event = uid('Before');
      const userId = await k.user();
      await k.track(userId, event, { n: 1 }, { context: { timezone: 'Europe/Paris' } });
      await k.mapWorkflow(event, wf.id);
      const name = `Segment-TrackEvent:${event}`;
      const { replayEvents } = await k.q('mutation($n: String!) { replayEvents(filter: {name: $n}) }', { n: name });
      expect(replayEvents).toBe(1);
      await k.drain();
      const runs = await k.runs({ workflowKey: wf.key });
      expect(runs).toHaveLength(1);
      // waiting on its leading delay; the event's zone is looked up when it resumes
      expect(runs[0]).toMatchObject({ status: 'WAITING', userId, data: { n: 1 }, timezone: null });
      await k.makeDue(runs[0].id, new Date());
      await k.drain();
      expect(await k.run(runs[0].id)).toMatchObject({ status: 'COMPLETED', timezone: 'Europe/Paris' });
      expect(runs[0].event.name).toBe(name);
      expect((await k.q('mutation($n: String!) { replayEvents(filter: {name: $n}) }', { n: name })).replayEvents).toBe(
        0,
      );
    });

    it('a track mapped straight to a template still sends a message, with no run', async () => {
      const key = uid('tpl');
      const templateId = await createTemplate(
        t,
        { key, name: key, channels: ['SMS'], content: { sms: { body: 'Hello {{data.name}}' } } },
        true,
        k.ws.adminKey,
      );
      const event = uid('Direct');
      await k.q(
        'mutation($n: String!, $t: ID!) { mapEvent(eventName: $n, templateId: $t) { template { id } workflow { id } } }',
        {
          n: `Segment-TrackEvent:${event}`,
          t: templateId,
        },
      );
      const userId = await k.user();
      await k.track(userId, event, { name: 'Ada' });
      await k.drain();
      const { messages } = await k.q(
        'query($u: String!) { messages(filter: {userId: $u}) { edges { node { status data template { id } event { name } run { id } history { type detail } } } } }',
        { u: userId },
      );
      expect(messages.edges).toHaveLength(1);
      const message = messages.edges[0].node;
      expect(message).toMatchObject({
        status: 'SENT',
        data: { name: 'Ada' },
        template: { id: templateId },
        event: { name: `Segment-TrackEvent:${event}` },
        run: null,
      });
      expect(message.history[0].detail.source).not.toBe('workflow');
      expect(await k.runs({ userId })).toEqual([]);
    });
  });

  it('workflowRuns filters by workflow, status, user and time, newest first, in pages', async () => {
    const wf = await k.workflow(delayThenSend(await k.smsTemplate()));
    const [ada, bob] = [uid('u'), uid('u')];
    const r1 = await k.trigger({ workflowKey: wf.key, userId: ada, cancelKey: 'x' });
    await sleep(5);
    const r2 = await k.trigger({ workflowKey: wf.key, userId: ada });
    await sleep(5);
    const r3 = await k.trigger({ workflowKey: wf.key, userId: bob });
    await k.q('mutation($w: String!) { cancelRuns(workflowKey: $w, cancelKey: "x") }', { w: wf.key });
    const ids = async (filter: Record<string, unknown>) => (await k.runs(filter)).map((r: any) => r.id);
    expect(await ids({ workflowKey: wf.key })).toEqual([r3.id, r2.id, r1.id]);
    expect(await ids({ workflowKey: wf.key, status: 'CANCELLED' })).toEqual([r1.id]);
    expect(await ids({ workflowKey: wf.key, status: 'WAITING' })).toEqual([r3.id, r2.id]);
    expect(await ids({ userId: ada })).toEqual([r2.id, r1.id]);
    expect(await ids({ workflowKey: wf.key, userId: ada, status: 'WAITING' })).toEqual([r2.id]);
    expect(await ids({ workflowKey: wf.key, since: r2.createdAt })).toEqual([r3.id, r2.id]);
    expect(await ids({ workflowKey: wf.key, until: r2.createdAt })).toEqual([r1.id]);
    expect(await ids({ workflowKey: wf.key, since: r2.createdAt, until: r3.createdAt })).toEqual([r2.id]);
    expect(await ids({ workflowKey: uid('nope') })).toEqual([]);

    const page = async (after?: string) =>
      (
        await k.q(
          `query($f: WorkflowRunFilter, $after: String) { workflowRuns(filter: $f, first: 2, after: $after) {
            edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
          { f: { workflowKey: wf.key }, after },
        )
      ).workflowRuns;
    const one = await page();
    expect(one.edges.map((e: any) => e.node.id)).toEqual([r3.id, r2.id]);
    expect(one.pageInfo.hasNextPage).toBe(true);
    const two = await page(one.pageInfo.endCursor);
    expect(two.edges.map((e: any) => e.node.id)).toEqual([r1.id]);
    expect(two.pageInfo.hasNextPage).toBe(false);
    failed(await k.raw('{ workflowRuns(first: 0) { edges { cursor } } }'), 'BAD_USER_INPUT');
  });

  it("another workspace's admin key cannot read, trigger, cancel or map this workspace's workflows and runs", async () => {
    const wf = await k.workflow(delayThenSend(await k.smsTemplate()), { cancelKeyPath: 'data.cartId' });
    const run = await k.trigger({ workflowKey: wf.key, userId: uid('u'), data: { cartId: 'c1' } });
    const event = `Segment-TrackEvent:${uid('Mine')}`;
    await k.q(
      'mutation($n: String!, $w: ID!) { mapCancel(eventName: $n, workflowId: $w, keyPath: "data.cartId") { eventName } }',
      {
        n: event,
        w: wf.id,
      },
    );
    const other = await runKit(t);

    expect(
      (await other.q(`query($id: ID!) { workflowRun(id: $id) { ${RUN} } }`, { id: run.id })).workflowRun,
    ).toBeNull();
    expect(await other.runs({ workflowKey: wf.key })).toEqual([]);
    expect((await other.runs({})).map((r: any) => r.id)).not.toContain(run.id);
    expect((await other.q('query($k: String!) { workflow(key: $k) { id } }', { k: wf.key })).workflow).toBeNull();
    expect((await other.q('query($id: ID!) { workflow(id: $id) { id } }', { id: wf.id })).workflow).toBeNull();
    failed(
      await other.raw('mutation($k: String!) { trigger(input: {workflowKey: $k, userId: "x"}) { id } }', { k: wf.key }),
      'NOT_FOUND',
    );
    failed(
      await other.raw('mutation($k: String!) { cancelRuns(workflowKey: $k, cancelKey: "c1") }', { k: wf.key }),
      'NOT_FOUND',
    );
    failed(
      await other.raw(
        'mutation($w: ID!) { mapEvent(eventName: "Segment-TrackEvent:Theirs", workflowId: $w) { eventName } }',
        {
          w: wf.id,
        },
      ),
      'NOT_FOUND',
    );
    failed(
      await other.raw(
        'mutation($w: ID!) { mapCancel(eventName: "Segment-TrackEvent:Theirs", workflowId: $w, keyPath: "data.cartId") { eventName } }',
        { w: wf.id },
      ),
      'NOT_FOUND',
    );
    expect(
      (
        await other.q('mutation($n: String!, $w: ID!) { unmapCancel(eventName: $n, workflowId: $w) }', {
          n: event,
          w: wf.id,
        })
      ).unmapCancel,
    ).toBe(false);
    expect((await other.q('{ cancelMappings { eventName } }')).cancelMappings).toEqual([]);

    const mine = await k.run(run.id);
    expect(mine).toMatchObject({ status: 'WAITING', cancelKey: 'c1' });
    const { cancelMappings } = await k.q('{ cancelMappings { eventName } }');
    expect(cancelMappings.map((m: any) => m.eventName)).toContain(event);
  });
});
