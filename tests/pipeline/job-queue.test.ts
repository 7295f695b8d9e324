import { HttpFake } from '../helpers/fakes/http-fake';
import { configureProvider, createTemplate, message, send } from '../helpers/pipeline';
import { startTestApp, uid, type TestApp } from '../helpers/test-app';

/** The database-backed job queue: leases, crashed workers, several workers on one database. */
describe('job queue and workers', () => {
  let t: TestApp;
  let hook: HttpFake;

  beforeAll(async () => {
    t = await startTestApp();
    hook = await HttpFake.start({ status: 200 });
  });
  afterAll(async () => {
    await t.close();
    await hook.close();
  });

  async function setup() {
    const ws = await t.newWorkspace();
    await configureProvider(
      t,
      { channel: 'WEBHOOK', provider: 'webhook', config: { url: `${hook.url}/${ws.name}` } },
      ws.adminKey,
    );
    const templateId = await createTemplate(
      t,
      { key: 'hook', name: 'Hook', channels: ['WEBHOOK'], content: { webhook: { body: { n: '{{data.n}}' } } } },
      true,
      ws.adminKey,
    );
    return { ws, templateId };
  }

  /** How many times the fake received each message of a workspace, by Pigeon message id. */
  function receivedBy(wsName: string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of hook.requests.filter((r) => r.pathname === `/${wsName}`)) {
      const id = String(r.headers['x-pigeon-message-id']);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  }

  const jobCount = async (wsId: number) =>
    Number((await t.db.rows<{ n: number }>('SELECT COUNT(*) AS n FROM jobs WHERE workspace_id = ?', [wsId]))[0].n);

  it("a crashed worker's jobs wait for the lease, then another worker completes each exactly once", async () => {
    const { ws, templateId } = await setup();
    const ids: string[] = [];
    for (let n = 0; n < 20; n++) ids.push((await send(t, { userId: uid(), templateId, data: { n } }, ws.adminKey)).id);

    // worker A claims everything and dies without finishing anything
    // a lease long enough that a loaded machine cannot let it lapse before the next check
    const claimed = await t.services.queue.claim('worker-a', 100, 1500, [ws.workspaceId]);
    expect(claimed.map((j) => j.messageId).sort()).toEqual(expect.arrayContaining([...ids].sort()));

    // while the lease holds, nobody else takes the jobs
    const b = t.worker({ id: 'worker-b' });
    expect(await t.services.queue.claim('worker-b', 100, 400, [ws.workspaceId])).toEqual([]);

    await new Promise((r) => setTimeout(r, 1550));
    await b.drain(300);
    const counts = receivedBy(ws.name);
    expect(counts.size).toBe(20);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    for (const id of ids) expect((await message(t, id, ws.adminKey)).status).toBe('SENT');
    expect(await jobCount(ws.workspaceId)).toBe(0);

    // the dead worker's late completion cannot touch jobs it no longer holds
    await t.services.queue.complete([claimed[0]], 'worker-a');
    await t.services.queue.reschedule(claimed[1], 'worker-a', new Date());
    expect(await jobCount(ws.workspaceId)).toBe(0);
  });

  it('a slow send keeps its lease: another worker never takes the job while it runs', async () => {
    const { ws, templateId } = await setup();
    hook.respondOnce({ status: 200, delayMs: 900 });
    const { id } = await send(t, { userId: uid(), templateId, data: { n: 'slow' } }, ws.adminKey);
    const a = t.worker({ id: 'slow-a', leaseMs: 300 });
    const b = t.worker({ id: 'slow-b', leaseMs: 300 });
    const running = a.drain(200);
    await new Promise((r) => setTimeout(r, 100));
    await b.drain(1200);
    await running;
    expect(receivedBy(ws.name).get(id)).toBe(1);
    expect((await message(t, id, ws.adminKey)).deliveries).toEqual([
      expect.objectContaining({ status: 'SENT', attempts: 1 }),
    ]);
  });

  it('four workers on one database share 200 messages: every one delivered, none twice', async () => {
    const { ws, templateId } = await setup();
    const created = await Promise.all(
      Array.from({ length: 200 }, (_, n) => send(t, { userId: uid(), templateId, data: { n } }, ws.adminKey)),
    );
    const workers = Array.from({ length: 4 }, (_, i) => t.worker({ id: `w${i}` }));
    await Promise.all(workers.map((w) => w.drain(300)));
    const counts = receivedBy(ws.name);
    expect(counts.size).toBe(200);
    expect([...counts.values()].filter((c) => c !== 1)).toEqual([]);
    const statuses = await t.db.rows<{ status: string; n: number }>(
      'SELECT status, COUNT(*) AS n FROM messages WHERE workspace_id = ? GROUP BY status',
      [ws.workspaceId],
    );
    expect(statuses.map((s) => [s.status, Number(s.n)])).toEqual([['SENT', 200]]);
    expect(created).toHaveLength(200);
    expect(await jobCount(ws.workspaceId)).toBe(0);
  });

  it('a started worker picks up new messages on its own and stops cleanly', async () => {
    const { ws, templateId } = await setup();
    const worker = t.worker({ id: 'live' });
    worker.start();
    const { id } = await send(t, { userId: uid(), templateId, data: { n: 'live' } }, ws.adminKey);
    for (let i = 0; i < 100 && (await message(t, id, ws.adminKey)).status !== 'SENT'; i++)
      await new Promise((r) => setTimeout(r, 20));
    await worker.stop(1000);
    expect(worker.isRunning).toBe(false);
    expect((await message(t, id, ws.adminKey)).status).toBe('SENT');
  });
});
