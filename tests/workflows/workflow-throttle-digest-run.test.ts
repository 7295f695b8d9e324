import { fromDbTime } from '../../src/db/dialect';
import { uid } from '../helpers/test-app';
import { detail, details, sleep, startRunKit, types, type RunKit } from './run-helpers';

/**
 * Throttle and digest steps run end to end (README, "Workflows"): who passes, who is throttled or digested into
 * which run, what the collecting run goes on with, and that both stay exact with several workers at once.
 * Digest windows are seconds long, so the tests wait for them.
 */

const ms = (iso: string) => new Date(iso).getTime();

describe('workflow throttle and digest steps, run end to end', () => {
  let k: RunKit;
  beforeAll(async () => {
    k = await startRunKit();
  });
  afterAll(() => k.t.close());

  describe('throttle', () => {
    it('limit 2 per PT1H: the third run of a user ends THROTTLED; another user is not throttled', async () => {
      const template = await k.smsTemplate();
      const wf = await k.workflow([
        { ref: 'limit', type: 'throttle', limit: 2, window: 'PT1H' },
        { ref: 'send', type: 'send', template },
      ]);
      const ada = await k.user();
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await k.trigger({ workflowKey: wf.key, userId: ada, data: { i } }));
      await k.drain();
      const [first, second, third] = await Promise.all(runs.map((r) => k.run(r.id)));
      const passed = { ref: 'limit', limit: 2, window: 'PT1H', key: null };
      expect(first.status).toBe('COMPLETED');
      expect(detail(first, 'THROTTLE_PASSED')).toEqual({ ...passed, count: 1 });
      expect(second.status).toBe('COMPLETED');
      expect(detail(second, 'THROTTLE_PASSED')).toEqual({ ...passed, count: 2 });
      expect(third).toMatchObject({ status: 'THROTTLED', step: 'limit', messages: [] });
      expect(types(third)).toEqual(['STARTED', 'TIMEZONE', 'THROTTLED']);
      expect(detail(third, 'THROTTLED')).toEqual({ ...passed, count: 2 });

      const other = await k.startAndDrain(wf.key, await k.user());
      expect(other.status).toBe('COMPLETED');
      expect(detail(other, 'THROTTLE_PASSED')).toEqual({ ...passed, count: 1 });
    });

    it('a key gives each key value its own limit', async () => {
      const template = await k.smsTemplate();
      const wf = await k.workflow([
        { ref: 'limit', type: 'throttle', limit: 1, window: 'P1D', key: 'data.projectId' },
        { ref: 'send', type: 'send', template },
      ]);
      const ada = await k.user();
      const a1 = await k.startAndDrain(wf.key, ada, { projectId: 'p1' });
      const a2 = await k.startAndDrain(wf.key, ada, { projectId: 'p1' });
      const b1 = await k.startAndDrain(wf.key, ada, { projectId: 'p2' });
      const base = { ref: 'limit', limit: 1, window: 'P1D' };
      expect(a1.status).toBe('COMPLETED');
      expect(detail(a1, 'THROTTLE_PASSED')).toEqual({ ...base, key: 'p1', count: 1 });
      expect(a2.status).toBe('THROTTLED');
      expect(detail(a2, 'THROTTLED')).toEqual({ ...base, key: 'p1', count: 1 });
      expect(b1.status).toBe('COMPLETED');
      expect(detail(b1, 'THROTTLE_PASSED')).toEqual({ ...base, key: 'p2', count: 1 });
    });
  });

  describe('digest', () => {
    it('FIXED: five runs of a user become one collecting run that sends the digest; four end DIGESTED', async () => {
      const template = await k.smsTemplate('{{digest.count}} updates for {{data.n}}');
      const wf = await k.workflow([
        { ref: 'collect', type: 'digest', window: 'PT2S' },
        { ref: 'send', type: 'send', template },
      ]);
      const ada = await k.user();
      const started = [];
      for (let n = 1; n <= 5; n++) started.push(await k.trigger({ workflowKey: wf.key, userId: ada, data: { n } }));
      await k.drain(100);
      const runs = await Promise.all(started.map((r) => k.run(r.id)));
      const [collector, ...joined] = runs;
      expect(collector).toMatchObject({ status: 'WAITING', step: 'collect' });
      expect(types(collector)).toEqual(['STARTED', 'TIMEZONE', 'DIGEST_OPENED', 'WAITING']);
      const opened = detail(collector, 'DIGEST_OPENED');
      expect(opened).toEqual({
        ref: 'collect',
        digestId: expect.any(String),
        closeAt: collector.resumeAt,
        key: null,
        mode: 'FIXED',
      });
      const openedAt = collector.history.find((h: any) => h.type === 'DIGEST_OPENED').at;
      expect(ms(opened.closeAt)).toBe(ms(openedAt) + 2000);
      expect(detail(collector, 'WAITING')).toMatchObject({ ref: 'collect', reason: 'DIGEST', until: opened.closeAt });
      joined.forEach((run, i) => {
        expect(run).toMatchObject({ status: 'DIGESTED', step: 'collect', resumeAt: null, messages: [] });
        expect(types(run)).toEqual(['STARTED', 'TIMEZONE', 'DIGESTED']);
        expect(detail(run, 'DIGESTED')).toEqual({
          ref: 'collect',
          digestId: opened.digestId,
          into: collector.id,
          count: i + 2,
          key: null,
        });
      });

      await k.drain(2500);
      const done = await k.run(collector.id);
      expect(done.status).toBe('COMPLETED');
      expect(types(done)).toEqual([
        'STARTED',
        'TIMEZONE',
        'DIGEST_OPENED',
        'WAITING',
        'RESUMED',
        'DIGEST_CLOSED',
        'SENT',
        'COMPLETED',
      ]);
      expect(detail(done, 'DIGEST_CLOSED')).toEqual({
        ref: 'collect',
        digestId: opened.digestId,
        count: 5,
        closedBy: 'WINDOW',
      });
      expect(done.messages).toHaveLength(1);
      expect(done.messages[0]).toMatchObject({ status: 'SENT', data: { n: 1 } });
      const { plan, sendOptions } = await k.messageRow(done.messages[0].id);
      expect(plan.rendered.sms.body).toBe('5 updates for 1');
      const lastJoined = runs[4].history.find((h: any) => h.type === 'DIGESTED').at;
      expect(sendOptions.digest).toEqual({
        count: 5,
        items: [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }],
        firstAt: openedAt,
        lastAt: lastJoined,
      });
      // the joined runs stay as they ended
      for (const run of joined) expect((await k.run(run.id)).status).toBe('DIGESTED');
    });

    it('maxItems closes the bucket early: the collector goes on at once and the next run opens a new bucket', async () => {
      const template = await k.smsTemplate('{{digest.count}}');
      const wf = await k.workflow([
        { ref: 'collect', type: 'digest', window: 'PT1H', maxItems: 3 },
        { ref: 'send', type: 'send', template },
      ]);
      const ada = await k.user();
      const started = [];
      for (let n = 1; n <= 4; n++) started.push(await k.trigger({ workflowKey: wf.key, userId: ada, data: { n } }));
      await k.drain();
      const [collector, second, third, fourth] = await Promise.all(started.map((r) => k.run(r.id)));
      expect(collector.status).toBe('COMPLETED');
      const first = detail(collector, 'DIGEST_OPENED');
      expect(detail(collector, 'DIGEST_CLOSED')).toEqual({
        ref: 'collect',
        digestId: first.digestId,
        count: 3,
        closedBy: 'MAX_ITEMS',
      });
      expect(ms(detail(collector, 'RESUMED').dueAt)).toBeLessThan(ms(first.closeAt));
      const { plan, sendOptions } = await k.messageRow(collector.messages[0].id);
      expect(plan.rendered.sms.body).toBe('3');
      expect(sendOptions.digest.items).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      expect([second, third].map((r) => detail(r, 'DIGESTED'))).toEqual([
        { ref: 'collect', digestId: first.digestId, into: collector.id, count: 2, key: null },
        { ref: 'collect', digestId: first.digestId, into: collector.id, count: 3, key: null },
      ]);
      expect(fourth).toMatchObject({ status: 'WAITING', step: 'collect' });
      const reopened = detail(fourth, 'DIGEST_OPENED');
      expect(reopened.digestId).not.toBe(first.digestId);
      expect(ms(fourth.resumeAt)).toBe(ms(reopened.closeAt));
      expect(ms(fourth.resumeAt)).toBeGreaterThan(Date.now() + 3_500_000);

      // the same when the run that fills the bucket comes in a later batch than its collector
      const bob = await k.user();
      const opener = await k.trigger({ workflowKey: wf.key, userId: bob, data: { n: 1 } });
      await k.drain();
      expect((await k.run(opener.id)).status).toBe('WAITING');
      for (let n = 2; n <= 3; n++) await k.trigger({ workflowKey: wf.key, userId: bob, data: { n } });
      await k.drain();
      const filled = await k.run(opener.id);
      expect(filled.status).toBe('COMPLETED');
      expect(detail(filled, 'DIGEST_CLOSED')).toMatchObject({ count: 3, closedBy: 'MAX_ITEMS' });
      expect((await k.messageRow(filled.messages[0].id)).sendOptions.digest.items).toEqual([
        { n: 1 },
        { n: 2 },
        { n: 3 },
      ]);
    });

    it('a key keeps separate buckets; a digest. condition after the digest step reads the count', async () => {
      const many = await k.smsTemplate('{{digest.count}} in {{data.projectId}}');
      const wf = await k.workflow([
        { ref: 'collect', type: 'digest', window: 'PT2S', key: 'data.projectId' },
        { ref: 'many', type: 'send', template: many, when: { path: 'digest.count', op: 'GTE', value: 2 } },
      ]);
      const ada = await k.user();
      const p1a = await k.trigger({ workflowKey: wf.key, userId: ada, data: { projectId: 'p1' } });
      const p2 = await k.trigger({ workflowKey: wf.key, userId: ada, data: { projectId: 'p2' } });
      const p1b = await k.trigger({ workflowKey: wf.key, userId: ada, data: { projectId: 'p1' } });
      await k.drain(100);
      expect((await k.run(p1a.id)).status).toBe('WAITING');
      expect((await k.run(p2.id)).status).toBe('WAITING');
      const joined = await k.run(p1b.id);
      expect(detail(joined, 'DIGESTED')).toMatchObject({ into: p1a.id, count: 2, key: 'p1' });
      expect(detail(await k.run(p2.id), 'DIGEST_OPENED')).toMatchObject({ key: 'p2' });

      await k.drain(2500);
      const one = await k.run(p1a.id);
      const two = await k.run(p2.id);
      expect(detail(one, 'DIGEST_CLOSED').count).toBe(2);
      expect(one.status).toBe('COMPLETED');
      expect(details(one, 'SENT').map((d: any) => d.ref)).toEqual(['many']);
      expect((await k.messageRow(one.messages[0].id)).plan.rendered.sms.body).toBe('2 in p1');
      expect(detail(two, 'DIGEST_CLOSED').count).toBe(1);
      expect(two.status).toBe('COMPLETED');
      expect(two.messages).toEqual([]);
      expect(detail(two, 'STEP_SKIPPED')).toEqual({
        ref: 'many',
        type: 'send',
        trace: [expect.objectContaining({ path: 'digest.count', op: 'GTE', expected: 2, actual: 1, found: true })],
      });
    });

    it('SLIDING moves the close to the last item + window, never past maxWindow after opening', async () => {
      const template = await k.smsTemplate('{{digest.count}}');
      const wf = await k.workflow([
        { ref: 'collect', type: 'digest', window: 'PT3S', mode: 'SLIDING', maxWindow: 'PT4S' },
        { ref: 'send', type: 'send', template },
      ]);
      const ada = await k.user();
      const first = await k.trigger({ workflowKey: wf.key, userId: ada, data: { n: 1 } });
      await k.drain(50);
      const collector = await k.run(first.id);
      const opened = detail(collector, 'DIGEST_OPENED');
      expect(opened.mode).toBe('SLIDING');
      const openedAt = ms(collector.history.find((h: any) => h.type === 'DIGEST_OPENED').at);
      expect(ms(collector.resumeAt)).toBe(openedAt + 3000);

      await sleep(Math.max(0, openedAt + 1800 - Date.now()));
      const second = await k.trigger({ workflowKey: wf.key, userId: ada, data: { n: 2 } });
      await k.drain(50);
      const joined = await k.run(second.id);
      expect(detail(joined, 'DIGESTED')).toMatchObject({ into: first.id, count: 2 });
      // the second item's time + 3 s is past opening + 4 s: the close is capped there
      const joinedAt = ms(joined.history.find((h: any) => h.type === 'DIGESTED').at);
      expect(joinedAt + 3000).toBeGreaterThan(openedAt + 4000);
      const [bucket] = await k.t.db.rows<{ close_at: unknown }>('SELECT close_at FROM workflow_digests WHERE id = ?', [
        opened.digestId,
      ]);
      expect(fromDbTime(bucket.close_at)).toEqual(new Date(openedAt + 4000));

      await k.drain(2500);
      const done = await k.run(first.id);
      expect(done.status).toBe('COMPLETED');
      expect(types(done)).toEqual([
        'STARTED',
        'TIMEZONE',
        'DIGEST_OPENED',
        'WAITING',
        'RESUMED',
        'WAITING',
        'RESUMED',
        'DIGEST_CLOSED',
        'SENT',
        'COMPLETED',
      ]);
      const waits = details(done, 'WAITING');
      expect(waits.map((w: any) => ms(w.until))).toEqual([openedAt + 3000, openedAt + 4000]);
      expect(waits[1].reason).toBe('DIGEST');
      expect(detail(done, 'DIGEST_CLOSED')).toMatchObject({ count: 2, closedBy: 'WINDOW' });
      expect((await k.messageRow(done.messages[0].id)).plan.rendered.sms.body).toBe('2');
    });

    it('SLIDING without maxWindow moves the close to the last item + window', async () => {
      const wf = await k.workflow([
        { ref: 'collect', type: 'digest', window: 'PT2S', mode: 'SLIDING' },
        { ref: 'send', type: 'send', template: await k.smsTemplate('{{digest.count}}') },
      ]);
      const ada = await k.user();
      const first = await k.trigger({ workflowKey: wf.key, userId: ada, data: { n: 1 } });
      await k.drain(50);
      const openedAt = ms((await k.run(first.id)).history.find((h: any) => h.type === 'DIGEST_OPENED').at);
      await sleep(Math.max(0, openedAt + 1000 - Date.now()));
      const second = await k.trigger({ workflowKey: wf.key, userId: ada, data: { n: 2 } });
      await k.drain(50);
      const joinedAt = ms((await k.run(second.id)).history.find((h: any) => h.type === 'DIGESTED').at);
      await k.drain(2500);
      const done = await k.run(first.id);
      expect(done.status).toBe('COMPLETED');
      expect(details(done, 'WAITING').map((w: any) => ms(w.until))).toEqual([openedAt + 2000, joinedAt + 2000]);
      expect(detail(done, 'DIGEST_CLOSED')).toMatchObject({ count: 2, closedBy: 'WINDOW' });
    });
  });

  it('a cancelled collector leaves no open bucket: a later run opens its own and sends', async () => {
    const template = await k.smsTemplate('{{digest.count}}');
    const wf = await k.workflow(
      [
        { ref: 'collect', type: 'digest', window: 'PT2S' },
        { ref: 'send', type: 'send', template },
      ],
      { cancelKeyPath: 'data.cartId' },
    );
    const ada = await k.user();
    const first = await k.startAndDrain(wf.key, ada, { cartId: 'a' });
    expect(first.status).toBe('WAITING');
    expect(
      (await k.q('mutation($w: String!) { cancelRuns(workflowKey: $w, cancelKey: "a") }', { w: wf.key })).cancelRuns,
    ).toBe(1);
    const later = await k.startAndDrain(wf.key, ada, { cartId: 'b' });
    expect(later).toMatchObject({ status: 'WAITING', step: 'collect' });
    expect(detail(later, 'DIGEST_OPENED').digestId).not.toBe(detail(first, 'DIGEST_OPENED').digestId);
    await k.drain(2500);
    const done = await k.run(later.id);
    expect(done.status).toBe('COMPLETED');
    expect(detail(done, 'DIGEST_CLOSED').count).toBe(1);
    expect(done.messages).toHaveLength(1);
    expect((await k.run(first.id)).status).toBe('CANCELLED');
  });

  describe('with several workers at once', () => {
    /** Triggers `n` runs of one user, then drains three workers together (batches of up to 8 each). */
    async function crowd(workflowKey: string, n: number): Promise<any[]> {
      const userId = await k.user();
      const started = [];
      for (let i = 1; i <= n; i++) started.push(await k.trigger({ workflowKey, userId, data: { i } }));
      const workers = [k.t.worker({ id: uid('wa') }), k.t.worker({ id: uid('wb') }), k.t.worker({ id: uid('wc') })];
      await Promise.all(workers.map((w) => w.drain(300)));
      return Promise.all(started.map((r) => k.run(r.id)));
    }

    it('a throttle admits exactly its limit', async () => {
      const wf = await k.workflow([
        { ref: 'limit', type: 'throttle', limit: 3, window: 'PT1H' },
        { ref: 'send', type: 'send', template: await k.smsTemplate() },
      ]);
      const runs = await crowd(wf.key, 20);
      const statuses = runs.map((r) => r.status);
      expect(statuses.filter((s) => s === 'COMPLETED')).toHaveLength(3);
      expect(statuses.filter((s) => s === 'THROTTLED')).toHaveLength(17);
      const passed = runs.filter((r) => r.status === 'COMPLETED').map((r) => detail(r, 'THROTTLE_PASSED').count);
      expect(passed.sort()).toEqual([1, 2, 3]);
      for (const r of runs.filter((r) => r.status === 'THROTTLED'))
        expect(detail(r, 'THROTTLED')).toMatchObject({ count: 3, limit: 3 });
    });

    it('a digest has one open bucket: one collector, every other run digested into it', async () => {
      const wf = await k.workflow([
        { ref: 'collect', type: 'digest', window: 'PT2S' },
        { ref: 'send', type: 'send', template: await k.smsTemplate('{{digest.count}}') },
      ]);
      const runs = await crowd(wf.key, 20);
      const collectors = runs.filter((r) => r.status === 'WAITING');
      expect(collectors).toHaveLength(1);
      const [collector] = collectors;
      const digested = runs.filter((r) => r.status === 'DIGESTED');
      expect(digested).toHaveLength(19);
      for (const r of digested) expect(detail(r, 'DIGESTED').into).toBe(collector.id);
      expect(digested.map((r) => detail(r, 'DIGESTED').count).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 19 }, (_, i) => i + 2),
      );
      await k.drain(2500);
      const done = await k.run(collector.id);
      expect(done.status).toBe('COMPLETED');
      expect(detail(done, 'DIGEST_CLOSED').count).toBe(20);
      const { plan, sendOptions } = await k.messageRow(done.messages[0].id);
      expect(plan.rendered.sms.body).toBe('20');
      expect(sendOptions.digest.items.map((d: any) => d.i).sort((a: number, b: number) => a - b)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    });
  });

  it('a Segment retry of the same messageId is not counted twice in a digest', async () => {
    const wf = await k.workflow([
      { ref: 'collect', type: 'digest', window: 'PT2S' },
      { ref: 'send', type: 'send', template: await k.smsTemplate('{{digest.count}}') },
    ]);
    const event = uid('Comment');
    await k.mapWorkflow(event, wf.id);
    const userId = await k.user();
    const messageId = uid('seg');
    await k.track(userId, event, { n: 1 }, { messageId });
    await k.track(userId, event, { n: 1 }, { messageId });
    await k.track(userId, event, { n: 2 }, { messageId: uid('seg') });
    await k.drain(2500);
    const runs = await k.runs({ workflowKey: wf.key });
    const collector = runs.find((r: any) => r.status === 'COMPLETED');
    expect(detail(collector, 'DIGEST_CLOSED').count).toBe(2);
    expect((await k.messageRow(collector.messages[0].id)).plan.rendered.sms.body).toBe('2');
    expect(runs.filter((r: any) => r.status === 'DIGESTED')).toHaveLength(1);
  });
});
