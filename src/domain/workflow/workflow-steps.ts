import { describe, hasOwn, isJsonObject } from '../../lib/json';
import { Channel } from '../channel/channel.enum';
import { InvalidInputError } from '../domain-error';
import { checkPath, validateCondition } from '../routing/condition-validation';
import { CONDITION_ROOTS, ConditionError, type Condition } from '../routing/condition.types';
import { RoutingMethod } from '../routing/routing.enums';
import { parseDuration } from './duration';
import { parseLocalTime, WEEKDAYS, type LocalSchedule, type SendWindow, type Weekday } from './local-time';

/**
 * The steps of a workflow, as JSON objects checked when a workflow is saved. Each has a `ref` unique in
 * the workflow and may have a `when` condition (a step whose `when` does not hold is skipped); after a
 * digest step, conditions and paths may also read `digest.` (`{count, items, firstAt, lastAt}`).
 * Durations are ISO 8601 (`PT15M`, `P2D`), at most 366 days.
 *
 * @example
 * ```json
 * [
 *   { "ref": "wait", "type": "delay", "duration": "PT1H" },
 *   { "ref": "remind", "type": "send", "template": "cart-reminder", "window": { "from": "08:00", "until": "20:00" } }
 * ]
 * ```
 */
export type WorkflowStep = SendStep | DelayStep | ThrottleStep | DigestStep | ExitStep;

interface StepBase {
  ref: string;
  when?: Condition;
}

/** Creates a message of the template (its routing rules, channels and providers), with the run's data. */
export interface SendStep extends StepBase {
  type: 'send';
  /** The template's key. */
  template: string;
  /** Replace the template's channels and method; routing rules still decide first. */
  channels?: Channel[];
  method?: RoutingMethod;
  /** Quiet hours for this send (wins over the workflow's). */
  window?: SendWindow;
}

/** Waits: exactly one of `duration`, `until`, `untilPath` (with an optional `offset`) or `at`. */
export interface DelayStep extends StepBase {
  type: 'delay';
  duration?: string;
  /** An ISO 8601 instant; one already past continues at once. */
  until?: string;
  /** A path whose value is an ISO 8601 instant, e.g. `data.appointmentAt`. */
  untilPath?: string;
  /** Added to the `untilPath` instant, e.g. `-PT1H`. */
  offset?: string;
  /** What a missing or invalid `untilPath` value does: end the run FAILED (default) or continue at once. */
  onInvalid?: 'FAIL' | 'CONTINUE';
  /** The next such local time of the recipient. */
  at?: LocalSchedule;
}

/** At most `limit` runs per recipient (and key value) pass within any `window`; the others end THROTTLED. */
export interface ThrottleStep extends StepBase {
  type: 'throttle';
  limit: number;
  window: string;
  key?: string;
}

export type DigestMode = 'FIXED' | 'SLIDING';

/** Collects the runs reaching it for (workflow, recipient, key value) into one, which goes on with `digest`. */
export interface DigestStep extends StepBase {
  type: 'digest';
  window: string;
  key?: string;
  maxItems?: number;
  mode?: DigestMode;
  maxWindow?: string;
}

/** Ends the run EXITED when `when` holds. */
export interface ExitStep extends StepBase {
  type: 'exit';
  when: Condition;
}

export type StepType = WorkflowStep['type'];

/** The fields each step type takes (besides `ref`, `type` and `when`). */
const FIELDS: Record<StepType, readonly string[]> = {
  send: ['template', 'channels', 'method', 'window'],
  delay: ['duration', 'until', 'untilPath', 'offset', 'onInvalid', 'at'],
  throttle: ['limit', 'window', 'key'],
  digest: ['window', 'key', 'maxItems', 'mode', 'maxWindow'],
  exit: [],
};
const STEP_TYPES = Object.keys(FIELDS) as StepType[];
const REF = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** The most steps one workflow may have. */
export const MAX_STEPS = 50;

/** A step that is not valid: the message names the step (`ref`, else its index) and the field. */
export class StepError extends InvalidInputError {
  constructor(index: number, ref: string | undefined, field: string | null, problem: string) {
    const step = ref ? `step "${ref}"` : `steps[${index}]`;
    super(`${step}${field ? `.${field}` : ''}: ${problem}`, { step: index, ref: ref ?? null, field });
  }
}

/**
 * Checks a workflow's steps; throws a {@link StepError} (BAD_USER_INPUT) naming the first invalid step
 * and field. Returns them typed.
 */
export function validateSteps(steps: unknown): WorkflowStep[] {
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new InvalidInputError(`steps must be a non-empty list of step objects, got ${describe(steps)}`, {
      field: 'steps',
    });
  }
  if (steps.length > MAX_STEPS) {
    throw new InvalidInputError(`a workflow has at most ${MAX_STEPS} steps, got ${steps.length}`, { field: 'steps' });
  }
  const refs = new Set<string>();
  let digested = false;
  return steps.map((step, index) => {
    const checked = validateStep(step, index, digested ? [...CONDITION_ROOTS, 'digest'] : CONDITION_ROOTS);
    if (refs.has(checked.ref))
      throw new StepError(index, checked.ref, 'ref', `"${checked.ref}" is used by an earlier step`);
    refs.add(checked.ref);
    if (checked.type === 'digest') digested = true;
    return checked;
  });
}

/** Checks a send window (`window` of a workflow or a send step); `field` names it in errors. */
export function validateSendWindow(
  value: unknown,
  fail: (field: string, problem: string) => never,
  field = 'window',
): SendWindow {
  if (!isJsonObject(value)) fail(field, `must be an object {"days", "from", "until"}, got ${describe(value)}`);
  const window = value as Record<string, unknown>;
  for (const key of Object.keys(window)) {
    if (!['days', 'from', 'until'].includes(key))
      fail(`${field}.${key}`, 'is not a field of a send window (days, from, until)');
  }
  for (const key of ['from', 'until'] as const) {
    if (!parseLocalTime(window[key]))
      fail(`${field}.${key}`, `must be a local time "HH:MM", got ${describe(window[key])}`);
  }
  if (window.from === window.until) fail(field, 'from and until must differ');
  const days = window.days === undefined ? undefined : checkDays(window.days, `${field}.days`, fail);
  return { from: window.from as string, until: window.until as string, ...(days ? { days } : {}) };
}

function checkDays(value: unknown, field: string, fail: (field: string, problem: string) => never): Weekday[] {
  if (!Array.isArray(value) || value.length === 0) {
    fail(field, `must be a non-empty list of ${WEEKDAYS.join(', ')}, got ${describe(value)}`);
  }
  const days = value as unknown[];
  const bad = days.find((d) => !(WEEKDAYS as readonly unknown[]).includes(d));
  if (bad !== undefined) fail(field, `${describe(bad)} is not a weekday (${WEEKDAYS.join(', ')})`);
  if (new Set(days).size !== days.length) fail(field, 'lists a day twice');
  return days as Weekday[];
}

function validateStep(step: unknown, index: number, roots: readonly string[]): WorkflowStep {
  const fail0 = (field: string | null, problem: string): never => {
    throw new StepError(index, undefined, field, problem);
  };
  if (!isJsonObject(step)) return fail0(null, `must be a step object, got ${describe(step)}`);
  const ref = step.ref;
  if (typeof ref !== 'string' || !REF.test(ref)) {
    return fail0(
      'ref',
      `must be 1–64 letters, digits, "-" or "_" (starting with a letter or digit), got ${describe(ref)}`,
    );
  }
  const fail = (field: string | null, problem: string): never => {
    throw new StepError(index, ref, field, problem);
  };
  const type = step.type;
  if (typeof type !== 'string' || !(STEP_TYPES as string[]).includes(type)) {
    return fail('type', `must be one of ${STEP_TYPES.join(', ')}, got ${describe(type)}`);
  }
  const stepType = type as StepType;
  for (const key of Object.keys(step)) {
    if (key !== 'ref' && key !== 'type' && key !== 'when' && !FIELDS[stepType].includes(key)) {
      fail(key, `is not a field of a ${stepType} step (${['ref', 'type', 'when', ...FIELDS[stepType]].join(', ')})`);
    }
  }
  const out: Record<string, unknown> = { ref, type: stepType };
  if (hasOwn(step, 'when') && step.when !== null) {
    try {
      validateCondition(step.when, 'when', roots);
    } catch (err) {
      if (!(err instanceof ConditionError)) throw err;
      fail(err.pointer, err.message.slice(err.pointer.length + 2));
    }

    out.when = step.when;
  } else if (stepType === 'exit') {
    fail('when', 'is required: an exit step ends the run when its condition holds');
  }
  const path = (field: string) => {
    const value = step[field];
    if (typeof value !== 'string')
      return fail(field, `must be a path such as "data.projectId", got ${describe(value)}`);
    const problem = checkPath(value, roots);
    if (problem) fail(field, problem);
    out[field] = value;
  };
  const duration = (field: string, signed = false) => {
    const parsed = parseDuration(step[field], { signed });
    if (!parsed.ok) fail(field, parsed.problem);
    out[field] = step[field];
  };
  const positiveInt = (field: string, min: number) => {
    const value = step[field];
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > 1_000_000) {
      fail(field, `must be a whole number from ${min} to 1000000, got ${describe(value)}`);
    }
    out[field] = value;
  };
  const has = (field: string) => hasOwn(step, field) && step[field] !== null && step[field] !== undefined;

  switch (stepType) {
    case 'send': {
      if (typeof step.template !== 'string' || step.template.trim() === '') {
        fail('template', `must be a template key, got ${describe(step.template)}`);
      }
      out.template = step.template;
      if (has('channels')) {
        const channels = step.channels;
        const all = Object.values(Channel) as unknown[];
        if (!Array.isArray(channels) || channels.length === 0) fail('channels', 'must be a non-empty list of channels');
        const bad = (channels as unknown[]).find((c) => !all.includes(c));
        if (bad !== undefined) fail('channels', `${describe(bad)} is not a channel (${all.join(', ')})`);
        if (new Set(channels as unknown[]).size !== (channels as unknown[]).length)
          fail('channels', 'lists a channel twice');
        out.channels = channels;
      }
      if (has('method')) {
        const methods = Object.values(RoutingMethod) as unknown[];
        if (!methods.includes(step.method))
          fail('method', `must be one of ${methods.join(', ')}, got ${describe(step.method)}`);
        out.method = step.method;
      }
      if (has('window')) out.window = validateSendWindow(step.window, fail);
      break;
    }
    case 'delay': {
      const forms = ['duration', 'until', 'untilPath', 'at'].filter(has);
      if (forms.length !== 1) {
        fail(
          forms[1] ?? null,
          forms.length
            ? `give only one of duration, until, untilPath, at (got ${forms.join(', ')})`
            : 'needs one of duration, until, untilPath or at',
        );
      }
      if (has('offset') && forms[0] !== 'untilPath') fail('offset', 'goes with untilPath only');
      if (has('onInvalid') && forms[0] !== 'untilPath') fail('onInvalid', 'goes with untilPath only');
      if (forms[0] === 'duration') duration('duration');
      if (forms[0] === 'until') {
        if (
          typeof step.until !== 'string' ||
          Number.isNaN(Date.parse(step.until)) ||
          !/^\d{4}-\d{2}-\d{2}T/.test(step.until)
        ) {
          fail('until', `must be an ISO 8601 time such as "2026-12-24T18:00:00Z", got ${describe(step.until)}`);
        }
        out.until = step.until;
      }
      if (forms[0] === 'untilPath') {
        path('untilPath');
        if (has('offset')) duration('offset', true);
        if (has('onInvalid')) {
          if (step.onInvalid !== 'FAIL' && step.onInvalid !== 'CONTINUE') {
            fail('onInvalid', `must be FAIL or CONTINUE, got ${describe(step.onInvalid)}`);
          }
          out.onInvalid = step.onInvalid;
        }
      }
      if (forms[0] === 'at') {
        const at = step.at;
        if (!isJsonObject(at))
          return fail('at', `must be an object {"time": "09:00", "days": [...]}, got ${describe(at)}`);
        for (const key of Object.keys(at))
          if (key !== 'time' && key !== 'days') fail(`at.${key}`, 'is not a field of at (time, days)');
        if (!parseLocalTime(at.time)) fail('at.time', `must be a local time "HH:MM", got ${describe(at.time)}`);
        const days = at.days === undefined ? undefined : checkDays(at.days, 'at.days', fail);
        out.at = { time: at.time, ...(days ? { days } : {}) };
      }
      break;
    }
    case 'throttle':
      positiveInt('limit', 1);
      duration('window');
      if (has('key')) path('key');
      break;
    case 'digest':
      duration('window');
      if (has('key')) path('key');
      if (has('maxItems')) positiveInt('maxItems', 2);
      if (has('mode')) {
        if (step.mode !== 'FIXED' && step.mode !== 'SLIDING')
          fail('mode', `must be FIXED or SLIDING, got ${describe(step.mode)}`);
        out.mode = step.mode;
      }
      if (has('maxWindow')) {
        if (step.mode !== 'SLIDING') fail('maxWindow', 'goes with mode SLIDING only');
        duration('maxWindow');
        const window = parseDuration(step.window);
        const max = parseDuration(step.maxWindow);
        if (window.ok && max.ok && max.duration.as('milliseconds') < window.duration.as('milliseconds')) {
          fail('maxWindow', `must be at least the window (${String(step.window)})`);
        }
      }
      break;
    case 'exit':
      break;
  }
  return out as unknown as WorkflowStep;
}

/** A wait a run can start the moment it is created (see {@link leadingWait}). */
export interface LeadingWait {
  ref: string;
  until: Date;
  because: string;
}

/**
 * When a workflow starts with an unconditional `delay` of exact elapsed time (`PT…`: hours, minutes,
 * seconds), the wait needs nothing but the clock — no profile, no time zone, no lock — so a run starts it
 * when it is created, in the transaction that creates it, and its first pass is saved. Null otherwise
 * (days, weeks, months and years are counted in the recipient's zone; `until`, `untilPath` and `at` read
 * data or local time): those runs start RUNNING and the runner takes the first step.
 */
export function leadingWait(steps: readonly WorkflowStep[], at: Date): LeadingWait | null {
  const first = steps[0];
  if (!first || first.type !== 'delay' || first.when !== undefined || !first.duration) return null;
  const parsed = parseDuration(first.duration);
  if (!parsed.ok) return null;
  const exact = new Set(['hours', 'minutes', 'seconds', 'milliseconds']);
  const units = Object.entries(parsed.duration.toObject()).filter(([, n]) => n);
  if (!units.every(([unit]) => exact.has(unit))) return null;
  return {
    ref: first.ref,
    until: new Date(at.getTime() + parsed.duration.as('milliseconds')),
    because: `duration ${first.duration}`,
  };
}
