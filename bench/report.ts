/**
 * The report of a bench run: one row per figure (with its ceiling, ratio and target), as a text table on
 * stdout, as JSON, and as the markdown table in bench/README.md ("Latest results").
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { LoadResult } from './load/load-child';
import { summarizeProfile } from './lib/cpuprofile';
import { BENCH } from './lib/proc';
import { opts } from './options';
import {
  RUN,
  TMP,
  failures,
  log,
  measured,
  notes,
  profileNames,
  profiles,
  rss,
  shared,
  startedAt,
  type Measured,
} from './run-state';

export interface Row {
  scenario: string;
  figure: string;
  unit: string;
  ceiling: string;
  ratio: string;
  target: string;
  met: string;
  p50: string;
  p99: string;
  rowsAcked: string;
  cpu: string;
}

/** Rows measured while the rest of the machine used more than this (% of one core) get a `*`. */
const NOISY_PCT = 25;

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || !Number.isFinite(n)
    ? '—'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function buildRows(): Row[] {
  const rows: Row[] = [];
  const cpuOf = (m?: Measured) =>
    m?.cpu ? `${fmt(m.cpu.gen)} / ${fmt(m.cpu.server)} / ${fmt(m.cpu.db)} / ${fmt(m.cpu.other)}` : '—';
  const rowsAcked = (m?: Measured) => {
    if (m?.rows === undefined || m.acked === undefined) return '—';
    const unanswered = (m.detail as LoadResult | undefined)?.unanswered;
    return (
      `${fmt(m.rows)} / ${fmt(m.acked)}${m.rows === m.acked ? ' ✓' : ' ✗'}` +
      (unanswered ? ` (${unanswered} requests unanswered 30 s after the run)` : '')
    );
  };
  const add = (
    key: string,
    scenario: string,
    o: {
      figure?: string;
      unit?: string;
      ceil?: [string, number | undefined];
      ratio?: number;
      target?: string;
      met?: boolean;
    } = {},
  ) => {
    const m = measured[key];
    const failed = failures[key];
    rows.push({
      scenario,
      figure:
        o.figure ??
        (m
          ? fmt(m.figure, m.unit.startsWith('ms') ? 1 : 0) + ((m.cpu?.other ?? 0) > NOISY_PCT ? ' *' : '')
          : failed
            ? failed.startsWith('skipped')
              ? 'skipped'
              : 'failed'
            : 'not run'),
      unit: o.unit ?? m?.unit ?? '',
      ceiling: o.ceil ? `${fmt(o.ceil[1])} (${o.ceil[0]})` : '—',
      ratio: o.ratio === undefined || !Number.isFinite(o.ratio) ? '—' : `${o.ratio.toFixed(2)}×`,
      target: o.target ?? '—',
      met: o.met === undefined ? '—' : o.met ? 'yes' : 'NO',
      p50: m?.p50 !== undefined ? fmt(m.p50, 1) : '—',
      p99: m?.p99 !== undefined ? fmt(m.p99, 1) : '—',
      rowsAcked: rowsAcked(m),
      cpu: cpuOf(m),
    });
  };
  const ratio = (a?: Measured, b?: Measured) => (a && b ? a.figure / b.figure : undefined);
  const has = (k: string) => measured[k] !== undefined || failures[k] !== undefined;

  if (has('echo')) add('echo', 'C1 echo (bare Fastify, c=50)');
  if (has('naive')) add('naive', 'C2 naive insert (1 INSERT/request, pool 10, c=50)');
  if (has('raw')) add('raw', 'C3 raw multi-row insert (100 rows, 4 conns)');
  if (has('batch-route')) add('batch-route', 'C4 bare batch route (100 events/request, c=50)');
  if (has('sqlite-raw')) add('sqlite-raw', 'C5 raw better-sqlite3 (100-row transactions)');
  if (has('s1')) {
    const r = ratio(measured.s1, measured.naive);
    add('s1', '1 single-event ingest POST /segment (c=50)', {
      ceil: ['naive', measured.naive?.figure],
      ratio: r,
      target: '≥ 1.25×',
      met: r === undefined ? undefined : r >= 1.25,
    });
    const m = measured.s1;
    rows.push({
      ...rows[rows.length - 1],
      scenario: '1 single-event ingest, p99 latency',
      figure: m ? fmt(m.p99, 1) + ((m.cpu?.other ?? 0) > NOISY_PCT ? ' *' : '') : '—',
      unit: 'ms',
      ceiling: measured.naive ? `${fmt(measured.naive.p99, 1)} (naive p99)` : '—',
      ratio: '—',
      target: '≤ 15 ms',
      met: m ? (m.p99! <= 15 ? 'yes' : 'NO') : '—',
    });
  }
  if (has('s2')) {
    const raw = measured.raw?.figure;
    if (measured['s2-c1']) {
      add('s2-c1', '2 batch ingest POST /v1/batch (100 mixed, 1 client)', {
        ceil: ['raw multi-row', raw],
        ratio: ratio(measured['s2-c1'], measured.raw),
      });
    }
    if (measured['s2-c10']) {
      const r = ratio(measured['s2-c10'], measured.raw);
      const p50 = measured['s2-c10'].p50;
      add('s2-c10', '2 batch ingest POST /v1/batch (100 mixed, 10 clients)', {
        ceil: ['raw multi-row', raw],
        ratio: r,
        target: '≥ 0.5×, p50 ≤ 30 ms',
        met: r === undefined || p50 === undefined ? undefined : r >= 0.5 && p50 <= 30,
      });
    }
    const r = ratio(measured.s2, measured.raw);
    add('s2', '2 batch ingest POST /v1/batch (100 mixed, c=50)', {
      ceil: ['raw multi-row', raw],
      ratio: r,
      target: '≥ 0.6×',
      met: r === undefined ? undefined : r >= 0.6,
    });
  }
  if (has('s3')) {
    const r = ratio(measured.s3, measured['sqlite-raw']);
    add('s3', '3 embedded: batch ingest on SQLite (c=50)', {
      ceil: ['raw better-sqlite3', measured['sqlite-raw']?.figure],
      ratio: r,
      target: '≥ 0.5×',
      met: r === undefined ? undefined : r >= 0.5,
    });
    const m = measured.s3;
    rows.push({
      ...rows[rows.length - 1],
      scenario: '3 embedded batch ingest, p99 latency',
      figure: m ? fmt(m.p99, 1) + ((m.cpu?.other ?? 0) > NOISY_PCT ? ' *' : '') : '—',
      unit: 'ms',
      ceiling: '—',
      ratio: '—',
      target: '≤ 500 ms',
      met: m ? (m.p99! <= 500 ? 'yes' : 'NO') : '—',
    });
  }
  if (has('s8') || has('s8-segment')) {
    add('s8-segment', '8 single-event POST /segment, same server as 8 (c=50)');
    const r = ratio(measured.s8, measured['s8-segment']);
    add('s8', '8 signed webhook callbacks POST /hooks/:id, 1 event (c=50)', {
      ceil: ['/segment, same run', measured['s8-segment']?.figure],
      ratio: r,
      target: '≥ 0.8×',
      met: r === undefined ? undefined : r >= 0.8,
    });
  }
  const gqlTarget = (k: string, label: string, limit: number) => {
    if (!has(k) && !has('s4')) return;
    const m = measured[k];
    add(k, label, { target: `p99 ≤ ${limit} ms`, met: m && !failures[k] ? m.figure <= limit : m ? false : undefined });
  };
  gqlTarget('s4-name', '4 GraphQL events(first 50, filter name), c=20, 1M log', 15);
  gqlTarget('s4-user', '4 GraphQL events(first 50, filter userId), c=20', 15);
  gqlTarget('s4-paging', '4 GraphQL events paging 20 pages with after, c=20', 15);
  gqlTarget('s4-names', '4 GraphQL eventNames, c=20', 50);
  if (has('s5-1') || has('s5') || has('s5-3')) {
    const one = measured['s5-1'];
    const three = measured['s5-3'];
    add('s5-1', '5 pipeline 20k mapped tracks → webhook, 1 worker', {
      target: '≥ 4,000/s',
      met: one ? one.figure >= 4000 && (one.detail as any).complete : undefined,
    });
    const r = ratio(three, one);
    add('s5-3', '5 pipeline, 3 worker processes', {
      ceil: ['1 worker', one?.figure],
      ratio: r,
      target: '≥ 2.5×',
      met: r === undefined ? undefined : r >= 2.5 && (three!.detail as any).complete,
    });
    const lost = [one, three].reduce((s, m) => s + ((m?.detail as any)?.lost ?? 0), 0);
    const doubled = [one, three].reduce((s, m) => s + ((m?.detail as any)?.doubled ?? 0), 0);
    rows.push({
      scenario: '5 pipeline lost / doubled deliveries (both runs)',
      figure: one || three ? `${lost} / ${doubled}` : '—',
      unit: 'deliveries',
      ceiling: '—',
      ratio: '—',
      target: '0 / 0',
      met: one || three ? (lost === 0 && doubled === 0 ? 'yes' : 'NO') : '—',
      p50: '—',
      p99: '—',
      rowsAcked: '—',
      cpu: '—',
    });
  }
  for (const [key, db] of [
    ['s7', ''],
    ['s7-sqlite', ' (SQLite)'],
  ] as const) {
    if (!has(key)) continue;
    const m = measured[key];
    const d = m?.detail as any;
    const plain = d?.plain?.perSecond as number | undefined;
    const r = d?.ratio as number | undefined;
    add(key, `7 workflow delay PT1S → send, 20k mapped tracks, 1 worker${db}`, {
      ceil: plain ? ['plain pipeline, same method', plain] : undefined,
      ratio: r,
      target: '≥ 2,000/s, ≥ 0.7×',
      met: m && d ? m.figure >= 2000 && r !== undefined && r >= 0.7 && d.complete : undefined,
    });
    const na = { ceiling: '—', ratio: '—', rowsAcked: '—', cpu: '—' };
    const late = d?.lateness;
    rows.push({
      ...na,
      scenario: `7 workflow delay lateness (RESUMED lateMs), p99${db}`,
      figure: late ? fmt(late.p99, 1) : '—',
      unit: 'ms',
      target: 'p99 ≤ 1,000 ms',
      met: late ? (late.p99 <= 1000 && late.n > 0 ? 'yes' : 'NO') : '—',
      p50: late ? fmt(late.p50, 1) : '—',
      p99: late ? `${fmt(late.p99, 1)} (max ${fmt(late.max, 0)})` : '—',
    });
    rows.push({
      ...na,
      scenario: `7 workflow lost / doubled runs${db}`,
      figure: d ? `${d.lost} / ${d.doubled}` : '—',
      unit: 'runs',
      target: '0 / 0',
      met: d ? (d.lost === 0 && d.doubled === 0 ? 'yes' : 'NO') : '—',
      p50: '—',
      p99: '—',
    });
    const rss = d?.rss;
    const grew = rss ? Math.max(rss.growth.worker, rss.growth.api) : undefined;
    rows.push({
      ...na,
      scenario: `7 RSS growth with ${fmt(d?.waiting)} runs waiting, ${rss?.oneProcess ? 'PIGEON_ROLE=all' : 'worker / api'}${db}`,
      figure: rss
        ? rss.oneProcess
          ? fmt(rss.growth.worker, 1)
          : `${fmt(rss.growth.worker, 1)} / ${fmt(rss.growth.api, 1)}`
        : '—',
      unit: 'MB over idle',
      ceiling: rss
        ? rss.oneProcess
          ? `idle ${fmt(rss.idle.worker)} MB`
          : `idle ${fmt(rss.idle.worker)} / ${fmt(rss.idle.api)} MB`
        : '—',
      target: '≤ 50 MB',
      met: grew === undefined ? '—' : grew <= 50 && d.waiting >= 100_000 ? 'yes' : 'NO',
      p50: '—',
      p99: '—',
    });
  }
  // the target holds for the processes of scenarios 1–5; those of 7 (100,000 runs waiting) and 8 are shown beside it
  const ofScenarios1to5 = (label: string) =>
    label === 'pigeon-api' || label === 'pigeon-sqlite' || label.startsWith('pigeon-worker-');
  for (const [which, name, target] of [
    [ofScenarios1to5, 'scenarios 1–5', true],
    [(label: string) => !ofScenarios1to5(label), 'scenarios 7, 8', false],
  ] as const) {
    const top = rss.overall(which);
    if (top.mb <= 0) continue;
    rows.push({
      scenario: `6 max server RSS, ${name} (${top.label})`,
      figure: fmt(top.mb),
      unit: 'MB',
      ceiling: '—',
      ratio: '—',
      target: target ? '≤ 200 MB' : '—',
      met: target ? (top.mb <= 200 ? 'yes' : 'NO') : '—',
      p50: '—',
      p99: '—',
      rowsAcked: '—',
      cpu: '—',
    });
  }
  return rows;
}

const HEAD: [keyof Row, string][] = [
  ['scenario', 'scenario'],
  ['figure', 'figure'],
  ['unit', 'unit'],
  ['ceiling', 'ceiling'],
  ['ratio', 'ratio'],
  ['target', 'target'],
  ['met', 'met?'],
  ['p50', 'p50 ms'],
  ['p99', 'p99 ms'],
  ['rowsAcked', 'rows / acked'],
  ['cpu', 'CPU % gen / server / db / other'],
];

function textTable(rows: Row[]): string {
  const widths = HEAD.map(([k, h]) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    line(HEAD.map(([, h]) => h)),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map((r) => line(HEAD.map(([k]) => r[k]))),
  ].join('\n');
}

function markdownTable(rows: Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${HEAD.map(([, h]) => h).join(' | ')} |`,
    `| ${HEAD.map((_, i) => (i === 0 ? '---' : '--:')).join(' | ')} |`,
    ...rows.map((r) => `| ${HEAD.map(([k]) => esc(r[k])).join(' | ')} |`),
  ].join('\n');
}

/** What the run measured on: CPU, cores, RAM, MariaDB, Node, SQLite, kernel (for the README and the JSON). */
export async function machine(): Promise<Record<string, string | number>> {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  let mariadb = 'unknown';
  try {
    const [[row]] = await shared.admin!.query<any[]>('SELECT VERSION() AS v');
    mariadb = row.v;
  } catch {
    // not reachable
  }
  const sqlite = new Database(':memory:');
  const sqliteVersion = String(sqlite.prepare('SELECT sqlite_version()').pluck().get());
  sqlite.close();
  return {
    cpu: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown',
    cores: os.cpus().length,
    ramGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    mariadb,
    node: process.version,
    sqlite: sqliteVersion,
    kernel: `${os.type()} ${os.release()}`,
  };
}

/**
 * Prints the table, failures, notes and (with `--profile`) the hot functions; writes the raw results as JSON
 * (`results/latest.json` after a full run, else next to the logs) and, after a full run, the table into
 * bench/README.md between its results markers.
 */
export async function report(): Promise<void> {
  const rows = buildRows();
  const table = textTable(rows);
  const m = shared.machineInfo;
  process.stdout.write(`\n${table}\n\n`);
  process.stdout.write(
    'figure: median over the seconds of the run of 2xx answers (or events) per second; ms = per-response latency (p50/p99 exact);\n' +
      'rows / acked: rows found in the database after the run vs events acknowledged with 2xx (deliveries at the fake for 5 and 7);\n' +
      'CPU: % of one core over the run, for the load generator (the fake for 5, 7), the server (the workers for 5; worker + API for 7), mariadbd,\n' +
      'and everything else the machine ran meanwhile (other: noise from processes outside the bench).\n' +
      `*: measured while the rest of the machine used more than ${NOISY_PCT}% of a core (see other).\n`,
  );
  for (const [k, v] of Object.entries(failures)) process.stdout.write(`FAILED ${k}: ${v}\n`);
  for (const n of notes) process.stdout.write(`note: ${n}\n`);

  if (opts.profile) {
    const dir = path.join(TMP, 'profiles');
    for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      const pid = Number(/^CPU\.\d+\.\d+\.(\d+)\./.exec(f)?.[1]);
      try {
        const summary = summarizeProfile(path.join(dir, f), 25);
        profiles.push({ ...summary, process: profileNames.get(pid) ?? f });
      } catch (err) {
        log(`could not read profile ${f}: ${(err as Error).message}`);
      }
    }
    for (const p of profiles) {
      process.stdout.write(
        `\nCPU profile of ${p.process} (${p.file}): idle ${p.idlePct}%; self time of the busy samples:\n`,
      );
      process.stdout.write(`  by area: ${p.areas.map((a) => `${a.area} ${a.selfPct}%`).join(', ')}\n`);
      for (const f of p.functions) process.stdout.write(`  ${String(f.selfPct).padStart(5)}%  ${f.fn}  ${f.where}\n`);
    }
  }

  const json = {
    run: RUN,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    seconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    options: opts,
    machine: m,
    measured,
    failures,
    notes,
    quietWaitedSeconds: Math.round(shared.quietWaitedS),
    memory: { maxRssMbByProcess: Object.fromEntries(rss.max), samples: rss.samples },
    profiles,
    table: rows,
  };
  const prettier = await import('prettier');
  const out = await prettier.format(JSON.stringify(json), { parser: 'json' });
  const file = opts.full ? path.join(BENCH, 'results', 'latest.json') : path.join(TMP, 'results.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, out);
  log(`raw results: ${path.relative(process.cwd(), file) || file}`);

  if (opts.full) {
    const readme = path.join(BENCH, 'README.md');
    const text = fs.readFileSync(readme, 'utf8');
    const block = [
      '<!-- results:start -->',
      `Measured ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench\` (${opts.durationS} s per load run, whole run ${json.seconds} s) on:`,
      `${m.cpu}, ${m.cores} cores, ${m.ramGb} GB RAM · MariaDB ${m.mariadb} (default settings) · Node ${m.node} · SQLite ${m.sqlite} · ${m.kernel}`,
      '',
      markdownTable(rows),
      '',
      ...(rows.some((r) => r.figure.endsWith('*'))
        ? [`\\* measured while the rest of the machine used more than ${NOISY_PCT}% of a core (column _other_).`, '']
        : []),
      ...Object.entries(failures).map(([k, v]) => `- **failed** ${k}: ${v.split('\n')[0]}`),
      ...notes.map((n) => `- ${n}`),
      '<!-- results:end -->',
    ].join('\n');
    const updated = text.replace(/<!-- results:start -->[\s\S]*<!-- results:end -->/, block);
    fs.writeFileSync(readme, await prettier.format(updated, { parser: 'markdown', proseWrap: 'preserve' }));
    log('bench/README.md updated');
  }
}
