/**
 * Maps every unmapped track event name matching a pattern to a template (by key).
 *
 *   npm run example:map-unmapped -- --pattern "Order *" --template order-completed [--dry-run] [--remap]
 *
 * The pattern is a glob over the event name as sent (`Order Completed`; `*` any characters, `?` one);
 * a pattern starting with `Segment-TrackEvent:` is matched against the full inbound name instead.
 * Names already mapped are left alone unless `--remap` is given. Prints one JSON line per matching
 * name (`mapped`, `would map` with --dry-run, or `skipped` with the template it is mapped to).
 * Env: PIGEON_URL (default http://127.0.0.1:3000), PIGEON_ADMIN_KEY.
 */
import { args, PigeonClient, run, usage, UserError } from './lib/pigeon-client';

const HELP = `Usage: npm run example:map-unmapped -- --pattern "Order *" --template <template key> [--dry-run] [--remap]`;
const TRACK_PREFIX = 'Segment-TrackEvent:';

/** A glob (`*`, `?`) as an anchored, case-sensitive regular expression. */
function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

interface EventName {
  name: string;
  count: number;
  lastSeenAt: string;
  mapping: { template: { key: string } } | null;
}

run(async () => {
  const opts = args(
    {
      pattern: { type: 'string' },
      template: { type: 'string' },
      'dry-run': { type: 'boolean' },
      remap: { type: 'boolean' },
    },
    HELP,
  );
  if (typeof opts.pattern !== 'string' || !opts.pattern) usage(`--pattern is required\n${HELP}`);
  if (typeof opts.template !== 'string' || !opts.template) usage(`--template is required\n${HELP}`);
  const pattern = opts.pattern;
  const full = pattern.startsWith(TRACK_PREFIX);
  const matcher = globToRegExp(pattern);

  const pigeon = PigeonClient.fromEnv();
  const { eventNames, template } = await pigeon.request<{
    eventNames: EventName[];
    template: { id: string; key: string; status: string } | null;
  }>(
    `query($key: String!) {
      eventNames { name count lastSeenAt mapping { template { key } } }
      template(key: $key) { id key status }
    }`,
    { key: opts.template },
  );
  if (!template) throw new UserError(`No template with key "${opts.template}"`);
  if (template.status !== 'PUBLISHED') {
    process.stderr.write(`warning: template "${template.key}" is not published; its messages end UNDELIVERABLE\n`);
  }

  let mapped = 0;
  for (const e of eventNames) {
    if (!e.name.startsWith(TRACK_PREFIX)) continue;
    if (!matcher.test(full ? e.name : e.name.slice(TRACK_PREFIX.length))) continue;
    const current = e.mapping?.template.key ?? null;
    const line = { eventName: e.name, count: e.count, template: template.key };
    if (current === template.key || (current && !opts.remap)) {
      console.log(JSON.stringify({ ...line, action: 'skipped', mappedTo: current }));
      continue;
    }
    if (opts['dry-run']) {
      console.log(JSON.stringify({ ...line, action: 'would map', mappedTo: current }));
      continue;
    }
    await pigeon.request('mutation($n: String!, $t: ID!) { mapEvent(eventName: $n, templateId: $t) { eventName } }', {
      n: e.name,
      t: template.id,
    });
    mapped++;
    console.log(JSON.stringify({ ...line, action: 'mapped', previously: current }));
  }
  process.stderr.write(`${mapped} event name(s) mapped to "${template.key}"\n`);
});
