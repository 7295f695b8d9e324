import { Channel } from '../../src/domain/channel/channel.enum';
import { failed, ok, startTestApp, uid, type TestApp, type TestWorkspace } from '../helpers/test-app';

/**
 * The GraphQL API of suppressions (README, "Delivery tracking" → "Suppression"): `suppressions` (a Relay
 * connection, newest first, filtered by channel and address), `addSuppression`, `removeSuppression`, and
 * BAD_USER_INPUT with the field for bad input.
 */
describe('GraphQL: suppressions', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const FIELDS = 'channel address reason createdAt expiresAt';
  const ADD = `mutation($c: Channel!, $a: String!, $r: String!) { addSuppression(channel: $c, address: $a, reason: $r) { ${FIELDS} } }`;
  const REMOVE = 'mutation($c: Channel!, $a: String!) { removeSuppression(channel: $c, address: $a) }';
  const LIST = `query($first: Int, $after: String, $f: SuppressionFilter) {
    suppressions(first: $first, after: $after, filter: $f) { edges { cursor node { ${FIELDS} } } pageInfo { hasNextPage endCursor } } }`;

  const add = (ws: TestWorkspace, c: string, a: string, r = 'by hand') => t.gql(ADD, { c, a, r }, ws.adminKey);
  const list = async (ws: TestWorkspace, vars: Record<string, unknown> = {}) =>
    ok(await t.gql(LIST, vars, ws.adminKey)).suppressions;

  it('addSuppression stores the normalized address, permanent, with the caller’s reason', async () => {
    const ws = await t.newWorkspace();
    const before = Date.now();
    const added = ok(await add(ws, 'EMAIL', '  Ada.Lovelace@Example.COM ', 'asked by support')).addSuppression;
    expect(added).toMatchObject({
      channel: 'EMAIL',
      address: 'ada.lovelace@example.com',
      reason: 'asked by support',
      expiresAt: null,
    });
    expect(Date.parse(added.createdAt)).toBeGreaterThanOrEqual(before - 1000);

    // again, in another case: the same suppression; an earlier permanent one keeps its reason
    const again = ok(await add(ws, 'EMAIL', 'ADA.LOVELACE@example.com', 'other')).addSuppression;
    expect(again).toEqual(added);
    expect((await list(ws)).edges).toHaveLength(1);

    const sms = ok(await add(ws, 'SMS', '+1 (415) 555-0100', 'STOP by phone')).addSuppression;
    expect(sms).toMatchObject({ channel: 'SMS', address: '+1 (415) 555-0100' }); // phone numbers as given
    const wa = ok(await add(ws, 'WHATSAPP', 'whatsapp:+14155550100')).addSuppression;
    expect(wa.address).toBe('whatsapp:+14155550100');
    expect(ok(await add(ws, 'PUSH', 'device-Token-ABC')).addSuppression.address).toBe('device-Token-ABC');
  });

  it('addSuppression over a temporary suppression makes it permanent', async () => {
    const ws = await t.newWorkspace();
    await t.services.suppressions.suppress(
      { workspaceId: ws.workspaceId },
      {
        channel: Channel.EMAIL,
        address: 'soft@example.com',
        reason: 'SOFT_BOUNCES',
        expiresAt: new Date(Date.now() + 86_400_000),
      },
    );
    expect((await list(ws)).edges[0].node).toMatchObject({ reason: 'SOFT_BOUNCES', expiresAt: expect.any(String) });
    expect(ok(await add(ws, 'EMAIL', 'soft@example.com', 'manual')).addSuppression).toMatchObject({
      reason: 'manual',
      expiresAt: null,
    });
  });

  it('bad input: BAD_USER_INPUT naming the field', async () => {
    const ws = await t.newWorkspace();
    const cases: [string, string, string, string][] = [
      ['EMAIL', 'not an address', 'x', 'address'],
      ['EMAIL', 'a@example.com, b@example.com', 'x', 'address'],
      ['EMAIL', '', 'x', 'address'],
      ['EMAIL', '   ', 'x', 'address'],
      ['EMAIL', `${'a'.repeat(320)}@example.com`, 'x', 'address'],
      ['SMS', 'call me', 'x', 'address'],
      ['SMS', '+1 23', 'x', 'address'],
      ['WHATSAPP', '+1415555010012345678', 'x', 'address'],
      ['PUSH', 'tok\nen', 'x', 'address'],
      ['WEBHOOK', 'https://example.com/hook', 'x', 'channel'],
      ['EMAIL', 'a@example.com', '', 'reason'],
      ['EMAIL', 'a@example.com', 'r'.repeat(101), 'reason'],
    ];
    for (const [c, a, r, field] of cases) {
      const error = failed(await add(ws, c, a, r), 'BAD_USER_INPUT');
      expect({ c, a, r, field: error.extensions?.field }).toEqual({ c, a, r, field });
    }
    expect(failed(await add(ws, 'FAX', 'x@example.com'), 'BAD_USER_INPUT')).toBeDefined(); // not an enum value
    const removeBad = await t.gql(REMOVE, { c: 'EMAIL', a: 'nope' }, ws.adminKey);
    expect(failed(removeBad, 'BAD_USER_INPUT').extensions?.field).toBe('address');
    const removeHook = await t.gql(REMOVE, { c: 'WEBHOOK', a: 'x' }, ws.adminKey);
    expect(failed(removeHook, 'BAD_USER_INPUT').extensions?.field).toBe('channel');
    failed(await t.gql(LIST, { first: 0 }, ws.adminKey), 'BAD_USER_INPUT');
    failed(await t.gql(LIST, { after: 'not-a-cursor' }, ws.adminKey), 'BAD_USER_INPUT');
    failed(await t.gql(LIST, { f: { channel: 'WEBHOOK' } }, ws.adminKey), 'BAD_USER_INPUT');
    expect((await list(ws)).edges).toEqual([]);
  });

  it('needs an admin key', async () => {
    const ws = await t.newWorkspace();
    failed(await t.gql(LIST, {}, null), 'UNAUTHENTICATED');
    failed(await t.gql(ADD, { c: 'EMAIL', a: 'a@example.com', r: 'x' }, ws.ingestKey), 'FORBIDDEN');
    failed(await t.gql(REMOVE, { c: 'EMAIL', a: 'a@example.com' }, ws.ingestKey), 'FORBIDDEN');
  });

  it('suppressions: newest first, paged with cursors, filtered by channel and address; expired left out', async () => {
    const ws = await t.newWorkspace();
    const emails = Array.from({ length: 5 }, (_, i) => `${uid(`p${i}`)}@example.com`);
    for (const e of emails) ok(await add(ws, 'EMAIL', e));
    ok(await add(ws, 'SMS', '+14155550111'));
    await t.services.suppressions.suppress(
      { workspaceId: ws.workspaceId },
      { channel: Channel.EMAIL, address: 'gone@example.com', reason: 'old', expiresAt: new Date(Date.now() - 1000) },
    );

    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const res: any = await list(ws, { first: 2, after });
      seen.push(...res.edges.map((e: any) => e.node.address));
      if (!res.pageInfo.hasNextPage) break;
      after = res.pageInfo.endCursor;
    }
    expect(seen).toEqual(['+14155550111', ...[...emails].reverse()]);

    const byChannel = await list(ws, { f: { channel: 'SMS' } });
    expect(byChannel.edges.map((e: any) => e.node.address)).toEqual(['+14155550111']);
    const byAddress = await list(ws, { f: { address: emails[2].toUpperCase() } });
    expect(byAddress.edges.map((e: any) => e.node.address)).toEqual([emails[2]]);
    const both = await list(ws, { f: { channel: 'SMS', address: emails[2] } });
    expect(both.edges).toEqual([]);
    expect((await list(ws, { f: { address: 'gone@example.com' } })).edges).toEqual([]);
  });

  it('removeSuppression: true once, then false; the address may be given in any case', async () => {
    const ws = await t.newWorkspace();
    ok(await add(ws, 'EMAIL', 'remove.me@example.com'));
    expect(ok(await t.gql(REMOVE, { c: 'EMAIL', a: 'Remove.Me@example.com' }, ws.adminKey)).removeSuppression).toBe(
      true,
    );
    expect(ok(await t.gql(REMOVE, { c: 'EMAIL', a: 'remove.me@example.com' }, ws.adminKey)).removeSuppression).toBe(
      false,
    );
    expect((await list(ws)).edges).toEqual([]);
  });

  it('removeSuppression also forgets the soft bounces, so the next one does not suppress again', async () => {
    const ws = await t.newWorkspace();
    const ctx = { workspaceId: ws.workspaceId };
    const bounce = (deliveryId: string) =>
      t.db.transaction((tx) =>
        t.services.suppressions.softBounceIn(tx, ctx, {
          channel: Channel.EMAIL,
          address: 'bouncy@example.com',
          deliveryId,
          at: new Date(),
        }),
      );
    for (const d of ['d1', 'd2']) expect(await bounce(d)).toBe(false);
    expect(await bounce('d3')).toBe(true);
    expect(ok(await t.gql(REMOVE, { c: 'EMAIL', a: 'bouncy@example.com' }, ws.adminKey)).removeSuppression).toBe(true);
    expect(await bounce('d4')).toBe(false);
    expect((await list(ws)).edges).toEqual([]);
  });
});
