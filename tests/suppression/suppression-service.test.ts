import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { Channel } from '../../src/domain/channel/channel.enum';
import type { RequestContext } from '../../src/domain/request-context';
import {
  SOFT_BOUNCE_WINDOW_MS,
  SuppressionReason,
  suppressionKey,
  type SuppressionInput,
} from '../../src/domain/suppression/suppression.service';
import { startSoftBouncePurge } from '../../src/ops/housekeeping';
import { METRIC_NAMES } from '../../src/ops/metrics';
import { startTestApp, uid, type TestApp } from '../helpers/test-app';

/**
 * SuppressionService (README, "Delivery tracking" → "Suppression") on the real database: upserts by
 * (workspace, channel, normalized address), permanent over temporary, expiry, and the soft-bounce rule
 * (three different deliveries within 7 days suppress for 7 days) — also when workers record bounces at once.
 */
describe('SuppressionService', () => {
  let t: TestApp;
  let ctx: RequestContext;
  const DAY = 86_400_000;

  beforeAll(async () => {
    t = await startTestApp();
    ctx = { workspaceId: t.ws.workspaceId };
  });
  afterAll(async () => {
    await t.close();
  });

  const service = () => t.services.suppressions;
  const email = () => `${uid('s')}@example.com`;
  const suppress = (input: SuppressionInput, context = ctx) =>
    t.db.transaction((tx) => service().suppressIn(tx, context, input));
  const softBounce = (address: string, deliveryId: string, at: Date, channel = Channel.EMAIL, context = ctx) =>
    t.db.transaction((tx) => service().softBounceIn(tx, context, { channel, address, deliveryId, at }));
  const active = (pairs: { channel: Channel; address: string }[], now = new Date(), context = ctx) =>
    service().activeIn(t.db, context, pairs, now);
  const one = async (channel: Channel, address: string, now = new Date()) =>
    (await active([{ channel, address }], now)).get(suppressionKey(channel, address));
  const stored = async (channel: Channel, address: string) =>
    t.db.rows<Record<string, any>>(
      'SELECT * FROM suppressions WHERE workspace_id = ? AND channel = ? AND address = ?',
      [ctx.workspaceId, channel, address],
    );

  describe('suppressIn and activeIn', () => {
    it('stores e-mail addresses trimmed and lower-cased, and finds them in any case', async () => {
      const address = email();
      await suppress({ channel: Channel.EMAIL, address: `  ${address.toUpperCase()} `, reason: 'HARD_BOUNCE' });
      const rows = await stored(Channel.EMAIL, address);
      expect(rows).toHaveLength(1);
      expect(rows[0].address).toBe(address);
      const found = await one(Channel.EMAIL, address.replace('example', 'EXAMPLE'));
      expect(found).toMatchObject({ channel: 'EMAIL', address, reason: 'HARD_BOUNCE', expiresAt: null });
      expect(found!.createdAt).toBeInstanceOf(Date);
      expect(suppressionKey(Channel.EMAIL, ` ${address.toUpperCase()}`)).toBe(suppressionKey(Channel.EMAIL, address));
    });

    it('compares phone numbers as given, per channel and per workspace', async () => {
      const phone = `+1555${Math.floor(Math.random() * 1e7)}`;
      await suppress({ channel: Channel.SMS, address: phone, reason: SuppressionReason.STOP });
      expect(await one(Channel.SMS, phone)).toMatchObject({ reason: 'STOP' });
      expect(await one(Channel.SMS, ` ${phone} `)).toBeDefined(); // trimmed
      expect(await one(Channel.SMS, phone.replace('+1555', '+1 555'))).toBeUndefined();
      expect(await one(Channel.WHATSAPP, phone)).toBeUndefined();
      const other = await t.newWorkspace();
      const theirs = await active([{ channel: Channel.SMS, address: phone }], new Date(), {
        workspaceId: other.workspaceId,
      });
      expect(theirs.size).toBe(0);
    });

    it('a permanent suppression replaces a temporary one and is never shortened by one', async () => {
      const address = email();
      const soon = new Date(Date.now() + DAY);
      await suppress({ channel: Channel.EMAIL, address, reason: 'SOFT_BOUNCES', expiresAt: soon });
      expect((await one(Channel.EMAIL, address))!.expiresAt!.getTime()).toBe(soon.getTime());

      await suppress({ channel: Channel.EMAIL, address, reason: 'HARD_BOUNCE' });
      expect(await one(Channel.EMAIL, address)).toMatchObject({ reason: 'HARD_BOUNCE', expiresAt: null });

      await suppress({ channel: Channel.EMAIL, address, reason: 'SOFT_BOUNCES', expiresAt: soon });
      await suppress({ channel: Channel.EMAIL, address, reason: 'SPAM_COMPLAINT' }); // permanent over permanent
      expect(await one(Channel.EMAIL, address)).toMatchObject({ reason: 'HARD_BOUNCE', expiresAt: null });
      expect(await stored(Channel.EMAIL, address)).toHaveLength(1);
    });

    it('of two temporary suppressions the later expiry wins', async () => {
      const address = email();
      const in5 = new Date(Date.now() + 5 * DAY);
      const in10 = new Date(Date.now() + 10 * DAY);
      await suppress({ channel: Channel.EMAIL, address, reason: 'first', expiresAt: in10 });
      await suppress({ channel: Channel.EMAIL, address, reason: 'second', expiresAt: in5 });
      expect(await one(Channel.EMAIL, address)).toMatchObject({ reason: 'first', expiresAt: in10 });
      const in12 = new Date(Date.now() + 12 * DAY);
      await suppress({ channel: Channel.EMAIL, address, reason: 'third', expiresAt: in12 });
      expect(await one(Channel.EMAIL, address)).toMatchObject({ reason: 'third', expiresAt: in12 });
    });

    it('an expired suppression is not active, and a new one replaces it', async () => {
      const address = email();
      const past = new Date(Date.now() - DAY);
      await suppress({ channel: Channel.EMAIL, address, reason: 'SOFT_BOUNCES', expiresAt: past });
      expect(await one(Channel.EMAIL, address)).toBeUndefined();
      // active at a time before it expired
      expect(await one(Channel.EMAIL, address, new Date(past.getTime() - 1000))).toBeDefined();

      const later = new Date(Date.now() + 2 * DAY);
      await suppress({ channel: Channel.EMAIL, address, reason: 'again', expiresAt: later });
      expect(await one(Channel.EMAIL, address)).toMatchObject({ reason: 'again', expiresAt: later });
      // at exactly its expiry it is over
      expect(await one(Channel.EMAIL, address, later)).toBeUndefined();
    });

    it('activeIn answers many pairs at once, keyed by suppressionKey', async () => {
      const addresses = Array.from({ length: 5 }, email);
      for (const address of addresses.slice(0, 3)) await suppress({ channel: Channel.EMAIL, address, reason: 'x' });
      const pairs = [
        ...addresses.map((address) => ({ channel: Channel.EMAIL, address: address.toUpperCase() })),
        { channel: Channel.SMS, address: addresses[0] },
      ];
      const found = await active(pairs);
      expect([...found.keys()].sort()).toEqual(
        addresses
          .slice(0, 3)
          .map((a) => `EMAIL|${a}`)
          .sort(),
      );
      expect((await active([])).size).toBe(0);
    });
  });

  describe('softBounceIn', () => {
    const now = new Date();

    it('three different deliveries within 7 days suppress the address for 7 days from the last', async () => {
      const address = email();
      expect(await softBounce(address, 'd1', new Date(now.getTime() - 6 * DAY))).toBe(false);
      expect(await softBounce(address.toUpperCase(), 'd2', new Date(now.getTime() - 3 * DAY))).toBe(false);
      expect(await one(Channel.EMAIL, address)).toBeUndefined();
      expect(await softBounce(address, 'd3', now)).toBe(true);
      expect(await one(Channel.EMAIL, address)).toMatchObject({
        reason: SuppressionReason.SOFT_BOUNCES,
        expiresAt: new Date(now.getTime() + SOFT_BOUNCE_WINDOW_MS),
      });
      // over after 7 days
      expect(await one(Channel.EMAIL, address, new Date(now.getTime() + 7 * DAY))).toBeUndefined();
    });

    it('the same delivery counts once, however often it is reported', async () => {
      const address = email();
      expect(await softBounce(address, 'd1', now)).toBe(false);
      expect(await softBounce(address, 'd1', now)).toBe(false);
      expect(await softBounce(address, 'd1', new Date(now.getTime() + 1000))).toBe(false);
      expect(await softBounce(address, 'd2', now)).toBe(false);
      expect(await one(Channel.EMAIL, address)).toBeUndefined();
      expect(await softBounce(address, 'd3', now)).toBe(true);
    });

    it('two bounces do not suppress; bounces 8 days apart do not either', async () => {
      const two = email();
      expect(await softBounce(two, 'd1', now)).toBe(false);
      expect(await softBounce(two, 'd2', now)).toBe(false);
      expect(await one(Channel.EMAIL, two)).toBeUndefined();

      const apart = email();
      expect(await softBounce(apart, 'd1', new Date(now.getTime() - 16 * DAY))).toBe(false);
      expect(await softBounce(apart, 'd2', new Date(now.getTime() - 8 * DAY))).toBe(false);
      expect(await softBounce(apart, 'd3', now)).toBe(false);
      // one old and two recent: still only two within the 7 days
      expect(await softBounce(apart, 'd4', now)).toBe(false);
      expect(await one(Channel.EMAIL, apart)).toBeUndefined();
      expect(await softBounce(apart, 'd5', now)).toBe(true);
    });

    it('counts per channel and workspace', async () => {
      const phone = `+1666${Math.floor(Math.random() * 1e7)}`;
      const other = { workspaceId: (await t.newWorkspace()).workspaceId };
      expect(await softBounce(phone, 'd1', now, Channel.SMS)).toBe(false);
      expect(await softBounce(phone, 'd2', now, Channel.WHATSAPP)).toBe(false);
      expect(await softBounce(phone, 'd3', now, Channel.SMS, other)).toBe(false);
      expect(await softBounce(phone, 'd4', now, Channel.SMS)).toBe(false);
      expect(await softBounce(phone, 'd5', now, Channel.SMS)).toBe(true);
      expect(await one(Channel.WHATSAPP, phone)).toBeUndefined();
    });

    it('never shortens a permanent suppression', async () => {
      const address = email();
      await suppress({ channel: Channel.EMAIL, address, reason: SuppressionReason.HARD_BOUNCE });
      for (const d of ['d1', 'd2', 'd3']) await softBounce(address, d, now);
      expect(await one(Channel.EMAIL, address)).toMatchObject({ reason: 'HARD_BOUNCE', expiresAt: null });
    });

    it('workers recording the last bounces at the same time do not lose the suppression', async () => {
      for (let round = 0; round < 8; round++) {
        const address = email();
        const results = await Promise.all([1, 2, 3, 4].map(() => softBounce(address, randomUUID(), now)));
        expect({ round, suppressed: results.some(Boolean) }).toEqual({ round, suppressed: true });
        expect(await one(Channel.EMAIL, address)).toMatchObject({ reason: 'SOFT_BOUNCES' });
      }
    });

    it("commits the bounce in the caller's transaction (a rollback forgets it)", async () => {
      const address = email();
      await softBounce(address, 'd1', now);
      await softBounce(address, 'd2', now);
      await expect(
        t.db.transaction(async (tx) => {
          expect(
            await service().softBounceIn(tx, ctx, { channel: Channel.EMAIL, address, deliveryId: 'd3', at: now }),
          ).toBe(true);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      expect(await one(Channel.EMAIL, address)).toBeUndefined();
      expect(await softBounce(address, 'd3', now)).toBe(true);
    });
  });

  describe('purgeSoftBounces', () => {
    const bouncesOf = async (address: string) =>
      (
        await t.db.rows<{ delivery_id: string }>(
          'SELECT delivery_id FROM soft_bounces WHERE workspace_id = ? AND address = ? ORDER BY delivery_id',
          [ctx.workspaceId, address],
        )
      ).map((r) => r.delivery_id);

    it('deletes bounces older than the window plus 3 days, in batches, and counting goes on with the rest', async () => {
      const now = new Date();
      const old = email();
      for (const d of ['o1', 'o2', 'o3', 'o4', 'o5']) await softBounce(old, d, new Date(now.getTime() - 11 * DAY));
      const recent = email();
      await softBounce(recent, 'r1', new Date(now.getTime() - 9 * DAY)); // late callbacks may still count it
      await softBounce(recent, 'r2', new Date(now.getTime() - 6 * DAY));
      await softBounce(recent, 'r3', new Date(now.getTime() - 3 * DAY));

      expect(await service().purgeSoftBounces(now, 2)).toBeGreaterThanOrEqual(5);
      expect(await bouncesOf(old)).toEqual([]);
      expect(await bouncesOf(recent)).toEqual(['r1', 'r2', 'r3']);
      expect(await service().purgeSoftBounces(now, 2)).toBe(0);

      // r2 and r3 are within 7 days of a third bounce now: still suppressed
      expect(await softBounce(recent, 'r4', now)).toBe(true);
      // a week and a half later r1 goes too, the others stay for their own ten days
      await service().purgeSoftBounces(new Date(now.getTime() + 1.5 * DAY));
      expect(await bouncesOf(recent)).toEqual(['r2', 'r3', 'r4']);
    });

    it('runs hourly in processes with workers (ops/housekeeping.ts)', async () => {
      const address = email();
      await softBounce(address, 'h1', new Date(Date.now() - 30 * DAY));
      const stop = startSoftBouncePurge(service(), { firstRunMs: 1, intervalMs: 60_000 }, pino({ level: 'silent' }));
      for (let i = 0; i < 200 && (await bouncesOf(address)).length > 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      await stop();
      expect(await bouncesOf(address)).toEqual([]);
    });
  });

  it('counts suppressions in pigeon_suppressions_total{channel,reason}; hand-given reasons are MANUAL', async () => {
    const value = async (channel: string, reason: string) => {
      const metric = await t.services.metrics.suppressions.get();
      return metric.values.find((v) => v.labels.channel === channel && v.labels.reason === reason)?.value ?? 0;
    };
    expect(METRIC_NAMES.suppressions).toBe('pigeon_suppressions_total');
    const stopBefore = await value('SMS', 'STOP');
    const manualBefore = await value('EMAIL', 'MANUAL');
    const phone = `+1777${Math.floor(Math.random() * 1e7)}`;
    await suppress({ channel: Channel.SMS, address: phone, reason: SuppressionReason.STOP });
    await suppress({ channel: Channel.SMS, address: phone, reason: SuppressionReason.STOP }); // no change
    await t.services.suppressions.add(ctx, Channel.EMAIL, email(), `by hand ${randomUUID()}`);
    expect(await value('SMS', 'STOP')).toBe(stopBefore + 1);
    expect(await value('EMAIL', 'MANUAL')).toBe(manualBefore + 1);
  });
});
