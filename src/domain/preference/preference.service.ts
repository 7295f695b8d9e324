import type { Database, Sql } from '../../db/database';
import { fromDbTime, toDbTime } from '../../db/dialect';
import { chunks, placeholders } from '../../db/rows';
import { ALL_CHANNELS, type Channel } from '../channel/channel.enum';
import { InvalidInputError } from '../domain-error';
import type { RequestContext } from '../request-context';
import { PreferenceState } from './preference.enums';
import { Preference } from './preference.entity';
import type { TopicService } from './topic.service';

interface PreferenceRow {
  id: string | number;
  workspace_id: number;
  user_id: string;
  topic_key: string;
  channel: string;
  state: string;
  updated_at: unknown;
}

/** "All" is stored as '' so that the unique key (workspace, user, topic, channel) holds on every engine. */
const ALL = '';

function toPreference(row: PreferenceRow): Preference {
  return Object.assign(new Preference(), {
    id: String(row.id),
    workspaceId: Number(row.workspace_id),
    userId: row.user_id,
    topicKey: row.topic_key,
    channelKey: row.channel,
    topic: row.topic_key === ALL ? null : row.topic_key,
    channel: row.channel === ALL ? null : (row.channel as Channel),
    state: row.state as PreferenceState,
    updatedAt: fromDbTime(row.updated_at),
  });
}

const fail = (field: string, problem: string): never => {
  throw new InvalidInputError(`${field}: ${problem}`, { field });
};

function checkUser(userId: unknown): string {
  if (typeof userId !== 'string' || userId === '' || userId.length > 255) fail('userId', 'must be 1–255 characters');
  return userId as string;
}

function checkChannel(channel: Channel | null | undefined): string {
  if (channel === null || channel === undefined) return ALL;
  if (!ALL_CHANNELS.includes(channel)) fail('channel', `unknown channel ${String(channel)}`);
  return channel;
}

/**
 * Users' preferences (README, "Preferences and topics"): the only writer of `preferences`. One row per
 * (user, topic or all, channel or all). The send pipeline reads them with {@link byUsersIn} in the
 * transaction that records its routing decision; nothing caches them.
 */
export class PreferenceService {
  constructor(
    private readonly db: Database,
    private readonly topics: TopicService,
  ) {}

  /** Sets (upserts) one preference; `topic`/`channel` null or absent mean all. The topic must exist. */
  async set(
    ctx: RequestContext,
    userId: string,
    topic: string | null | undefined,
    channel: Channel | null | undefined,
    state: PreferenceState,
    /** checkTopic false: the topic need not exist (an unsubscribe link of a topic deleted since keeps working). */
    options: { checkTopic?: boolean } = {},
  ): Promise<Preference> {
    const user = checkUser(userId);
    const channelKey = checkChannel(channel);
    if (!Object.values(PreferenceState).includes(state)) fail('state', 'must be OPTED_IN or OPTED_OUT');
    const topicKey = topic ?? ALL;
    const d = this.db.dialect;
    await this.db.transaction(async (tx) => {
      if (topicKey !== ALL && options.checkTopic !== false) await this.topics.requireIn(tx, ctx, topicKey, 'topic');
      await tx.run(
        `INSERT INTO preferences (workspace_id, user_id, topic_key, channel, state, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ${d.onConflictUpdate(
           ['workspace_id', 'user_id', 'topic_key', 'channel'],
           `state = ${d.inserted('state')}, updated_at = ${d.inserted('updated_at')}`,
         )}`,
        [ctx.workspaceId, user, topicKey, channelKey, state, toDbTime(new Date())],
      );
    });
    const rows = await this.db.rows<PreferenceRow>(
      'SELECT * FROM preferences WHERE workspace_id = ? AND user_id = ? AND topic_key = ? AND channel = ?',
      [ctx.workspaceId, user, topicKey, channelKey],
    );
    return toPreference(rows[0]);
  }

  /** Removes one preference row; false when there was none. */
  async clear(
    ctx: RequestContext,
    userId: string,
    topic: string | null | undefined,
    channel: Channel | null | undefined,
  ): Promise<boolean> {
    const changed = await this.db.run(
      'DELETE FROM preferences WHERE workspace_id = ? AND user_id = ? AND topic_key = ? AND channel = ?',
      [ctx.workspaceId, checkUser(userId), topic ?? ALL, checkChannel(channel)],
    );
    return changed > 0;
  }

  /** The stored rows of each user (users without any are absent), through `sql`: one query per 1,000 users. */
  async byUsersIn(sql: Sql, ctx: RequestContext, userIds: readonly string[]): Promise<Map<string, Preference[]>> {
    const map = new Map<string, Preference[]>();
    for (const part of chunks(userIds)) {
      const rows = await sql.rows<PreferenceRow>(
        `SELECT * FROM preferences WHERE workspace_id = ? AND user_id IN (${placeholders(part.length)})
         ORDER BY topic_key, channel`,
        [ctx.workspaceId, ...part],
      );
      for (const r of rows) map.set(r.user_id, [...(map.get(r.user_id) ?? []), toPreference(r)]);
    }
    return map;
  }

  byUsers(ctx: RequestContext, userIds: readonly string[]): Promise<Map<string, Preference[]>> {
    return this.byUsersIn(this.db, ctx, userIds);
  }
}
