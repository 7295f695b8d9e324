import { randomUUID } from 'node:crypto';
import {
  adminConnection,
  createWorkspace,
  freshDatabase,
  ingest,
  report,
  ServerProcess,
  sleep,
  type FreshDatabase,
} from './support';

/**
 * Database outage during ingest: a client keeps sending while every MariaDB connection of the server
 * is killed, again and again, for a few seconds (`KILL <id>` of its connections in the process list;
 * the shared MariaDB server itself keeps running). Every request must get a 2xx or a retryable answer
 * (503 or no answer); afterwards every event that got a 2xx is in the event log (acknowledged = stored).
 * Then the client retries what was not acknowledged, as Segment does, until everything is stored once.
 */
const CLIENTS = 12;
const CALM_MS = 2_000;
const OUTAGE_MS = 6_000;
const KILL_EVERY_MS = 100;

type Outcome = 'ok' | 'unavailable' | 'no answer' | 'other';

interface Sent {
  messageIds: string[];
  outcome: Outcome;
  status?: number;
  body?: string;
}

describe('fault: database outage during ingest', () => {
  let db: FreshDatabase;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    db = await freshDatabase('outage');
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await db.drop();
  });

  it('acknowledged = stored, 0 lost, while the server’s connections are killed', async () => {
    const ws = await createWorkspace(db.url, 'outage');
    server = await ServerProcess.start({ databaseUrl: db.url, role: 'api' });
    const base = server.base;

    const sent: Sent[] = [];
    let stop = false;
    let n = 0;
    /** One request: alternately a destination call, a tracking-API call and a small batch. */
    async function once(): Promise<void> {
      const i = n++;
      const ids = i % 3 === 2 ? [randomUUID(), randomUUID(), randomUUID()] : [randomUUID()];
      const [route, body] =
        i % 3 === 0
          ? ['/segment', { type: 'track', event: 'Outage', userId: `u-${i % 50}`, messageId: ids[0] }]
          : i % 3 === 1
            ? ['/v1/identify', { userId: `u-${i % 50}`, traits: { n: i }, messageId: ids[0] }]
            : [
                '/v1/batch',
                { batch: ids.map((id) => ({ type: 'track', event: 'Outage', userId: `u-${i % 50}`, messageId: id })) },
              ];
      const record: Sent = { messageIds: ids, outcome: 'other' };
      try {
        const res = await ingest(base, ws.ingestKey, route, body, 5_000);
        record.status = res.status;
        record.body = await res.text();
        record.outcome = res.status >= 200 && res.status < 300 ? 'ok' : res.status === 503 ? 'unavailable' : 'other';
        if (record.outcome === 'ok' && route === '/v1/batch' && record.body.includes('rejected'))
          record.outcome = 'other';
      } catch {
        record.outcome = 'no answer'; // timeout or reset: Segment retries these too
      }
      sent.push(record);
    }
    const clients = Array.from({ length: CLIENTS }, async () => {
      while (!stop) await once();
    });

    // the outage: kill every connection of the server's database, every 100 ms
    const admin = await adminConnection();
    let kills = 0;
    await sleep(CALM_MS);
    const outageStart = Date.now();
    const sentBeforeOutage = sent.length;
    while (Date.now() - outageStart < OUTAGE_MS) {
      const [rows] = await admin.query(
        'SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
        [db.name],
      );
      for (const { ID } of rows as { ID: number }[]) {
        try {
          await admin.query(`KILL CONNECTION ${Number(ID)}`);
          kills++;
        } catch {
          // it went away by itself
        }
      }
      await sleep(KILL_EVERY_MS);
    }
    const duringOutage = sent.length - sentBeforeOutage;
    await admin.end();
    await sleep(CALM_MS); // recovery, under load
    stop = true;
    await Promise.all(clients);

    const acknowledged = sent.filter((s) => s.outcome === 'ok').flatMap((s) => s.messageIds);
    const stored = new Set(
      (
        await db.query<{ message_id: string }>(
          'SELECT e.message_id FROM inbound_events e JOIN workspaces w ON w.id = e.workspace_id WHERE w.name = ?',
          ['outage'],
        )
      ).map((r) => r.message_id),
    );
    const lost = acknowledged.filter((id) => !stored.has(id));
    const count = (o: Outcome) => sent.filter((s) => s.outcome === o).length;
    const others = sent.filter((s) => s.outcome === 'other');

    // what Segment does next: retry everything not acknowledged until it is
    const pending = sent.filter((s) => s.outcome !== 'ok');
    let retries = 0;
    for (const s of pending) {
      for (let attempt = 0; attempt < 10; attempt++) {
        retries++;
        const res = await ingest(base, ws.ingestKey, '/v1/batch', {
          batch: s.messageIds.map((id) => ({ type: 'track', event: 'Outage', userId: 'u-retry', messageId: id })),
        }).catch(() => undefined);
        if (res?.status === 200) break;
        await sleep(200);
      }
    }
    const allIds = sent.flatMap((s) => s.messageIds);
    const [{ rows: finalRows, distinct }] = await db.query<{ rows: number | string; distinct: number | string }>(
      `SELECT COUNT(*) AS \`rows\`, COUNT(DISTINCT e.message_id) AS \`distinct\` FROM inbound_events e
       JOIN workspaces w ON w.id = e.workspace_id WHERE w.name = ?`,
      ['outage'],
    );

    report(
      'db-outage',
      `${sent.length} requests (${duringOutage} during ${OUTAGE_MS / 1000} s of killing, ${kills} connections killed): ` +
        `2xx ${count('ok')}, 503 ${count('unavailable')}, no answer ${count('no answer')}, other ${count('other')}; ` +
        `events acknowledged ${acknowledged.length}, of them stored ${acknowledged.length - lost.length}, lost ${lost.length}; ` +
        `after ${retries} client retries: ${allIds.length} events sent, ${Number(distinct)} stored, ${Number(finalRows) - Number(distinct)} twice`,
    );

    expect(others.slice(0, 5).map((s) => [s.status, s.body])).toEqual([]);
    expect(lost).toEqual([]);
    expect(kills).toBeGreaterThan(0);
    expect(count('unavailable') + count('no answer')).toBeGreaterThan(0); // the outage was felt
    expect(count('ok')).toBeGreaterThan(0);
    expect(Number(distinct)).toBe(new Set(allIds).size);
    expect(Number(finalRows)).toBe(Number(distinct));
    expect(server.running).toBe(true);
  });
});
