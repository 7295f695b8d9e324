import type { ConditionTrace } from '../routing/condition.types';

/**
 * What a run's history records, one detail shape per entry type: every step explains itself — waited
 * until when (in which zone, and why), throttled by which count, digested into which run, skipped because
 * which condition was false (README, "Workflows").
 */
export interface RunHistoryDetails {
  /** The run was created. */
  STARTED: {
    workflowId: string;
    version: number | null;
    source: 'event' | 'trigger';
    eventId: string | null;
    idempotencyKey: string | null;
    cancelKey: string | null;
  };
  /** The recipient's time zone, and where it came from (profile trait, event context, default). */
  TIMEZONE: { zone: string; source: 'profile' | 'event' | 'default'; ignored?: string[] };
  /** A step's `when` did not hold: the step was skipped. */
  STEP_SKIPPED: { ref: string; type: string; trace: ConditionTrace[] };
  /** The run waits until `until`: a delay, a send window, or its digest bucket. */
  WAITING: {
    ref: string;
    until: string;
    /** null: an exact elapsed-time wait started with the run, before the recipient's zone was looked up. */
    zone: string | null;
    reason: 'DELAY' | 'SEND_WINDOW' | 'DIGEST';
    /** The rule that set the time, in words (e.g. `duration PT15M`, `next 09:00 on MO,TU`). */
    because: string;
    localUntil: string;
  };
  /** A wait ended; `lateMs` is how long after its due time the step started. */
  RESUMED: { ref: string; dueAt: string; lateMs: number };
  /** A delay whose time had already passed: the run went on at once. */
  DELAY_PASSED: { ref: string; until: string; because: string };
  /** An `untilPath` value that is missing or not a time. */
  INVALID_DELAY: { ref: string; path: string; value: unknown; onInvalid: 'FAIL' | 'CONTINUE' };
  /** A throttle let the run through: `count` admissions in the window, this one included. */
  THROTTLE_PASSED: { ref: string; count: number; limit: number; window: string; key: string | null };
  /** A throttle stopped the run: `count` runs were already admitted in the window. */
  THROTTLED: { ref: string; count: number; limit: number; window: string; key: string | null };
  /** The run opened a digest bucket and collects the runs that arrive until it closes. */
  DIGEST_OPENED: { ref: string; digestId: string; closeAt: string; key: string | null; mode: string };
  /** The run's data went into another run's digest. */
  DIGESTED: { ref: string; digestId: string; into: string; count: number; key: string | null };
  /** The collecting run's bucket closed; the run goes on with `digest`. */
  DIGEST_CLOSED: { ref: string; digestId: string; count: number; closedBy: 'WINDOW' | 'MAX_ITEMS' };
  /** A send step created its message. */
  SENT: { ref: string; messageId: string; template: string; templateId: string; channels?: string[]; method?: string };
  /** An exit step's condition held. */
  EXITED: { ref: string; trace: ConditionTrace[] };
  /** The run ended because an event, `cancelRuns` or `cancelRun` (this run alone; its key may be null) cancelled it. */
  CANCELLED: {
    by: 'cancelRuns' | 'event' | 'cancelRun';
    cancelKey: string | null;
    eventId?: string;
    eventName?: string;
  };
  /** The run failed: the reason and what it was about. */
  FAILED: { reason: string; ref?: string; message: string };
  /** Every step ran. */
  COMPLETED: { steps: number };
}

export type RunHistoryType = keyof RunHistoryDetails;

/** One history entry, typed by its `type`. */
export type RunHistoryEntry = { [T in RunHistoryType]: { type: T; detail: RunHistoryDetails[T] } }[RunHistoryType];
