import { startTestApp, uid, type TestApp, type TestWorkspace } from '../helpers/test-app';

const FIELDS = 'id messageId type name userId anonymousId status timestamp receivedAt payload message { id }';

/**
 * `events` reads: a filter by user or name goes through its own index, and only the columns the selection
 * needs are read; the pages are the same events in the same order either way.
 */
describe('GraphQL events reads', () => {
  let t: TestApp;
  let ws: TestWorkspace;
  const users = [uid('u'), uid('u'), uid('u')];
  const names = ['Read A', 'Read B', 'Read C'];
  let sqls: string[];
  let spy: jest.SpyInstance | undefined;

  const listSql = () => sqls.filter((s) => s.includes('FROM inbound_events'));
  const watchSql = () => {
    sqls = [];
    const rows = t.db.rows.bind(t.db);
    spy = jest.spyOn(t.db, 'rows').mockImplementation((sql: string, params?: unknown[]) => {
      sqls.push(sql);
      return rows(sql, params);
    });
  };

  /** Every event matching `filter`, `first` at a time, following endCursor. */
  async function all(filter: Record<string, unknown>, first: number, fields = 'id receivedAt'): Promise<any[]> {
    const nodes: any[] = [];
    let after: string | null = null;
    for (;;) {
      const res: any = await t.gql(
        `query($first: Int, $after: String, $filter: EventFilter) {
          events(first: $first, after: $after, filter: $filter) { edges { cursor node { ${fields} } } pageInfo { hasNextPage endCursor } }
        }`,
        { first, after, filter },
        ws.adminKey,
      );
      expect(res.errors).toBeUndefined();
      nodes.push(...res.data.events.edges.map((e: any) => e.node));
      if (!res.data.events.pageInfo.hasNextPage) return nodes;
      after = res.data.events.pageInfo.endCursor;
    }
  }

  beforeAll(async () => {
    t = await startTestApp();
    ws = await t.newWorkspace();
    // several batches: events of one batch share their receivedAt, so ties are broken by id across pages
    for (let b = 0; b < 4; b++) {
      const batch = Array.from({ length: 12 }, (_, i) => {
        const userId = users[(b + i) % users.length];
        if (i % 5 === 4) return { type: 'identify', userId, traits: { i }, messageId: uid('m') };
        return {
          type: 'track',
          userId,
          anonymousId: i % 2 ? uid('anon') : undefined,
          event: names[i % names.length],
          properties: { b, i },
          messageId: uid('m'),
        };
      });
      expect((await t.send('/v1/batch', { batch }, ws.ingestKey)).statusCode).toBe(200);
    }
  });
  afterEach(() => spy?.mockRestore());
  afterAll(() => t.close());

  it('pages filtered by user, name or both hold exactly the matching events of the whole log, in its order', async () => {
    const log = await all({}, 500, FIELDS);
    expect(log).toHaveLength(48);
    const filters: Record<string, unknown>[] = [
      { userId: users[0] },
      { name: `Segment-TrackEvent:${names[1]}` },
      { name: `Segment-TrackEvent:${names[2]}`, userId: users[1] },
      { userId: users[2], type: 'IDENTIFY' },
      {
        name: `Segment-TrackEvent:${names[0]}`,
        status: 'UNMAPPED',
        until: new Date(Date.now() + 60_000).toISOString(),
      },
    ];
    for (const filter of filters) {
      const expected = log.filter(
        (e) =>
          (!filter.userId || e.userId === filter.userId) &&
          (!filter.name || e.name === filter.name) &&
          (!filter.type || e.type === filter.type) &&
          (!filter.status || e.status === filter.status),
      );
      expect(expected.length).toBeGreaterThanOrEqual(2);
      for (const first of [1, 2, 5]) {
        expect(await all(filter, first, FIELDS)).toEqual(expected);
      }
    }
  });

  it('a filter by user or by name reads through that index; others are left to the database', async () => {
    const hint = (index: string) =>
      t.db.kind === 'mysql' ? `inbound_events FORCE INDEX (${index})` : `inbound_events INDEXED BY ${index}`;
    const cases: [Record<string, unknown>, string | null][] = [
      [{ userId: users[0] }, 'IDX_inbound_events_ws_user_received'],
      [{ userId: users[0], name: `Segment-TrackEvent:${names[0]}` }, 'IDX_inbound_events_ws_user_received'],
      [{ name: `Segment-TrackEvent:${names[0]}` }, 'IDX_inbound_events_ws_name_received'],
      [{ type: 'TRACK' }, null],
      [{}, null],
    ];
    for (const [filter, index] of cases) {
      watchSql();
      await all(filter, 4);
      spy!.mockRestore();
      expect(listSql().length).toBeGreaterThan(1);
      for (const sql of listSql()) {
        if (index) expect(sql).toContain(hint(index));
        else expect(sql).not.toMatch(/FORCE INDEX|INDEXED BY/);
      }
    }
  });

  it('reads only the columns the selection needs, from the list index when it holds them all', async () => {
    const columnsOf = async (filter: Record<string, unknown>, fields: string) => {
      watchSql();
      await all(filter, 3, fields);
      spy!.mockRestore();
      return listSql()[0].replace(/ FROM .*/s, '');
    };
    const byUser = { userId: users[1] };
    const byName = { name: `Segment-TrackEvent:${names[1]}` };
    expect(await columnsOf(byUser, 'id receivedAt')).toBe('SELECT id, received_at');
    expect(await columnsOf(byUser, 'id userId x: receivedAt ... on InboundEvent { timestamp }')).toBe(
      'SELECT id, user_id, timestamp, received_at',
    );
    expect(await columnsOf(byUser, 'id messageId name')).toBe(
      'SELECT id, list_message_id AS message_id, name, received_at',
    );
    expect(await columnsOf(byName, 'id messageId name userId')).toBe(
      'SELECT id, list_message_id AS message_id, name, user_id, received_at',
    );
    // fields the index does not hold, or no index: the columns asked for, from the rows
    expect(await columnsOf(byUser, 'id message { id }')).toBe('SELECT id, message_ref, received_at');
    expect(await columnsOf(byName, 'id anonymousId')).toBe('SELECT id, anonymous_id, received_at');
    expect(await columnsOf({ type: 'TRACK' }, 'id name')).toBe('SELECT id, name, received_at');
  });

  it('every way of reading gives what event(id) gives, long messageIds, names and userIds included', async () => {
    const long = (c: string, n: number) => c.repeat(n);
    const longUser = `${uid('u').slice(-12)}${long('ü', 220)}`;
    const longName = `Long ${long('n', 230)}`;
    const batch = [
      { type: 'track', userId: longUser, event: longName, messageId: `${uid('m').slice(-12)}${long('m', 225)}` },
      { type: 'track', userId: longUser, event: longName, messageId: uid('m') },
      { type: 'track', userId: longUser, event: names[0], messageId: `${uid('m').slice(-12)}${long('é', 230)}` },
      { type: 'identify', userId: longUser, traits: { long: true }, messageId: uid('m') },
    ];
    const sent = await t.send('/v1/batch', { batch }, ws.ingestKey);
    expect(sent.statusCode).toBe(200);
    expect(sent.json().rejected ?? []).toEqual([]);
    const filters: Record<string, unknown>[] = [
      { userId: longUser },
      { name: `Segment-TrackEvent:${longName}` },
      { name: `Segment-TrackEvent:${names[0]}` },
      { userId: users[1] },
    ];
    const selections = [FIELDS, 'id messageId name userId type status timestamp receivedAt', 'id name userId'];
    for (const filter of filters) {
      for (const fields of selections) {
        const nodes = await all(filter, 2, fields);
        expect(nodes.length).toBeGreaterThanOrEqual(2);
        for (const node of nodes) {
          const one: any = await t.gql(
            `query($id: ID!) { event(id: $id) { ${fields} } }`,
            { id: node.id },
            ws.adminKey,
          );
          expect(one.data.event).toEqual(node);
        }
      }
    }
    const byUser = await all({ userId: longUser }, 10, 'messageId name userId');
    expect(byUser).toHaveLength(4);
    expect(byUser.filter((e) => e.messageId.length > 200)).toHaveLength(2);
    expect(byUser.filter((e) => e.name === `Segment-TrackEvent:${longName}`)).toHaveLength(2);
    expect(byUser.every((e) => e.userId === longUser)).toBe(true);
  });
});
