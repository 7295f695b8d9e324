import pino from 'pino';
import { ConfigError, loadConfig } from '../../src/config';
import { toDbTime } from '../../src/db/dialect';
import { METRIC_NAMES } from '../../src/ops/metrics';
import { startRetention } from '../../src/ops/housekeeping';
import { configureProvider, createTemplate, mapEvent } from '../helpers/pipeline';
import { startTestApp, uid, type TestApp } from '../helpers/test-app';
import { sampleValue, scrape } from './metrics-text';

const DAY = 24 * 60 * 60 * 1000;

/** PIGEON_EVENT_RETENTION_DAYS: old event-log rows go in small batches; rows undelivered messages need stay. */
describe('event retention', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  /** Moves the given events of this workspace back in time. */
  async function age(userId: string, days: number) {
    await t.db.run('UPDATE inbound_events SET received_at = ? WHERE user_id = ?', [
      toDbTime(new Date(Date.now() - days * DAY)),
      userId,
    ]);
  }

  const eventCount = async (userId: string) => {
    const rows = await t.db.rows<{ n: number | string }>('SELECT COUNT(*) AS n FROM inbound_events WHERE user_id = ?', [
      userId,
    ]);
    return Number(rows[0].n);
  };

  it('purges old rows in batches, keeps recent ones and those of messages not yet sent', async () => {
    const old = uid('old');
    const recent = uid('recent');
    const pending = uid('pending');
    const sent = uid('sent');
    const eventName = `Retention ${uid()}`;

    await configureProvider(t, { channel: 'EMAIL', provider: 'log', config: {} });
    const templateId = await createTemplate(t, {
      key: 'retention',
      name: 'Retention',
      channels: ['EMAIL'],
      content: { email: { subject: 'Hi', text: 'Hi' } },
    });
    await mapEvent(t, `Segment-TrackEvent:${eventName}`, templateId);
    for (const userId of [pending, sent]) {
      await t.send('/v1/identify', { userId, traits: { email: `${userId}@example.com` } });
    }
    // `sent` gets its message delivered; `pending` keeps an ENQUEUED one
    expect((await t.send('/v1/track', { userId: sent, event: eventName })).statusCode).toBe(200);
    await t.worker().drain(200);
    expect((await t.send('/v1/track', { userId: pending, event: eventName })).statusCode).toBe(200);

    const batch = Array.from({ length: 7 }, (_, i) => ({ type: 'track', userId: old, event: `Unmapped ${i % 2}` }));
    expect((await t.send('/v1/batch', { batch })).statusCode).toBe(200);
    await t.send('/v1/page', { userId: old, name: 'Home' });
    await t.send('/v1/track', { userId: recent, event: 'Unmapped 0' });
    for (const userId of [old, pending, sent]) await age(userId, 40);
    await age(recent, 5);
    const namesBefore = (await t.gql('{ eventNames { name count } }')).data!.eventNames;

    const result = await t.services.retention.purgeOlderThan(30, { batchSize: 3, workspaceIds: [t.ws.workspaceId] });
    // old: 8 events; sent: identify + track; pending: identify (its track is kept)
    expect(result).toMatchObject({ purged: 8 + 2 + 1, kept: 1 });
    expect(await eventCount(old)).toBe(0);
    expect(await eventCount(sent)).toBe(0);
    expect(await eventCount(pending)).toBe(1);
    expect(await eventCount(recent)).toBe(1);

    // the kept event is the one the ENQUEUED message still reads; once it is sent, the next run purges it
    const { data } = await t.gql<any>(
      `query($u: String!) { messages(filter: {userId: $u}) { edges { node { status event { id } } } } }`,
      { u: pending },
    );
    expect(data.messages.edges[0].node).toMatchObject({ status: 'ENQUEUED', event: { id: expect.any(String) } });
    await t.worker().drain(200);
    const again = await t.services.retention.purgeOlderThan(30, { workspaceIds: [t.ws.workspaceId] });
    expect(again).toMatchObject({ purged: 1, kept: 0 });
    const after = await t.gql<any>(
      `query($u: String!) { messages(filter: {userId: $u}) { edges { node { status event { id } } } } }`,
      { u: pending },
    );
    expect(after.data.messages.edges[0].node).toEqual({ status: 'SENT', event: null });

    // eventNames counters are lifetime counts: retention leaves them as they were
    expect((await t.gql('{ eventNames { name count } }')).data!.eventNames).toEqual(namesBefore);

    // the work shows in metrics
    const { samples } = await scrape(t);
    expect(sampleValue(samples, METRIC_NAMES.retentionPurged)).toBe(12);
    expect(sampleValue(samples, METRIC_NAMES.retentionRuns, { outcome: 'ok' })).toBe(2);
    const last = sampleValue(samples, METRIC_NAMES.retentionLastRun);
    expect(last * 1000).toBeGreaterThan(Date.now() - 60_000);
    expect(sampleValue(samples, METRIC_NAMES.retentionLastDuration)).toBeGreaterThanOrEqual(0);
  });

  it('stops after maxBatches and goes on at the next run', async () => {
    const ws = await t.newWorkspace();
    const userId = uid('many');
    const batch = Array.from({ length: 10 }, () => ({ type: 'page', userId, name: 'P' }));
    await t.send('/v1/batch', { batch }, ws.ingestKey);
    await age(userId, 3);
    const options = { batchSize: 4, maxBatches: 1, workspaceIds: [ws.workspaceId] };
    expect((await t.services.retention.purgeOlderThan(1, options)).purged).toBe(4);
    expect(await eventCount(userId)).toBe(6);
    expect((await t.services.retention.purgeOlderThan(1, { ...options, maxBatches: undefined })).purged).toBe(6);
  });

  it('runs on a schedule in worker processes', async () => {
    const userId = uid('scheduled');
    await t.send('/v1/screen', { userId, name: 'S' });
    await age(userId, 400);
    const before = sampleValue((await scrape(t)).samples, METRIC_NAMES.retentionRuns, { outcome: 'ok' });
    const stop = startRetention(
      t.services.retention,
      { days: 365, firstRunMs: 1, intervalMs: 60_000 },
      pino({ level: 'silent' }),
    );
    for (let i = 0; i < 200 && (await eventCount(userId)) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    await stop();
    expect(await eventCount(userId)).toBe(0);
    expect(sampleValue((await scrape(t)).samples, METRIC_NAMES.retentionRuns, { outcome: 'ok' })).toBe(before + 1);
  });

  it('is configured by PIGEON_EVENT_RETENTION_DAYS, off by default', () => {
    expect(loadConfig({}).eventRetentionDays).toBeUndefined();
    expect(loadConfig({ PIGEON_EVENT_RETENTION_DAYS: '' }).eventRetentionDays).toBeUndefined();
    expect(loadConfig({ PIGEON_EVENT_RETENTION_DAYS: '0' }).eventRetentionDays).toBeUndefined();
    expect(loadConfig({ PIGEON_EVENT_RETENTION_DAYS: '30' }).eventRetentionDays).toBe(30);
    for (const bad of ['-1', '1.5', 'thirty']) {
      expect(() => loadConfig({ PIGEON_EVENT_RETENTION_DAYS: bad })).toThrow(ConfigError);
    }
    expect(() => t.services.retention.purgeOlderThan(0)).toThrow(RangeError);
  });
});
