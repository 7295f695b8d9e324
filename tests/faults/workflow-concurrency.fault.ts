import { HttpFake, type RecordedRequest } from '../helpers/fakes/http-fake';
import {
  configureWebhookProvider,
  createWorkspace,
  dispatchScene,
  gql,
  ingest,
  messageStatuses,
  publishWebhookTemplate,
  publishWorkflow,
  report,
  runStatuses,
  ServerProcess,
  sleep,
  waitFor,
  type Workspace,
} from './support';

/**
 * Workflow steps under three worker processes on one MariaDB database (README "Workflows": digest and
 * throttle are exact "under any number of workers", and no step of a cancelled run sends anything once
 * the cancel is acknowledged). One API process ingests, three workers advance the runs; each scenario has
 * a workspace of its own.
 */
const WORKERS = 3;

/** A DATETIME as the mysql2 connection gives it (a Date, UTC), in ms. */
function ms(value: unknown): number {
  return value instanceof Date ? value.getTime() : new Date(`${String(value).replace(' ', 'T')}Z`).getTime();
}

function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

async function expectOk(res: Response, what: string): Promise<void> {
  const text = await res.text();
  if (res.status !== 200 || text.includes('rejected')) throw new Error(`${what}: ${res.status} ${text.slice(0, 300)}`);
}

describe('fault: workflow steps under three worker processes', () => {
  const scene = dispatchScene('wfconc');
  let api: ServerProcess;
  let fake: HttpFake;

  beforeAll(async () => {
    fake = await HttpFake.start({ status: 200, body: { id: 'ok' } });
    scene.fake = fake;
    api = await ServerProcess.start({ databaseUrl: scene.db.url, role: 'api' });
    scene.servers.push(api);
    const workers = await Promise.all(
      Array.from({ length: WORKERS }, () =>
        ServerProcess.start({
          databaseUrl: scene.db.url,
          role: 'worker',
          env: { PIGEON_WORKER_CONCURRENCY: '16', PIGEON_WORKER_POLL_MS: '100' },
        }),
      ),
    );
    scene.servers.push(...workers);
  });

  afterEach(() => {
    for (const s of scene.servers)
      if (!s.running) throw new Error(`a ${s.role} process died:\n${s.output.slice(-3000)}`);
  });

  /** A workspace with webhook sending to the fake, a template `template`, and `workflow` mapped from `event`. */
  async function workspace(
    name: string,
    template: string,
    workflow: Record<string, unknown>,
    event: string,
  ): Promise<{ ws: Workspace; workspaceId: number; workflowId: string }> {
    const ws = await createWorkspace(scene.db.url, name);
    await configureWebhookProvider(api.base, ws.adminKey, `${fake.url}/${name}`);
    await publishWebhookTemplate(api.base, ws.adminKey, template);
    const workflowId = await publishWorkflow(api.base, ws.adminKey, workflow, event);
    const [{ id }] = await scene.db.query<{ id: number | string }>('SELECT id FROM workspaces WHERE name = ?', [name]);
    return { ws, workspaceId: Number(id), workflowId };
  }

  /** Requests the fake received for one workspace, by Pigeon message id. */
  function received(name: string): Map<string, RecordedRequest[]> {
    const byMessage = new Map<string, RecordedRequest[]>();
    for (const req of fake.requests.filter((r) => r.pathname === `/${name}`)) {
      const messageId = (req.json as { messageId: string }).messageId;
      byMessage.set(messageId, [...(byMessage.get(messageId) ?? []), req]);
    }
    return byMessage;
  }

  async function settled(name: string, messages: () => Promise<number>, timeoutMs: number): Promise<void> {
    await waitFor(
      `the runs of ${name} to end and their messages to be sent`,
      async () => {
        const runs = await runStatuses(scene.db, name);
        if ((runs.RUNNING ?? 0) + (runs.WAITING ?? 0) > 0) return false;
        return (await messageStatuses(scene.db, name)).SENT === (await messages());
      },
      timeoutMs,
      250,
    );
  }

  it('digest (PT2S, FIXED): 2,000 events of 50 users ingested concurrently → one message per (user, window), every event counted once', async () => {
    const NAME = 'digest';
    const USERS = 50;
    const EVENTS = 2000;
    const CLIENTS = 8;
    const RETRIES = 100;
    const { ws, workspaceId } = await workspace(
      NAME,
      'digest-send',
      {
        key: 'digest-flow',
        name: 'digest flow',
        steps: [
          { ref: 'collect', type: 'digest', window: 'PT2S', mode: 'FIXED' },
          { ref: 'send', type: 'send', template: 'digest-send' },
        ],
      },
      'Digest Item',
    );
    const item = (i: number) => ({
      type: 'track',
      messageId: `digest-${i}`,
      userId: `du-${i % USERS}`,
      event: 'Digest Item',
      properties: { n: i },
    });

    // while the events come in: no identity ever has two open buckets in one snapshot
    let sampling = true;
    let samples = 0;
    let maxOpen = 0;
    const doubleOpen: unknown[] = [];
    const sampler = (async () => {
      while (sampling) {
        const [rows] = await Promise.all([
          scene.db.query<{ bucket_key: string; n: number | string }>(
            `SELECT bucket_key, COUNT(*) AS n FROM workflow_digests WHERE workspace_id = ? AND status = 'open' GROUP BY bucket_key`,
            [workspaceId],
          ),
          sleep(40),
        ]);
        samples++;
        maxOpen = Math.max(maxOpen, rows.length);
        doubleOpen.push(...rows.filter((r) => Number(r.n) > 1));
      }
    })();

    // several clients at once, each mixing /v1/batch (20 events) and /v1/track (one event) requests
    const started = Date.now();
    const order = shuffle(Array.from({ length: EVENTS }, (_, i) => i));
    const slices = Array.from({ length: CLIENTS }, (_, c) => order.filter((_, k) => k % CLIENTS === c));
    let batches = 0;
    let tracks = 0;
    await Promise.all(
      slices.map(async (slice, c) => {
        let at = 0;
        for (let r = 0; at < slice.length; r++) {
          if ((r + c) % 2 === 0) {
            const batch = slice.slice(at, at + 20).map(item);
            at += batch.length;
            batches++;
            await expectOk(await ingest(api.base, ws.ingestKey, '/v1/batch', { batch }, 60_000), 'batch');
          } else {
            for (const i of slice.slice(at, at + 5)) {
              tracks++;
              await expectOk(await ingest(api.base, ws.ingestKey, '/v1/track', item(i), 60_000), 'track');
            }
            at += 5;
          }
          await sleep(40);
        }
      }),
    );
    // Segment retries: the same messageIds again, some while their bucket is still open
    const retried = shuffle(Array.from({ length: EVENTS }, (_, i) => i)).slice(0, RETRIES);
    await expectOk(
      await ingest(api.base, ws.ingestKey, '/v1/batch', { batch: retried.slice(0, RETRIES / 2).map(item) }, 60_000),
      'retried batch',
    );
    for (const i of retried.slice(RETRIES / 2))
      await expectOk(await ingest(api.base, ws.ingestKey, '/v1/track', item(i), 60_000), 'retried track');
    const ingestSeconds = (Date.now() - started) / 1000;

    const collectorsCount = async () => (await runStatuses(scene.db, NAME)).COMPLETED ?? 0;
    await settled(NAME, collectorsCount, 120_000);
    sampling = false;
    await sampler;
    const seconds = (Date.now() - started) / 1000;
    await sleep(500);

    const runs = await scene.db.query<{ id: string; user_id: string; status: string; digest: unknown }>(
      'SELECT id, user_id, status, digest FROM workflow_runs WHERE workspace_id = ?',
      [workspaceId],
    );
    const history = await scene.db.query<{ id: number | string; run_id: string; type: string; detail: unknown }>(
      `SELECT h.id, h.run_id, h.type, h.detail FROM workflow_run_history h JOIN workflow_runs r ON r.id = h.run_id
       WHERE r.workspace_id = ? AND h.type IN ('DIGEST_OPENED', 'DIGEST_CLOSED', 'DIGESTED') ORDER BY h.id`,
      [workspaceId],
    );
    const digests = await scene.db.query<{
      id: string;
      bucket_key: string;
      collector_run_id: string;
      status: string;
      item_count: number | string;
      opened_at: unknown;
      updated_at: unknown;
    }>('SELECT * FROM workflow_digests WHERE workspace_id = ?', [workspaceId]);
    const messages = await scene.db.query<{ id: string; run_id: string }>(
      'SELECT id, run_id FROM messages WHERE workspace_id = ?',
      [workspaceId],
    );
    const [{ events }] = await scene.db.query<{ events: number | string }>(
      'SELECT COUNT(*) AS events FROM inbound_events WHERE workspace_id = ?',
      [workspaceId],
    );

    const byId = new Map(runs.map((r) => [r.id, r]));
    const collectors = runs.filter((r) => r.status === 'COMPLETED');
    const digested = runs.filter((r) => r.status === 'DIGESTED');
    const entries = (runId: string, type: string) => history.filter((h) => h.run_id === runId && h.type === type);
    const problems: string[] = [];
    const joinedInto = new Map<string, number>();
    for (const r of digested) {
      const d = entries(r.id, 'DIGESTED');
      if (d.length !== 1 || entries(r.id, 'DIGEST_OPENED').length) {
        problems.push(`run ${r.id}: ${d.length} DIGESTED entries`);
        continue;
      }
      const into = json<{ into: string }>(d[0].detail).into;
      const collector = byId.get(into);
      if (!collector || collector.status !== 'COMPLETED' || collector.user_id !== r.user_id)
        problems.push(`run ${r.id} digested into ${into} (${collector?.status}, ${collector?.user_id})`);
      joinedInto.set(into, (joinedInto.get(into) ?? 0) + 1);
    }
    let counted = 0;
    for (const c of collectors) {
      const count = json<{ count: number } | null>(c.digest)?.count ?? 0;
      counted += count;
      if (count !== 1 + (joinedInto.get(c.id) ?? 0))
        problems.push(`collector ${c.id}: count ${count}, ${joinedInto.get(c.id) ?? 0} runs digested into it`);
      if (entries(c.id, 'DIGEST_OPENED').length !== 1 || entries(c.id, 'DIGEST_CLOSED').length !== 1)
        problems.push(`collector ${c.id}: not exactly one DIGEST_OPENED and one DIGEST_CLOSED`);
    }
    const messagesByRun = new Map<string, number>();
    for (const m of messages) messagesByRun.set(m.run_id, (messagesByRun.get(m.run_id) ?? 0) + 1);
    const collectorsWithOneMessage = collectors.filter((c) => messagesByRun.get(c.id) === 1).length;
    const digestedWithMessage = digested.filter((r) => messagesByRun.has(r.id)).length;

    // one identity's buckets, in the order they were opened: each opened after the previous one closed. The
    // history ids are allocated in the transactions that open and close (an open waits for the previous
    // close to commit, by the unique open-bucket key), so they order them exactly; the recorded times are
    // each batch's start and may be a batch's duration apart, so they are only reported.
    const historyId = (runId: string, type: string) => Number(entries(runId, type)[0]?.id ?? NaN);
    const byIdentity = new Map<string, typeof digests>();
    for (const d of digests) byIdentity.set(d.bucket_key, [...(byIdentity.get(d.bucket_key) ?? []), d]);
    let orderViolations = 0;
    let timeOverlaps = 0;
    let maxTimeOverlapMs = 0;
    for (const buckets of byIdentity.values()) {
      buckets.sort(
        (a, b) => historyId(a.collector_run_id, 'DIGEST_OPENED') - historyId(b.collector_run_id, 'DIGEST_OPENED'),
      );
      for (let k = 1; k < buckets.length; k++) {
        const prev = buckets[k - 1];
        const next = buckets[k];
        if (!(historyId(next.collector_run_id, 'DIGEST_OPENED') > historyId(prev.collector_run_id, 'DIGEST_CLOSED')))
          orderViolations++;
        const overlap = ms(prev.updated_at) - ms(next.opened_at);
        if (overlap > 0) {
          timeOverlaps++;
          maxTimeOverlapMs = Math.max(maxTimeOverlapMs, overlap);
        }
      }
    }
    const deliveries = received(NAME);
    const deliveredTwice = [...deliveries.values()].filter((r) => r.length > 1).length;
    const users = new Set(collectors.map((c) => c.user_id)).size;

    report(
      'workflow-digest',
      `${EVENTS} events of ${USERS} users (${batches} batches of 20 and ${tracks} tracks from ${CLIENTS} clients, then ` +
        `${RETRIES} Segment retries) in ${ingestSeconds.toFixed(1)} s, digest PT2S FIXED, ${WORKERS} workers: ` +
        `${runs.length} runs, ${collectors.length} buckets for ${users} users (${(collectors.length / USERS).toFixed(1)} ` +
        `windows per user), counts summing to ${counted}, ${digested.length} DIGESTED; ${messages.length} messages, ` +
        `${deliveries.size} delivered, ${deliveredTwice} twice; ${samples} snapshots (up to ${maxOpen} open buckets): ` +
        `${doubleOpen.length} with two open for one identity; ${orderViolations} buckets opened before the previous ` +
        `closed (recorded times: ${timeOverlaps} overlaps, up to ${maxTimeOverlapMs} ms); ${problems.length} problems; ` +
        `settled ${seconds.toFixed(1)} s after the first event`,
    );

    expect(problems.slice(0, 10)).toEqual([]);
    expect(Number(events)).toBe(EVENTS);
    expect(runs).toHaveLength(EVENTS);
    expect(await runStatuses(scene.db, NAME)).toEqual({
      COMPLETED: collectors.length,
      DIGESTED: EVENTS - collectors.length,
    });
    expect(counted).toBe(EVENTS);
    expect(users).toBe(USERS);
    expect(digests).toHaveLength(collectors.length);
    expect(digests.every((d) => d.status === 'closed')).toBe(true);
    expect(digests.reduce((n, d) => n + Number(d.item_count), 0)).toBe(EVENTS);
    expect(new Set(digests.map((d) => d.collector_run_id)).size).toBe(collectors.length);
    expect(doubleOpen).toEqual([]);
    expect(orderViolations).toBe(0);
    expect(messages).toHaveLength(collectors.length);
    expect(collectorsWithOneMessage).toBe(collectors.length);
    expect(digestedWithMessage).toBe(0);
    expect(deliveries.size).toBe(collectors.length);
    expect(deliveredTwice).toBe(0);
  });

  it('throttle (3 per PT1H): 40 runs for each of 20 users at once → exactly 3 admitted per user, the rest THROTTLED', async () => {
    const NAME = 'throttle';
    const USERS = 20;
    const PER_USER = 40;
    const LIMIT = 3;
    const { ws, workspaceId } = await workspace(
      NAME,
      'throttle-send',
      {
        key: 'throttle-flow',
        name: 'throttle flow',
        steps: [
          { ref: 'limit', type: 'throttle', limit: LIMIT, window: 'PT1H' },
          { ref: 'send', type: 'send', template: 'throttle-send' },
        ],
      },
      'Throttle Item',
    );
    const started = Date.now();
    const items = Array.from({ length: USERS * PER_USER }, (_, i) => ({
      type: 'track',
      userId: `tu-${i % USERS}`,
      event: 'Throttle Item',
      properties: { n: i },
    }));
    // 16 batches of 50 at once (each batch holds every user), so the workers' batches race on every user
    await Promise.all(
      Array.from({ length: 16 }, (_, b) =>
        ingest(api.base, ws.ingestKey, '/v1/batch', { batch: items.slice(b * 50, b * 50 + 50) }, 60_000).then((res) =>
          expectOk(res, 'batch'),
        ),
      ),
    );
    await settled(NAME, async () => USERS * LIMIT, 120_000);
    const seconds = (Date.now() - started) / 1000;
    await sleep(500);

    const perUser = await scene.db.query<{ user_id: string; status: string; n: number | string }>(
      'SELECT user_id, status, COUNT(*) AS n FROM workflow_runs WHERE workspace_id = ? GROUP BY user_id, status',
      [workspaceId],
    );
    const admitted = new Map<string, number>();
    const throttled = new Map<string, number>();
    for (const r of perUser) {
      if (r.status === 'COMPLETED') admitted.set(r.user_id, Number(r.n));
      else if (r.status === 'THROTTLED') throttled.set(r.user_id, Number(r.n));
    }
    const admissions = await scene.db.query<{ throttle_id: string; n: number | string }>(
      `SELECT a.throttle_id, COUNT(*) AS n FROM workflow_throttle_admissions a
       JOIN workflow_throttles t ON t.id = a.throttle_id WHERE t.workspace_id = ? GROUP BY a.throttle_id`,
      [workspaceId],
    );
    const messages = await scene.db.query<{ run_id: string; user_id: string }>(
      'SELECT run_id, user_id FROM messages WHERE workspace_id = ?',
      [workspaceId],
    );
    const completedIds = new Set(
      (
        await scene.db.query<{ id: string }>(
          "SELECT id FROM workflow_runs WHERE workspace_id = ? AND status = 'COMPLETED'",
          [workspaceId],
        )
      ).map((r) => r.id),
    );
    const deliveries = received(NAME);
    const spread = [...admitted.values()];

    report(
      'workflow-throttle',
      `${USERS * PER_USER} runs (${PER_USER} for each of ${USERS} users, 16 concurrent batches), throttle ${LIMIT} per PT1H, ` +
        `${WORKERS} workers: admitted per user ${Math.min(...spread)}–${Math.max(...spread)} ` +
        `(${spread.reduce((a, b) => a + b, 0)} in all), ${[...throttled.values()].reduce((a, b) => a + b, 0)} THROTTLED; ` +
        `${admissions.length} throttles holding ${admissions.reduce((n, a) => n + Number(a.n), 0)} admissions; ` +
        `${messages.length} messages, ${deliveries.size} delivered; settled in ${seconds.toFixed(1)} s`,
    );

    expect(await runStatuses(scene.db, NAME)).toEqual({
      COMPLETED: USERS * LIMIT,
      THROTTLED: USERS * (PER_USER - LIMIT),
    });
    for (let u = 0; u < USERS; u++) {
      expect([`tu-${u}`, admitted.get(`tu-${u}`), throttled.get(`tu-${u}`)]).toEqual([
        `tu-${u}`,
        LIMIT,
        PER_USER - LIMIT,
      ]);
    }
    expect(admissions).toHaveLength(USERS);
    expect(admissions.every((a) => Number(a.n) === LIMIT)).toBe(true);
    expect(messages).toHaveLength(USERS * LIMIT);
    expect(messages.every((m) => completedIds.has(m.run_id))).toBe(true);
    expect(new Set(messages.map((m) => m.run_id)).size).toBe(USERS * LIMIT);
    expect(deliveries.size).toBe(USERS * LIMIT);
    expect([...deliveries.values()].every((r) => r.length === 1)).toBe(true);
  });

  /**
   * Runs of [delay → send] with the same cancel key, their delays coming due over about a second while the
   * cancel arrives: the runs not cancelled are exactly those that sent before it, and nothing is created
   * after the cancel was acknowledged.
   */
  async function cancelRace(
    name: string,
    runsCount: number,
    cancel: (ws: Workspace, workflowId: string) => Promise<number | null>,
    extra: (ws: Workspace, workflowId: string) => Promise<void> = async () => undefined,
    userOf: (i: number) => string = (i) => `cu-${i}`,
    cartOf: (i: number) => string = () => 'cart-1',
  ) {
    const { ws, workspaceId, workflowId } = await workspace(
      name,
      `${name}-send`,
      {
        key: `${name}-flow`,
        name: `${name} flow`,
        cancelKeyPath: 'data.cartId',
        steps: [
          { ref: 'wait', type: 'delay', duration: 'PT2S' },
          { ref: 'send', type: 'send', template: `${name}-send` },
        ],
      },
      'Cart Abandoned',
    );
    await extra(ws, workflowId);
    // 20 batches 60 ms apart: the delays come due over about 1.2 s
    const perBatch = Math.ceil(runsCount / 20);
    for (let b = 0; b * perBatch < runsCount; b++) {
      const batch = Array.from({ length: Math.min(perBatch, runsCount - b * perBatch) }, (_, k) => {
        const i = b * perBatch + k;
        return { type: 'track', userId: userOf(i), event: 'Cart Abandoned', properties: { cartId: cartOf(i), n: i } };
      });
      await expectOk(await ingest(api.base, ws.ingestKey, '/v1/batch', { batch }, 60_000), 'batch');
      await sleep(60);
    }
    // the cancel as the first delays come due, at a moment the workers hold some of the runs' jobs
    let held = 0;
    await waitFor(
      'the first runs to send',
      async () => {
        const [{ n, h }] = await scene.db.query<{ n: number | string; h: number | string }>(
          `SELECT (SELECT COUNT(*) FROM messages WHERE workspace_id = ?) AS n,
             (SELECT COUNT(*) FROM jobs WHERE workspace_id = ? AND kind = 'run' AND status = 'running') AS h`,
          [workspaceId, workspaceId],
        );
        held = Number(h);
        return (Number(n) >= runsCount / 20 && held > 0) || Number(n) >= runsCount / 2;
      },
      30_000,
      10,
    );
    const sentAt = Date.now();
    const answered = await cancel(ws, workflowId);
    const ackAt = Date.now();
    // the messages committed when the cancel had answered (read at once: a message committed later is not here)
    const atAck = new Set(
      (
        await scene.db.query<{ run_id: string }>('SELECT run_id FROM messages WHERE workspace_id = ?', [workspaceId])
      ).map((m) => m.run_id),
    );
    await waitFor(
      `the runs of ${name} to end`,
      async () => {
        const s = await runStatuses(scene.db, name);
        return (s.RUNNING ?? 0) + (s.WAITING ?? 0) === 0;
      },
      60_000,
      100,
    );
    const [{ n: messagesCount }] = await scene.db.query<{ n: number | string }>(
      'SELECT COUNT(*) AS n FROM messages WHERE workspace_id = ?',
      [workspaceId],
    );
    await settled(name, async () => Number(messagesCount), 60_000);
    await sleep(500);

    const runs = await scene.db.query<{ id: string; user_id: string; status: string; cancel_key: string }>(
      'SELECT id, user_id, status, cancel_key FROM workflow_runs WHERE workspace_id = ?',
      [workspaceId],
    );
    const messages = await scene.db.query<{ id: string; run_id: string; created_at: unknown }>(
      'SELECT id, run_id, created_at FROM messages WHERE workspace_id = ?',
      [workspaceId],
    );
    const cancelledHistory = await scene.db.query<{ run_id: string; detail: unknown }>(
      `SELECT h.run_id, h.detail FROM workflow_run_history h JOIN workflow_runs r ON r.id = h.run_id
       WHERE r.workspace_id = ? AND h.type = 'CANCELLED'`,
      [workspaceId],
    );
    const sentHistory = await scene.db.query<{ run_id: string; at: unknown }>(
      `SELECT h.run_id, h.at FROM workflow_run_history h JOIN workflow_runs r ON r.id = h.run_id
       WHERE r.workspace_id = ? AND h.type = 'SENT'`,
      [workspaceId],
    );
    const cancelled = new Set(runs.filter((r) => r.status === 'CANCELLED').map((r) => r.id));
    const completed = new Set(runs.filter((r) => r.status === 'COMPLETED').map((r) => r.id));
    const messageOfCancelled = messages.filter((m) => cancelled.has(m.run_id)).length;
    const sentHistoryOfCancelled = sentHistory.filter((h) => cancelled.has(h.run_id)).length;
    const createdAfterAck = messages.filter((m) => ms(m.created_at) > ackAt).length;
    const committedAfterAck = messages.filter((m) => !atAck.has(m.run_id));
    const messagesByRun = new Map<string, number>();
    for (const m of messages) messagesByRun.set(m.run_id, (messagesByRun.get(m.run_id) ?? 0) + 1);
    const latestMessage = Math.max(...messages.map((m) => ms(m.created_at)));
    const deliveries = received(name);
    return {
      ws,
      runs,
      held,
      answered,
      sentAt,
      ackAt,
      cancelled,
      completed,
      messages,
      cancelledHistory,
      messageOfCancelled,
      sentHistoryOfCancelled,
      createdAfterAck,
      committedAfterAck,
      messagesByRun,
      latestMessage,
      deliveries,
    };
  }

  it('a cancelled digest collector leaves no open bucket behind: runs started after the cancel still send', async () => {
    // README "Workflows", Cancellation: "runs started later are not affected". A collecting run that is
    // cancelled while its bucket is open must not take the later runs of its recipient with it.
    const NAME = 'digestcancel';
    const USERS = 20;
    const { ws, workspaceId } = await workspace(
      NAME,
      'digestcancel-send',
      {
        key: 'digestcancel-flow',
        name: 'digest cancel flow',
        cancelKeyPath: 'data.cartId',
        steps: [
          { ref: 'collect', type: 'digest', window: 'PT2S', mode: 'FIXED' },
          { ref: 'send', type: 'send', template: 'digestcancel-send' },
        ],
      },
      'Digest Cart',
    );
    const track = (u: number, cartId: string) => ({
      type: 'track',
      userId: `dc-${u}`,
      event: 'Digest Cart',
      properties: { cartId },
    });
    await expectOk(
      await ingest(api.base, ws.ingestKey, '/v1/batch', {
        batch: Array.from({ length: USERS }, (_, u) => track(u, 'cart-old')),
      }),
      'first batch',
    );
    await waitFor(
      'every user to have a collecting run waiting',
      async () => (await runStatuses(scene.db, NAME)).WAITING === USERS,
      30_000,
      50,
    );
    const { cancelRuns } = await gql<{ cancelRuns: number }>(
      api.base,
      ws.adminKey,
      'mutation($w: String!, $k: String!) { cancelRuns(workflowKey: $w, cancelKey: $k) }',
      { w: 'digestcancel-flow', k: 'cart-old' },
    );
    const started = Date.now();
    await expectOk(
      await ingest(api.base, ws.ingestKey, '/v1/batch', {
        batch: Array.from({ length: USERS }, (_, u) => track(u, 'cart-new')),
      }),
      'second batch',
    );
    // the later runs' window (2 s) and more
    await waitFor(
      'the later runs to end',
      async () => {
        const s = await runStatuses(scene.db, NAME);
        return (s.RUNNING ?? 0) + (s.WAITING ?? 0) === 0;
      },
      15_000,
      100,
    ).catch(() => undefined);
    await sleep(Math.max(0, 4000 - (Date.now() - started)));
    const later = await scene.db.query<{ id: string; status: string }>(
      `SELECT id, status FROM workflow_runs WHERE workspace_id = ? AND cancel_key = 'cart-new'`,
      [workspaceId],
    );
    const laterStatuses: Record<string, number> = {};
    for (const r of later) laterStatuses[r.status] = (laterStatuses[r.status] ?? 0) + 1;
    const [{ open }] = await scene.db.query<{ open: number | string }>(
      `SELECT COUNT(*) AS open FROM workflow_digests d JOIN workflow_runs r ON r.id = d.collector_run_id
       WHERE d.workspace_id = ? AND d.status = 'open' AND r.status = 'CANCELLED'`,
      [workspaceId],
    );
    const [{ sent }] = await scene.db.query<{ sent: number | string }>(
      `SELECT COUNT(*) AS sent FROM messages m JOIN workflow_runs r ON r.id = m.run_id
       WHERE m.workspace_id = ? AND r.cancel_key = 'cart-new'`,
      [workspaceId],
    );

    report(
      'workflow-digest-cancel',
      `${USERS} collecting runs cancelled (cancelRuns answered ${cancelRuns}) with their buckets open, then one run per ` +
        `user: ${JSON.stringify(laterStatuses)} ${Math.round((Date.now() - started) / 1000)} s later, ${Number(sent)} ` +
        `messages; ${Number(open)} buckets still open under a cancelled collector`,
    );

    expect(cancelRuns).toBe(USERS);
    expect(Number(open)).toBe(0);
    expect(laterStatuses).toEqual({ COMPLETED: USERS });
    expect(Number(sent)).toBe(USERS);
  });

  it('a cancelling event cancels the runs started by earlier events of its own batch (events apply in order)', async () => {
    // README: "events are applied in the order received"; a cancelling event ends the runs open when it is
    // stored, and "runs started later are not affected". In one /v1/batch, a run started by an earlier item
    // is open when a later item cancels it; a run started by a later item is not the cancel's.
    const NAME = 'cancelorder';
    const USERS = 20;
    const { ws, workflowId } = await workspace(
      NAME,
      'cancelorder-send',
      {
        key: 'cancelorder-flow',
        name: 'cancel order flow',
        cancelKeyPath: 'data.cartId',
        steps: [
          { ref: 'wait', type: 'delay', duration: 'PT1S' },
          { ref: 'send', type: 'send', template: 'cancelorder-send' },
        ],
      },
      'Cart Abandoned',
    );
    await gql(
      api.base,
      ws.adminKey,
      'mutation($n: String!, $w: ID!, $p: String!) { mapCancel(eventName: $n, workflowId: $w, keyPath: $p) { eventName } }',
      { n: 'Segment-TrackEvent:Order Completed', w: workflowId, p: 'data.cartId' },
    );
    const event = (user: string, name: string) => ({
      type: 'track',
      userId: user,
      event: name,
      properties: { cartId: `cart-${user}` },
    });
    // "start-then-cancel" users: [Cart Abandoned, Order Completed] in one batch → their run is cancelled;
    // "cancel-then-start" users: [Order Completed, Cart Abandoned] → their run is not the cancel's and sends;
    // "two-requests" users: the same as the first, but in two requests (the control)
    const first = Array.from({ length: USERS }, (_, u) => `sc-${u}`);
    const second = Array.from({ length: USERS }, (_, u) => `cs-${u}`);
    const control = Array.from({ length: USERS }, (_, u) => `tr-${u}`);
    await expectOk(
      await ingest(api.base, ws.ingestKey, '/v1/batch', {
        batch: [
          ...first.flatMap((u) => [event(u, 'Cart Abandoned'), event(u, 'Order Completed')]),
          ...second.flatMap((u) => [event(u, 'Order Completed'), event(u, 'Cart Abandoned')]),
        ],
      }),
      'batch',
    );
    await expectOk(
      await ingest(api.base, ws.ingestKey, '/v1/batch', { batch: control.map((u) => event(u, 'Cart Abandoned')) }),
      'control batch',
    );
    await expectOk(
      await ingest(api.base, ws.ingestKey, '/v1/batch', { batch: control.map((u) => event(u, 'Order Completed')) }),
      'control cancel',
    );
    await waitFor(
      'every run to end',
      async () => {
        const s = await runStatuses(scene.db, NAME);
        return (s.RUNNING ?? 0) + (s.WAITING ?? 0) === 0 && Object.values(s).reduce((a, b) => a + b, 0) === 3 * USERS;
      },
      30_000,
      100,
    );
    const runs = await scene.db.query<{ user_id: string; status: string }>(
      'SELECT r.user_id, r.status FROM workflow_runs r JOIN workspaces w ON w.id = r.workspace_id WHERE w.name = ?',
      [NAME],
    );
    const statusesOf = (users: string[]) => {
      const out: Record<string, number> = {};
      for (const r of runs.filter((x) => users.includes(x.user_id))) out[r.status] = (out[r.status] ?? 0) + 1;
      return out;
    };

    report(
      'workflow-cancel-order',
      `${USERS} users each: [start, cancel] in one batch → ${JSON.stringify(statusesOf(first))}; [cancel, start] in one ` +
        `batch → ${JSON.stringify(statusesOf(second))}; start and cancel in two requests → ` +
        `${JSON.stringify(statusesOf(control))}`,
    );

    expect(statusesOf(control)).toEqual({ CANCELLED: USERS });
    expect(statusesOf(second)).toEqual({ COMPLETED: USERS });
    expect(statusesOf(first)).toEqual({ CANCELLED: USERS });
  });

  it('cancelRuns racing due delays: no cancelled run sends, nothing is created after the cancel answered', async () => {
    const RUNS = 600;
    const r = await cancelRace('cancel', RUNS, async (ws) => {
      const { cancelRuns } = await gql<{ cancelRuns: number }>(
        api.base,
        ws.adminKey,
        'mutation($w: String!, $k: String!) { cancelRuns(workflowKey: $w, cancelKey: $k) }',
        { w: 'cancel-flow', k: 'cart-1' },
      );
      return cancelRuns;
    });
    const completedWithOneMessage = [...r.completed].filter((id) => r.messagesByRun.get(id) === 1).length;

    report(
      'workflow-cancel',
      `${RUNS} runs of delay PT2S → send with one cancel key, due over ~1.2 s, ${WORKERS} workers; cancelRuns sent once ` +
        `${r.completed.size ? '' : 'no '}runs had sent (${r.held} run jobs held by workers), answered ${r.answered} in ${r.ackAt - r.sentAt} ms: ` +
        `${r.cancelled.size} CANCELLED, ${r.completed.size} COMPLETED (sent before the cancel); ${r.messages.length} messages, ` +
        `${r.messageOfCancelled} of cancelled runs, ${r.committedAfterAck.length} committed after the answer ` +
        `(${r.createdAfterAck} stamped after it; latest stamp ${r.latestMessage - r.ackAt} ms from it); ` +
        `${r.deliveries.size} delivered`,
    );

    expect(r.answered).toBe(r.cancelled.size);
    expect(r.cancelled.size + r.completed.size).toBe(RUNS);
    expect(r.cancelled.size).toBeGreaterThan(0);
    expect(r.completed.size).toBeGreaterThan(0);
    expect(r.cancelledHistory).toHaveLength(r.cancelled.size);
    expect(r.messageOfCancelled).toBe(0);
    expect(r.sentHistoryOfCancelled).toBe(0);
    expect(r.createdAfterAck).toBe(0);
    expect(r.committedAfterAck).toEqual([]);
    expect(completedWithOneMessage).toBe(r.completed.size);
    expect(r.messages).toHaveLength(r.completed.size);
    expect(r.deliveries.size).toBe(r.completed.size);
  });

  it('a cancelling event (mapCancel) racing due delays: only its own user, nothing sent after it was stored', async () => {
    // 300 users, one run each; users 2k and 2k+1 share the cart id, and only the even ones send the
    // cancelling event, so the odd ones' runs must all complete
    const USERS = 300;
    const userOf = (i: number) => `eu-${i}`;
    const cartOf = (i: number) => `cart-${Math.floor(i / 2)}`;
    const r = await cancelRace(
      'cancelev',
      USERS,
      async (ws) => {
        const batch = Array.from({ length: USERS / 2 }, (_, k) => ({
          type: 'track',
          userId: userOf(2 * k),
          event: 'Order Completed',
          properties: { cartId: cartOf(2 * k) },
        }));
        await expectOk(await ingest(api.base, ws.ingestKey, '/v1/batch', { batch }, 60_000), 'cancelling batch');
        return null;
      },
      async (ws, workflowId) => {
        await gql(
          api.base,
          ws.adminKey,
          'mutation($n: String!, $w: ID!, $p: String!) { mapCancel(eventName: $n, workflowId: $w, keyPath: $p) { eventName } }',
          { n: 'Segment-TrackEvent:Order Completed', w: workflowId, p: 'data.cartId' },
        );
      },
      userOf,
      cartOf,
    );
    const userOfRun = new Map(r.runs.map((run) => [run.id, run.user_id]));
    const cancelledOdd = [...r.cancelled].filter((id) => Number(userOfRun.get(id)!.slice(3)) % 2 === 1).length;
    const odd = r.runs.filter((run) => Number(run.user_id.slice(3)) % 2 === 1);
    const evenCancelled = r.cancelled.size - cancelledOdd;
    // the cancelling users' runs that were not cancelled had sent before the events were stored
    const evenLate = r.committedAfterAck.filter((m) => Number(userOfRun.get(m.run_id)!.slice(3)) % 2 === 0);
    const byEvent = r.cancelledHistory.filter((h) => json<{ by: string }>(h.detail).by === 'event').length;

    report(
      'workflow-cancel-event',
      `${USERS} runs of delay PT2S → send (pairs of users sharing a cart id), a batch of ${USERS / 2} cancelling events ` +
        `(one user of each pair) stored in ${r.ackAt - r.sentAt} ms as the delays came due (${r.held} run jobs held by workers), ` +
        `${WORKERS} workers: ` +
        `${evenCancelled} of ${USERS / 2} cancelled (the rest had sent), ${cancelledOdd} of the other users' runs cancelled; ` +
        `${r.messages.length} messages, ${r.messageOfCancelled} of cancelled runs, ${evenLate.length} of the cancelling ` +
        `users committed after the events were stored`,
    );

    expect(cancelledOdd).toBe(0);
    expect(odd.every((run) => run.status === 'COMPLETED')).toBe(true);
    expect(evenCancelled).toBeGreaterThan(0);
    expect(byEvent).toBe(r.cancelled.size);
    expect(r.cancelled.size + r.completed.size).toBe(USERS);
    expect(r.messageOfCancelled).toBe(0);
    expect(r.sentHistoryOfCancelled).toBe(0);
    expect(evenLate).toEqual([]);
    expect(r.messages).toHaveLength(r.completed.size);
    expect(r.deliveries.size).toBe(r.completed.size);
  });
});
