import { createTemplate, mapEvent } from '../helpers/pipeline';
import { startTestApp, uid, type TestApp } from '../helpers/test-app';

/**
 * Each stored track becomes at most one message (README, "From event to notification: a walk-through"): the event
 * mapper claims events in bulk (`claimEvents`: the open ones are locked and read, then updated together), so
 * replays that run at once split the unmapped tracks between them and never map one twice.
 */
describe('replayEvents run at once', () => {
  let t: TestApp;
  const EVENTS = `query($f: EventFilter) {
    events(first: 200, filter: $f) { edges { node { id status message { id } } } }
  }`;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('four concurrent replays of 150 unmapped tracks map each exactly once, together 150', async () => {
    const ws = await t.newWorkspace();
    const event = `Late ${uid()}`;
    const name = `Segment-TrackEvent:${event}`;
    const batch = Array.from({ length: 150 }, (_, i) => ({
      type: 'track',
      userId: `u-${i % 7}`,
      event,
      messageId: `late-${uid()}-${i}`,
      properties: { n: i },
    }));
    expect((await t.send('/v1/batch', { batch }, ws.ingestKey)).statusCode).toBe(200);
    const before = await t.gql(EVENTS, { f: { name } }, ws.adminKey);
    expect(before.data!.events.edges).toHaveLength(150);
    expect(before.data!.events.edges.every((e: any) => e.node.status === 'UNMAPPED' && !e.node.message)).toBe(true);

    const templateId = await createTemplate(
      t,
      { key: `late-${uid()}`, name: 'Late', channels: ['EMAIL'], content: { email: { subject: 'S', text: 'T' } } },
      true,
      ws.adminKey,
    );
    await mapEvent(t, name, templateId, ws.adminKey);
    const replays = await Promise.all(
      [1, 2, 3, 4].map(() =>
        t.gql('mutation($f: EventFilter!) { replayEvents(filter: $f) }', { f: { name } }, ws.adminKey),
      ),
    );
    for (const r of replays) expect(r.errors).toBeUndefined();
    expect(replays.reduce((sum, r) => sum + (r.data!.replayEvents as number), 0)).toBe(150);

    const after = (await t.gql(EVENTS, { f: { name } }, ws.adminKey)).data!.events.edges.map((e: any) => e.node);
    expect(after).toHaveLength(150);
    expect(after.every((e: any) => e.status === 'MAPPED' && e.message)).toBe(true);
    // one message per event, none shared
    expect(new Set(after.map((e: any) => e.message.id)).size).toBe(150);
    // nothing is left for a later replay
    expect(
      (await t.gql('mutation($f: EventFilter!) { replayEvents(filter: $f) }', { f: { name } }, ws.adminKey)).data!
        .replayEvents,
    ).toBe(0);
  });

  it('a track ingested after its mapping is claimed in the transaction that stores it: MAPPED with its message', async () => {
    const ws = await t.newWorkspace();
    const event = `Now ${uid()}`;
    const name = `Segment-TrackEvent:${event}`;
    const templateId = await createTemplate(
      t,
      { key: `now-${uid()}`, name: 'Now', channels: ['EMAIL'], content: { email: { subject: 'S', text: 'T' } } },
      true,
      ws.adminKey,
    );
    await mapEvent(t, name, templateId, ws.adminKey);
    const batch = Array.from({ length: 40 }, (_, i) => ({
      type: 'track',
      userId: `u-${i}`,
      event: i % 2 ? event : `Other ${uid()}`,
      messageId: `now-${uid()}-${i}`,
    }));
    expect((await t.send('/v1/batch', { batch }, ws.ingestKey)).statusCode).toBe(200);
    const events = (await t.gql(EVENTS, {}, ws.adminKey)).data!.events.edges.map((e: any) => e.node);
    const mapped = events.filter((e: any) => e.status === 'MAPPED');
    expect(mapped).toHaveLength(20);
    expect(new Set(mapped.map((e: any) => e.message.id)).size).toBe(20);
    expect(events.filter((e: any) => e.status === 'UNMAPPED' && !e.message)).toHaveLength(20);
  });
});
