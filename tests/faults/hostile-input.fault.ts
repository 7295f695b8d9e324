import 'reflect-metadata';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { createApp } from '../../src/app';
import type { Database } from '../../src/db/database';
import { openDatabase } from '../../src/open-database';
import { SEGMENT_TYPES } from '../../src/ingest/segment/segment.schemas';
import { createServices } from '../../src/services';
import { fuzzGraphQL, fuzzIngestRoute, storedEventProblems, type FuzzStats } from '../helpers/fuzz';
import { freshDatabase, report, type FreshDatabase } from './support';

/**
 * Hostile input: property-based fuzzing (fast-check) of every ingest route and of GraphQL inputs,
 * 10,000 generated cases each (PIGEON_FUZZ_RUNS), on a fresh MariaDB database: malformed JSON, deep
 * nesting, huge strings, wrong types, unicode edge cases, prototype keys, odd content types and
 * credentials. Never a 5xx (501 is the documented answer to an unknown type: README.md, "Limits and errors"),
 * never a crash, and the event log holds only valid events — every acknowledged one among them.
 */
const RUNS = Number(process.env.PIGEON_FUZZ_RUNS ?? 10_000);
const ROUTES = ['/segment', '/inbound/segment', ...SEGMENT_TYPES.map((t) => `/v1/${t}`), '/v1/batch'];

describe('fault: hostile input', () => {
  let fresh: FreshDatabase;
  let db: Database;
  let app: FastifyInstance;
  let workspaceId: number;
  let ingestKey: string;
  let adminKey: string;
  const perRoute: Record<string, FuzzStats> = {};
  const acknowledged = new Set<string>();

  beforeAll(async () => {
    fresh = await freshDatabase('fuzz');
    db = await openDatabase(fresh.url);
    const logger = pino({ level: 'silent' });
    const services = createServices(db, { secret: 'fuzz', retryAttempts: 3, retryBaseMs: 10 }, logger);
    app = await createApp({ services, config: { production: true, logLevel: 'silent' }, logger });
    const ws = await services.workspaces.createWorkspace('fuzz');
    workspaceId = ws.workspace.id;
    ingestKey = ws.ingest.secret;
    adminKey = ws.admin.secret;
  });
  afterAll(async () => {
    await app.close();
    await db.dataSource.destroy();
    await fresh.drop();
  });

  it.each(ROUTES)(`POST %s: ${RUNS} generated requests, never a 5xx`, async (route) => {
    const stats = await fuzzIngestRoute(app, route, ingestKey, RUNS);
    perRoute[route] = stats;
    stats.acknowledged.forEach((id) => acknowledged.add(id));
    expect(stats.cases).toBeGreaterThanOrEqual(RUNS);
  });

  it(`POST /graphql: ${RUNS} generated operations, never a 5xx or INTERNAL_SERVER_ERROR`, async () => {
    perRoute['/graphql'] = await fuzzGraphQL(app, adminKey, RUNS);
    expect(perRoute['/graphql'].cases).toBeGreaterThanOrEqual(RUNS);
  });

  it('the event log holds only valid events, every acknowledged one among them; figures', async () => {
    const { stored, problems } = await storedEventProblems(db, workspaceId, acknowledged);
    const total = Object.values(perRoute).reduce((n, s) => n + s.cases, 0);
    const statuses: Record<number, number> = {};
    for (const s of Object.values(perRoute)) {
      for (const [status, n] of Object.entries(s.statuses))
        statuses[Number(status)] = (statuses[Number(status)] ?? 0) + n;
    }
    const fiveHundreds = Object.entries(statuses)
      .filter(([s]) => Number(s) >= 500 && Number(s) !== 501)
      .reduce((n, [, c]) => n + c, 0);
    report(
      'hostile-input',
      `${total} generated cases (${ROUTES.length} ingest routes and GraphQL, ${RUNS} each): ` +
        `${fiveHundreds} answered 5xx (501 unknown type: ${statuses[501] ?? 0}); statuses ${JSON.stringify(statuses)}; ` +
        `${acknowledged.size} events acknowledged with a known messageId, ${stored} stored, ${problems.length} problems`,
    );
    expect(problems.slice(0, 20)).toEqual([]);
    expect(fiveHundreds).toBe(0);
  });
});
