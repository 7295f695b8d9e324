/**
 * A workflow run's history in plain words: one sentence per entry, from the detail each entry type records
 * (src/domain/workflow/run-history.types.ts, README "Workflows"). An entry type this file does not know yet is
 * still shown, by its name and its detail.
 */
type Detail = Record<string, any>;

const show = (value: unknown): string => (typeof value === 'string' ? `“${value}”` : JSON.stringify(value));

function ms(lateMs: number): string {
  if (!Number.isFinite(lateMs) || lateMs < 1000) return `${Math.max(0, Math.round(lateMs || 0))} ms`;
  if (lateMs < 120_000) return `${Math.round(lateMs / 100) / 10} s`;
  return `${Math.round(lateMs / 60_000)} min`;
}

/** The leaves of a condition trace that decided, e.g. `data.plan EQ “pro” (found “free”)`. */
function conditions(trace: unknown, result: boolean): string {
  const leaves: Detail[] = Array.isArray(trace) ? trace.filter((t: Detail) => t.result === result) : [];
  if (leaves.length === 0) return result ? 'its condition held' : 'its condition did not hold';
  return leaves
    .map((t) => {
      const expected = t.expected === null || t.expected === undefined ? '' : ` ${show(t.expected)}`;
      const actual = t.found ? `found ${show(t.actual)}` : 'missing';
      return `${t.path} ${t.op}${expected} (${actual})`;
    })
    .join(', ');
}

const WAIT_REASON: Record<string, string> = {
  DELAY: 'a delay',
  SEND_WINDOW: 'the send window',
  DIGEST: 'its digest bucket to close',
};

/** One run history entry as a sentence. */
export function describeRun(type: string, d: Detail): string {
  switch (type) {
    case 'STARTED': {
      const by = d.source === 'event' ? 'an event' : 'trigger';
      const version = d.version == null ? 'no published version' : `version ${d.version}`;
      return `Started by ${by}, running ${version}${d.cancelKey ? `, cancel key “${d.cancelKey}”` : ''}.`;
    }
    case 'TIMEZONE': {
      const from = { profile: "the profile's timezone trait", event: "the event's context", default: 'the default' }[
        d.source as string
      ];
      const ignored = Array.isArray(d.ignored) && d.ignored.length ? ` (ignored: ${d.ignored.join(', ')})` : '';
      return `Time zone ${d.zone}, from ${from ?? d.source}${ignored}.`;
    }
    case 'STEP_SKIPPED':
      return `Step “${d.ref}” (${d.type}) was skipped: its condition was false (${conditions(d.trace, false)}).`;
    case 'WAITING':
      return `Step “${d.ref}” waits for ${WAIT_REASON[d.reason] ?? d.reason} until ${d.localUntil ?? d.until}${
        d.zone ? ` in ${d.zone}` : ''
      } (${d.because}).`;
    case 'RESUMED':
      return `Step “${d.ref}” resumed, ${ms(Number(d.lateMs))} after its due time.`;
    case 'DELAY_PASSED':
      return `Step “${d.ref}”: its time ${d.until} had already passed (${d.because}), so the run went on at once.`;
    case 'INVALID_DELAY':
      return `Step “${d.ref}”: ${d.path} is ${d.value === null || d.value === undefined ? 'missing' : `${show(d.value)}, not a time`}; ${
        d.onInvalid === 'CONTINUE' ? 'the run went on at once' : 'the run failed'
      }.`;
    case 'THROTTLE_PASSED':
      return `Step “${d.ref}” let the run through: ${d.count} of ${d.limit} in ${d.window}${d.key ? ` for key “${d.key}”` : ''}.`;
    case 'THROTTLED':
      return `Step “${d.ref}” throttled the run: ${d.count} of ${d.limit} already passed in ${d.window}${
        d.key ? ` for key “${d.key}”` : ''
      }.`;
    case 'DIGEST_OPENED':
      return `Step “${d.ref}” opened a ${String(d.mode ?? 'FIXED').toLowerCase()} digest that collects until ${d.closeAt}${
        d.key ? ` for key “${d.key}”` : ''
      }.`;
    case 'DIGESTED':
      return `Step “${d.ref}” added this run to the digest of run ${d.into} (item ${d.count}).`;
    case 'DIGEST_CLOSED':
      return `Step “${d.ref}” closed its digest with ${d.count} item${d.count === 1 ? '' : 's'} (${
        d.closedBy === 'MAX_ITEMS' ? 'maxItems reached' : 'window ended'
      }).`;
    case 'SENT':
      return `Step “${d.ref}” sent template “${d.template}” as message ${d.messageId}${
        Array.isArray(d.channels) && d.channels.length ? ` on ${d.channels.join(', ')}` : ''
      }${d.method ? ` (${d.method})` : ''}.`;
    case 'EXITED':
      return `Step “${d.ref}” ended the run: its condition held (${conditions(d.trace, true)}).`;
    case 'CANCELLED':
      if (d.by === 'event') return `Cancelled by event “${d.eventName ?? d.eventId}” with cancel key “${d.cancelKey}”.`;
      if (d.by === 'cancelRun') return 'Cancelled by hand (cancelRun), this run alone.';
      return `Cancelled by cancelRuns with cancel key “${d.cancelKey}”.`;
    case 'FAILED':
      return `Failed${d.ref ? ` at step “${d.ref}”` : ''}: ${d.reason} — ${String(d.message).replace(/\.$/, '')}.`;
    case 'COMPLETED':
      return `Completed: all ${d.steps} step${d.steps === 1 ? '' : 's'} ran.`;
    default:
      return `${type}: ${JSON.stringify(d)}`;
  }
}
