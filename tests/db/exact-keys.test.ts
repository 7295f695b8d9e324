import { EventType } from '../../src/domain/event-log/event-type.enum';
import type { IncomingEvent } from '../../src/domain/event-log/incoming-event';
import { createTemplate, send } from '../helpers/pipeline';
import { isMysql, startTestApp, uid, type TestApp } from '../helpers/test-app';

/**
 * Keys compare exactly on every engine: on MySQL/MariaDB the key columns are in a NO PAD binary
 * collation (migration NoPadBinaryKeys1764600000000), so an id with a trailing space is another id,
 * as on SQLite. (The ingest routes still drop trailing spaces of Segment ids, see normalize.ts; these
 * tests go below them, to the services and GraphQL, where a key is stored as given.)
 */
describe('keys differing only by trailing spaces are different keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const ctx = () => ({ workspaceId: t.ws.workspaceId });
  const event = (messageId: string, type: EventType, userId: string, traits?: Record<string, unknown>) => {
    const now = new Date();
    const e: IncomingEvent = {
      messageId,
      type,
      userId,
      anonymousId: null,
      traits,
      payload: { type: type.toLowerCase(), messageId, userId, ...(traits ? { traits } : {}) },
      timestamp: now,
      receivedAt: now,
    };
    return e;
  };
  const profile = async (userId: string) =>
    (await t.gql('query($u: String!) { profile(userId: $u) { userId traits } }', { u: userId })).data!.profile;

  it('messageIds "m1" and "m1 " are two events; each repeat is a duplicate of its own', async () => {
    const m1 = uid('m1');
    const userId = uid();
    // separate calls: the second looks up the first in the database (one unique key, one lookup)
    expect(await t.services.events.ingest(ctx(), [event(m1, EventType.PAGE, userId)])).toEqual(['stored']);
    expect(await t.services.events.ingest(ctx(), [event(`${m1} `, EventType.PAGE, userId)])).toEqual(['stored']);
    expect(await t.services.events.ingest(ctx(), [event(`${m1}  `, EventType.PAGE, userId)])).toEqual(['stored']);
    expect(
      await t.services.events.ingest(ctx(), [
        event(`${m1} `, EventType.PAGE, userId),
        event(m1, EventType.PAGE, userId),
      ]),
    ).toEqual(['duplicate', 'duplicate']);

    const rows = await t.db.rows<{ message_id: string }>(
      'SELECT message_id FROM inbound_events WHERE workspace_id = ? AND message_id LIKE ? ORDER BY message_id',
      [t.ws.workspaceId, `${m1}%`],
    );
    expect(rows.map((r) => r.message_id)).toEqual([m1, `${m1} `, `${m1}  `]);
    const exact = await t.db.rows<{ n: number | string }>(
      'SELECT COUNT(*) AS n FROM inbound_events WHERE workspace_id = ? AND message_id = ?',
      [t.ws.workspaceId, m1],
    );
    expect(Number(exact[0].n)).toBe(1);
  });

  it('userIds "u" and "u " are two profiles, through identify and through GraphQL', async () => {
    const u = uid();
    await t.services.events.ingest(ctx(), [event(uid('m'), EventType.IDENTIFY, u, { plain: 1 })]);
    await t.services.events.ingest(ctx(), [event(uid('m'), EventType.IDENTIFY, `${u} `, { spaced: 1 })]);
    expect(await profile(u)).toEqual({ userId: u, traits: { plain: 1 } });
    expect(await profile(`${u} `)).toEqual({ userId: `${u} `, traits: { spaced: 1 } });

    const merged = await t.gql('mutation($u: String!) { mergeProfile(userId: $u, traits: {more: 2}) { traits } }', {
      u: `${u} `,
    });
    expect(merged.data!.mergeProfile.traits).toEqual({ spaced: 1, more: 2 });
    expect((await profile(u)).traits).toEqual({ plain: 1 });
    expect(await profile(`${u}  `)).toBeNull();
  });

  it('idempotencyKeys "k" and "k " are two messages', async () => {
    const templateId = await createTemplate(t, {
      key: uid('tpl'),
      name: 'exact keys',
      channels: ['WEBHOOK'],
      content: { webhook: {} },
    });
    const k = uid('k');
    const first = await send(t, { userId: uid(), templateId, idempotencyKey: k });
    const spaced = await send(t, { userId: uid(), templateId, idempotencyKey: `${k} ` });
    expect(spaced.id).not.toBe(first.id);
    expect((await send(t, { userId: uid(), templateId, idempotencyKey: `${k} ` })).id).toBe(spaced.id);
    expect((await send(t, { userId: uid(), templateId, idempotencyKey: k })).id).toBe(first.id);
  });

  (isMysql() ? it : it.skip)('MySQL/MariaDB: no key column is left in the PAD SPACE utf8mb4_bin', async () => {
    const [{ version }] = await t.db.rows<{ version: string }>('SELECT VERSION() AS version');
    const noPad = version.includes('MariaDB') ? 'utf8mb4_nopad_bin' : 'utf8mb4_0900_bin';
    const keys = await t.db.rows<{ table: string; column: string; collation: string }>(
      `SELECT TABLE_NAME AS \`table\`, COLUMN_NAME AS \`column\`, COLLATION_NAME AS collation
         FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = DATABASE() AND DATA_TYPE IN ('varchar', 'char') AND TABLE_NAME <> 'migrations'`,
    );
    expect(keys.length).toBeGreaterThan(40);
    expect(keys.filter((c) => c.collation !== noPad)).toEqual([]);
    expect(keys).toContainEqual({ table: 'inbound_events', column: 'message_id', collation: noPad });
    expect(keys).toContainEqual({ table: 'messages', column: 'idempotency_key', collation: noPad });
    if (version.includes('MariaDB')) {
      // the JSON columns (LONGTEXT with a json_valid CHECK on MariaDB) were left as they were
      const checks = await t.db.rows<{ name: string }>(
        `SELECT CONCAT(TABLE_NAME, '.', CONSTRAINT_NAME) AS name FROM information_schema.CHECK_CONSTRAINTS
          WHERE CONSTRAINT_SCHEMA = DATABASE() AND CHECK_CLAUSE LIKE 'json_valid(%'`,
      );
      expect(checks.map((c) => c.name)).toEqual(
        expect.arrayContaining(['inbound_events.payload', 'profiles.traits', 'messages.data']),
      );
    }
  });
});
