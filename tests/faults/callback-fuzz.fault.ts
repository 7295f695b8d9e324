import 'reflect-metadata';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { createApp } from '../../src/app';
import type { Database } from '../../src/db/database';
import { Channel } from '../../src/domain/channel/channel.enum';
import { openDatabase } from '../../src/open-database';
import { createServices } from '../../src/services';
import { FUZZ_SENDGRID_PUBLIC_KEY, fuzzHooks, type CallbackFuzzStats, type FuzzHooks } from '../callbacks/intake-fuzz';
import { freshDatabase, report, type FreshDatabase } from './support';

/**
 * Hostile input to the provider callback route `POST /hooks/:id` (README, "Delivery tracking"): property-based
 * fuzzing (fast-check), PIGEON_FUZZ_RUNS (default 10,000) generated requests per provider plus a tenth of that to
 * unknown ids, on a fresh MariaDB database. Most are validly signed with hostile content (so the parsers and the
 * store see them), the rest forged, unsigned, stale or garbled. Never a 5xx; refusals answered `{message, code}`;
 * exactly the events acknowledged as received are stored, each with a known outcome.
 */
const RUNS = Number(process.env.PIGEON_FUZZ_RUNS ?? 10_000);
const PUBLIC_URL = 'https://pigeon.example.test';

describe('fault: hostile callbacks', () => {
  let fresh: FreshDatabase;
  let db: Database;
  let app: FastifyInstance;
  let hooks: FuzzHooks;

  beforeAll(async () => {
    fresh = await freshDatabase('callback_fuzz');
    db = await openDatabase(fresh.url);
    const logger = pino({ level: process.env.PIGEON_FUZZ_LOG ?? 'silent' }); // e.g. error: the cause of a 5xx
    const services = createServices(
      db,
      { secret: 'fuzz', retryAttempts: 3, retryBaseMs: 10, publicUrl: PUBLIC_URL },
      logger,
    );
    app = await createApp({ services, config: { production: true, logLevel: 'silent' }, logger });
    const ws = await services.workspaces.createWorkspace('callback-fuzz');
    const ctx = { workspaceId: ws.workspace.id };
    const pathOf = async (channel: Channel, provider: string, config: Record<string, unknown>) => {
      const c = await services.providerConfigs.configure(ctx, { channel, provider, config });
      return { path: new URL(c.callbackUrl!).pathname };
    };
    hooks = {
      publicUrl: PUBLIC_URL,
      sendgrid: await pathOf(Channel.EMAIL, 'sendgrid', {
        apiKey: 'SG.k',
        fromEmail: 'shop@example.com',
        webhookVerificationKey: FUZZ_SENDGRID_PUBLIC_KEY,
      }),
      twilio: {
        ...(await pathOf(Channel.SMS, 'twilio', { accountSid: 'AC1', authToken: 'fuzz-token', from: '+14155550100' })),
        authToken: 'fuzz-token',
      },
      webhook: {
        ...(await pathOf(Channel.WEBHOOK, 'webhook', { url: 'https://receiver.example.com', secret: 'fuzz-secret' })),
        secret: 'fuzz-secret',
      },
    };
  });
  afterAll(async () => {
    await app.close();
    await db.dataSource.destroy();
    await fresh.drop();
  });

  it(`POST /hooks/:id: ${Math.round(RUNS * 3.3)} generated requests, never a 5xx; only what is acknowledged is stored`, async () => {
    // the generator mixes the providers (4:4:4) and unknown ids (1): 3.25 × RUNS cases hit every provider ~RUNS times
    const stats: CallbackFuzzStats = await fuzzHooks(app, hooks, Math.round(RUNS * 3.3));
    const rows = await db.rows<{ n: number | string; bad: number | string }>(
      `SELECT COUNT(*) AS n, SUM(CASE WHEN event_id = '' OR outcome NOT IN
        ('DELIVERED','OPENED','CLICKED','BOUNCED_HARD','BOUNCED_SOFT','FAILED','SPAM_COMPLAINT','UNSUBSCRIBED') THEN 1 ELSE 0 END) AS bad
       FROM provider_callbacks`,
    );
    const stored = Number(rows[0].n);
    const bad = Number(rows[0].bad ?? 0);
    const fiveHundreds = Object.entries(stats.statuses)
      .filter(([s]) => Number(s) >= 500)
      .reduce((n, [, c]) => n + c, 0);
    report(
      'callback-fuzz',
      `${stats.cases} generated callback requests (sendgrid, twilio, webhook, unknown ids): ${fiveHundreds} answered 5xx; ` +
        `statuses ${JSON.stringify(stats.statuses)}; ${stats.received} events acknowledged as received, ${stored} stored, ${bad} invalid rows`,
    );
    expect(stats.cases).toBeGreaterThanOrEqual(Math.round(RUNS * 3.3));
    expect(fiveHundreds).toBe(0);
    expect(stored).toBe(stats.received);
    expect(bad).toBe(0);
  });
});
