import { SEGMENT_TYPES } from '../../src/ingest/segment/segment.schemas';
import { fuzzGraphQL, fuzzIngestRoute, storedEventProblems } from '../helpers/fuzz';
import { startTestApp, type TestApp } from '../helpers/test-app';

/**
 * Property-based fuzzing of every ingest route and of GraphQL inputs (fast-check), a few hundred cases
 * each on every `npm test`; the fault suite runs 10,000 per route (PIGEON_FUZZ_RUNS sets the count).
 * Never a 5xx, always `{message, code}` when refused, and the log only ever holds valid events.
 */
const RUNS = Number(process.env.PIGEON_FUZZ_RUNS ?? 150);
const ROUTES = ['/segment', '/inbound/segment', ...SEGMENT_TYPES.map((t) => `/v1/${t}`), '/v1/batch'];

describe('fuzzing hostile input', () => {
  let t: TestApp;
  const acknowledged = new Set<string>();
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it.each(ROUTES)(`POST %s: ${RUNS} generated requests, never a 5xx`, async (route) => {
    const stats = await fuzzIngestRoute(t.app, route, t.ws.ingestKey, RUNS);
    stats.acknowledged.forEach((id) => acknowledged.add(id));
    expect(stats.cases).toBeGreaterThanOrEqual(RUNS);
  });

  it(`POST /graphql: ${RUNS} generated operations, never a 5xx or INTERNAL_SERVER_ERROR`, async () => {
    const stats = await fuzzGraphQL(t.app, t.ws.adminKey, RUNS);
    expect(stats.cases).toBeGreaterThanOrEqual(RUNS);
  });

  it('stored only valid events, and every acknowledged one', async () => {
    const { stored, problems } = await storedEventProblems(t.db, t.ws.workspaceId, acknowledged);
    expect(problems.slice(0, 20)).toEqual([]);
    expect(stored).toBeGreaterThan(0);
  });
});
