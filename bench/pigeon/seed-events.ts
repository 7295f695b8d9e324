/**
 * Seeds Pigeon's event log for the GraphQL read scenario: `count` events written with bulk
 * multi-row INSERTs straight into `inbound_events` of one workspace, plus the matching
 * `event_names` counters. Realistic shape: 85 % track over `names` names (Zipf: a few names carry
 * most traffic), 10 % identify, 5 % page; `users` users with a mild power-user skew; receivedAt
 * spread over the last 30 days in id order, as a live log has it.
 *
 * Usage: seed-events.ts '<json config>'; IPC `finished` with the seed's figures.
 */
import mysql from 'mysql2/promise';
import { EVENT_COLUMNS, seedName, seedUser, toDbTime } from '../lib/events';

interface Config {
  database: string;
  workspaceId: number;
  count: number;
  names: number;
  users: number;
  connections: number;
}

const config: Config = JSON.parse(process.argv[2]);
const ROWS_PER_INSERT = 2000;
const INSERTS_PER_COMMIT = 5;

function zipfTable(n: number): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) cdf[k] = sum += 1 / (k + 1);
  for (let k = 0; k < n; k++) cdf[k] /= sum;
  return cdf;
}

async function main(): Promise<void> {
  const cdf = zipfTable(config.names);
  const nameOf = () => {
    const r = Math.random();
    let k = 0;
    while (cdf[k] < r) k++;
    return k;
  };
  const userOf = () => Math.min(config.users - 1, Math.floor(config.users * Math.random() ** 1.5));
  const span = 30 * 24 * 3600 * 1000;
  const start = Date.now() - span - 60_000;
  const counts = new Map<number, { n: number; last: number }>();

  function row(i: number): unknown[] {
    const at = start + Math.floor((i * span) / config.count);
    const receivedAt = toDbTime(new Date(at));
    const timestamp = toDbTime(new Date(at - 50));
    const user = seedUser(userOf());
    const messageId = `seed-${String(i).padStart(8, '0')}`;
    const r = Math.random();
    const context = { library: { name: 'analytics.js', version: '5.2.0' }, ip: '198.51.100.4', locale: 'en-US' };
    if (r < 0.85) {
      const k = nameOf();
      const c = counts.get(k);
      if (c) {
        c.n++;
        c.last = Math.max(c.last, at);
      } else counts.set(k, { n: 1, last: at });
      const event = seedName(k);
      const payload = {
        type: 'track',
        messageId,
        userId: user,
        event,
        properties: { product_id: `sku-${i % 5000}`, price: (i % 10000) / 100, currency: 'USD' },
        context,
        timestamp: new Date(at - 50).toISOString(),
      };
      return [
        config.workspaceId,
        messageId,
        'TRACK',
        `Segment-TrackEvent:${event}`,
        user,
        null,
        'UNMAPPED',
        JSON.stringify(payload),
        timestamp,
        receivedAt,
      ];
    }
    const type = r < 0.95 ? 'identify' : 'page';
    const payload =
      type === 'identify'
        ? { type, messageId, userId: user, traits: { email: `${user}@example.com`, plan: 'pro' }, context }
        : { type, messageId, userId: user, name: 'Pricing', properties: { path: '/pricing' }, context };
    return [
      config.workspaceId,
      messageId,
      type.toUpperCase(),
      null,
      user,
      null,
      'PROCESSED',
      JSON.stringify(payload),
      timestamp,
      receivedAt,
    ];
  }

  const started = performance.now();
  const chunks = Math.ceil(config.count / ROWS_PER_INSERT);
  let next = 0;
  const sql = `INSERT INTO inbound_events (${EVENT_COLUMNS}) VALUES ?`;
  await Promise.all(
    Array.from({ length: config.connections }, async () => {
      const conn = await mysql.createConnection({
        host: '127.0.0.1',
        user: 'root',
        database: config.database,
        charset: 'utf8mb4_unicode_ci',
      });
      let inTx = 0;
      await conn.beginTransaction();
      while (next < chunks) {
        const chunk = next++;
        const rows: unknown[][] = [];
        for (let i = chunk * ROWS_PER_INSERT; i < Math.min(config.count, (chunk + 1) * ROWS_PER_INSERT); i++) {
          rows.push(row(i));
        }
        await conn.query(sql, [rows]);
        if (++inTx >= INSERTS_PER_COMMIT) {
          await conn.commit();
          await conn.beginTransaction();
          inTx = 0;
        }
      }
      await conn.commit();
      await conn.end();
    }),
  );
  const conn = await mysql.createConnection({ host: '127.0.0.1', user: 'root', database: config.database });
  const names = [...counts.keys()].sort((a, b) => a - b);
  if (names.length) {
    await conn.query(
      `INSERT INTO event_names (workspace_id, name, event_count, last_seen_at) VALUES ?
       ON DUPLICATE KEY UPDATE event_count = event_count + VALUES(event_count), last_seen_at = GREATEST(last_seen_at, VALUES(last_seen_at))`,
      [
        names.map((k) => [
          config.workspaceId,
          `Segment-TrackEvent:${seedName(k)}`,
          counts.get(k)!.n,
          toDbTime(new Date(counts.get(k)!.last)),
        ]),
      ],
    );
  }
  await conn.end();
  const seconds = (performance.now() - started) / 1000;
  process.send!({
    type: 'finished',
    result: {
      rows: config.count,
      seconds: Math.round(seconds * 10) / 10,
      rowsPerSecond: Math.round(config.count / seconds),
      names: names.map((k) => `Segment-TrackEvent:${seedName(k)}`),
    },
  });
  process.exit(0);
}

main().catch((err) => {
  process.send!({ type: 'error', message: String(err?.stack ?? err) });
  process.exit(1);
});
