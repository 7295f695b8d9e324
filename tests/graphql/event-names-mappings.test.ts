import { createTemplate, mapEvent } from '../helpers/pipeline';
import { startTestApp, uid, type TestApp, type TestWorkspace } from '../helpers/test-app';

/**
 * `eventNames { mapping }`: the mappings of all the names are read with one query by `eventNames` itself
 * (no resolver and no promise per name) — whatever way the document selects them — and are never read
 * when it does not.
 */
describe('eventNames with their mappings', () => {
  let t: TestApp;
  let ws: TestWorkspace;
  let templateId: string;
  let workflowId: string;
  const NAMES = ['Alpha Seen', 'Beta Seen', 'Gamma Seen'];
  const full = (n: string) => `Segment-TrackEvent:${n}`;

  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await t.gql(query, variables, ws.adminKey);
    expect(res.errors).toBeUndefined();
    return res.data!;
  };

  beforeAll(async () => {
    t = await startTestApp();
    ws = await t.newWorkspace();
    const batch = NAMES.flatMap((event, i) =>
      Array.from({ length: i + 1 }, () => ({ type: 'track', userId: uid('u'), event, messageId: uid('m') })),
    );
    expect((await t.send('/v1/batch', { batch }, ws.ingestKey)).statusCode).toBe(200);
    templateId = await createTemplate(
      t,
      { key: uid('tpl'), name: 'Alpha', channels: ['SMS'], content: { sms: { body: 'hi' } } },
      true,
      ws.adminKey,
    );
    await mapEvent(t, full('Alpha Seen'), templateId, ws.adminKey);
    const { createWorkflow } = await gql('mutation($i: WorkflowInput!) { createWorkflow(input: $i) { id } }', {
      i: { key: uid('wf'), name: 'Beta', steps: [{ ref: 'wait', type: 'delay', duration: 'PT1H' }] },
    });
    workflowId = createWorkflow.id;
    await gql('mutation($id: ID!) { publishWorkflow(id: $id) { id } }', { id: workflowId });
    await gql('mutation($n: String!, $w: ID!) { mapEvent(eventName: $n, workflowId: $w) { eventName } }', {
      n: full('Beta Seen'),
      w: workflowId,
    });
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it('each name has its mapping (template or workflow) or null, with the fields below it', async () => {
    const { eventNames } = await gql(
      '{ eventNames { name count mapping { eventName template { id } workflow { id } } } }',
    );
    expect(eventNames).toEqual([
      {
        name: full('Alpha Seen'),
        count: 1,
        mapping: { eventName: full('Alpha Seen'), template: { id: templateId }, workflow: null },
      },
      {
        name: full('Beta Seen'),
        count: 2,
        mapping: { eventName: full('Beta Seen'), template: null, workflow: { id: workflowId } },
      },
      { name: full('Gamma Seen'), count: 3, mapping: null },
    ]);
  });

  it('under an alias, in a named fragment and in an inline fragment', async () => {
    const byAlias = await gql('{ eventNames { name m: mapping { eventName } } }');
    expect(byAlias.eventNames.map((n: any) => n.m?.eventName ?? null)).toEqual([
      full('Alpha Seen'),
      full('Beta Seen'),
      null,
    ]);
    const byFragment = await gql(`
      query { eventNames { ...Name } }
      fragment Name on EventName { name ...Mapped }
      fragment Mapped on EventName { mapping { eventName } }`);
    expect(byFragment.eventNames.map((n: any) => n.mapping?.eventName ?? null)).toEqual([
      full('Alpha Seen'),
      full('Beta Seen'),
      null,
    ]);
    const inline = await gql('{ eventNames { ... on EventName { mapping { eventName } } } }');
    expect(inline.eventNames.map((n: any) => n.mapping?.eventName ?? null)).toEqual([
      full('Alpha Seen'),
      full('Beta Seen'),
      null,
    ]);
  });

  it('one read of the mappings for all the names when selected, none when not', async () => {
    const getByNames = jest.spyOn(t.services.mappings, 'getByNames');
    await gql('{ eventNames { name mapping { eventName } } }');
    expect(getByNames).toHaveBeenCalledTimes(1);
    expect([...getByNames.mock.calls[0][1]]).toEqual(NAMES.map(full));
    getByNames.mockClear();
    const { eventNames } = await gql('{ eventNames { name count } }');
    expect(eventNames.map((n: any) => n.name)).toEqual(NAMES.map(full));
    expect(getByNames).not.toHaveBeenCalled();
  });

  it('a mapping removed or added is seen by the next request', async () => {
    expect(
      (await gql('mutation($n: String!) { unmapEvent(eventName: $n) }', { n: full('Alpha Seen') })).unmapEvent,
    ).toBe(true);
    await mapEvent(t, full('Gamma Seen'), templateId, ws.adminKey);
    const { eventNames } = await gql('{ eventNames { name mapping { template { id } } } }');
    expect(eventNames).toEqual([
      { name: full('Alpha Seen'), mapping: null },
      { name: full('Beta Seen'), mapping: { template: null } },
      { name: full('Gamma Seen'), mapping: { template: { id: templateId } } },
    ]);
  });

  it('another workspace sees neither these names nor their mappings; a workspace without names gets []', async () => {
    const other = await t.newWorkspace();
    const res = await t.gql('{ eventNames { name mapping { eventName } } }', {}, other.adminKey);
    expect(res).toEqual({ data: { eventNames: [] } });
  });

  it('a refused key is still refused when the mapping is selected', async () => {
    const res = await t.gql('{ eventNames { name mapping { eventName } } }', {}, 'pgn_a_not-a-key');
    expect(res.data).toBeNull();
    expect(res.errors![0].extensions!.code).toBe('UNAUTHENTICATED');
  });
});
