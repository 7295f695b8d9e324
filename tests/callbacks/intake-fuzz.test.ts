import { startTestApp, type TestApp } from '../helpers/test-app';
import { hookFor, PUBLIC_URL } from './intake-helpers';
import { FUZZ_SENDGRID_PUBLIC_KEY, fuzzHooks, type FuzzHooks } from './intake-fuzz';

/**
 * A short run of the callback fuzzing (tests/faults/callback-fuzz.fault.ts runs 10,000+ cases on MariaDB):
 * hostile, often validly signed requests to `POST /hooks/:id` — never a 5xx, refusals as `{message, code}`,
 * and exactly the events answered as received are stored, each with the fields the applier relies on.
 */
const RUNS = Number(process.env.PIGEON_CALLBACK_FUZZ_RUNS ?? 400);

describe('provider callbacks: hostile input (short run)', () => {
  let t: TestApp;
  let hooks: FuzzHooks;
  let configIds: string[];

  beforeAll(async () => {
    t = await startTestApp({ publicUrl: PUBLIC_URL });
    const sendgrid = await hookFor(t, t.ws, {
      channel: 'EMAIL',
      provider: 'sendgrid',
      config: { apiKey: 'SG.k', fromEmail: 'shop@example.com', webhookVerificationKey: FUZZ_SENDGRID_PUBLIC_KEY },
    });
    const twilio = await hookFor(t, t.ws, {
      channel: 'SMS',
      provider: 'twilio',
      config: { accountSid: 'AC1', authToken: 'fuzz-token', from: '+14155550100' },
    });
    const webhook = await hookFor(t, t.ws, {
      channel: 'WEBHOOK',
      provider: 'webhook',
      config: { url: 'https://receiver.example.com', secret: 'fuzz-secret' },
    });
    configIds = [sendgrid.configId, twilio.configId, webhook.configId];
    hooks = {
      publicUrl: PUBLIC_URL,
      sendgrid,
      twilio: { path: twilio.path, authToken: 'fuzz-token' },
      webhook: { path: webhook.path, secret: 'fuzz-secret' },
    };
  });
  afterAll(() => t.close());

  it(`${RUNS} generated requests: never a 5xx; what is acknowledged is stored, and only that`, async () => {
    const stats = await fuzzHooks(t.app, hooks, RUNS);
    expect(stats.cases).toBeGreaterThanOrEqual(RUNS);
    expect(stats.statuses[200]).toBeGreaterThan(0);
    expect(stats.statuses[401]).toBeGreaterThan(0);
    expect(stats.statuses[400]).toBeGreaterThan(0);
    const rows = await t.db.rows<{ event_id: string; outcome: string; provider: string }>(
      `SELECT event_id, outcome, provider FROM provider_callbacks WHERE provider_config_id IN (?, ?, ?)`,
      configIds,
    );
    expect(rows.length).toBe(stats.received);
    const outcomes = [
      'DELIVERED',
      'OPENED',
      'CLICKED',
      'BOUNCED_HARD',
      'BOUNCED_SOFT',
      'FAILED',
      'SPAM_COMPLAINT',
      'UNSUBSCRIBED',
    ];
    expect(rows.filter((r) => !r.event_id || !outcomes.includes(r.outcome))).toEqual([]);
  });
});
