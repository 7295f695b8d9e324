import { Operator } from '../../src/domain/routing/condition.types';
import type { RunHistoryDetails, RunHistoryType } from '../../src/domain/workflow/run-history.types';
import { describeRun as sentence } from '../../src/console/client/run-timeline';

/**
 * One sample of every run history entry type the domain writes: the mapped type makes a new entry type a compile
 * error here, so the console's run timeline (src/console/client/run-timeline.ts) is taught to tell it in words.
 */
const SAMPLES: { [K in RunHistoryType]: RunHistoryDetails[K] } = {
  STARTED: { workflowId: 'w1', version: 2, source: 'trigger', eventId: null, idempotencyKey: null, cancelKey: 'c1' },
  TIMEZONE: { zone: 'Europe/Paris', source: 'profile' },
  STEP_SKIPPED: {
    ref: 'vip',
    type: 'send',
    trace: [
      {
        pointer: 'when',
        path: 'data.plan',
        op: Operator.EQ,
        expected: 'pro',
        actual: 'free',
        found: true,
        result: false,
      },
    ],
  },
  WAITING: {
    ref: 'wait',
    until: '2026-12-04T09:00:00.000Z',
    zone: 'Europe/Paris',
    reason: 'SEND_WINDOW',
    because: 'next 10:00 on MO,TU',
    localUntil: '2026-12-04 10:00',
  },
  RESUMED: { ref: 'wait', dueAt: '2026-12-04T09:00:00.000Z', lateMs: 1500 },
  DELAY_PASSED: { ref: 'wait', until: '2026-12-01T09:00:00Z', because: 'until 2026-12-01T09:00:00Z' },
  INVALID_DELAY: { ref: 'wait', path: 'data.at', value: 'soon', onInvalid: 'FAIL' },
  THROTTLE_PASSED: { ref: 'limit', count: 1, limit: 3, window: 'PT1H', key: null },
  THROTTLED: { ref: 'limit', count: 3, limit: 3, window: 'PT1H', key: 'p1' },
  DIGEST_OPENED: { ref: 'batch', digestId: 'd1', closeAt: '2026-12-04T10:00:00Z', key: null, mode: 'FIXED' },
  DIGESTED: { ref: 'batch', digestId: 'd1', into: 'run-1', count: 2, key: null },
  DIGEST_CLOSED: { ref: 'batch', digestId: 'd1', count: 3, closedBy: 'WINDOW' },
  SENT: { ref: 'remind', messageId: 'm1', template: 'cart-reminder', templateId: 't1' },
  EXITED: {
    ref: 'stop',
    trace: [
      { pointer: 'when', path: 'data.paid', op: Operator.EQ, expected: true, actual: true, found: true, result: true },
    ],
  },
  CANCELLED: { by: 'cancelRuns', cancelKey: 'cart-1' },
  FAILED: { reason: 'TEMPLATE_NOT_FOUND', ref: 'remind', message: 'no template "x"' },
  COMPLETED: { steps: 2 },
};

describe("the console's run timeline", () => {
  it.each(Object.entries(SAMPLES))('tells %s in a sentence, not as raw JSON', (type, detail) => {
    const text = sentence(type, detail as Record<string, unknown>);
    expect(text).toMatch(/^[A-Z“]/);
    expect(text).toMatch(/\.$/);
    expect(text).not.toContain('{');
    expect(text).not.toContain('undefined');
  });

  it('says when, where, why and by what', () => {
    expect(sentence('WAITING', SAMPLES.WAITING)).toBe(
      'Step “wait” waits for the send window until 2026-12-04 10:00 in Europe/Paris (next 10:00 on MO,TU).',
    );
    expect(sentence('RESUMED', SAMPLES.RESUMED)).toBe('Step “wait” resumed, 1.5 s after its due time.');
    expect(sentence('THROTTLED', SAMPLES.THROTTLED)).toBe(
      'Step “limit” throttled the run: 3 of 3 already passed in PT1H for key “p1”.',
    );
    expect(sentence('DIGESTED', SAMPLES.DIGESTED)).toBe(
      'Step “batch” added this run to the digest of run run-1 (item 2).',
    );
    expect(sentence('STEP_SKIPPED', SAMPLES.STEP_SKIPPED)).toBe(
      'Step “vip” (send) was skipped: its condition was false (data.plan EQ “pro” (found “free”)).',
    );
    expect(sentence('CANCELLED', SAMPLES.CANCELLED)).toBe('Cancelled by cancelRuns with cancel key “cart-1”.');
    expect(sentence('CANCELLED', { by: 'event', cancelKey: 'c', eventName: 'Segment-TrackEvent:Paid' })).toBe(
      'Cancelled by event “Segment-TrackEvent:Paid” with cancel key “c”.',
    );
    expect(sentence('SENT', SAMPLES.SENT)).toBe('Step “remind” sent template “cart-reminder” as message m1.');
    expect(sentence('COMPLETED', SAMPLES.COMPLETED)).toBe('Completed: all 2 steps ran.');
    expect(sentence('WAITING', { ...SAMPLES.WAITING, zone: null, reason: 'DELAY', because: 'duration PT1S' })).toBe(
      'Step “wait” waits for a delay until 2026-12-04 10:00 (duration PT1S).',
    );
    expect(sentence('SOMETHING_NEW', { a: 1 })).toBe('SOMETHING_NEW: {"a":1}');
  });
});
