import { HttpFake, type RecordedRequest } from '../helpers/fakes/http-fake';
import {
  configureWebhookProvider,
  createWorkspace,
  dispatchScene,
  ingest,
  messageStatuses,
  publishWebhookTemplate,
  publishWorkflow,
  report,
  runStatuses,
  ServerProcess,
  sleep,
  waitFor,
} from './support';

/**
 * Workers SIGKILLed mid-run: 3,000 mapped tracks start runs of [delay until the track's own time, spread
 * over 2–6 s → send → delay PT2S → send (another template)] while two worker processes (short PIGEON_JOB_LEASE_MS) are SIGKILLed over and over
 * and replaced. A run's state, its messages and its next job commit together, so a kill loses nothing
 * and repeats nothing: every run COMPLETED, exactly two messages per run, one per send step (never a
 * (run, step) message twice — not even a second SENT in the history), each delivered.
 *
 * What a kill can repeat is a provider call that was in flight (the message is sent, the kill comes before
 * SENT is committed): the send pipeline is at-least-once, as in worker-crash.fault.ts — such a repeat is
 * the same message with the same Idempotency-Key, and it is counted separately from a message created twice.
 */
const RUNS = 3000;
const WORKERS = 2;
const LEASE_MS = 2000;
const MAX_KILLS = 8;
const WORKSPACE = 'wfcrash';
const EVENT = 'Workflow Crash';

describe('fault: workers SIGKILLed mid-run', () => {
  const scene = dispatchScene('wfcrash');

  it(`${RUNS} runs of delay → send → delay → send, workers killed repeatedly: nothing is created or sent twice`, async () => {
    const { db, servers } = scene;
    let answered = 0;
    const fake = await HttpFake.start(async () => {
      await sleep(10); // a provider that takes a moment: some sends are in flight when a worker dies
      answered++;
      return { status: 200, body: { id: 'ok' } };
    });
    scene.fake = fake;

    const ws = await createWorkspace(db.url, WORKSPACE);
    const api = await ServerProcess.start({ databaseUrl: db.url, role: 'api' });
    servers.push(api);
    await configureWebhookProvider(api.base, ws.adminKey, `${fake.url}/hook`);
    await publishWebhookTemplate(api.base, ws.adminKey, 'crash-first');
    await publishWebhookTemplate(api.base, ws.adminKey, 'crash-second');
    await publishWorkflow(
      api.base,
      ws.adminKey,
      {
        key: 'crash-flow',
        name: 'crash flow',
        steps: [
          { ref: 'wait1', type: 'delay', untilPath: 'data.at' },
          { ref: 'first', type: 'send', template: 'crash-first' },
          { ref: 'wait2', type: 'delay', duration: 'PT2S' },
          { ref: 'second', type: 'send', template: 'crash-second' },
        ],
      },
      EVENT,
    );
    // the first delay ends at a time of the run's own, spread over 4 s from 2 s on, so runs come due (and
    // batches run) all through the kills, not all at once
    const base = Date.now() + 2000;
    for (let sent = 0; sent < RUNS; sent += 1000) {
      const batch = Array.from({ length: Math.min(1000, RUNS - sent) }, (_, i) => ({
        type: 'track',
        userId: `u-${sent + i}`,
        event: EVENT,
        properties: { n: sent + i, at: new Date(base + ((sent + i) % 40) * 100).toISOString() },
      }));
      const res = await ingest(api.base, ws.ingestKey, '/v1/batch', { batch }, 120_000);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ success: true });
    }
    expect(await runStatuses(db, WORKSPACE)).toEqual({ RUNNING: RUNS });

    const workerEnv = { PIGEON_JOB_LEASE_MS: String(LEASE_MS), PIGEON_WORKER_CONCURRENCY: '16' };
    const startWorker = async () => {
      const w = await ServerProcess.start({ databaseUrl: db.url, role: 'worker', env: workerEnv });
      servers.push(w);
      return w;
    };
    const started = Date.now();
    let workers = await Promise.all(Array.from({ length: WORKERS }, startWorker));

    const openRuns = async () => {
      const s = await runStatuses(db, WORKSPACE);
      return (s.RUNNING ?? 0) + (s.WAITING ?? 0);
    };
    // kill a worker every 0.3–0.6 s while runs are open (mid-run: between and inside their steps), and replace it
    const kills: { openRuns: number; inFlight: number; signal: string | null }[] = [];
    while (kills.length < MAX_KILLS) {
      await sleep(300 + Math.floor(Math.random() * 300));
      const open = await openRuns();
      if (open < RUNS / 20) break;
      const victim = workers[kills.length % workers.length];
      const inFlight = fake.requests.length - answered;
      victim.child.kill('SIGKILL');
      const exit = await victim.exited;
      kills.push({ openRuns: open, inFlight, signal: exit.signal });
      workers = [...workers.filter((w) => w !== victim), await startWorker()];
    }
    const [{ held }] = await db.query<{ held: number | string }>(
      "SELECT COUNT(*) AS held FROM jobs WHERE status = 'running'",
    );

    await waitFor(
      'every run to complete and every message to be sent',
      async () =>
        (await runStatuses(db, WORKSPACE)).COMPLETED === RUNS &&
        (await messageStatuses(db, WORKSPACE)).SENT === 2 * RUNS,
      150_000,
      250,
    );
    const seconds = (Date.now() - started) / 1000;
    await sleep(1000); // nothing more may arrive

    // the database: two messages per run, one per send step
    const messages = await db.query<{ id: string; run_id: string; step: string; status: string }>(
      `SELECT m.id, m.run_id, JSON_UNQUOTE(JSON_EXTRACT(m.send_options, '$.step')) AS step, m.status
       FROM messages m JOIN workspaces w ON w.id = m.workspace_id WHERE w.name = ?`,
      [WORKSPACE],
    );
    const byRunStep = new Map<string, number>();
    for (const m of messages) byRunStep.set(`${m.run_id}:${m.step}`, (byRunStep.get(`${m.run_id}:${m.step}`) ?? 0) + 1);
    const runStepTwice = [...byRunStep.values()].filter((n) => n > 1).length;
    const runsWithMessages = new Set(messages.map((m) => m.run_id)).size;
    const wrongCount = await db.query(
      `SELECT run_id FROM messages WHERE run_id IS NOT NULL GROUP BY run_id HAVING COUNT(*) <> 2 OR COUNT(DISTINCT JSON_EXTRACT(send_options, '$.step')) <> 2`,
    );
    // the history: a step done twice would show as a second SENT (or RESUMED, COMPLETED) entry, even if its
    // message had been deduplicated by its idempotency key
    // (a run first reached after its own time passed its first delay without waiting: DELAY_PASSED, one wait
    // fewer — so each run must have resumed exactly as often as it waited, once or twice)
    const history = await db.query<{ run_id: string; type: string; n: number | string }>(
      `SELECT run_id, type, COUNT(*) AS n FROM workflow_run_history
       WHERE type IN ('SENT', 'WAITING', 'RESUMED', 'COMPLETED') GROUP BY run_id, type`,
    );
    const counts = new Map<string, Record<string, number>>();
    for (const h of history) counts.set(h.run_id, { ...counts.get(h.run_id), [h.type]: Number(h.n) });
    const historyOff = [...counts].filter(
      ([, c]) => c.SENT !== 2 || c.COMPLETED !== 1 || c.RESUMED !== c.WAITING || !(c.WAITING >= 1 && c.WAITING <= 2),
    );
    const historyRuns = counts.size;

    // the provider: each message at least once; a repeat is the same message with the same Idempotency-Key
    const stepOf = new Map(messages.map((m) => [m.id, `${m.run_id}:${m.step}`]));
    const byMessage = new Map<string, RecordedRequest[]>();
    for (const req of fake.requests) {
      const messageId = (req.json as { messageId: string }).messageId;
      byMessage.set(messageId, [...(byMessage.get(messageId) ?? []), req]);
    }
    const repeated = [...byMessage.values()].filter((reqs) => reqs.length > 1);
    const sameKey = repeated.filter((reqs) => new Set(reqs.map((r) => r.headers['idempotency-key'])).size === 1);
    const receivedRunSteps = new Map<string, number>();
    for (const id of byMessage.keys()) {
      const key = stepOf.get(id) ?? `unknown:${id}`;
      receivedRunSteps.set(key, (receivedRunSteps.get(key) ?? 0) + 1);
    }
    const runStepReceivedAsTwoMessages = [...receivedRunSteps.values()].filter((n) => n > 1).length;
    const unknown = [...byMessage.keys()].filter((id) => !stepOf.has(id)).length;
    const [{ jobs }] = await db.query<{ jobs: number | string }>('SELECT COUNT(*) AS jobs FROM jobs');
    const killedWhileOpen = kills.map((k) => k.openRuns).join('/');

    report(
      'workflow-crash',
      `${RUNS} runs of delay until data.at (2–6 s) → send → delay PT2S → send, ${WORKERS} workers (lease ${LEASE_MS} ms), ` +
        `${kills.length} SIGKILLs each replaced (open runs at each kill: ${killedWhileOpen}; ` +
        `${kills.reduce((n, k) => n + k.inFlight, 0)} provider calls in flight at the kills; ${Number(held)} jobs held ` +
        `after the last); all done in ${seconds.toFixed(1)} s: ${messages.length} messages for ${runsWithMessages} runs, ` +
        `${runStepTwice} (run, step) created twice, ${historyOff.length} history counts off; provider received ` +
        `${fake.requests.length} requests for ${byMessage.size} messages: ${runStepReceivedAsTwoMessages} (run, step) ` +
        `received as two messages, ${fake.requests.length - byMessage.size} at-least-once repeats over ${repeated.length} ` +
        `messages (${sameKey.length} with the same Idempotency-Key)`,
    );

    expect(kills.length).toBeGreaterThanOrEqual(3);
    expect(kills.every((k) => k.signal === 'SIGKILL')).toBe(true);
    expect(await runStatuses(db, WORKSPACE)).toEqual({ COMPLETED: RUNS });
    expect(messages).toHaveLength(2 * RUNS);
    expect(runsWithMessages).toBe(RUNS);
    expect(wrongCount).toEqual([]);
    expect(runStepTwice).toBe(0);
    expect(historyRuns).toBe(RUNS);
    expect(historyOff).toEqual([]);
    expect(await messageStatuses(db, WORKSPACE)).toEqual({ SENT: 2 * RUNS });
    expect(unknown).toBe(0);
    expect(byMessage.size).toBe(2 * RUNS);
    expect(runStepReceivedAsTwoMessages).toBe(0);
    expect(sameKey.length).toBe(repeated.length);
    expect(Number(jobs)).toBe(0);
  });
});
