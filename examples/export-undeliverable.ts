/**
 * Exports the undeliverable messages of the last day (or since a time) with their reasons, as JSON
 * lines (default) or CSV, following the `messages` connection page by page.
 *
 *   npm run example:export-undeliverable -- [--since 2026-11-28T00:00:00Z | --hours 24] [--format jsonl|csv] [--page-size 100]
 *
 * Each message: id, createdAt, userId, template key, event name, reason (UNPUBLISHED,
 * ALL_CHANNELS_FAILED, RENDER_FAILED) and each delivery's last error.
 * Env: PIGEON_URL (default http://127.0.0.1:3000), PIGEON_ADMIN_KEY.
 */
import { args, PigeonClient, run, usage } from './lib/pigeon-client';

const HELP =
  'Usage: npm run example:export-undeliverable -- [--since <ISO time> | --hours 24] [--format jsonl|csv] [--page-size 100]';

interface MessageNode {
  id: string;
  createdAt: string;
  userId: string;
  reason: string | null;
  eventName: string | null;
  template: { key: string } | null;
  deliveries: { channel: string; provider: string; status: string; attempts: number; lastError: string | null }[];
}

const QUERY = `query($first: Int, $after: String, $since: DateTimeISO) {
  messages(first: $first, after: $after, filter: { status: UNDELIVERABLE, since: $since }) {
    edges { node { id createdAt userId reason eventName template { key }
      deliveries { channel provider status attempts lastError } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** One CSV field, quoted when it must be (RFC 4180). */
function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const COLUMNS = ['id', 'createdAt', 'userId', 'template', 'eventName', 'reason', 'errors'] as const;

run(async () => {
  const opts = args(
    {
      since: { type: 'string' },
      hours: { type: 'string', default: '24' },
      format: { type: 'string', default: 'jsonl' },
      'page-size': { type: 'string', default: '100' },
    },
    HELP,
  );
  const hours = Number(opts.hours);
  if (!(hours > 0)) usage('--hours must be a positive number');
  const since = typeof opts.since === 'string' ? new Date(opts.since) : new Date(Date.now() - hours * 3600_000);
  if (Number.isNaN(since.getTime())) usage(`--since must be an ISO-8601 time, got "${opts.since}"`);
  const format = String(opts.format);
  if (format !== 'jsonl' && format !== 'csv') usage('--format must be jsonl or csv');
  const pageSize = Number(opts['page-size']);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 500) usage('--page-size must be 1–500');

  const pigeon = PigeonClient.fromEnv();
  if (format === 'csv') process.stdout.write(`${COLUMNS.join(',')}\n`);
  let count = 0;
  for await (const m of pigeon.paginate<MessageNode>(QUERY, 'messages', { since: since.toISOString() }, pageSize)) {
    const row = {
      id: m.id,
      createdAt: m.createdAt,
      userId: m.userId,
      template: m.template?.key ?? null,
      eventName: m.eventName,
      reason: m.reason,
      errors: m.deliveries
        .filter((d) => d.lastError)
        .map((d) => ({ channel: d.channel, provider: d.provider, attempts: d.attempts, lastError: d.lastError })),
    };
    if (format === 'jsonl') process.stdout.write(`${JSON.stringify(row)}\n`);
    else {
      const errors = row.errors.map((e) => `${e.channel}/${e.provider}: ${e.lastError}`).join('; ');
      process.stdout.write(`${COLUMNS.map((c) => csvField(c === 'errors' ? errors : row[c])).join(',')}\n`);
    }
    count++;
  }
  process.stderr.write(`${count} undeliverable message(s) since ${since.toISOString()}\n`);
});
