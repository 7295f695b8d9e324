import type { Sql } from '../../src/db/database';
import { placeholders } from '../../src/db/rows';
import { MessageStatus } from '../../src/domain/message/message-status.enum';
import { MessageStore } from '../../src/domain/message/message-store';
import { HttpFake } from '../helpers/fakes/http-fake';
import {
  configureProvider,
  createTemplate,
  historyOf,
  historyTypes,
  identify,
  message,
  send,
} from '../helpers/pipeline';
import { startTestApp, uid, type TestApp } from '../helpers/test-app';

/**
 * One claimed batch through the send pipeline's bulk path: the sends of a batch are written together, and
 * the jobs of the messages it finishes are deleted in the transaction that finishes them. A message whose
 * try fails continues on its own, and every message ends with exactly its own rows.
 */
describe('a claimed batch of sends', () => {
  let t: TestApp;
  let hook: HttpFake;

  beforeAll(async () => {
    t = await startTestApp();
    // a permanent refusal for the orders named BAD, a 200 with an id for every other
    hook = await HttpFake.start((req) =>
      (req.json as { order?: string } | undefined)?.order?.startsWith('BAD')
        ? { status: 400, body: 'refused' }
        : { status: 200, body: { id: 'hook-ok' } },
    );
  });
  afterAll(async () => {
    await t.close();
    await hook.close();
  });
  beforeEach(() => {
    hook.requests.length = 0;
  });

  /** A workspace whose webhook template goes to the fake, and an email-only template (no provider). */
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
    return { ws, hookTemplate, mailTemplate };
  }

  const jobsOf = async (ids: string[]) =>
    t.db.rows<{ message_id: string }>(
      `SELECT message_id FROM jobs WHERE message_id IN (${placeholders(ids.length)})`,
      ids,
    );

  it('one permanent failure among successes: each message gets exactly its rows, finished jobs go with their commit', async () => {
    const { ws, hookTemplate, mailTemplate } = await workspace();
    const userId = uid();
    await identify(t, userId, { name: 'Ada' }, ws.ingestKey);
    const good = [];
    for (const order of ['A-1', 'A-2', 'A-3']) {
      good.push((await send(t, { userId, templateId: hookTemplate, data: { order } }, ws.adminKey)).id as string);
    }
    const bad = (await send(t, { userId, templateId: hookTemplate, data: { order: 'BAD-1' } }, ws.adminKey)).id;
    // no email address and no email provider: routing ends it UNROUTABLE, in the first transaction
    const unroutable = (await send(t, { userId, templateId: mailTemplate }, ws.adminKey)).id;
    const all: string[] = [...good, bad, unroutable];

    const workerId = `batch-${uid()}`;
    const claimed = await t.services.queue.claim(workerId, 50, 30_000, [ws.workspaceId]);
    expect(claimed.map((j) => j.messageId).sort()).toEqual([...all].sort());
    const completedIn: string[][] = [];
    const outcomes = await t.services.pipeline.runMany(claimed, undefined, async (tx: Sql, ids) => {
      completedIn.push([...ids].sort());
      await t.services.queue.completeIn(
        tx,
        claimed.filter((j) => ids.includes(j.messageId)),
        workerId,
      );
    });

    // the routing transaction completes the unroutable message's job, the sending one the sent messages'
    expect(completedIn).toEqual([[unroutable], [...good].sort()]);
    const byMessage = new Map(claimed.map((j, i) => [j.messageId, outcomes[i]]));
    for (const id of [...good, unroutable]) expect(byMessage.get(id)).toEqual({ done: true, completed: true });
    // the failed one finished on its own path: done, and its job is left for the worker to complete
    expect(byMessage.get(bad)).toEqual({ done: true });
    expect((await jobsOf(all)).map((r) => r.message_id)).toEqual([bad]);
    await t.services.queue.complete(
      claimed.filter((j) => j.messageId === bad),
      workerId,
    );
    expect(await jobsOf(all)).toEqual([]);

    // one request per message, none repeated
    expect(hook.requests.map((r) => (r.json as { order: string }).order).sort()).toEqual([
      'A-1',
      'A-2',
      'A-3',
      'BAD-1',
    ]);

    for (const id of good) {
      const m = await message(t, id, ws.adminKey);
      expect(m).toMatchObject({ status: 'SENT', channel: 'WEBHOOK', reason: null, templateVersion: 1 });
      expect(m.deliveries).toEqual([
        expect.objectContaining({
          channel: 'WEBHOOK',
          provider: 'webhook',
          status: 'SENT',
          attempts: 1,
          lastError: null,
          externalId: 'hook-ok',
          sentAt: expect.any(String),
        }),
      ]);
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
      expect(historyOf(m, 'ATTEMPT')).toEqual([
        expect.objectContaining({ attempt: 1, outcome: 'SENT', externalId: 'hook-ok', provider: 'webhook' }),
      ]);
      expect(historyOf(m, 'SENT')).toEqual([{ channel: 'WEBHOOK' }]);
    }

    const failed = await message(t, bad, ws.adminKey);
    expect(failed).toMatchObject({ status: 'UNDELIVERABLE', reason: 'ALL_CHANNELS_FAILED', templateVersion: 1 });
    expect(failed.deliveries).toEqual([
      expect.objectContaining({
        status: 'FAILED',
        attempts: 1,
        lastError: expect.stringContaining('HTTP 400'),
        externalId: null,
        sentAt: null,
      }),
    ]);
    expect(historyTypes(failed)).toEqual([
      'ENQUEUED',
      'TEMPLATE',
      'PROFILE',
      'RULES',
      'CHANNELS',
      'RENDERED',
      'ROUTED',
      'ATTEMPT',
      'CHANNEL_FAILED',
      'UNDELIVERABLE',
    ]);
    expect(historyOf(failed, 'ATTEMPT')).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'FAILED', why: 'permanent error', status: 400, next: null }),
    ]);
    expect(historyOf(failed, 'CHANNEL_FAILED')).toEqual([{ channel: 'WEBHOOK', next: null }]);

    const ended = await message(t, unroutable, ws.adminKey);
    expect(ended).toMatchObject({ status: 'UNROUTABLE', reason: 'NO_AVAILABLE_CHANNEL', channel: null });
    expect(ended.deliveries).toEqual([]);
    expect(historyTypes(ended)).toEqual(['ENQUEUED', 'TEMPLATE', 'PROFILE', 'RULES', 'CHANNELS', 'UNROUTABLE']);
  });

  it('a worker runs a mixed batch to the end and leaves no job behind', async () => {
    const { ws, hookTemplate, mailTemplate } = await workspace();
    const userId = uid();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const order = i === 2 ? 'BAD-2' : `B-${i}`;
      ids.push((await send(t, { userId, templateId: hookTemplate, data: { order } }, ws.adminKey)).id);
    }
    ids.push((await send(t, { userId, templateId: mailTemplate }, ws.adminKey)).id);
    await t.worker().drain(200);
    const statuses = [];
    for (const id of ids) statuses.push((await message(t, id, ws.adminKey)).status);
    expect(statuses).toEqual(['SENT', 'SENT', 'UNDELIVERABLE', 'SENT', 'SENT', 'SENT', 'UNROUTABLE']);
    expect(hook.requests).toHaveLength(6);
    expect(new Set(hook.requests.map((r) => r.headers['idempotency-key'])).size).toBe(6);
    expect(await jobsOf(ids)).toEqual([]);
  });

  it('a message gone before its batch is written stays gone (the bulk writes only update)', async () => {
    const { ws, hookTemplate } = await workspace();
    const id = (await send(t, { userId: uid(), templateId: hookTemplate, data: { order: 'C-1' } }, ws.adminKey)).id;
    const [found] = (await t.services.messages.getByIds({ workspaceId: ws.workspaceId }, [id])).values();
    await t.db.transaction(async (tx) => {
      await tx.run('DELETE FROM message_history WHERE message_id = ?', [id]);
      await tx.run('DELETE FROM messages WHERE id = ?', [id]);
    });
    await t.db.transaction((tx) =>
      new MessageStore(t.db).saveRoutingIn(tx, [
        Object.assign(found, { status: MessageStatus.SENT, updatedAt: new Date() }),
      ]),
    );
    expect(await t.db.rows('SELECT id FROM messages WHERE id = ?', [id])).toEqual([]);
  });
});
