import { fromDbTime } from '../../src/db/dialect';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { runKit, type RunKit } from './run-helpers';

/**
 * The runner's batches on the real app and database: due runs are taken inside the transaction that advances
 * them; a run another transaction holds is left due, not waited for; a run that keeps failing is deferred
 * with a backoff while the rest of its batch goes on.
 */
describe('workflow runner batches', () => {
  let t: TestApp;
  let k: RunKit;
  beforeAll(async () => {
    t = await startTestApp();
    k = await runKit(t);
  });
  afterAll(() => t.close());

  const sendOnly = async () => {
    const template = await k.smsTemplate();
    return k.workflow([{ ref: 'send', type: 'send', template }]);
  };
  const jobsOf = (runIds: string[]) =>
    t.db.rows<{ message_id: string; run_at: unknown; runs: number | string }>(
      `SELECT message_id, run_at, runs FROM jobs WHERE kind = 'run' AND message_id IN (${runIds.map(() => '?').join(', ')})`,
      runIds,
    );

  it('a run that keeps failing is deferred with a backoff; the others of its batch complete', async () => {
    const wf = await sendOnly();
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await k.trigger({ workflowKey: wf.key, userId: await k.user(), data: {} }));
    const broken = runs[1].id;
    const runner = t.services.runner as unknown as { advance: (...args: unknown[]) => Promise<void> };
    const advance = runner.advance.bind(runner);
    const spy = jest.spyOn(runner, 'advance').mockImplementation(async (...args: unknown[]) => {
      if ((args[1] as { id: string }).id === broken) throw new Error('a broken run');
      return advance(...args);
    });
    try {
      const before = Date.now();
      const result = await t.services.runner.runDue(200, [k.ws.workspaceId]);
      expect(result.taken).toBe(3);
      expect(result.failed.map((f) => [f.runId, (f.error as Error).message])).toEqual([[broken, 'a broken run']]);
      expect((await k.run(runs[0].id)).status).toBe('COMPLETED');
      expect((await k.run(runs[2].id)).status).toBe('COMPLETED');
      expect((await k.run(broken)).status).toBe('RUNNING');
      const [job] = await jobsOf([broken]);
      expect(Number(job.runs)).toBe(1);
      expect(fromDbTime(job.run_at).getTime() - before).toBeGreaterThanOrEqual(1500);
      // not due yet: the next batch leaves it alone
      expect((await t.services.runner.runDue(200, [k.ws.workspaceId])).taken).toBe(0);
    } finally {
      spy.mockRestore();
    }
    await k.makeDue(broken);
    await k.drain();
    const healed = await k.run(broken);
    expect(healed.status).toBe('COMPLETED');
    expect(healed.history.filter((h: { type: string }) => h.type === 'SENT')).toHaveLength(1);
  });

  const maria = process.env.DATABASE_URL?.startsWith('mysql') || process.env.DATABASE_URL?.startsWith('mariadb');
  (maria ? it : it.skip)(
    'a run another transaction holds is skipped, its job left due; it runs once released',
    async () => {
      const wf = await sendOnly();
      const held = await k.trigger({ workflowKey: wf.key, userId: await k.user(), data: {} });
      const free = await k.trigger({ workflowKey: wf.key, userId: await k.user(), data: {} });
      let release!: () => void;
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      const holder = t.db.transaction(async (tx) => {
        await tx.rows('SELECT id FROM workflow_runs WHERE id = ? FOR UPDATE', [held.id]);
        locked();
        await new Promise<void>((r) => (release = r));
      });
      await isLocked;
      const result = await t.services.runner.runDue(200, [k.ws.workspaceId]);
      expect(result).toEqual({ taken: 2, failed: [] });
      expect((await k.run(free.id)).status).toBe('COMPLETED');
      expect((await k.run(held.id)).status).toBe('RUNNING');
      expect(await jobsOf([held.id])).toHaveLength(1);
      release();
      await holder;
      expect((await t.services.runner.runDue(200, [k.ws.workspaceId])).taken).toBe(1);
      expect((await k.run(held.id)).status).toBe('COMPLETED');
      expect(await jobsOf([held.id])).toHaveLength(0);
    },
  );
});
