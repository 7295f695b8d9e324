import { HttpFake, type RecordedRequest } from '../helpers/fakes/http-fake';
import { dispatchScene, messageStatuses, queueWebhookMessages, report, ServerProcess, sleep, waitFor } from './support';

/**
 * Three worker processes, one database: 5,000 queued messages are shared through the job queue
 * (`FOR UPDATE SKIP LOCKED`); every message is delivered, none twice.
 */
const MESSAGES = 5000;
const WORKERS = 3;

describe('fault: three workers share one database', () => {
  const scene = dispatchScene('workers');

  it(`${MESSAGES} messages, ${WORKERS} worker processes: every message delivered, none twice`, async () => {
    const { db, servers } = scene;
    const fake = await HttpFake.start({ status: 200, body: { id: 'ok' } });
    scene.fake = fake;
    await queueWebhookMessages({ db, workspace: 'workers', fake, event: 'Shared', count: MESSAGES, servers });
    expect(await messageStatuses(db, 'workers')).toEqual({ ENQUEUED: MESSAGES });

    const started = Date.now();
    const workers = await Promise.all(
      Array.from({ length: WORKERS }, () =>
        ServerProcess.start({ databaseUrl: db.url, role: 'worker', env: { PIGEON_WORKER_CONCURRENCY: '16' } }),
      ),
    );
    servers.push(...workers);
    await waitFor(
      'every message to be sent',
      async () => (await messageStatuses(db, 'workers')).SENT === MESSAGES,
      300_000,
      250,
    );
    const seconds = (Date.now() - started) / 1000;
    await sleep(1000); // nothing more may arrive

    const byMessage = new Map<string, RecordedRequest[]>();
    for (const req of fake.requests) {
      const messageId = (req.json as { messageId: string }).messageId;
      byMessage.set(messageId, [...(byMessage.get(messageId) ?? []), req]);
    }
    const twice = [...byMessage.values()].filter((reqs) => reqs.length > 1).length;
    const alive = workers.filter((w) => w.running).length;

    report(
      'three-workers',
      `${MESSAGES} messages, ${WORKERS} worker processes (${alive} alive at the end): ${fake.requests.length} requests ` +
        `for ${byMessage.size} messages, ${twice} delivered twice, in ${seconds.toFixed(1)} s ` +
        `(${Math.round(MESSAGES / seconds)} messages/s)`,
    );

    expect(byMessage.size).toBe(MESSAGES);
    expect(fake.requests.length).toBe(MESSAGES);
    expect(twice).toBe(0);
    expect(alive).toBe(WORKERS);
    expect(await messageStatuses(db, 'workers')).toEqual({ SENT: MESSAGES });
    const [{ jobs }] = await db.query<{ jobs: number | string }>('SELECT COUNT(*) AS jobs FROM jobs');
    expect(Number(jobs)).toBe(0);
  });
});
