import { randomUUID } from 'node:crypto';
import { HttpFake } from '../helpers/fakes/http-fake';
import {
  dispatchScene,
  ingest,
  messageStatuses,
  queueWebhookMessages,
  report,
  ServerProcess,
  sleep,
  waitFor,
} from './support';

/**
 * Graceful shutdown (docs/guarantees.md, sections 1 and 4): `node dist/src/index.js` (API and worker in one
 * process) under ingest load and mid-dispatch gets SIGTERM. It stops accepting, finishes the requests and jobs in
 * flight — a 2,500-event batch among them — and exits 0 within its bound; every event it acknowledged is stored,
 * no job is left held, and after a restart the rest of the queue is sent, nothing twice.
 */
const MESSAGES = 300;
const CLIENTS = 8;

type Outcome = 'ok' | 'unavailable' | 'refused' | 'other';

describe('fault: SIGTERM under load', () => {
  const scene = dispatchScene('sigterm');

  it('finishes what is in flight, stores every acknowledged event, exits 0; a restart sends the rest once', async () => {
    const { db, servers } = scene;
    let answered = 0;
    const fake = await HttpFake.start(async () => {
      await sleep(100);
      answered++;
      return { status: 200, body: { id: 'ok' } };
    });
    scene.fake = fake;
    // API and worker in one process: it starts sending while the messages are still being queued
    const { ws, server } = await queueWebhookMessages({
      db,
      workspace: 'sigterm',
      fake,
      event: 'Shutdown',
      count: MESSAGES,
      servers,
      role: 'all',
      env: { PIGEON_WORKER_CONCURRENCY: '8' },
    });
    await waitFor('the worker to be sending', async () => fake.requests.length > 0, 30_000, 10);

    const results: { ids: string[]; outcome: Outcome; status?: number; startedBeforeTerm: boolean }[] = [];
    let termAt = 0;
    let stop = false;
    const clients = Array.from({ length: CLIENTS }, async (_, c) => {
      while (!stop) {
        const id = randomUUID();
        const startedBeforeTerm = termAt === 0;
        let outcome: Outcome = 'other';
        let status: number | undefined;
        try {
          const res = await ingest(server.base, ws.ingestKey, '/v1/track', {
            userId: `c-${c}`,
            event: 'Load',
            messageId: id,
          });
          status = res.status;
          await res.text();
          outcome = res.ok ? 'ok' : res.status === 503 ? 'unavailable' : 'other';
        } catch {
          outcome = 'refused'; // the server no longer accepts connections
        }
        results.push({ ids: [id], outcome, status, startedBeforeTerm });
        if (outcome === 'refused') await sleep(20);
      }
    });
    await sleep(1000);

    // a large batch in flight when SIGTERM arrives
    const batchIds = Array.from({ length: 2500 }, () => randomUUID());
    const batch = ingest(server.base, ws.ingestKey, '/v1/batch', {
      batch: batchIds.map((id, i) => ({ type: 'track', userId: `b-${i}`, event: 'Load', messageId: id })),
    }).then(
      async (res) => ({ status: res.status, body: await res.text() }),
      (err: Error) => ({ status: 0, body: err.message }),
    );
    await sleep(50);
    // and deliveries in flight: the provider has requests it has not answered yet
    await waitFor('a delivery in flight', async () => fake.requests.length > answered, 10_000, 1);
    const inFlightDeliveries = fake.requests.length - answered;
    termAt = Date.now();
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    const exitMs = Date.now() - termAt;
    stop = true;
    await Promise.all(clients);
    const batchResult = await batch;
    results.push({
      ids: batchIds,
      outcome: batchResult.status === 200 ? 'ok' : 'other',
      status: batchResult.status,
      startedBeforeTerm: true,
    });

    const stored = new Set(
      (
        await db.query<{ message_id: string }>(
          'SELECT e.message_id FROM inbound_events e JOIN workspaces w ON w.id = e.workspace_id WHERE w.name = ?',
          ['sigterm'],
        )
      ).map((r) => r.message_id),
    );
    const acknowledged = results.filter((r) => r.outcome === 'ok').flatMap((r) => r.ids);
    const lost = acknowledged.filter((id) => !stored.has(id));
    const count = (o: Outcome) => results.filter((r) => r.outcome === o).length;
    const [{ held }] = await db.query<{ held: number | string }>(
      "SELECT COUNT(*) AS held FROM jobs WHERE status = 'running'",
    );
    const statusesAtExit = await messageStatuses(db, 'sigterm');
    const receivedBeforeExit = new Set(fake.requests.map((r) => (r.json as { messageId: string }).messageId));
    const [{ sentAtExit }] = await db.query<{ sentAtExit: number | string }>(
      "SELECT COUNT(*) AS sentAtExit FROM messages WHERE status = 'SENT'",
    );

    // a restart picks up the rest of the queue at once (nothing is held by the stopped process)
    const again = await ServerProcess.start({ databaseUrl: db.url, role: 'all' });
    servers.push(again);
    await waitFor(
      'every message to be sent',
      async () => (await messageStatuses(db, 'sigterm')).SENT === MESSAGES,
      60_000,
    );
    await sleep(300);
    const perMessage = new Map<string, number>();
    for (const r of fake.requests) {
      const id = (r.json as { messageId: string }).messageId;
      perMessage.set(id, (perMessage.get(id) ?? 0) + 1);
    }
    const twice = [...perMessage.values()].filter((n) => n > 1).length;
    expect((await again.stop('SIGTERM')).code).toBe(0);

    report(
      'graceful-shutdown',
      `SIGTERM under ${CLIENTS} ingest clients, a 2,500-event batch and ${inFlightDeliveries} deliveries in flight: ` +
        `exit code ${exit.code} after ${exitMs} ms; the batch answered ${batchResult.status}; ` +
        `requests 2xx ${count('ok')}, 503 ${count('unavailable')}, refused ${count('refused')}, other ${count('other')}; ` +
        `events acknowledged ${acknowledged.length}, stored ${acknowledged.length - lost.length}, lost ${lost.length}; ` +
        `jobs left held ${Number(held)}; messages sent before exit ${Number(sentAtExit)} (received ${receivedBeforeExit.size}), ` +
        `the other ${MESSAGES - Number(sentAtExit)} after restart; ${perMessage.size} delivered, ${twice} twice`,
    );

    expect(inFlightDeliveries).toBeGreaterThan(0);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(20_000);
    expect(batchResult.status).toBe(200);
    expect(results.filter((r) => r.outcome === 'other').map((r) => r.status)).toEqual([]);
    expect(lost).toEqual([]);
    expect(Number(held)).toBe(0);
    // every delivery that reached the provider before the exit was recorded as sent
    expect(Number(sentAtExit)).toBe(receivedBeforeExit.size);
    expect(statusesAtExit.ROUTED ?? 0).toBe(0);
    expect(perMessage.size).toBe(MESSAGES);
    expect(twice).toBe(0);
  });
});
