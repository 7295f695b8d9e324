import { toDbTime } from '../../src/db/dialect';
import { failed, startTestApp, uid, type TestApp } from '../helpers/test-app';
import { detail, runKit, RUN, sleep, types, type RunKit } from './run-helpers';

/**
 * `cancelRun(id)` (README, "Workflows"): one RUNNING or WAITING run of the caller's workspace is cancelled the way
 * `cancelRuns` cancels each of its runs — the run locked, a CANCELLED history entry, its job and digest bucket
 * dropped — so no later step of it sends. A run that ended is refused; another workspace's run is not found.
 */
describe('cancelRun', () => {
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
  const cancelRun = (id: string, kit: RunKit = k) =>
    kit.raw(`mutation($id: ID!) { cancelRun(id: $id) { ${RUN} } }`, { id });

  /** A jobs row for the run, due now: what a worker holding a job from before the cancel would run. */
  async function staleJob(runId: string): Promise<void> {
    const now = toDbTime(new Date(Date.now() - 1000));
    await t.db.run(
      `INSERT INTO jobs (workspace_id, kind, message_id, status, run_at, runs, created_at, updated_at) VALUES (?, 'run', ?, 'ready', ?, 0, ?, ?)`,
      [k.ws.workspaceId, runId, now, now, now],
    );
  }

  it('cancels one waiting run (with or without a cancel key) and no other; its due delay never sends', async () => {
    const wf = await k.workflow(delayThenSend(await k.smsTemplate()), { cancelKeyPath: 'data.cartId' });
    const ada = await k.user();
    const keyed = await k.trigger({ workflowKey: wf.key, userId: ada, data: { cartId: 'c1' } });
    const sibling = await k.trigger({ workflowKey: wf.key, userId: ada, data: { cartId: 'c1' } });
    const unkeyed = await k.trigger({ workflowKey: wf.key, userId: ada, data: {} });
    await k.drain();
    expect(unkeyed).toMatchObject({ status: 'WAITING', cancelKey: null });

    const res = await cancelRun(keyed.id);
    expect(res.errors).toBeUndefined();
    const cancelled = res.data!.cancelRun as any;
    expect(cancelled).toMatchObject({ id: keyed.id, status: 'CANCELLED', resumeAt: null, messages: [] });
    expect(types(cancelled)).toEqual(['STARTED', 'WAITING', 'CANCELLED']);
    expect(detail(cancelled, 'CANCELLED')).toEqual({ by: 'cancelRun', cancelKey: 'c1' });
    // the same cancel key does not make it cancelRuns: the sibling with that key is untouched
    expect((await k.run(sibling.id)).status).toBe('WAITING');

    const second = (await cancelRun(unkeyed.id)).data!.cancelRun as any;
    expect(detail(second, 'CANCELLED')).toEqual({ by: 'cancelRun', cancelKey: null });

    // its job is gone with the cancel
    const [{ n }] = await t.db.rows<{ n: number }>(
      "SELECT COUNT(*) AS n FROM jobs WHERE message_id = ? AND kind = 'run'",
      [keyed.id],
    );
    expect(Number(n)).toBe(0);

    // its due time comes, and a job from before the cancel runs: nothing is sent; the sibling sends
    for (const id of [keyed.id, unkeyed.id, sibling.id]) await k.makeDue(id);
    await staleJob(keyed.id);
    await k.drain();
    for (const id of [keyed.id, unkeyed.id]) {
      const after = await k.run(id);
      expect(after).toMatchObject({ status: 'CANCELLED', messages: [] });
      expect(types(after)).toEqual(['STARTED', 'WAITING', 'CANCELLED']);
    }
    expect(await k.run(sibling.id)).toMatchObject({ status: 'COMPLETED', messages: [expect.anything()] });
  });

  it('refuses a run that has ended with a clear message, and changes nothing', async () => {
    const template = await k.smsTemplate();
    const wf = await k.workflow([{ ref: 'send', type: 'send', template }]);
    const done = await k.startAndDrain(wf.key, await k.user(), { name: 'Ada' });
    expect(done.status).toBe('COMPLETED');
    failed(
      await cancelRun(done.id),
      'BAD_USER_INPUT',
      'The run has already ended (COMPLETED); only a RUNNING or WAITING run can be cancelled',
    );
    const waiting = await k.trigger({ workflowKey: (await k.workflow(delayThenSend(template))).key, userId: 'u-x' });
    expect((await cancelRun(waiting.id)).errors).toBeUndefined();
    // cancelled twice: the second is refused, and the history keeps one CANCELLED entry
    failed(await cancelRun(waiting.id), 'BAD_USER_INPUT', /already ended \(CANCELLED\)/);
    const after = await k.run(waiting.id);
    expect(types(after)).toEqual(['STARTED', 'WAITING', 'CANCELLED']);
    expect(types(await k.run(done.id))).toEqual(types(done));
  });

  it("an unknown id, or another workspace's run, is NOT_FOUND and stays as it was", async () => {
    const wf = await k.workflow(delayThenSend(await k.smsTemplate()));
    const run = await k.trigger({ workflowKey: wf.key, userId: uid('u') });
    const other = await runKit(t);
    failed(await cancelRun(run.id, other), 'NOT_FOUND', `Workflow run "${run.id}" not found`);
    failed(await cancelRun('00000000-0000-0000-0000-000000000000'), 'NOT_FOUND');
    failed(await cancelRun('not an id'), 'NOT_FOUND');
    expect((await k.run(run.id)).status).toBe('WAITING');
    // an ingest key may not cancel
    failed(
      await t.gql('mutation($id: ID!) { cancelRun(id: $id) { id } }', { id: run.id }, k.ws.ingestKey),
      'FORBIDDEN',
    );
  });

  it('racing due delays: every cancelRun either wins (the run never sends) or is refused (the run had sent)', async () => {
    const wf = await k.workflow(delayThenSend(await k.smsTemplate()));
    const RUNS = 30;
    const userId = await k.user();
    const started = [];
    for (let i = 0; i < RUNS; i++) started.push(await k.trigger({ workflowKey: wf.key, userId, data: { n: i } }));
    await k.drain();
    // the runs come due 25 ms apart while a worker runs them; each run's cancel arrives 15 ms before or after its
    // due time, so some cancels find the run waiting and others find it sent (or being sent: the lock decides)
    const base = Date.now() + 300;
    const dueAt = (i: number) => base + i * 25;
    for (const [i, r] of started.entries()) await k.makeDue(r.id, new Date(dueAt(i)));
    const draining = k.drain(400);
    const answers = await Promise.all(
      started.map(async (r, i) => {
        await sleep(Math.max(0, dueAt(i) + (i % 2 ? 15 : -15) - Date.now()));
        return cancelRun(r.id);
      }),
    );
    await draining;
    await k.drain();
    let won = 0;
    let refused = 0;
    for (const [i, r] of started.entries()) {
      const after = await k.run(r.id);
      const answer = answers[i];
      if (answer.errors) {
        refused++;
        expect(answer.errors[0].extensions?.code).toBe('BAD_USER_INPUT');
        expect(after).toMatchObject({ status: 'COMPLETED', messages: [expect.anything()] });
        expect(types(after)).not.toContain('CANCELLED');
      } else {
        won++;
        expect(after).toMatchObject({ status: 'CANCELLED', messages: [] });
        expect(types(after)).not.toContain('SENT');
        expect(types(after).filter((x) => x === 'CANCELLED')).toHaveLength(1);
      }
    }
    expect(won + refused).toBe(RUNS);
    const [{ n }] = await t.db.rows<{ n: number }>(
      'SELECT COUNT(*) AS n FROM messages m JOIN workflow_runs r ON r.id = m.run_id WHERE r.workflow_id = ?',
      [wf.id],
    );
    expect(Number(n)).toBe(refused);
  });
});
