import { createTemplate } from '../helpers/pipeline';
import { startTestApp, uid, type TestApp } from '../helpers/test-app';

/**
 * `mapEvent` takes the full inbound name (README, "GraphQL": `EventMapping.eventName` is always the full name,
 * `Segment-TrackEvent:<event>`). A bare track name would never match an event, so it is refused with the
 * full name as a hint (issue 14, item 6); nothing is stored.
 */
describe('mapEvent with a bare event name', () => {
  let t: TestApp;
  const MAP = 'mutation($n: String!, $t: ID!) { mapEvent(eventName: $n, templateId: $t) { eventName } }';

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('"Trial Ending" is BAD_USER_INPUT with the full name as a hint; no mapping is stored', async () => {
    const ws = await t.newWorkspace();
    const templateId = await createTemplate(
      t,
      { key: 'trial', name: 'Trial', channels: ['EMAIL'], content: { email: { subject: 'S', text: 'T' } } },
      true,
      ws.adminKey,
    );
    const res = await t.gql(MAP, { n: 'Trial Ending', t: templateId }, ws.adminKey);
    expect(res.data).toBeNull();
    expect(res.errors).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('did you mean "Segment-TrackEvent:Trial Ending"?'),
        extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
      }),
    ]);
    const prefixOnly = await t.gql(MAP, { n: 'Segment-TrackEvent:', t: templateId }, ws.adminKey);
    expect(prefixOnly.errors![0]).toMatchObject({
      message: expect.stringContaining('names no event'),
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect((await t.gql('{ mappings { eventName } }', {}, ws.adminKey)).data!.mappings).toEqual([]);
  });

  it('the full name is stored as given, and a track of that event is then MAPPED', async () => {
    const ws = await t.newWorkspace();
    const templateId = await createTemplate(
      t,
      { key: 'trial', name: 'Trial', channels: ['EMAIL'], content: { email: { subject: 'S', text: 'T' } } },
      true,
      ws.adminKey,
    );
    const res = await t.gql(MAP, { n: 'Segment-TrackEvent:Trial Ending', t: templateId }, ws.adminKey);
    expect(res).toEqual({ data: { mapEvent: { eventName: 'Segment-TrackEvent:Trial Ending' } } });
    expect((await t.send('/v1/track', { userId: uid(), event: 'Trial Ending' }, ws.ingestKey)).statusCode).toBe(200);
    const events = await t.gql('{ events(first: 1) { edges { node { name status } } } }', {}, ws.adminKey);
    expect(events.data!.events.edges).toEqual([
      { node: { name: 'Segment-TrackEvent:Trial Ending', status: 'MAPPED' } },
    ]);
  });

  it('unmapEvent still takes any name (so a bare mapping stored before this check can be removed)', async () => {
    const res = await t.gql('mutation { unmapEvent(eventName: "Trial Ending") }');
    expect(res).toEqual({ data: { unmapEvent: false } });
  });
});
