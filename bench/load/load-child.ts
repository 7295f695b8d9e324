/**
 * The load generator: one process, separate from every server, driving autocannon's programmatic API.
 *
 * Protocol (IPC): argv[2] is a JSON {@link LoadConfig}; the child answers `ready`, waits for `go`,
 * loads the target for `durationS`, then stops every connection *after* its in-flight request has
 * been answered (so nothing is left unacknowledged that the server may have stored; at most
 * {@link DRAIN_MS}), and sends `finished` with exact figures: throughput = the median over the
 * whole seconds of the load window of the 2xx answers received in each (the mean is kept too);
 * per-response latencies of every 2xx (drained ones included)
 * collected from autocannon's `response` event, p50/p99 computed here; 2xx and events acknowledged.
 */
import { createHmac, randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { mixedBatch, trackMessage } from '../lib/events';
import { latency, PerSecond } from '../lib/stats';

export type LoadKind = 'track' | 'batch' | 'callback' | 'gql-name' | 'gql-user' | 'gql-paging' | 'gql-event-names';

export interface LoadConfig {
  url: string;
  path: string;
  kind: LoadKind;
  connections: number;
  durationS: number;
  /** messageId prefix of this run (ingest kinds). */
  prefix: string;
  headers: Record<string, string>;
  /** Events per batch request. */
  batchSize?: number;
  /** GraphQL: the names and users to filter on. */
  names?: string[];
  /** GraphQL: users `${prefix}${k}` for k < count (too many to pass as a list on argv). */
  users?: { prefix: string; count: number };
  pages?: number;
  /** `callback`: the webhook provider's secret the reports are signed with (X-Pigeon-Signature). */
  secret?: string;
}

export interface LoadResult {
  kind: LoadKind;
  connections: number;
  elapsedS: number;
  requests: number;
  ok: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  errors: number;
  graphqlErrors: number;
  eventsAcked: number;
  /** Median over the whole seconds of the load window of the 2xx answers per second. */
  perSecond: number;
  eventsPerSecond: number;
  /** Mean over the window (2xx answers within it / its length). */
  perSecondMean: number;
  /** 2xx answers in each whole second of the window. */
  perSecondSeries: number[];
  latency: ReturnType<typeof latency>;
  unanswered: number;
  /** The 5 slowest 2xx answers: when they arrived (s after the start) and how long they took (ms). */
  slowest: { atS: number; ms: number }[];
  firstError?: string;
}

const config: LoadConfig = JSON.parse(process.argv[2]);
const send = (m: unknown) => process.send!(m);

const EVENT_FIELDS = 'edges { cursor node { id messageId type name userId status timestamp receivedAt } }';
const EVENTS_QUERY = `query Events($first: Int, $after: String, $filter: EventFilter) {
  events(first: $first, after: $after, filter: $filter) { ${EVENT_FIELDS} pageInfo { hasNextPage endCursor } }
}`;
const NAMES_QUERY = '{ eventNames { name count lastSeenAt mapping { eventName } } }';

/** How long connections may take to answer their last request after the deadline. */
const DRAIN_MS = 30_000;

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)];

let seq = 0;
let graphqlErrors = 0;
let firstError: string | undefined;

function noteGraphqlBody(status: number, body: string): void {
  if (status === 200 && !body.includes('"errors"')) return;
  graphqlErrors++;
  firstError ??= `${status} ${body.slice(0, 300)}`;
}

/**
 * Request bodies are cut from a pool of pre-serialised messages (random users, names, properties),
 * with the messageId spliced in per request: every request is unique, and building it costs a string
 * concatenation instead of building and serialising objects (the generator shares the cores).
 */
const ID = '\u0000ID\u0000';

function templates(count: number, make: () => string): string[][] {
  return Array.from({ length: count }, () => make().split(JSON.stringify(ID).slice(1, -1)));
}

function splice(parts: string[], id: string): string {
  let out = parts[0];
  for (let i = 1; i < parts.length; i++) out += `${id}-${i - 1}${parts[i]}`;
  return out;
}

function requests(): autocannon.Request[] {
  const post = { method: 'POST' as const, path: config.path };
  switch (config.kind) {
    case 'track': {
      const pool = templates(1000, () => JSON.stringify(trackMessage(ID)));
      return [
        {
          ...post,
          setupRequest: (req: any) => ({ ...req, body: splice(pool[seq % pool.length], `${config.prefix}-${seq++}`) }),
        },
      ];
    }
    case 'batch': {
      // one placeholder per item; item i of request n gets messageId `<prefix>-<n>-<i>`
      const size = config.batchSize ?? 100;
      const pool = templates(50, () =>
        JSON.stringify({ batch: mixedBatch('x', size).map((m) => ({ ...m, messageId: ID })) }),
      );
      return [
        {
          ...post,
          setupRequest: (req: any) => ({ ...req, body: splice(pool[seq % pool.length], `${config.prefix}-${seq++}`) }),
        },
      ];
    }
    case 'callback': {
      // a webhook receiver's delivery report, signed per request (HMAC-SHA256 of the body with the secret),
      // each with its own eventId and the current time, as a receiver would post them
      const run = randomUUID().slice(0, 8);
      return [
        {
          ...post,
          setupRequest: (req: any) => {
            const n = seq++;
            const body = JSON.stringify({
              eventId: `${config.prefix}-${run}-${n}`,
              messageId: `${config.prefix}-delivery-${n % 1000}`,
              status: n % 10 === 0 ? 'FAILED' : 'DELIVERED',
              ...(n % 10 === 0 ? { reason: 'mailbox unavailable' } : {}),
              timestamp: new Date().toISOString(),
            });
            const signature = `sha256=${createHmac('sha256', config.secret!).update(body).digest('hex')}`;
            return { ...req, body, headers: { ...req.headers, 'x-pigeon-signature': signature } };
          },
        },
      ];
    }
    case 'gql-name':
    case 'gql-user':
      return [
        {
          ...post,
          setupRequest: (req: any) => {
            const filter =
              config.kind === 'gql-name'
                ? { name: pick(config.names!) }
                : { userId: `${config.users!.prefix}${Math.floor(Math.random() * config.users!.count)}` };
            return { ...req, body: JSON.stringify({ query: EVENTS_QUERY, variables: { first: 50, filter } }) };
          },
          onResponse: (status: number, body: string) => noteGraphqlBody(status, body),
        },
      ];
    case 'gql-event-names':
      return [
        {
          ...post,
          body: JSON.stringify({ query: NAMES_QUERY }),
          onResponse: (status: number, body: string) => noteGraphqlBody(status, body),
        } as autocannon.Request,
      ];
    case 'gql-paging': {
      // one sequence = `pages` requests on one connection, each with the previous page's endCursor;
      // autocannon resets the per-connection context after the last request of the list
      const pages = config.pages ?? 20;
      return Array.from({ length: pages }, (_, page) => ({
        ...post,
        setupRequest: (req: any, ctx: any) => {
          if (page === 0 || !ctx.after) ctx.name = pick(config.names!);
          const variables = { first: 50, after: page === 0 ? null : (ctx.after ?? null), filter: { name: ctx.name } };
          return { ...req, body: JSON.stringify({ query: EVENTS_QUERY, variables }) };
        },
        onResponse: (status: number, body: string, ctx: any) => {
          noteGraphqlBody(status, body);
          try {
            ctx.after = JSON.parse(body).data.events.pageInfo.endCursor;
          } catch {
            ctx.after = undefined;
          }
        },
      }));
    }
  }
}

function run(): void {
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  const clients = new Set<any>();
  let ok = 0;
  let okInWindow = 0;
  const slowest: { atS: number; ms: number }[] = [];
  let non2xx = 0;
  let errors = 0;
  let capped = false;
  let done = false;
  let lastResponseAt = 0;
  const eventsPerRequest = config.kind === 'batch' ? (config.batchSize ?? 100) : 1;

  const started = performance.now();
  const perSecond = new PerSecond(started, config.durationS);
  const instance = autocannon(
    {
      url: config.url,
      connections: config.connections,
      pipelining: 1,
      // the safety net; the run normally ends by the drain below
      duration: config.durationS + 30,
      timeout: 30,
      headers: { 'content-type': 'application/json', ...config.headers },
      requests: requests(),
      initialContext: {},
    },
    () => finish(),
  );

  instance.on('response', (client: any, statusCode: number, _bytes: number, responseTime: number) => {
    if (!clients.has(client)) {
      clients.add(client);
      // a connection whose first answer comes after the deadline sends nothing more either
      if (capped) client.responseMax = client.reqsMade;
    }
    lastResponseAt = performance.now();
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
    if (statusCode >= 200 && statusCode < 300) {
      ok++;
      if (responseTime > (slowest[slowest.length - 1]?.ms ?? 0) || slowest.length < 5) {
        slowest.push({ atS: Math.round(lastResponseAt - started) / 1000, ms: Math.round(responseTime) });
        slowest.sort((a, b) => b.ms - a.ms);
        slowest.length = Math.min(slowest.length, 5);
      }
      if (!capped) {
        okInWindow++;
        perSecond.add(1, lastResponseAt);
      }
      latencies.push(responseTime);
    } else {
      non2xx++;
    }
  });
  instance.on('reqError', (err: Error) => {
    errors++;
    firstError ??= err.message;
  });

  // at the deadline every connection may finish the request it has in flight, and no other
  setTimeout(() => {
    capped = true;
    for (const c of clients) c.responseMax = c.reqsMade;
    const check = setInterval(() => {
      if (clients.size >= config.connections && [...clients].every((c) => c.destroyed)) {
        clearInterval(check);
        finish();
      }
    }, 2);
    setTimeout(() => {
      clearInterval(check);
      finish();
    }, DRAIN_MS).unref();
  }, config.durationS * 1000);

  function finish(): void {
    if (done) return;
    done = true;
    const unanswered = [...clients].filter((c) => !c.destroyed).length + (config.connections - clients.size);
    const elapsedS = ((lastResponseAt || performance.now()) - started) / 1000;
    // throughput counts the answers received within the load window; the drained ones count as acks
    const windowS = capped ? config.durationS : elapsedS;
    const result: LoadResult = {
      kind: config.kind,
      connections: config.connections,
      elapsedS: Math.round(elapsedS * 1000) / 1000,
      requests: ok + non2xx,
      ok,
      non2xx,
      statusCodes,
      errors,
      graphqlErrors,
      eventsAcked: ok * eventsPerRequest,
      perSecond: capped ? perSecond.median : Math.round(ok / windowS),
      eventsPerSecond: capped ? perSecond.median * eventsPerRequest : Math.round((ok * eventsPerRequest) / windowS),
      perSecondMean: Math.round((capped ? okInWindow : ok) / windowS),
      perSecondSeries: perSecond.buckets,
      latency: latency(latencies),
      unanswered: capped ? unanswered : config.connections,
      slowest,
      firstError,
    };
    send({ type: 'finished', result });
    instance.stop();
    setTimeout(() => process.exit(0), 200);
  }
}

process.on('message', (m: any) => {
  if (m?.type === 'go') run();
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
