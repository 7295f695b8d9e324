/**
 * A message's history in plain words: one sentence per entry, from the detail each entry type records
 * (src/domain/message/message-history.types.ts, README "Message history"). An entry type this file does not
 * know yet is still shown, by its name and its detail.
 */
type Detail = Record<string, any>;

const list = (items: unknown): string => {
  const arr = Array.isArray(items) ? items.map(String) : [];
  if (arr.length === 0) return 'none';
  if (arr.length === 1) return arr[0];
  return `${arr.slice(0, -1).join(', ')} and ${arr[arr.length - 1]}`;
};

const endReason = (d: Detail): string => (d.reason ? ` (${d.reason})` : '');

function sentChannels(d: Detail): string {
  if (d.channel) return `on ${d.channel}`;
  const failed = Array.isArray(d.failedChannels) && d.failedChannels.length ? `; ${list(d.failedChannels)} failed` : '';
  return `on ${list(d.channels)}${failed}`;
}

function attempt(d: Detail): string {
  const who = `${d.channel} through ${d.provider}`;
  switch (d.outcome) {
    case 'SENT':
    case 'DELIVERED':
      return `Try ${d.attempt} on ${who}: ${d.outcome === 'SENT' ? 'handed over' : 'delivered'}${d.externalId ? ` (provider id ${d.externalId})` : ''}.`;
    case 'RETRY':
      return `Try ${d.attempt} on ${who} failed${d.status ? ` with ${d.status}` : ''}: ${d.error}. Retrying in ${Math.round(Number(d.retryInMs) / 1000)} s.`;
    case 'FAILED':
      return `Try ${d.attempt} on ${who} failed for good${d.status ? ` with ${d.status}` : ''}: ${d.error}.${d.next ? ` Next: ${d.next.provider}.` : ''}`;
    case 'SKIPPED':
      return `${who} was skipped: ${d.error}.${d.next ? ` Next: ${d.next.provider}.` : ''}`;
    default:
      return `Try on ${who}: ${String(d.outcome)}.`;
  }
}

function rules(d: Detail): string {
  const evaluated: Detail[] = Array.isArray(d.evaluated) ? d.evaluated : [];
  const checked = evaluated.length
    ? `Checked ${evaluated.length} routing rule${evaluated.length === 1 ? '' : 's'}: ${evaluated
        .map((r) => `“${r.name}” ${r.holds ? 'held' : 'did not hold'}`)
        .join(', ')}. `
    : 'No routing rule applies. ';
  if (d.matched) {
    const how = d.matched.channels ? ` on ${list(d.matched.channels)}` : '';
    return `${checked}Rule “${d.matched.name}” decided: ${d.matched.action}${d.matched.method ? ` ${d.matched.method}` : ''}${how}.`;
  }
  const fallback = typeof d.fallback === 'string' && d.fallback ? d.fallback : 'none matched';
  return `${checked}${fallback[0].toUpperCase()}${fallback.slice(1)}.`;
}

/** One history entry as a sentence. */
export function describe(type: string, d: Detail): string {
  switch (type) {
    case 'ENQUEUED':
      if (d.source === 'event') return `Created by event “${d.eventName}” for user ${d.userId}.`;
      if (d.source === 'send') return `Created by the Send API for user ${d.userId}.`;
      if (d.source === 'workflow')
        return `Created by a workflow run${d.step ? ` at step “${d.step}”` : ''} for user ${d.userId}.`;
      return `Created for user ${d.userId}.`;
    case 'TEMPLATE':
      return d.published === false
        ? 'The template has no published version.'
        : `Uses template version ${d.version}, with channels ${list(d.channels)}.`;
    case 'PROFILE':
      return d.found
        ? `Sent to profile ${d.profileUserId}${d.profileUserId !== d.userId ? ` (through alias ${d.userId})` : ''}.`
        : `No profile was found for ${d.userId}.`;
    case 'RULES':
      return rules(d);
    case 'TOPIC':
      return `Judged by topic “${d.key}”${d.found ? '' : ' (unknown: treated as on)'}${d.commercial ? ', commercial' : ''}.`;
    case 'SKIPPED_PREFERENCE': {
      const topic = d.topic ? ` for topic “${d.topic}”` : '';
      if (d.decidedBy === 'TRAIT') return `${d.channel} was left out: the recipient is unsubscribed (trait).`;
      if (d.decidedBy === 'DEFAULT')
        return `${d.channel} was left out: the topic's default is ${d.defaultState} and the recipient did not opt in${topic}.`;
      return `${d.channel} was left out: the recipient opted out${topic}.`;
    }
    case 'SUPPRESSED':
      return `${d.channel} was left out: ${d.address} is suppressed (${d.reason}).`;
    case 'CHANNELS': {
      const available: Detail[] = Array.isArray(d.available) ? d.available : [];
      const unavailable: Detail[] = Array.isArray(d.unavailable) ? d.unavailable : [];
      const ok = available.length
        ? `Available: ${available.map((a) => `${a.channel} (${list(a.providers?.map((p: Detail) => p.provider))})`).join(', ')}.`
        : 'No channel was available.';
      const no = unavailable.length
        ? ` Not available: ${unavailable.map((u) => `${u.channel} (${list(u.reasons)})`).join(', ')}.`
        : '';
      return `Considered ${list(d.considered)} (${d.method}). ${ok}${no}`;
    }
    case 'RENDERED':
      return d.error
        ? `The content could not be rendered: ${d.error}.`
        : `Rendered for ${list(d.channels)}${d.missingVariables?.length ? `; missing variables: ${list(d.missingVariables)}` : ''}.`;
    case 'ROUTED':
      return `Routed ${d.method} over ${list(d.channels)}.`;
    case 'ATTEMPT':
      return attempt(d);
    case 'CHANNEL_FAILED':
      return `${d.channel} failed for good; ${d.next ? `trying ${d.next} next` : 'no channel is left'}.`;
    case 'CALLBACK':
      return `The provider ${d.provider} reported “${d.outcome}” for ${d.channel}${d.reason ? ` (${d.reason})` : ''}${d.applied ? '' : '; it changed nothing'}.`;
    case 'FAILOVER_AFTER_BOUNCE':
      return `${d.channel} bounced after it was sent${d.reason ? ` (${d.reason})` : ''}; ${d.next ? `trying ${d.next}` : 'no channel is left'}.`;
    case 'SENT':
      return `Sent ${sentChannels(d)}.`;
    case 'DELIVERED':
      return `Delivered ${sentChannels(d)}.`;
    case 'UNDELIVERABLE':
      return d.failedChannels ? `Undeliverable: ${list(d.failedChannels)} failed.` : `Undeliverable${endReason(d)}.`;
    case 'UNROUTABLE':
      return `Unroutable: no channel was available${endReason(d)}.`;
    case 'FILTERED':
      return `Filtered${endReason(d)}.`;
    default:
      return `${type}: ${JSON.stringify(d)}`;
  }
}
