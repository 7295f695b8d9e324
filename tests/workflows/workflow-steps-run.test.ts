import { DateTime } from 'luxon';
import { fromDbTime, toDbTime } from '../../src/db/dialect';
import { uid } from '../helpers/test-app';
import { detail, details, startRunKit, types, type RunKit } from './run-helpers';

/**
 * The steps of README "Workflows" run end to end (README, "Workflows"): delays of every form, send windows in the
 * recipient's zone, `when` skips and exits (throttles and digests: workflow-throttle-digest-run.test.ts),
 * each asserted by the run's status, due time, history entries and their details, and the messages it
 * created. Long waits are not slept: the run's due time is moved (what a clock moving on would do) and the
 * worker drained.
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

  describe('delay', () => {
    it('duration: WAITING until now + duration; when due, it resumes and sends', async () => {
      const template = await k.smsTemplate();
      // P1D is counted in the recipient's zone, so the runner takes this step (a leading PT… delay starts
      // with the run: tests/workflows/workflow-runs.test.ts)
      const wf = await k.workflow([
        { ref: 'wait', type: 'delay', duration: 'P1D' },
        { ref: 'send', type: 'send', template },
      ]);
      const userId = await k.user();
      const waiting = await k.startAndDrain(wf.key, userId, { name: 'Ada' });
      expect(waiting).toMatchObject({ status: 'WAITING', step: 'wait', reason: null, timezone: 'UTC', version: 1 });
      // the runner's "now" is the run's updatedAt
      expect(ms(waiting.resumeAt)).toBe(ms(waiting.updatedAt) + 86_400_000);
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
        because: 'duration P1D',
        localUntil: expect.any(String),
      });
      expect(ms(w.localUntil)).toBe(ms(waiting.resumeAt));
      expect(waiting.messages).toEqual([]);

      // nothing happens before the due time, even when its job is claimed early (clocks apart)
      await k.t.db.run(`UPDATE jobs SET run_at = ? WHERE message_id = ? AND kind = 'run'`, [
        toDbTime(new Date(Date.now() - 1000)),
        waiting.id,
      ]);
      await k.drain();
      const early = await k.run(waiting.id);
      expect(early).toMatchObject({ status: 'WAITING', resumeAt: waiting.resumeAt, messages: [] });
      expect(early.history).toEqual(waiting.history);
      const jobs = await k.t.db.rows<{ run_at: unknown }>(
        `SELECT run_at FROM jobs WHERE message_id = ? AND kind = 'run'`,
        [waiting.id],
      );
      expect(jobs.map((j) => fromDbTime(j.run_at).toISOString())).toEqual([waiting.resumeAt]);

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
      const done = await k.startAndDrain(wf.key, await k.user());
      expect(done.status).toBe('COMPLETED');
      expect(types(done)).toEqual(['STARTED', 'TIMEZONE', 'DELAY_PASSED', 'SENT', 'COMPLETED']);
      expect(detail(done, 'DELAY_PASSED')).toEqual({ ref: 'wait', until: past, because: `until ${past}` });
      expect(done.messages).toHaveLength(1);

      const future = DateTime.utc().plus({ days: 2 }).startOf('second').toISO()!;
      const later = await k.workflow([
        { ref: 'wait', type: 'delay', until: future },
        { ref: 'send', type: 'send', template },
      ]);
      const waiting = await k.startAndDrain(later.key, await k.user());
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
      const waiting = await k.startAndDrain(wf.key, await k.user(), { appointmentAt });
      expect(waiting).toMatchObject({ status: 'WAITING', step: 'wait' });
      expect(ms(waiting.resumeAt)).toBe(ms(appointmentAt) - 3_600_000);
      expect(detail(waiting, 'WAITING')).toMatchObject({
        reason: 'DELAY',
        until: waiting.resumeAt,
        because: `data.appointmentAt = ${appointmentAt} with offset -PT1H`,
      });

      // 30 minutes ahead, minus an hour: already past
      const soon = DateTime.utc().plus({ minutes: 30 }).toISO()!;
      const passed = await k.startAndDrain(wf.key, await k.user(), { appointmentAt: soon });
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
        const run = await k.startAndDrain(failing.key, await k.user(), data);
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
      const run = await k.startAndDrain(continuing.key, await k.user(), { appointmentAt: 'soon' });
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
      const run = await k.startAndDrain(wf.key, await k.user({ timezone: zone }));
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
      const plain = await k.user();
      const invalid = await k.user({ timezone: 'Mars/Olympus_Mons' });
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
      const run = await k.startAndDrain(onDay.key, uid('nobody'));
      expect(run).toMatchObject({ status: 'WAITING', timezone: 'UTC' });
      expect(detail(run, 'TIMEZONE')).toEqual({ zone: 'UTC', source: 'default' });
      expect(ms(run.resumeAt)).toBe(nextLocal(new Date(run.updatedAt), 'UTC', '06:00', [day]).getTime());
    });
  });

  it('a send step whose template does not exist ends the run FAILED, TEMPLATE_NOT_FOUND', async () => {
    const wf = await k.workflow([{ ref: 'send', type: 'send', template: uid('missing') }]);
    const run = await k.startAndDrain(wf.key, await k.user());
    expect(run).toMatchObject({ status: 'FAILED', reason: 'TEMPLATE_NOT_FOUND', step: 'send', messages: [] });
    expect(types(run)).toEqual(['STARTED', 'TIMEZONE', 'FAILED']);
    expect(detail(run, 'FAILED')).toEqual({ reason: 'TEMPLATE_NOT_FOUND', ref: 'send', message: expect.any(String) });
  });

  describe('send windows', () => {
    it("a workflow window closed now waits (SEND_WINDOW) for the next opening in the recipient's zone", async () => {
      const template = await k.smsTemplate();
      const zone = zoneAt(12); // local noon-ish: 15:00–17:00 is closed
      const wf = await k.workflow([{ ref: 'send', type: 'send', template }], {
        window: { from: '15:00', until: '17:00' },
      });
      const run = await k.startAndDrain(wf.key, await k.user({ timezone: zone }));
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
      const later = await k.startAndDrain(byDay.key, await k.user({ timezone: zone }));
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
      const sent = await k.startAndDrain(stepOpen.key, await k.user({ timezone: zone }));
      expect(sent.status).toBe('COMPLETED');
      expect(types(sent)).toEqual(['STARTED', 'TIMEZONE', 'SENT', 'COMPLETED']);
      expect(sent.messages).toHaveLength(1);

      const stepClosed = await k.workflow([{ ref: 'send', type: 'send', template, window: closed }], { window: open });
      const held = await k.startAndDrain(stepClosed.key, await k.user({ timezone: zone }));
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
      const atNight = await k.startAndDrain(late.key, await k.user({ timezone: zoneAt(23) }));
      expect(atNight.status).toBe('COMPLETED');
      expect(atNight.messages).toHaveLength(1);

      // 03:xx local: open when yesterday is one of the days, closed when only today is
      const zone = zoneAt(3);
      const today = DateTime.now().setZone(zone);
      const yesterday = dayCode(today.minus({ days: 1 }));
      const viaYesterday = await k.workflow(send, { window: { ...night, days: [yesterday] } });
      const early = await k.startAndDrain(viaYesterday.key, await k.user({ timezone: zone }));
      expect(early.status).toBe('COMPLETED');
      const onlyToday = await k.workflow(send, { window: { ...night, days: [dayCode(today)] } });
      const held = await k.startAndDrain(onlyToday.key, await k.user({ timezone: zone }));
      expect(held.status).toBe('WAITING');
      expect(ms(held.resumeAt)).toBe(nextLocal(new Date(held.updatedAt), zone, '22:00', [dayCode(today)]).getTime());
      expect(DateTime.fromISO(held.resumeAt, { zone }).hasSame(today, 'day')).toBe(true);

      // 12:xx local: closed until 22:00 today
      const noon = zoneAt(12);
      const midday = await k.startAndDrain(late.key, await k.user({ timezone: noon }));
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
      const run = await k.startAndDrain(wf.key, await k.user({ plan: 'fast' }), { vip: false });
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

      const vipRun = await k.startAndDrain(wf.key, await k.user({ plan: 'fast' }), { vip: true });
      expect(vipRun.messages.map((m: any) => m.template.key)).toEqual([vip, all]);
      expect(details(vipRun, 'SENT').map((d: any) => d.ref)).toEqual(['vip', 'all']);
    });

    it('an exit step ends the run EXITED when its condition holds, and is skipped otherwise', async () => {
      const template = await k.smsTemplate();
      const wf = await k.workflow([
        { ref: 'stop', type: 'exit', when: { path: 'data.paid', op: 'EQ', value: true } },
        { ref: 'send', type: 'send', template },
      ]);
      const exited = await k.startAndDrain(wf.key, await k.user(), { paid: true });
      expect(exited).toMatchObject({ status: 'EXITED', step: 'stop', reason: null, resumeAt: null, messages: [] });
      expect(types(exited)).toEqual(['STARTED', 'TIMEZONE', 'EXITED']);
      expect(detail(exited, 'EXITED')).toEqual({
        ref: 'stop',
        trace: [expect.objectContaining({ path: 'data.paid', op: 'EQ', expected: true, actual: true, found: true })],
      });

      const went = await k.startAndDrain(wf.key, await k.user(), { paid: false });
      expect(went).toMatchObject({ status: 'COMPLETED', step: 'send' });
      expect(types(went)).toEqual(['STARTED', 'TIMEZONE', 'STEP_SKIPPED', 'SENT', 'COMPLETED']);
      expect(detail(went, 'STEP_SKIPPED')).toMatchObject({ ref: 'stop', type: 'exit' });
      expect(went.messages).toHaveLength(1);
    });
  });
});
