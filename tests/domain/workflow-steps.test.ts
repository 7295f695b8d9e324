import { InvalidInputError } from '../../src/domain/domain-error';
import { validateSteps, type WorkflowStep } from '../../src/domain/workflow/workflow-steps';

/** The message and details of the error `validateSteps(steps)` throws. */
function refusal(steps: unknown): { message: string; details: Record<string, unknown> | undefined } {
  try {
    validateSteps(steps);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    const e = err as InvalidInputError;
    expect(e.code).toBe('BAD_USER_INPUT');
    return { message: e.message, details: e.details };
  }
  throw new Error('the steps were accepted');
}

describe('workflow steps', () => {
  it('accepts every step shape of the abandoned-cart, digest and throttle examples', () => {
    const steps: unknown[] = [
      { ref: 'wait', type: 'delay', duration: 'PT1H' },
      { ref: 'gate', type: 'throttle', limit: 1, window: 'PT1H', key: 'data.projectId' },
      {
        ref: 'collect',
        type: 'digest',
        window: 'PT10M',
        key: 'data.projectId',
        maxItems: 100,
        mode: 'SLIDING',
        maxWindow: 'PT1H',
      },
      { ref: 'stop', type: 'exit', when: { path: 'digest.count', op: 'LT', value: 2 } },
      { ref: 'appointment', type: 'delay', untilPath: 'data.appointmentAt', offset: '-PT1H', onInvalid: 'CONTINUE' },
      { ref: 'morning', type: 'delay', at: { time: '09:00', days: ['MO', 'TU', 'WE', 'TH', 'FR'] } },
      { ref: 'xmas', type: 'delay', until: '2026-12-24T18:00:00Z' },
      {
        ref: 'send',
        type: 'send',
        template: 'comments-digest',
        channels: ['EMAIL', 'SLACK'],
        method: 'ALL',
        window: { days: ['MO', 'FR'], from: '22:00', until: '06:00' },
        when: { path: 'digest.count', op: 'GTE', value: 1 },
      },
    ];
    const checked: WorkflowStep[] = validateSteps(steps);
    expect(checked.map((s) => s.type)).toEqual([
      'delay',
      'throttle',
      'digest',
      'exit',
      'delay',
      'delay',
      'delay',
      'send',
    ]);
    expect(checked[7]).toEqual(steps[7]);
  });

  it('names the step and field of what is wrong', () => {
    expect(refusal([{ ref: 'a', type: 'delay', duration: '15 minutes' }])).toEqual({
      message: 'step "a".duration: "15 minutes" is not an ISO 8601 duration such as "PT15M", "PT1H" or "P2D"',
      details: { step: 0, ref: 'a', field: 'duration' },
    });
    expect(refusal([{ ref: 'a', type: 'teleport' }]).message).toBe(
      'step "a".type: must be one of send, delay, throttle, digest, exit, got "teleport"',
    );
    expect(refusal([{ ref: 'a', type: 'send', template: 't', colour: 'red' }]).details).toEqual({
      step: 0,
      ref: 'a',
      field: 'colour',
    });
    expect(refusal([{ type: 'send', template: 't' }]).message).toMatch(/^steps\[0\]\.ref: must be 1–64 letters/);
    expect(
      refusal([
        { ref: 'a', type: 'delay', duration: 'PT1M' },
        { ref: 'a', type: 'send', template: 't' },
      ]).message,
    ).toBe('step "a".ref: "a" is used by an earlier step');
  });

  it('a condition path under digest. is valid only after a digest step', () => {
    const usesDigest = { ref: 'send', type: 'send', template: 't', when: { path: 'digest.count', op: 'GT', value: 1 } };
    expect(refusal([usesDigest])).toEqual({
      message: 'step "send".when: path "digest.count" must start with "data.", "profile." or "event."',
      details: { step: 0, ref: 'send', field: 'when' },
    });
    expect(() => validateSteps([{ ref: 'd', type: 'digest', window: 'PT5M' }, usesDigest])).not.toThrow();
    // also for the paths of later steps
    expect(
      refusal([{ ref: 't', type: 'throttle', limit: 1, window: 'PT1H', key: 'digest.items' }]).details,
    ).toMatchObject({
      field: 'key',
    });
  });

  it('refuses bad delays: none or several forms, offset without untilPath, past limits, bad local times', () => {
    expect(refusal([{ ref: 'd', type: 'delay' }]).message).toBe(
      'step "d": needs one of duration, until, untilPath or at',
    );
    expect(
      refusal([{ ref: 'd', type: 'delay', duration: 'PT1M', until: '2026-01-01T00:00:00Z' }]).details,
    ).toMatchObject({
      field: 'until',
    });
    expect(refusal([{ ref: 'd', type: 'delay', duration: 'PT1M', offset: '-PT1M' }]).message).toBe(
      'step "d".offset: goes with untilPath only',
    );
    expect(refusal([{ ref: 'd', type: 'delay', duration: 'P400D' }]).message).toBe(
      'step "d".duration: "P400D" is longer than 366 days',
    );
    expect(refusal([{ ref: 'd', type: 'delay', until: 'tomorrow' }]).details).toMatchObject({ field: 'until' });
    expect(refusal([{ ref: 'd', type: 'delay', at: { time: '24:00' } }]).details).toMatchObject({ field: 'at.time' });
    expect(refusal([{ ref: 'd', type: 'delay', at: { time: '09:00', days: ['MON'] } }]).message).toBe(
      'step "d".at.days: "MON" is not a weekday (MO, TU, WE, TH, FR, SA, SU)',
    );
    expect(refusal([{ ref: 'd', type: 'delay', untilPath: 'appointmentAt' }]).details).toMatchObject({
      field: 'untilPath',
    });
  });

  it('refuses bad throttles, digests, exits and send windows', () => {
    expect(refusal([{ ref: 't', type: 'throttle', limit: 0, window: 'PT1H' }]).details).toMatchObject({
      field: 'limit',
    });
    expect(refusal([{ ref: 't', type: 'throttle', limit: 1.5, window: 'PT1H' }]).details).toMatchObject({
      field: 'limit',
    });
    expect(refusal([{ ref: 'g', type: 'digest', window: 'PT1H', mode: 'FIXED', maxWindow: 'PT2H' }]).message).toBe(
      'step "g".maxWindow: goes with mode SLIDING only',
    );
    expect(refusal([{ ref: 'g', type: 'digest', window: 'PT1H', mode: 'SLIDING', maxWindow: 'PT30M' }]).message).toBe(
      'step "g".maxWindow: must be at least the window (PT1H)',
    );
    expect(refusal([{ ref: 'x', type: 'exit' }]).details).toMatchObject({ field: 'when' });
    expect(
      refusal([{ ref: 'x', type: 'exit', when: { all: [{ path: 'data.a', op: 'NOPE', value: 1 }] } }]).details,
    ).toMatchObject({ field: 'when.all[0]' });
    expect(
      refusal([{ ref: 's', type: 'send', template: 't', window: { from: '08:00', until: '08:00' } }]).message,
    ).toBe('step "s".window: from and until must differ');
    expect(
      refusal([{ ref: 's', type: 'send', template: 't', window: { from: '8am', until: '20:00' } }]).details,
    ).toMatchObject({
      field: 'window.from',
    });
    expect(refusal([{ ref: 's', type: 'send', template: 't', channels: ['FAX'] }]).details).toMatchObject({
      field: 'channels',
    });
  });

  it('refuses an empty or non-list steps value', () => {
    expect(refusal([]).details).toEqual({ field: 'steps' });
    expect(refusal({ ref: 'a' }).details).toEqual({ field: 'steps' });
  });
});
