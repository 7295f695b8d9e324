import { DateTime } from 'luxon';
import { fromDbTime } from '../../src/db/dialect';
import { uid } from '../helpers/test-app';
import { detail, details, sleep, startRunKit, types, type RunKit } from './run-helpers';

/**
 * The steps of README "Workflows" run end to end (CONTRACT §4): delays of every form, send windows in the
 * recipient's zone, `when` skips and exits, throttles and digests — each asserted by the run's status,
 * due time, history entries and their details, and the messages it created. Long waits are not slept:
 * the run's due time is moved (what a clock moving on would do) and the worker drained.
 */

const DAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
const dayCode = (d: DateTime) => DAYS[d.weekday - 1];
const ms = (iso: string) => new Date(iso).getTime();

/** A fixed-offset zone (no DST) whose local hour is `hour` now. */
function zoneAt(hour: number): string {
  let offset = (((hour - new Date().getUTCHours()) % 24) + 24) % 24;
  if (offset > 12) offset -= 24;
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

/** The next instant at or after `from` whose local time in `zone` is `time` on one of `days` — computed here with luxon alone. */
function nextLocal(from: Date, zone: string, time: string, days?: string[]): Date {
  const [hour, minute] = time.split(':').map(Number);
  for (let k = 0; k < 9; k++) {
    const day = DateTime.fromJSDate(from, { zone }).startOf('day').plus({ days: k });
    if (days && !days.includes(dayCode(day))) continue;
    const at = day.set({ hour, minute });
    if (at.toMillis() >= from.getTime()) return at.toJSDate();
  }
  throw new Error('no such time');
}

describe('workflow steps, run end to end', () => {
  let k: RunKit;
  beforeAll(async () => {
    k = await startRunKit();
  });
  afterAll(() => k.t.close());

  /** A user with a phone (so SMS is available) and the given traits. */
  async function user(traits: Record<string, unknown> = {}): Promise<string> {
    const userId = uid('u');
    await k.identify(userId, { phone_number: '+15555550100', ...traits });
    return userId;
  }

  async function startAndDrain(workflowKey: string, userId: string, data: Record<string, unknown> = {}) {
    const started = await k.trigger({ workflowKey, userId, data });
    await k.drain();
    return k.run(started.id);
  }

  async function messageRow(id: string): Promise<{ plan: any; sendOptions: any }> {
    const [row] = await k.t.db.rows<{ plan: unknown; send_options: unknown }>(
      'SELECT plan, send_options FROM messages WHERE id = ?',
      [id],
    );
    const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
    return { plan: parse(row.plan), sendOptions: parse(row.send_options) };
  }

  describe('delay', () => {
    it('duration: WAITING until now + duration; when due, it resumes and sends', async () => {
      const template = await k.smsTemplate();
      const wf = await k.workflow([
        { ref: 'wait', type: 'delay', duration: 'PT1H' },
        { ref: 'send', type: 'send', template },
      ]);
      const userId = await user();
      const waiting = await startAndDrain(wf.key, userId, { name: 'Ada' });
      expect(waiting).toMatchObject({ status: 'WAITING', step: 'wait', reason: null, timezone: 'UTC', version: 1 });
      // the runner's "now" is the run's updatedAt
      expect(ms(waiting.resumeAt)).toBe(ms(waiting.updatedAt) + 3_600_000);
      expect(types(waiting)).toEqual(['STARTED', 'TIMEZONE', 'WAITING']);
      expect(detail(waiting, 'STARTED')).toEqual({
        workflowId: wf.id,
        version: 1,
        source: 'trigger',
        eventId: null,
        idempotencyKey: null,
        cancelKey: null,
      });
      expect(detail(waiting, 'TIMEZONE')).toEqual({ zone: 'UTC', source: 'default' });
      const w = detail(waiting, 'WAITING');
      expect(w).toEqual({
        ref: 'wait',
        until: waiting.resumeAt,
        zone: 'UTC',
        reason: 'DELAY',
        because: 'duration PT1H',
        localUntil: expect.any(String),
      });
      expect(ms(w.localUntil)).toBe(ms(waiting.resumeAt));
      expect(waiting.messages).toEqual([]);

      // nothing happens before the due time
      await k.drain();
      expect((await k.run(waiting.id)).status).toBe('WAITING');

      const dueAt = new Date(Date.now() - 5000);
      await k.makeDue(waiting.id, dueAt);
      await k.drain();
      const done = await k.run(waiting.id);
      expect(done).toMatchObject({ status: 'COMPLETED', step: 'send', resumeAt: null });
      expect(types(done)).toEqual(['STARTED', 'TIMEZONE', 'WAITING', 'RESUMED', 'SENT', 'COMPLETED']);
      expect(detail(done, 'RESUMED')).toEqual({ ref: 'wait', dueAt: dueAt.toISOString(), lateMs: expect.any(Number) });
      expect(detail(done, 'RESUMED').lateMs).toBeGreaterThanOrEqual(5000);
      expect(detail(done, 'COMPLETED')).toEqual({ steps: 2 });
      expect(done.messages).toEqual([
        { id: expect.any(String), status: 'SENT', channel: 'SMS', data: { name: 'Ada' }, template: { key: template } },
      ]);
      expect(detail(done, 'SENT')).toEqual({
        ref: 'send',
        messageId: done.messages[0].id,
        template,
        templateId: expect.any(String),
      });
    });

    it('until: a time already past continues at once (DELAY_PASSED); a future one waits until exactly then', async () => {
      const template = await k.smsTemplate();
      const past = '2020-01-01T00:00:00.000Z';
      const wf = await k.workflow([
        { ref: 'wait', type: 'delay', until: past },
        { ref: 'send', type: 'send', template },
      ]);
      const done = await startAndDrain(wf.key, await user());
      expect(done.status).toBe('COMPLETED');
      expect(types(done)).toEqual(['STARTED', 'TIMEZONE', 'DELAY_PASSED', 'SENT', 'COMPLETED']);
      expect(detail(done, 'DELAY_PASSED')).toEqual({ ref: 'wait', until: past, because: `until ${past}` });
      expect(done.messages).toHaveLength(1);

      const future = DateTime.utc().plus({ days: 2 }).startOf('second').toISO()!;
      const later = await k.workflow([
        { ref: 'wait', type: 'delay', until: future },
        { ref: 'send', type: 'send', template },
      ]);
      const waiting = await startAndDrain(later.key, await user());
      expect(waiting).toMatchObject({ status: 'WAITING', step: 'wait' });
      expect(ms(waiting.resumeAt)).toBe(ms(future));
      expect(detail(waiting, 'WAITING')).toMatchObject({ reason: 'DELAY', because: `until ${future}` });
    });

    it('untilPath with a negative offset waits until the data time minus the offset; one already past goes on', async () => {
      const template = await k.smsTemplate();
      const wf = await k.workflow([
        { ref: 'wait', type: 'delay', untilPath: 'data.appointmentAt', offset: '-PT1H' },
        { ref: 'send', type: 'send', template },
      ]);
      const appointmentAt = DateTime.utc().plus({ hours: 3 }).startOf('second').toISO()!;
      const waiting = await startAndDrain(wf.key, await user(), { appointmentAt });
      expect(waiting).toMatchObject({ status: 'WAITING', step: 'wait' });
      expect(ms(waiting.resumeAt)).toBe(ms(appointmentAt) - 3_600_000);
      expect(detail(waiting, 'WAITING')).toMatchObject({
        reason: 'DELAY',
        until: waiting.resumeAt,
        because: `data.appointmentAt = ${appointmentAt} with offset -PT1H`,
      });

      // 30 minutes ahead, minus an hour: already past
      const soon = DateTime.utc().plus({ minutes: 30 }).toISO()!;
      const passed = await startAndDrain(wf.key, await user(), { appointmentAt: soon });
      expect(passed.status).toBe('COMPLETED');
      expect(types(passed)).toEqual(['STARTED', 'TIMEZONE', 'DELAY_PASSED', 'SENT', 'COMPLETED']);
      expect(ms(detail(passed, 'DELAY_PASSED').until)).toBe(ms(soon) - 3_600_000);
    });

    it('untilPath missing or not a time ends the run FAILED INVALID_DELAY; onInvalid CONTINUE goes on', async () => {
      const template = await k.smsTemplate();
      const steps = (extra: Record<string, unknown>) => [
        { ref: 'wait', type: 'delay', untilPath: 'data.appointmentAt', ...extra },
        { ref: 'send', type: 'send', template },
      ];
      const failing = await k.workflow(steps({}));
      for (const [data, value] of [
        [{}, null],
        [{ appointmentAt: 'next tuesday' }, 'next tuesday'],
        [{ appointmentAt: 1767225600000 }, 1767225600000],
        [{ appointmentAt: DateTime.utc().plus({ days: 400 }).toISO() }, 'far'],
      ] as const) {
        const run = await startAndDrain(failing.key, await user(), data);
        expect(run).toMatchObject({ status: 'FAILED', reason: 'INVALID_DELAY', step: 'wait', resumeAt: null });
        expect(types(run)).toEqual(['STARTED', 'TIMEZONE', 'INVALID_DELAY', 'FAILED']);
        expect(detail(run, 'INVALID_DELAY')).toEqual({
          ref: 'wait',
          path: 'data.appointmentAt',
          value: value === 'far' ? (data as any).appointmentAt : value,
          onInvalid: 'FAIL',
        });
        expect(detail(run, 'FAILED')).toEqual({ reason: 'INVALID_DELAY', ref: 'wait', message: expect.any(String) });
        expect(run.messages).toEqual([]);
      }

      const continuing = await k.workflow(steps({ onInvalid: 'CONTINUE' }));
      const run = await startAndDrain(continuing.key, await user(), { appointmentAt: 'soon' });
      expect(run).toMatchObject({ status: 'COMPLETED', reason: null });
      expect(types(run)).toEqual(['STARTED', 'TIMEZONE', 'INVALID_DELAY', 'SENT', 'COMPLETED']);
      expect(detail(run, 'INVALID_DELAY')).toEqual({
        ref: 'wait',
        path: 'data.appointmentAt',
        value: 'soon',
        onInvalid: 'CONTINUE',
      });
      expect(run.messages).toHaveLength(1);
    });

    it("at: the next such local time in the profile's zone", async () => {
      const template = await k.smsTemplate();
      const days = ['MO', 'WE'];
      const wf = await k.workflow([
        { ref: 'wait', type: 'delay', at: { time: '09:00', days } },
        { ref: 'send', type: 'send', template },
      ]);
      const zone = 'America/New_York';
      const run = await startAndDrain(wf.key, await user({ timezone: zone }));
      expect(run).toMatchObject({ status: 'WAITING', timezone: zone });
      expect(detail(run, 'TIMEZONE')).toEqual({ zone, source: 'profile' });
      const expected = nextLocal(new Date(run.updatedAt), zone, '09:00', days);
      expect(ms(run.resumeAt)).toBe(expected.getTime());
      const local = DateTime.fromISO(run.resumeAt, { zone });
      expect([local.hour, local.minute, days.includes(dayCode(local))]).toEqual([9, 0, true]);
      expect(detail(run, 'WAITING')).toEqual({
        ref: 'wait',
        until: run.resumeAt,
        zone,
        reason: 'DELAY',
        because: `next 09:00 on MO,WE (${zone})`,
        localUntil: expect.stringMatching(/T09:00:00(\.000)?-0[45]:00$/),
      });
    });

    it("at: the event's context.timezone when the profile has none (or an invalid one), else the default", async () => {
      const template = await k.smsTemplate();
      const wf = await k.workflow([
        { ref: 'wait', type: 'delay', at: { time: '07:30' } },
        { ref: 'send', type: 'send', template },
      ]);
      const event = uid('Booked');
      await k.mapWorkflow(event, wf.id);
      const plain = await user();
      const invalid = await user({ timezone: 'Mars/Olympus_Mons' });
      for (const userId of [plain, invalid])
        await k.track(userId, event, { n: 1 }, { context: { timezone: 'Asia/Tokyo' } });
      await k.drain();
      const byUser = async (userId: string) => (await k.runs({ workflowKey: wf.key, userId }))[0];
      for (const userId of [plain, invalid]) {
        const run = await byUser(userId);
        expect(run).toMatchObject({ status: 'WAITING', timezone: 'Asia/Tokyo', userId, data: { n: 1 } });
        expect(run.event.name).toBe(`Segment-TrackEvent:${event}`);
        expect(detail(run, 'TIMEZONE')).toEqual({
          zone: 'Asia/Tokyo',
          source: 'event',
          ...(userId === invalid ? { ignored: ['profile.timezone'] } : {}),
        });
        expect(ms(run.resumeAt)).toBe(nextLocal(new Date(run.updatedAt), 'Asia/Tokyo', '07:30').getTime());
      }

      // no profile at all, no event zone: the default (UTC), on the one day given
      const day = dayCode(DateTime.utc().plus({ days: 3 }));
      const onDay = await k.workflow([
        { ref: 'wait', type: 'delay', at: { time: '06:00', days: [day] } },
        { ref: 'send', type: 'send', template },
      ]);
      const run = await startAndDrain(onDay.key, uid('nobody'));
      expect(run).toMatchObject({ status: 'WAITING', timezone: 'UTC' });
      expect(detail(run, 'TIMEZONE')).toEqual({ zone: 'UTC', source: 'default' });
      expect(ms(run.resumeAt)).toBe(nextLocal(new Date(run.updatedAt), 'UTC', '06:00', [day]).getTime());
    });
  });

  describe('send windows', () => {
    it("a workflow window closed now waits (SEND_WINDOW) for the next opening in the recipient's zone", async () => {
      const template = await k.smsTemplate();
      const zone = zoneAt(12); // local noon-ish: 15:00–17:00 is closed
      const wf = await k.workflow([{ ref: 'send', type: 'send', template }], {
        window: { from: '15:00', until: '17:00' },
      });
      const run = await startAndDrain(wf.key, await user({ timezone: zone }));
      expect(run).toMatchObject({ status: 'WAITING', step: 'send', timezone: zone });
      const expected = nextLocal(new Date(run.updatedAt), zone, '15:00');
      expect(ms(run.resumeAt)).toBe(expected.getTime());
      expect(types(run)).toEqual(['STARTED', 'TIMEZONE', 'WAITING']);
      expect(detail(run, 'WAITING')).toEqual({
        ref: 'send',
        until: expected.toISOString(),
        zone,
        reason: 'SEND_WINDOW',
        because: `send window 15:00–17:00 (${zone})`,
        localUntil: expect.stringMatching(/T15:00:00/),
      });
      expect(run.messages).toEqual([]);

      // due early (the clock says the window is still closed): it sends nothing and waits again
      await k.makeDue(run.id);
      await k.drain();
      const again = await k.run(run.id);
      expect(again).toMatchObject({ status: 'WAITING', resumeAt: expected.toISOString(), messages: [] });
      expect(types(again)).toEqual(['STARTED', 'TIMEZONE', 'WAITING', 'RESUMED', 'WAITING']);

      // with days: the next allowed day's opening
      const tomorrow = dayCode(DateTime.now().setZone(zone).plus({ days: 1 }));
      const byDay = await k.workflow([{ ref: 'send', type: 'send', template }], {
        window: { days: [tomorrow], from: '08:00', until: '20:00' },
      });
      const later = await startAndDrain(byDay.key, await user({ timezone: zone }));
      expect(later.status).toBe('WAITING');
      expect(ms(later.resumeAt)).toBe(nextLocal(new Date(later.updatedAt), zone, '08:00', [tomorrow]).getTime());
      expect(detail(later, 'WAITING').because).toBe(`send window 08:00–20:00 on ${tomorrow} (${zone})`);
    });

    it("the send step's window wins over the workflow's", async () => {
      const template = await k.smsTemplate();
      const zone = zoneAt(12);
      const open = { from: '11:00', until: '14:00' };
      const closed = { from: '15:00', until: '17:00' };
      const stepOpen = await k.workflow([{ ref: 'send', type: 'send', template, window: open }], { window: closed });
      const sent = await startAndDrain(stepOpen.key, await user({ timezone: zone }));
      expect(sent.status).toBe('COMPLETED');
      expect(types(sent)).toEqual(['STARTED', 'TIMEZONE', 'SENT', 'COMPLETED']);
      expect(sent.messages).toHaveLength(1);

      const stepClosed = await k.workflow([{ ref: 'send', type: 'send', template, window: closed }], { window: open });
      const held = await startAndDrain(stepClosed.key, await user({ timezone: zone }));
      expect(held).toMatchObject({ status: 'WAITING', messages: [] });
      expect(ms(held.resumeAt)).toBe(nextLocal(new Date(held.updatedAt), zone, '15:00').getTime());
      expect(detail(held, 'WAITING').reason).toBe('SEND_WINDOW');
    });

    it('from later than until spans midnight; the hours after midnight belong to the day the window opened', async () => {
      const template = await k.smsTemplate();
      const night = { from: '22:00', until: '06:00' };
      const send = [{ ref: 'send', type: 'send', template }];

      // 23:xx local: open
      const late = await k.workflow(send, { window: night });
      const atNight = await startAndDrain(late.key, await user({ timezone: zoneAt(23) }));
      expect(atNight.status).toBe('COMPLETED');
      expect(atNight.messages).toHaveLength(1);

      // 03:xx local: open when yesterday is one of the days, closed when only today is
      const zone = zoneAt(3);
      const today = DateTime.now().setZone(zone);
      const yesterday = dayCode(today.minus({ days: 1 }));
      const viaYesterday = await k.workflow(send, { window: { ...night, days: [yesterday] } });
      const early = await startAndDrain(viaYesterday.key, await user({ timezone: zone }));
      expect(early.status).toBe('COMPLETED');
      const onlyToday = await k.workflow(send, { window: { ...night, days: [dayCode(today)] } });
      const held = await startAndDrain(onlyToday.key, await user({ timezone: zone }));
      expect(held.status).toBe('WAITING');
      expect(ms(held.resumeAt)).toBe(nextLocal(new Date(held.updatedAt), zone, '22:00', [dayCode(today)]).getTime());
      expect(DateTime.fromISO(held.resumeAt, { zone }).hasSame(today, 'day')).toBe(true);

      // 12:xx local: closed until 22:00 today
      const noon = zoneAt(12);
      const midday = await startAndDrain(late.key, await user({ timezone: noon }));
      expect(midday.status).toBe('WAITING');
      expect(ms(midday.resumeAt)).toBe(nextLocal(new Date(midday.updatedAt), noon, '22:00').getTime());
    });
  });

  describe('when and exit', () => {
    it('a step whose when is false is skipped, with the trace', async () => {
      const vip = await k.smsTemplate('VIP');
      const all = await k.smsTemplate('All');
      const wf = await k.workflow([
        { ref: 'vip', type: 'send', template: vip, when: { path: 'data.vip', op: 'EQ', value: true } },
        { ref: 'wait', type: 'delay', duration: 'P1D', when: { path: 'profile.plan', op: 'EQ', value: 'slow' } },
        { ref: 'all', type: 'send', template: all },
      ]);
      const run = await startAndDrain(wf.key, await user({ plan: 'fast' }), { vip: false });
      expect(run.status).toBe('COMPLETED');
      expect(types(run)).toEqual(['STARTED', 'TIMEZONE', 'STEP_SKIPPED', 'STEP_SKIPPED', 'SENT', 'COMPLETED']);
      expect(details(run, 'STEP_SKIPPED')).toEqual([
        {
          ref: 'vip',
          type: 'send',
          trace: [expect.objectContaining({ path: 'data.vip', op: 'EQ', expected: true, actual: false, found: true })],
        },
        {
          ref: 'wait',
          type: 'delay',
          trace: [
            expect.objectContaining({ path: 'profile.plan', op: 'EQ', expected: 'slow', actual: 'fast', found: true }),
          ],
        },
      ]);
      expect(run.messages.map((m: any) => m.template.key)).toEqual([all]);

      const vipRun = await startAndDrain(wf.key, await user({ plan: 'fast' }), { vip: true });
      expect(vipRun.messages.map((m: any) => m.template.key)).toEqual([vip, all]);
      expect(details(vipRun, 'SENT').map((d: any) => d.ref)).toEqual(['vip', 'all']);
    });

    it('an exit step ends the run EXITED when its condition holds, and is skipped otherwise', async () => {
      const template = await k.smsTemplate();
      const wf = await k.workflow([
        { ref: 'stop', type: 'exit', when: { path: 'data.paid', op: 'EQ', value: true } },
        { ref: 'send', type: 'send', template },
      ]);
      const exited = await startAndDrain(wf.key, await user(), { paid: true });
      expect(exited).toMatchObject({ status: 'EXITED', step: 'stop', reason: null, resumeAt: null, messages: [] });
      expect(types(exited)).toEqual(['STARTED', 'TIMEZONE', 'EXITED']);
      expect(detail(exited, 'EXITED')).toEqual({
        ref: 'stop',
        trace: [expect.objectContaining({ path: 'data.paid', op: 'EQ', expected: true, actual: true, found: true })],
      });

      const went = await startAndDrain(wf.key, await user(), { paid: false });
      expect(went).toMatchObject({ status: 'COMPLETED', step: 'send' });
      expect(types(went)).toEqual(['STARTED', 'TIMEZONE', 'STEP_SKIPPED', 'SENT', 'COMPLETED']);
      expect(detail(went, 'STEP_SKIPPED')).toMatchObject({ ref: 'stop', type: 'exit' });
      expect(went.messages).toHaveLength(1);
    });
  });

  describe('throttle', () => {
    it('limit 2 per PT1H: the third run of a user ends THROTTLED; another user is not throttled', async () => {
      const template = await k.smsTemplate();
      const wf = await k.workflow([
        { ref: 'limit', type: 'throttle', limit: 2, window: 'PT1H' },
        { ref: 'send', type: 'send', template },
      ]);
      const ada = await user();
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

      const other = await startAndDrain(wf.key, await user());
      expect(other.status).toBe('COMPLETED');
      expect(detail(other, 'THROTTLE_PASSED')).toEqual({ ...passed, count: 1 });
    });

    it('a key gives each key value its own limit', async () => {
      const template = await k.smsTemplate();
      const wf = await k.workflow([
        { ref: 'limit', type: 'throttle', limit: 1, window: 'P1D', key: 'data.projectId' },
        { ref: 'send', type: 'send', template },
      ]);
      const ada = await user();
      const a1 = await startAndDrain(wf.key, ada, { projectId: 'p1' });
      const a2 = await startAndDrain(wf.key, ada, { projectId: 'p1' });
      const b1 = await startAndDrain(wf.key, ada, { projectId: 'p2' });
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
      const ada = await user();
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
      const { plan, sendOptions } = await messageRow(done.messages[0].id);
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
      const ada = await user();
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
      const { plan, sendOptions } = await messageRow(collector.messages[0].id);
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
      const bob = await user();
      const opener = await k.trigger({ workflowKey: wf.key, userId: bob, data: { n: 1 } });
      await k.drain();
      expect((await k.run(opener.id)).status).toBe('WAITING');
      for (let n = 2; n <= 3; n++) await k.trigger({ workflowKey: wf.key, userId: bob, data: { n } });
      await k.drain();
      const filled = await k.run(opener.id);
      expect(filled.status).toBe('COMPLETED');
      expect(detail(filled, 'DIGEST_CLOSED')).toMatchObject({ count: 3, closedBy: 'MAX_ITEMS' });
      expect((await messageRow(filled.messages[0].id)).sendOptions.digest.items).toEqual([
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
      const ada = await user();
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
      expect((await messageRow(one.messages[0].id)).plan.rendered.sms.body).toBe('2 in p1');
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
        { ref: 'collect', type: 'digest', window: 'PT2S', mode: 'SLIDING', maxWindow: 'PT3S' },
        { ref: 'send', type: 'send', template },
      ]);
      const ada = await user();
      const first = await k.trigger({ workflowKey: wf.key, userId: ada, data: { n: 1 } });
      await k.drain(50);
      const collector = await k.run(first.id);
      const opened = detail(collector, 'DIGEST_OPENED');
      expect(opened.mode).toBe('SLIDING');
      const openedAt = ms(collector.history.find((h: any) => h.type === 'DIGEST_OPENED').at);
      expect(ms(collector.resumeAt)).toBe(openedAt + 2000);

      await sleep(Math.max(0, openedAt + 1500 - Date.now()));
      const second = await k.trigger({ workflowKey: wf.key, userId: ada, data: { n: 2 } });
      await k.drain(50);
      const joined = await k.run(second.id);
      expect(detail(joined, 'DIGESTED')).toMatchObject({ into: first.id, count: 2 });
      // the second item's time + 2 s is past opening + 3 s: the close is capped there
      const joinedAt = ms(joined.history.find((h: any) => h.type === 'DIGESTED').at);
      expect(joinedAt + 2000).toBeGreaterThan(openedAt + 3000);
      const [bucket] = await k.t.db.rows<{ close_at: unknown }>('SELECT close_at FROM workflow_digests WHERE id = ?', [
        opened.digestId,
      ]);
      expect(fromDbTime(bucket.close_at)).toEqual(new Date(openedAt + 3000));

      await k.drain(2000);
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
      expect(waits.map((w: any) => ms(w.until))).toEqual([openedAt + 2000, openedAt + 3000]);
      expect(waits[1].reason).toBe('DIGEST');
      expect(detail(done, 'DIGEST_CLOSED')).toMatchObject({ count: 2, closedBy: 'WINDOW' });
      expect((await messageRow(done.messages[0].id)).plan.rendered.sms.body).toBe('2');
    });

    it('SLIDING without maxWindow moves the close to the last item + window', async () => {
      const wf = await k.workflow([
        { ref: 'collect', type: 'digest', window: 'PT2S', mode: 'SLIDING' },
        { ref: 'send', type: 'send', template: await k.smsTemplate('{{digest.count}}') },
      ]);
      const ada = await user();
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
});
