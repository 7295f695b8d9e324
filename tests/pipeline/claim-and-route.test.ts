import type { Sql } from '../../src/db/database';
import { placeholders } from '../../src/db/rows';
import type { ClaimedJob } from '../../src/pipeline/job-queue';
import { HttpFake } from '../helpers/fakes/http-fake';
import { configureProvider, createTemplate, historyTypes, identify, message, send } from '../helpers/pipeline';
import { startTestApp, uid, type TestApp } from '../helpers/test-app';

/**
 * A worker's batch claimed and routed in one transaction (`SendPipeline.claimAndRoute`): the jobs are taken
 * and the new messages' decisions recorded by one commit, or neither; the claim reads the messages with the jobs.
 */
describe('claiming and routing a batch in one transaction', () => {
  let t: TestApp;
  let hook: HttpFake;

  beforeAll(async () => {
    t = await startTestApp();
    hook = await HttpFake.start(() => ({ status: 200, body: { id: 'hook-ok' } }));
  });
  afterAll(async () => {
    await t.close();
    await hook.close();
  });

  /** A workspace with a webhook template going to the fake, an email-only template (no provider) and a user. */
  async function workspace() {
    const ws = await t.newWorkspace();
    await configureProvider(
      t,
      { channel: 'WEBHOOK', provider: 'webhook', config: { url: `${hook.url}/hook` } },
      ws.adminKey,
    );
    const hookTemplate = await createTemplate(
      t,
      {
        key: `hook-${uid()}`,
        name: 'Hook',
        channels: ['WEBHOOK'],
        content: { webhook: { body: { order: '{{data.order}}' } } },
      },
      true,
      ws.adminKey,
    );
    const mailTemplate = await createTemplate(
      t,
      { key: `mail-${uid()}`, name: 'Mail', channels: ['EMAIL'], content: { email: { subject: 'Hi', text: 'Hi' } } },
      true,
      ws.adminKey,
    );
    const userId = uid();
    await identify(t, userId, { name: 'Ada' }, ws.ingestKey);
    return { ws, hookTemplate, mailTemplate, userId };
  }

  const jobsOf = async (ids: string[]) =>
    t.db.rows<{ message_id: string; status: string; locked_by: string | null }>(
      `SELECT message_id, status, locked_by FROM jobs WHERE message_id IN (${placeholders(ids.length)}) ORDER BY message_id`,
      ids,
    );

  const completeInFor = (workerId: string) => (jobs: readonly ClaimedJob[]) => (tx: Sql, ids: readonly string[]) =>
    t.services.queue.completeIn(
      tx,
      jobs.filter((j) => ids.includes(j.messageId)),
      workerId,
    );

  it('a claim with messages returns each job with its message as stored', async () => {
    const { ws, hookTemplate, userId } = await workspace();
    const ids: string[] = [];
    for (const order of ['M-1', 'M-2']) {
      ids.push((await send(t, { userId, templateId: hookTemplate, data: { order } }, ws.adminKey)).id as string);
    }
    const claimed = await t.services.queue.claim(`w-${uid()}`, 50, 30_000, [ws.workspaceId], { withMessages: true });
    const stored = await t.services.messages.getByIds({ workspaceId: ws.workspaceId }, ids);
    expect(claimed.map((j) => j.messageId).sort()).toEqual([...ids].sort());
    for (const job of claimed) expect(job.message).toEqual(stored.get(job.messageId));
    // without the option the jobs carry no message
    const plain = await t.services.queue.claim(`w-${uid()}`, 50, 1, [ws.workspaceId]);
    expect(plain.every((j) => j.message === undefined)).toBe(true);
  });

  it('one commit takes the jobs and records the routing; finish sends and completes them', async () => {
    const { ws, hookTemplate, mailTemplate, userId } = await workspace();
    const sent = [];
    for (const order of ['R-1', 'R-2', 'R-3']) {
      sent.push((await send(t, { userId, templateId: hookTemplate, data: { order } }, ws.adminKey)).id as string);
    }
    const unroutable = (await send(t, { userId, templateId: mailTemplate }, ws.adminKey)).id as string;
    const all = [...sent, unroutable];
    hook.requests.length = 0;

    const workerId = `w-${uid()}`;
    const batch = await t.services.pipeline.claimAndRoute(
      (tx) => t.services.queue.claimIn(tx, workerId, 50, 30_000, [ws.workspaceId], { withMessages: true }),
      completeInFor(workerId),
    );
    expect(batch.jobs.map((j) => j.messageId).sort()).toEqual([...all].sort());
    // committed together: the sendable messages ROUTED with their try counted and their jobs leased to this
    // worker; the unroutable one finished, its job gone; nothing sent yet
    expect(await jobsOf(all)).toEqual(
      [...sent].sort().map((id) => ({ message_id: id, status: 'running', locked_by: workerId })),
    );
    for (const id of sent) {
      const m = await message(t, id, ws.adminKey);
      expect(m.status).toBe('ROUTED');
      expect(m.deliveries).toEqual([expect.objectContaining({ status: 'PENDING', attempts: 1 })]);
    }
    expect((await message(t, unroutable, ws.adminKey)).status).toBe('UNROUTABLE');
    expect(hook.requests).toHaveLength(0);

    const outcomes = await batch.finish(new AbortController().signal);
    expect(outcomes).toEqual(batch.jobs.map(() => ({ done: true, completed: true })));
    expect(await jobsOf(all)).toEqual([]);
    expect(hook.requests.map((r) => (r.json as { order: string }).order).sort()).toEqual(['R-1', 'R-2', 'R-3']);
    for (const id of sent) {
      const m = await message(t, id, ws.adminKey);
      expect(m.status).toBe('SENT');
      expect(historyTypes(m)).toEqual([
        'ENQUEUED',
        'TEMPLATE',
        'PROFILE',
        'RULES',
        'CHANNELS',
        'RENDERED',
        'ROUTED',
        'ATTEMPT',
        'SENT',
      ]);
    }
  });

  it('a message with two jobs in the batch is routed and sent once', async () => {
    const { ws, hookTemplate, userId } = await workspace();
    const id = (await send(t, { userId, templateId: hookTemplate, data: { order: 'D-1' } }, ws.adminKey)).id as string;
    await t.db.transaction((tx) => t.services.queue.enqueue(tx, ws.workspaceId, [id]));
    hook.requests.length = 0;
    const workerId = `w-${uid()}`;
    const batch = await t.services.pipeline.claimAndRoute(
      (tx) => t.services.queue.claimIn(tx, workerId, 50, 30_000, [ws.workspaceId], { withMessages: true }),
      completeInFor(workerId),
    );
    expect(batch.jobs.map((j) => j.messageId)).toEqual([id, id]);
    expect(await batch.finish(new AbortController().signal)).toEqual([
      { done: true, completed: true },
      { done: true, completed: true },
    ]);
    expect(hook.requests).toHaveLength(1);
    const m = await message(t, id, ws.adminKey);
    expect(m.status).toBe('SENT');
    expect(m.deliveries).toEqual([expect.objectContaining({ status: 'SENT', attempts: 1 })]);
    expect(await jobsOf([id])).toEqual([]);
  });

  it('when the transaction fails nothing is claimed or routed, and the jobs are due again at once', async () => {
    const { ws, hookTemplate, userId } = await workspace();
    const id = (await send(t, { userId, templateId: hookTemplate, data: { order: 'F-1' } }, ws.adminKey)).id as string;
    const workerId = `w-${uid()}`;
    await expect(
      t.services.pipeline.claimAndRoute(async (tx) => {
        const jobs = await t.services.queue.claimIn(tx, workerId, 50, 30_000, [ws.workspaceId], {
          withMessages: true,
        });
        expect(jobs.map((j) => j.messageId)).toEqual([id]);
        throw new Error('the database went away');
      }, completeInFor(workerId)),
    ).rejects.toThrow('the database went away');
    expect(await jobsOf([id])).toEqual([{ message_id: id, status: 'ready', locked_by: null }]);
    expect((await message(t, id, ws.adminKey)).status).toBe('ENQUEUED');

    // the next batch takes it as if nothing happened
    await t.worker().drain(200);
    const m = await message(t, id, ws.adminKey);
    expect(m.status).toBe('SENT');
    expect(m.deliveries).toEqual([expect.objectContaining({ status: 'SENT', attempts: 1 })]);
    expect(await jobsOf([id])).toEqual([]);
  });
});
