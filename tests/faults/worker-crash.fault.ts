import { HttpFake, type RecordedRequest } from '../helpers/fakes/http-fake';
import { dispatchScene, messageStatuses, queueWebhookMessages, report, ServerProcess, sleep, waitFor } from './support';

/**
 * Worker crash: a worker process (PIGEON_ROLE=worker, short PIGEON_JOB_LEASE_MS) is SIGKILLed while it
 * dispatches 1,000 webhook messages; a second worker finishes once the dead one's leases run out. The
 * webhook fake must have received every message at least once, and every repeat of a delivery must
 * carry the same Idempotency-Key (the delivery id), so a receiver can drop it.
 */
const MESSAGES = 1000;
const LEASE_MS = 2000;
const KILL_AFTER = 300;

describe('fault: a worker crashes mid-dispatch', () => {
  const scene = dispatchScene('crash');

  it('a second worker finishes; each delivery arrives at least once, repeats with the same Idempotency-Key', async () => {
    const { db, servers } = scene;
    let answered = 0;
    const fake = await HttpFake.start(async () => {
      await sleep(15); // a provider that takes a moment: some sends are in flight when the worker dies
      answered++;
      return { status: 200, body: { id: 'ok' } };
    });
    scene.fake = fake;
    await queueWebhookMessages({ db, workspace: 'crash', fake, event: 'Crash', count: MESSAGES, servers });
    expect(await messageStatuses(db, 'crash')).toEqual({ ENQUEUED: MESSAGES });

    const workerEnv = { PIGEON_JOB_LEASE_MS: String(LEASE_MS), PIGEON_WORKER_CONCURRENCY: '16' };
    const first = await ServerProcess.start({ databaseUrl: db.url, role: 'worker', env: workerEnv });
    servers.push(first);
    await waitFor('the first worker to send', async () => fake.requests.length >= KILL_AFTER, 120_000, 5);
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    const receivedAtKill = fake.requests.length;
    const inFlightAtKill = receivedAtKill - answered;
    const exit = await first.exited;
    const [{ held }] = await db.query<{ held: number | string }>(
      "SELECT COUNT(*) AS held FROM jobs WHERE status = 'running'",
    );

    const second = await ServerProcess.start({ databaseUrl: db.url, role: 'worker', env: workerEnv });
    servers.push(second);
    await waitFor(
      'every message to be sent',
      async () => (await messageStatuses(db, 'crash')).SENT === MESSAGES,
      180_000,
      250,
    );
    const finishedAfterMs = Date.now() - killedAt;
    await sleep(500); // nothing more may arrive
    const [{ jobs }] = await db.query<{ jobs: number | string }>('SELECT COUNT(*) AS jobs FROM jobs');

    const byMessage = new Map<string, RecordedRequest[]>();
    for (const req of fake.requests) {
      const messageId = (req.json as { messageId: string }).messageId;
      byMessage.set(messageId, [...(byMessage.get(messageId) ?? []), req]);
    }
    const repeated = [...byMessage.values()].filter((reqs) => reqs.length > 1);
    const sameKey = repeated.filter((reqs) => new Set(reqs.map((r) => r.headers['idempotency-key'])).size === 1);
    const keys = new Set(fake.requests.map((r) => r.headers['idempotency-key']));

    report(
      'worker-crash',
      `${MESSAGES} messages; worker 1 SIGKILLed (${exit.signal}) after ${receivedAtKill} deliveries, ` +
        `${inFlightAtKill} in flight, ${Number(held)} jobs held; worker 2 finished ${finishedAfterMs} ms later ` +
        `(lease ${LEASE_MS} ms); received ${fake.requests.length} requests for ${byMessage.size} messages: ` +
        `${fake.requests.length - byMessage.size} duplicates over ${repeated.length} deliveries, ` +
        `${sameKey.length} of them with the same Idempotency-Key; ${keys.size} distinct keys`,
    );

    expect(exit.signal).toBe('SIGKILL');
    expect(byMessage.size).toBe(MESSAGES);
    expect(sameKey.length).toBe(repeated.length);
    expect(keys.size).toBe(MESSAGES); // one key per delivery, never shared by two messages
    expect(Number(jobs)).toBe(0);
    expect(await messageStatuses(db, 'crash')).toEqual({ SENT: MESSAGES });
  });
});
