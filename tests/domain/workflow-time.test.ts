import fc from 'fast-check';
import { addDuration, parseDuration } from '../../src/domain/workflow/duration';
import {
  inWindow,
  localInstant,
  nextOpening,
  nextScheduled,
  recipientZone,
} from '../../src/domain/workflow/local-time';

const iso = (d: Date) => d.toISOString();

describe('local times across DST changes', () => {
  it('a local time in the spring-forward gap moves forward to the transition (Europe/Berlin, America/New_York)', () => {
    // 2026-03-29: 02:00 CET → 03:00 CEST; 02:30 does not exist
    expect(iso(localInstant({ year: 2026, month: 3, day: 29 }, { hour: 2, minute: 30 }, 'Europe/Berlin'))).toBe(
      '2026-03-29T01:00:00.000Z',
    );
    // 2026-03-08: 02:00 EST → 03:00 EDT
    expect(iso(localInstant({ year: 2026, month: 3, day: 8 }, { hour: 2, minute: 15 }, 'America/New_York'))).toBe(
      '2026-03-08T07:00:00.000Z',
    );
  });

  it('an ambiguous local time in the fall-back overlap takes its first occurrence', () => {
    // 2026-10-25: 03:00 CEST → 02:00 CET; 02:30 happens twice, first at +02:00
    expect(iso(localInstant({ year: 2026, month: 10, day: 25 }, { hour: 2, minute: 30 }, 'Europe/Berlin'))).toBe(
      '2026-10-25T00:30:00.000Z',
    );
    // 2026-11-01: 02:00 EDT → 01:00 EST; 01:30 first at -04:00
    expect(iso(localInstant({ year: 2026, month: 11, day: 1 }, { hour: 1, minute: 30 }, 'America/New_York'))).toBe(
      '2026-11-01T05:30:00.000Z',
    );
  });

  it('an ordinary local time is the one instant with that wall-clock time (property over zones and dates)', () => {
    const zones = [
      'Europe/Berlin',
      'America/New_York',
      'Asia/Kolkata',
      'Australia/Lord_Howe',
      'Pacific/Chatham',
      'UTC',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2040-01-01T00:00:00Z'), noInvalidDate: true }),
        (zone, at) => {
          const parts = new Intl.DateTimeFormat('en-CA', {
            timeZone: zone,
            year: 'numeric',
            month: '2-digit',
            day: '2-digit',
            hour: '2-digit',
            minute: '2-digit',
            hourCycle: 'h23',
          }).formatToParts(at);
          const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
          const found = localInstant(
            { year: get('year'), month: get('month'), day: get('day') },
            { hour: get('hour'), minute: get('minute') },
            zone,
          );
          const minute = Math.floor(at.getTime() / 60_000) * 60_000;
          // the same wall time: the instant itself, or its earlier twin in an overlap (at most 1 h before)
          expect(found.getTime()).toBeLessThanOrEqual(minute);
          expect(minute - found.getTime()).toBeLessThanOrEqual(3_600_000);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('recurring local times and send windows', () => {
  it('uses the local weekday, not the UTC one', () => {
    // Sunday 23:30 in Los Angeles is Monday 07:30 UTC: a Monday-only window is closed
    expect(
      inWindow(
        { days: ['MO'], from: '00:00', until: '23:59' },
        new Date('2026-12-07T07:30:00Z'),
        'America/Los_Angeles',
      ),
    ).toBe(false);
    expect(
      inWindow(
        { days: ['SU'], from: '00:00', until: '23:59' },
        new Date('2026-12-07T07:30:00Z'),
        'America/Los_Angeles',
      ),
    ).toBe(true);
  });

  it('until is exclusive; a window spanning midnight belongs to the day it opened', () => {
    const window = { days: ['FR' as const], from: '22:00', until: '06:00' };
    // Friday 2026-12-04 22:00 Berlin = 21:00Z; Saturday 05:59 = 04:59Z; Saturday 06:00 = 05:00Z
    expect(inWindow(window, new Date('2026-12-04T21:00:00Z'), 'Europe/Berlin')).toBe(true);
    expect(inWindow(window, new Date('2026-12-05T04:59:00Z'), 'Europe/Berlin')).toBe(true);
    expect(inWindow(window, new Date('2026-12-05T05:00:00Z'), 'Europe/Berlin')).toBe(false);
    // Saturday 22:00 is not a Friday opening
    expect(inWindow(window, new Date('2026-12-05T21:00:00Z'), 'Europe/Berlin')).toBe(false);
  });

  it('a send outside the window waits for the next opening; inside it goes at once', () => {
    const weekdays = {
      days: ['MO' as const, 'TU' as const, 'WE' as const, 'TH' as const, 'FR' as const],
      from: '08:00',
      until: '20:00',
    };
    // Friday 21:00 Berlin → Monday 08:00 Berlin
    expect(iso(nextOpening(weekdays, new Date('2026-12-04T20:00:00Z'), 'Europe/Berlin'))).toBe(
      '2026-12-07T07:00:00.000Z',
    );
    const inside = new Date('2026-12-04T10:00:00Z');
    expect(nextOpening(weekdays, inside, 'Europe/Berlin')).toBe(inside);
    // every day, before today's opening → today
    expect(iso(nextOpening({ from: '08:00', until: '20:00' }, new Date('2026-12-05T05:00:00Z'), 'Europe/Berlin'))).toBe(
      '2026-12-05T07:00:00.000Z',
    );
  });

  it('an opening inside a DST gap starts at the transition', () => {
    // 02:30–05:00 window on the spring-forward Sunday: opens at 03:00 CEST (01:00Z)
    expect(iso(nextOpening({ from: '02:30', until: '05:00' }, new Date('2026-03-28T23:00:00Z'), 'Europe/Berlin'))).toBe(
      '2026-03-29T01:00:00.000Z',
    );
  });

  it('at 09:00 on weekdays: the next such local time, in the recipient zone', () => {
    // Saturday 02:00 in Los Angeles → Monday 09:00 PST = 17:00Z
    expect(
      iso(
        nextScheduled(
          { time: '09:00', days: ['MO', 'TU', 'WE', 'TH', 'FR'] },
          new Date('2026-12-05T10:00:00Z'),
          'America/Los_Angeles',
        ),
      ),
    ).toBe('2026-12-07T17:00:00.000Z');
    // exactly at the time: now
    expect(iso(nextScheduled({ time: '09:00' }, new Date('2026-12-07T17:00:00Z'), 'America/Los_Angeles'))).toBe(
      '2026-12-07T17:00:00.000Z',
    );
  });

  it('the recipient zone: profile trait, else the event, else the default; invalid names are passed over', () => {
    expect(recipientZone('Asia/Tokyo', 'Europe/Paris', 'UTC')).toEqual({ zone: 'Asia/Tokyo', source: 'profile' });
    expect(recipientZone('Mars/Base', 'Europe/Paris', 'UTC')).toEqual({ zone: 'Europe/Paris', source: 'event' });
    expect(recipientZone(undefined, 42, 'Europe/Berlin')).toEqual({ zone: 'Europe/Berlin', source: 'default' });
  });
});

describe('durations', () => {
  it('parses ISO 8601 durations and refuses the rest', () => {
    expect(parseDuration('PT15M')).toMatchObject({ ok: true });
    expect(parseDuration('P2D')).toMatchObject({ ok: true });
    expect(parseDuration('-PT1H', { signed: true })).toMatchObject({ ok: true });
    expect(parseDuration('-PT1H')).toEqual({ ok: false, problem: '"-PT1H" must not be negative' });
    expect(parseDuration('15 minutes')).toMatchObject({ ok: false });
    expect(parseDuration('PT0S')).toEqual({ ok: false, problem: '"PT0S" must be longer than zero' });
    expect(parseDuration('P367D')).toEqual({ ok: false, problem: '"P367D" is longer than 366 days' });
    expect(parseDuration(15)).toMatchObject({ ok: false });
  });

  it('days keep the local wall-clock time across DST, hours are elapsed time', () => {
    const before = new Date('2026-03-28T08:00:00Z'); // 09:00 CET
    const day = parseDuration('P1D');
    const hours = parseDuration('PT24H');
    if (!day.ok || !hours.ok) throw new Error('unparsed');
    expect(iso(addDuration(before, day.duration, 'Europe/Berlin'))).toBe('2026-03-29T07:00:00.000Z'); // 09:00 CEST
    expect(iso(addDuration(before, hours.duration, 'Europe/Berlin'))).toBe('2026-03-29T08:00:00.000Z'); // 10:00 CEST
  });
});
