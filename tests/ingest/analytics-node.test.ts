import { Analytics } from '@segment/analytics-node';
import { startTestApp, uid, type TestApp } from '../helpers/test-app';

/** The real Segment Node library, pointed at Pigeon with `host`, as a customer would. */
describe('@segment/analytics-node against a running Pigeon', () => {
  let t: TestApp;
  let host: string;
  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address() as { port: number };
    host = `http://127.0.0.1:${address.port}`;
  });
  afterAll(() => t.close());

  it('identify, group and track become a profile, a membership and an UNMAPPED track', async () => {
    const analytics = new Analytics({ writeKey: t.ws.ingestKey, host, flushInterval: 50, maxRetries: 1 });
    const errors: unknown[] = [];
    analytics.on('error', (err) => errors.push(err));
    const userId = uid();
    const groupId = uid('g');
    analytics.identify({
      userId,
      anonymousId: uid('anon'),
      traits: { email: 'node@example.com', phone_number: '+15555550100', plan: 'pro' },
    });
    analytics.group({ userId, groupId, traits: { name: 'Node Co', employees: 12 } });
    analytics.track({ userId, event: 'Order Completed', properties: { orderId: 'A-1', total: 42.5 } });
    await analytics.closeAndFlush({ timeout: 10_000 });
    expect(errors).toEqual([]);

    const res = await t.gql(
      `query($u: String!, $g: String!) {
        profile(userId: $u) { userId anonymousIds traits groups { groupId traits } }
        group(groupId: $g) { members(first: 10) { edges { node { userId } } } }
        events(filter: {userId: $u, status: UNMAPPED}) { edges { node { name type status payload } } }
        eventNames { name count }
      }`,
      { u: userId, g: groupId },
    );
    expect(res.errors).toBeUndefined();
    const { profile, group, events, eventNames } = res.data!;
    expect(profile.traits).toEqual({ email: 'node@example.com', phone_number: '+15555550100', plan: 'pro' });
    expect(profile.anonymousIds).toHaveLength(1);
    expect(profile.groups).toEqual([{ groupId, traits: { name: 'Node Co', employees: 12 } }]);
    expect(group.members.edges).toEqual([{ node: { userId } }]);
    expect(events.edges).toHaveLength(1);
    expect(events.edges[0].node).toMatchObject({
      name: 'Segment-TrackEvent:Order Completed',
      type: 'TRACK',
      status: 'UNMAPPED',
    });
    expect(events.edges[0].node.payload.properties).toEqual({ orderId: 'A-1', total: 42.5 });
    expect(events.edges[0].node.payload.context.library.name).toBe('@segment/analytics-node');
    expect(eventNames).toContainEqual({ name: 'Segment-TrackEvent:Order Completed', count: 1 });
  });

  it('a wrong write key is refused and reported by the library', async () => {
    const analytics = new Analytics({ writeKey: 'pgn_i_wrong', host, flushInterval: 50, maxRetries: 0 });
    const errors: any[] = [];
    analytics.on('error', (err) => errors.push(err));
    const userId = uid();
    analytics.track({ userId, event: 'Should Not Land' });
    await analytics.closeAndFlush({ timeout: 10_000 });
    expect(errors.length).toBeGreaterThan(0);
    const rows = await t.db.rows('SELECT id FROM inbound_events WHERE user_id = ?', [userId]);
    expect(rows).toHaveLength(0);
  });
});
