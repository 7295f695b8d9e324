/**
 * Scenario 7: workflows — 20,000 mapped tracks through a published workflow `delay PT1S → send` (webhook fake)
 * with one worker process, then the memory of 100,000 runs waiting on a long delay. On MariaDB (the shared API
 * process, step `s7`) and on SQLite (a fresh file, one `PIGEON_ROLE=all` process as in scenario 3, step `s7-sqlite`).
 *
 * Figures (see bench/README.md): runs/s from the first batch of tracks accepted (200) to the last run's message
 * delivered at the fake; its ratio to the plain mapped-track pipeline (scenario 5 with one worker on MariaDB; on
 * SQLite the same 20,000 tracks mapped straight to the template, measured here the same way); the lateness of the
 * delay from the runs' RESUMED history entries (`detail.lateMs`); lost and doubled at the fake and in the database;
 * and the RSS of the worker and API processes idle vs with 100,000 runs waiting.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { KNOWN_USERS, trackMessage } from '../lib/events';
import { CpuMeter, message, rssMb, send, sleep, spawnTs, stop, tail, type Child } from '../lib/proc';
import { latency, median } from '../lib/stats';
import { INGEST_AUTH, PIGEON_DB, RUN, TMP, failures, log, measured, shared } from '../run-state';
import { freePort, waitQuiet } from './harness';
import { gql, identifyKnownUsers, mariaUrl, onMaria, startPigeon, stopPigeon, type Pigeon } from './pigeon';

const RUNS = 20_000;
const WAITING = 100_000;
/** The 20,000 runs must complete within this. */
export const WORKFLOW_TIMEOUT_S = 90;
/** The 100,000 runs must all be WAITING within this. */
const WAITING_TIMEOUT_S = 180;
const WORKFLOW_EVENT = 'Bench Workflow Order';
const HOLD_EVENT = 'Bench Workflow Hold';
const PLAIN_EVENT = 'Bench Workflow Plain';
/** The fake's sets (n = set × 1e6 + k): the workflow's runs, the plain pipeline's messages, the waiting runs. */
const SET_RUNS = 7;
const SET_PLAIN = 8;
const SET_HOLD = 9;

/** Reads Pigeon's database: `t(name)` names a table, `rows` runs a query (MariaDB or a read-only SQLite file). */
interface Db {
  t: (table: string) => string;
  rows: (sql: string, params?: unknown[]) => Promise<any[]>;
  close: () => void;
}

function mariaDb(): Db {
  return {
    t: (table) => `\`${PIGEON_DB}\`.${table}`,
    rows: async (sql, params = []) => (await shared.admin!.query<any[]>(sql, params))[0],
    close: () => {},
  };
}

function sqliteDb(file: string): Db {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return {
    t: (table) => table,
    rows: async (sql, params = []) => db.prepare(sql).all(...params),
    close: () => db.close(),
  };
}

/** Posts `count` tracks as batches of 100, 4 requests at a time (as the other scenarios); returns when the first was accepted. */
async function postTracks(url: string, set: number, event: string, count: number): Promise<number> {
  let next = 0;
  let firstAcceptedAt = 0;
  const batchOf = (i: number) => {
    const batch = [];
    for (let k = i; k < Math.min(count, i + 100); k++) {
      const m = trackMessage(`s7-${RUN}-${set}-${k}`, k % KNOWN_USERS, event);
      m.properties = { n: set * 1e6 + k, amount: k % 500 };
      batch.push(m);
    }
    return batch;
  };
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < count) {
        const batch = batchOf(next);
        next += 100;
        const res = await fetch(`${url}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: INGEST_AUTH },
          body: JSON.stringify({ batch }),
        });
        const text = await res.text();
        if (res.status !== 200 || text.includes('rejected'))
          throw new Error(`batch: ${res.status} ${text.slice(0, 300)}`);
        firstAcceptedAt ||= Date.now();
      }
    }),
  );
  return firstAcceptedAt;
}

const STATUS_VARS = [
  'Questions',
  'Com_select',
  'Com_insert',
  'Com_update',
  'Com_delete',
  'Com_commit',
  'Com_rollback',
  'Com_stmt_execute',
];

/** MariaDB's statement counters (server-wide: anything else using the server meanwhile counts too). */
async function statementCounters(): Promise<Record<string, number>> {
  const [rows] = await shared.admin!.query<any[]>(
    `SHOW GLOBAL STATUS WHERE Variable_name IN (${STATUS_VARS.map(() => '?').join(', ')})`,
    STATUS_VARS,
  );
  return Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
}

/** Median of `n` RSS samples, one a second (MB). */
async function settledRss(pids: Record<string, number>, n = 5): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = {};
  for (let i = 0; i < n; i++) {
    if (i) await sleep(1000);
    for (const [name, pid] of Object.entries(pids)) (samples[name] ??= []).push(rssMb(pid));
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Math.round(median(v) * 10) / 10]));
}

interface Setup {
  key: 's7' | 's7-sqlite';
  label: string;
  api: Pigeon;
  worker: Pigeon;
  db: Db;
  /** Scenario 5's deliveries/s with one worker (from its spawn, ingest not included), when it ran. */
  scenario5?: number;
}

async function run(setup: Setup): Promise<void> {
  const { key, api, worker, db } = setup;
  const url = api.url;
  const port = await freePort();
  const fake = spawnTs(`webhook-fake-${key}`, 'pigeon/webhook-fake.ts', [String(port)]);
  const alive = (procs: Child[]) => {
    for (const c of procs) if (c.proc.exitCode !== null) throw new Error(`${c.name} exited:\n${tail(c)}`);
  };
  try {
    await message(fake, 'ready', 30_000);
    const fakeStats = async () => {
      const reply = message<any>(fake, 'stats', 5000);
      send(fake, { type: 'stats' });
      return reply;
    };
    // point the webhook provider at this fake: the one scenario 5 configured (its fake is gone) is updated, not
    // left first in line
    const { providers } = await gql(url, `{ providers { id channel } }`);
    const existing = (providers as { id: string; channel: string }[]).find((x) => x.channel === 'WEBHOOK');
    await gql(url, `mutation($input: ProviderConfigInput!) { configureProvider(input: $input) { id } }`, {
      input: {
        ...(existing ? { id: existing.id } : {}),
        channel: 'WEBHOOK',
        provider: 'webhook',
        config: { url: `http://127.0.0.1:${port}/hook` },
      },
    });
    const templateKey = `bench-wf-${key}-${RUN}`;
    const { createTemplate } = await gql(
      url,
      `mutation($input: TemplateInput!) { createTemplate(input: $input) { id } }`,
      {
        input: {
          key: templateKey,
          name: 'Bench workflow order',
          channels: ['WEBHOOK'],
          content: { webhook: { body: { n: '{{data.n}}' } } },
        },
      },
    );
    await gql(url, `mutation($id: ID!) { publishTemplate(id: $id) { id } }`, { id: createTemplate.id });
    const workflow = async (wfKey: string, event: string, duration: string): Promise<string> => {
      const { createWorkflow } = await gql(
        url,
        `mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`,
        {
          input: {
            key: wfKey,
            name: wfKey,
            steps: [
              { ref: 'wait', type: 'delay', duration },
              { ref: 'send', type: 'send', template: templateKey },
            ],
          },
        },
      );
      await gql(url, `mutation($id: ID!) { publishWorkflow(id: $id) { id } }`, { id: createWorkflow.id });
      await gql(url, `mutation($n: String!, $w: ID) { mapEvent(eventName: $n, workflowId: $w) { eventName } }`, {
        n: `Segment-TrackEvent:${event}`,
        w: createWorkflow.id,
      });
      const [row] = await db.rows(`SELECT id FROM ${db.t('workflows')} WHERE workflow_key = ?`, [wfKey]);
      return String(row.id);
    };
    const wfRuns = await workflow(`bench-delay-send-${RUN}`, WORKFLOW_EVENT, 'PT1S');
    const wfHold = await workflow(`bench-hold-${RUN}`, HOLD_EVENT, 'PT1H');
    const rssOf = () => settledRss({ worker: worker.child.pid, api: api.child.pid });

    /** Ingests `count` tracks of `set` with the worker running; times first accepted → last delivered at the fake. */
    const timed = async (set: number, event: string, name: string) => {
      send(fake, { type: 'expect', set, count: RUNS });
      await waitQuiet(name);
      const meter = new CpuMeter({
        gen: [fake.pid],
        server: [...new Set([worker.child.pid, api.child.pid])],
        db: shared.maria && key === 's7' ? [shared.maria] : [],
      });
      const counters0 = key === 's7' ? await statementCounters() : undefined;
      meter.begin();
      const t0 = Date.now();
      const firstAcceptedAt = await postTracks(url, set, event, RUNS);
      const ingestS = (Date.now() - t0) / 1000;
      const deadline = Date.now() + WORKFLOW_TIMEOUT_S * 1000;
      let s: any;
      for (;;) {
        s = (await fakeStats()).sets[set];
        if (s?.completeAt || Date.now() > deadline) break;
        alive([worker.child, api.child]);
        await sleep(100);
      }
      const cpu = meter.end();
      // statements per run (or per plain message) over the whole timed window, ingest included
      let perRun: Record<string, number> | undefined;
      if (counters0) {
        const counters1 = await statementCounters();
        perRun = Object.fromEntries(
          STATUS_VARS.map((v) => [v, Math.round(((counters1[v] - counters0[v]) / RUNS) * 100) / 100]),
        );
      }
      const complete = Boolean(s?.completeAt);
      const endAt = complete ? s.completeAt : Date.now();
      const seconds = (endAt - firstAcceptedAt) / 1000;
      return {
        complete,
        seconds,
        perSecond: (s?.distinct ?? 0) / seconds,
        ingestS,
        cpu,
        firstAcceptedAt,
        endAt,
        perRun,
      };
    };

    // ---- the plain pipeline, measured the same way: the same tracks mapped straight to the template ----
    await gql(url, `mutation($n: String!, $t: ID) { mapEvent(eventName: $n, templateId: $t) { eventName } }`, {
      n: `Segment-TrackEvent:${PLAIN_EVENT}`,
      t: createTemplate.id,
    });
    const p = await timed(SET_PLAIN, PLAIN_EVENT, `${key}-plain`);
    log(
      `  plain pipeline: ${RUNS} mapped tracks delivered in ${p.seconds.toFixed(2)} s from the first accepted ` +
        `(${Math.round(p.perSecond)}/s${p.complete ? '' : ', INCOMPLETE'}; ingest ${p.ingestS.toFixed(2)} s)` +
        (p.perRun ? `; MariaDB statements per message ${JSON.stringify(p.perRun)}` : ''),
    );
    const plain = Math.round(p.perSecond);
    await sleep(2000);

    // ---- 20,000 runs: delay PT1S → send ----
    const rssAtStart = await rssOf();
    const r = await timed(SET_RUNS, WORKFLOW_EVENT, key);
    await sleep(2000); // late doubles would show up here
    const stats = (await fakeStats()).sets[SET_RUNS] ?? { distinct: 0, requests: 0, doubledByN: 0, doubledByKey: 0 };
    const runStatuses = Object.fromEntries(
      (
        await db.rows(
          `SELECT status, COUNT(*) AS n FROM ${db.t('workflow_runs')} WHERE workflow_id = ? GROUP BY status`,
          [wfRuns],
        )
      ).map((x) => [x.status, Number(x.n)]),
    );
    const messageStatuses = Object.fromEntries(
      (
        await db.rows(
          `SELECT m.status, COUNT(*) AS n FROM ${db.t('messages')} m JOIN ${db.t('workflow_runs')} r ON r.id = m.run_id
           WHERE r.workflow_id = ? GROUP BY m.status`,
          [wfRuns],
        )
      ).map((x) => [x.status, Number(x.n)]),
    );
    const resumed = await db.rows(
      `SELECT h.detail FROM ${db.t('workflow_run_history')} h JOIN ${db.t('workflow_runs')} r ON r.id = h.run_id
       WHERE r.workflow_id = ? AND h.type = 'RESUMED'`,
      [wfRuns],
    );
    const lateMs = resumed.map((x) => Number((typeof x.detail === 'string' ? JSON.parse(x.detail) : x.detail).lateMs));
    const late = latency(lateMs);
    const completed = runStatuses.COMPLETED ?? 0;
    const sent = messageStatuses.SENT ?? 0;
    const lost = Math.max(RUNS - stats.distinct, RUNS - completed, RUNS - sent);
    const doubled = Math.max(stats.doubledByN, stats.doubledByKey, stats.requests - stats.distinct);
    const ratio = plain ? r.perSecond / plain : NaN;
    const ratioToScenario5 = setup.scenario5 ? r.perSecond / setup.scenario5 : undefined;
    log(
      `  ${key}: ${stats.distinct}/${RUNS} runs delivered ${r.complete ? '' : '(INCOMPLETE) '}in ${r.seconds.toFixed(2)} s ` +
        `from the first track accepted (${Math.round(r.perSecond)} runs/s, ${ratio.toFixed(2)}× the plain pipeline's ${plain}/s` +
        (ratioToScenario5 ? `, ${ratioToScenario5.toFixed(2)}× scenario 5's ${setup.scenario5}/s from spawn` : '') +
        `; ` +
        `ingest ${r.ingestS.toFixed(2)} s); lateness p50 ${late.p50} p99 ${late.p99} max ${late.max} ms over ${late.n} resumes; ` +
        `runs ${JSON.stringify(runStatuses)} messages ${JSON.stringify(messageStatuses)} requests ${stats.requests}; ` +
        `lost ${lost}, doubled ${doubled}; CPU fake ${r.cpu.gen}% pigeon ${r.cpu.server}% db ${r.cpu.db}%` +
        (r.perRun ? `; MariaDB statements per run ${JSON.stringify(r.perRun)}` : ''),
    );

    // ---- 100,000 runs waiting on PT1H ----
    await sleep(3000);
    const idle = await rssOf();
    const peak = { worker: 0, api: 0 };
    const peakTimer = setInterval(() => {
      peak.worker = Math.max(peak.worker, rssMb(worker.child.pid) || 0);
      peak.api = Math.max(peak.api, rssMb(api.child.pid) || 0);
    }, 250);
    let waiting = 0;
    let waitingS = NaN;
    try {
      const t0 = Date.now();
      await postTracks(url, SET_HOLD, HOLD_EVENT, WAITING);
      const ingestS = (Date.now() - t0) / 1000;
      const deadline = Date.now() + WAITING_TIMEOUT_S * 1000;
      for (;;) {
        const [row] = await db.rows(
          `SELECT COUNT(*) AS n FROM ${db.t('workflow_runs')} WHERE workflow_id = ? AND status = 'WAITING'`,
          [wfHold],
        );
        waiting = Number(row.n);
        if (waiting >= WAITING || Date.now() > deadline) break;
        alive([worker.child, api.child]);
        await sleep(1000);
      }
      waitingS = (Date.now() - t0) / 1000;
      log(
        `  ${key}: ${waiting}/${WAITING} runs WAITING after ${waitingS.toFixed(1)} s (ingest ${ingestS.toFixed(1)} s)`,
      );
    } finally {
      clearInterval(peakTimer);
    }
    // the runs only wait now: what the idle processes use meanwhile (CPU) and keep (RSS)
    const idleMeter = new CpuMeter({
      worker: [worker.child.pid],
      api: api === worker ? [] : [api.child.pid],
      db: shared.maria && key === 's7' ? [shared.maria] : [],
    });
    idleMeter.begin();
    await sleep(5000);
    const withWaiting = await rssOf();
    const idleCpu = idleMeter.end();
    const growth = {
      worker: Math.round((withWaiting.worker - idle.worker) * 10) / 10,
      api: Math.round((withWaiting.api - idle.api) * 10) / 10,
    };
    const held = (await fakeStats()).sets[SET_HOLD]?.requests ?? 0;
    log(
      `  ${key}: RSS idle worker ${idle.worker} / api ${idle.api} MB; with ${waiting} runs waiting worker ${withWaiting.worker} / ` +
        `api ${withWaiting.api} MB (growth ${growth.worker} / ${growth.api}); peak while creating ${Math.round(peak.worker)} / ` +
        `${Math.round(peak.api)} MB; sent before their time: ${held}; CPU meanwhile worker ${idleCpu.worker}% api ${idleCpu.api}% db ${idleCpu.db}%`,
    );

    measured[key] = {
      figure: Math.round(r.perSecond),
      unit: 'runs/s',
      rows: stats.distinct,
      acked: RUNS,
      cpu: r.cpu,
      detail: {
        complete: r.complete,
        runs: RUNS,
        secondsFromFirstAccepted: r.seconds,
        ingestSeconds: r.ingestS,
        statementsPerRun: r.perRun,
        plain: p,
        ratio,
        scenario5: setup.scenario5,
        ratioToScenario5,
        lateness: late,
        lost,
        doubled,
        delivered: stats.distinct,
        requests: stats.requests,
        doubledByN: stats.doubledByN,
        doubledByKey: stats.doubledByKey,
        runStatuses,
        messageStatuses,
        rss: { atStart: rssAtStart, idle, withWaiting, growth, peakWhileCreating: peak, oneProcess: api === worker },
        waiting,
        waitingSeconds: waitingS,
        waitingSentEarly: held,
        cpuWhileWaiting: idleCpu,
      },
    };
    if (!r.complete) failures[key] = `only ${stats.distinct} of ${RUNS} runs delivered within ${WORKFLOW_TIMEOUT_S} s`;
    else if (waiting < WAITING)
      failures[key] = `only ${waiting} of ${WAITING} runs WAITING within ${WAITING_TIMEOUT_S} s`;
  } finally {
    await stop(fake);
  }
}

/** Scenario 7 on MariaDB: the shared API process and one worker process. */
export async function scenario7(): Promise<void> {
  const worker = await startPigeon('pigeon-wf-worker', mariaUrl(), 'worker');
  try {
    await run({
      key: 's7',
      label: 'MariaDB',
      api: onMaria.api!,
      worker,
      db: mariaDb(),
      scenario5: measured['s5-1']?.figure,
    });
  } finally {
    await stopPigeon(worker);
  }
}

/**
 * Scenario 7 on SQLite: a fresh file and the embedded default, one `PIGEON_ROLE=all` process (API and worker in one:
 * SQLite has one writer, and its worker claims in-process), as scenario 3.
 */
export async function scenario7Sqlite(): Promise<void> {
  const file = path.join(TMP, 'pigeon-workflow.sqlite');
  const pigeon = await startPigeon('pigeon-wf-sqlite', `sqlite:${file}`, 'all');
  const db = sqliteDb(file);
  try {
    await identifyKnownUsers(pigeon.url, `known-wf-sqlite-${RUN}`);
    await run({ key: 's7-sqlite', label: 'SQLite', api: pigeon, worker: pigeon, db });
  } finally {
    db.close();
    await stopPigeon(pigeon);
  }
}
