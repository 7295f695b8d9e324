/**
 * Segment messages as the benchmarks send them, and the event-log rows the ceilings write for them.
 * Every generator takes the messageId from the caller, so each request of a run carries a unique one.
 */

/** Track names of the ingest scenarios (never the mapped pipeline name). */
export const TRACK_EVENTS = [
  'Product Viewed',
  'Product Added',
  'Checkout Started',
  'Order Completed',
  'Signed In',
  'Search Performed',
  'Video Played',
  'Coupon Applied',
  'Cart Viewed',
  'Page Scrolled',
];

/** The track that scenario 5 maps to the webhook template. */
export const PIPELINE_EVENT = 'Bench Order';

/** Users identified before the ingest scenarios ("known users"). */
export const KNOWN_USERS = 3000;
export const GROUPS = 200;

export const userId = (k: number): string => `bench-user-${k}`;
export const groupId = (k: number): string => `bench-group-${k}`;

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)];
const randomUser = (): number => Math.floor(Math.random() * KNOWN_USERS);

const CONTEXT = {
  library: { name: 'analytics-node', version: '3.1.0' },
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5',
  locale: 'en-GB',
};

export type Message = Record<string, unknown> & { type: string; messageId: string };

export function trackMessage(messageId: string, user = randomUser(), event = pick(TRACK_EVENTS)): Message {
  return {
    type: 'track',
    messageId,
    userId: userId(user),
    event,
    properties: {
      product_id: `sku-${Math.floor(Math.random() * 5000)}`,
      price: Math.round(Math.random() * 20000) / 100,
      currency: 'EUR',
      quantity: 1 + Math.floor(Math.random() * 3),
    },
    context: CONTEXT,
    timestamp: new Date().toISOString(),
  };
}

export function identifyMessage(messageId: string, user = randomUser()): Message {
  return {
    type: 'identify',
    messageId,
    userId: userId(user),
    traits: {
      email: `user${user}@example.com`,
      name: `User ${user}`,
      plan: pick(['free', 'pro', 'enterprise']),
      logins: Math.floor(Math.random() * 100),
    },
    context: CONTEXT,
    timestamp: new Date().toISOString(),
  };
}

export function groupMessage(messageId: string, user = randomUser()): Message {
  const g = Math.floor(Math.random() * GROUPS);
  return {
    type: 'group',
    messageId,
    userId: userId(user),
    groupId: groupId(g),
    traits: { name: `Company ${g}`, industry: pick(['retail', 'saas', 'media']), employees: 10 + g },
    context: CONTEXT,
    timestamp: new Date().toISOString(),
  };
}

/** A batch of `size` events: 80 % track, 15 % identify, 5 % group (positions fixed per 20). */
export function mixedBatch(prefix: string, size = 100): Message[] {
  const batch: Message[] = [];
  for (let i = 0; i < size; i++) {
    const slot = i % 20;
    const id = `${prefix}-${i}`;
    batch.push(slot < 16 ? trackMessage(id) : slot < 19 ? identifyMessage(id) : groupMessage(id));
  }
  return batch;
}

/** Pigeon's DATETIME text (src/db/dialect.ts toDbTime). */
export function toDbTime(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

export const EVENT_COLUMNS =
  'workspace_id, message_id, type, name, user_id, anonymous_id, status, payload, timestamp, received_at';

/** The inbound_events row Pigeon writes for a message (same values, same JSON payload). */
export function eventRow(m: Message, receivedAt: Date, workspaceId = 1): unknown[] {
  const track = m.type === 'track';
  const ts = typeof m.timestamp === 'string' ? new Date(m.timestamp) : receivedAt;
  return [
    workspaceId,
    m.messageId,
    m.type.toUpperCase(),
    track ? `Segment-TrackEvent:${String(m.event)}` : null,
    (m.userId as string | undefined) ?? null,
    (m.anonymousId as string | undefined) ?? null,
    track ? 'UNMAPPED' : 'PROCESSED',
    JSON.stringify(m),
    toDbTime(ts),
    toDbTime(receivedAt),
  ];
}

/** Names and users of the seeded 1M-event log (scenario 4). */
export const seedName = (k: number) => `Seed Event ${String(k).padStart(2, '0')}`;
export const seedUser = (k: number) => `seed-user-${k}`;

const ROW_ID = 'ROW-ID-PLACEHOLDER';

/**
 * Pre-built batches of event-log rows for the raw ceilings: `count` mixed batches of `size` rows whose
 * messageId (column and payload) is filled in per use by {@link rowsFrom}, so the script spends its
 * CPU on the database calls rather than on building messages (it shares the cores with the database).
 */
export function rowTemplates(count: number, size: number): { row: unknown[]; payload: string[] }[][] {
  const now = new Date();
  return Array.from({ length: count }, () =>
    mixedBatch('t', size).map((m) => {
      const row = eventRow({ ...m, messageId: ROW_ID }, now);
      return { row, payload: String(row[7]).split(ROW_ID) };
    }),
  );
}

/** The rows of one template with messageIds `<prefix>-<i>` and the current receive time. */
export function rowsFrom(template: { row: unknown[]; payload: string[] }[], prefix: string): unknown[][] {
  const receivedAt = toDbTime(new Date());
  return template.map(({ row, payload }, i) => {
    const id = `${prefix}-${i}`;
    const out = row.slice();
    out[1] = id;
    out[7] = payload.join(id);
    out[9] = receivedAt;
    return out;
  });
}
