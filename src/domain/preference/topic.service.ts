import { isUniqueViolation, type Database, type Sql } from '../../db/database';
import { fromDbTime, toDbTime } from '../../db/dialect';
import { placeholders } from '../../db/rows';
import { describe } from '../../lib/json';
import { InvalidInputError, NotFoundError } from '../domain-error';
import type { RequestContext } from '../request-context';
import { TopicState } from './preference.enums';
import { Topic } from './topic.entity';

/** What `createTopic` / `updateTopic` take; on update only the fields given change. */
export interface TopicInput {
  key?: string | null;
  name?: string | null;
  defaultState?: TopicState | null;
  commercial?: boolean | null;
}

/**
 * Something that names topics by key (templates, workflows): asked before a topic is deleted, inside the
 * deleting transaction. Answers one description per thing naming `key`, e.g. `template "welcome"`.
 */
export interface TopicReferences {
  namingTopicIn(tx: Sql, ctx: RequestContext, key: string): Promise<string[]>;
}

interface TopicRow {
  id: string | number;
  workspace_id: number;
  topic_key: string;
  name: string;
  default_state: string;
  commercial: number | boolean;
  created_at: unknown;
  updated_at: unknown;
}

export const TOPIC_KEY = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

function toTopic(row: TopicRow): Topic {
  return Object.assign(new Topic(), {
    id: String(row.id),
    workspaceId: Number(row.workspace_id),
    key: row.topic_key,
    name: row.name,
    defaultState: row.default_state as TopicState,
    commercial: Boolean(Number(row.commercial)),
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  });
}

const fail = (field: string, problem: string): never => {
  throw new InvalidInputError(`${field}: ${problem}`, { field });
};

/** Checks a topic key given for `field` (its shape only). */
export function checkTopicKey(key: unknown, field = 'topic'): string {
  if (typeof key !== 'string' || !TOPIC_KEY.test(key)) {
    fail(field, `must be a topic key (1–100 letters, digits, "_", ".", ":" or "-"), got ${describe(key)}`);
  }
  return key as string;
}

/**
 * Topics (README, "Preferences and topics"): the only writer of `topics`. A new topic's `defaultState` is
 * what the caller gives, `ON` when omitted — never `REQUIRED` unless asked for. A topic named by a template or
 * workflow (draft or latest published version) cannot be deleted.
 */
export class TopicService {
  constructor(
    private readonly db: Database,
    /** Who names topics; a function, since they are built after this service (composition root). */
    private readonly references: () => TopicReferences[] = () => [],
  ) {}

  async list(ctx: RequestContext): Promise<Topic[]> {
    const rows = await this.db.rows<TopicRow>('SELECT * FROM topics WHERE workspace_id = ? ORDER BY topic_key', [
      ctx.workspaceId,
    ]);
    return rows.map(toTopic);
  }

  async get(ctx: RequestContext, key: string): Promise<Topic | null> {
    return (await this.byKeysIn(this.db, ctx, [key])).get(key) ?? null;
  }

  /** Topics by key, read through `sql` (the send pipeline reads them in its routing transaction). */
  async byKeysIn(sql: Sql, ctx: RequestContext, keys: readonly string[]): Promise<Map<string, Topic>> {
    if (!keys.length) return new Map();
    const rows = await sql.rows<TopicRow>(
      `SELECT * FROM topics WHERE workspace_id = ? AND topic_key IN (${placeholders(keys.length)})`,
      [ctx.workspaceId, ...keys],
    );
    return new Map(rows.map((r) => [r.topic_key, toTopic(r)]));
  }

  /**
   * Throws BAD_USER_INPUT naming `field` unless the topic exists. Inside a transaction that saves something
   * naming it, the row is locked (MySQL/MariaDB), so a concurrent {@link delete} either sees that save or
   * makes it fail here.
   */
  async requireIn(tx: Sql, ctx: RequestContext, key: string, field = 'topic'): Promise<void> {
    checkTopicKey(key, field);
    const lock = tx.dialect.kind === 'mysql' ? ' FOR UPDATE' : '';
    const rows = await tx.rows('SELECT id FROM topics WHERE workspace_id = ? AND topic_key = ?' + lock, [
      ctx.workspaceId,
      key,
    ]);
    if (!rows.length) fail(field, `no topic "${key}" exists in this workspace (create it first with createTopic)`);
  }

  async create(ctx: RequestContext, input: TopicInput): Promise<Topic> {
    const key = checkTopicKey(input.key, 'key');
    const name = checkName(input.name);
    const defaultState = checkState(input.defaultState ?? TopicState.ON);
    const now = toDbTime(new Date());
    try {
      await this.db.transaction(async (tx) => {
        const taken = await tx.rows('SELECT id FROM topics WHERE workspace_id = ? AND topic_key = ?', [
          ctx.workspaceId,
          key,
        ]);
        if (taken.length) fail('key', `a topic with key "${key}" already exists`);
        await tx.run(
          `INSERT INTO topics (workspace_id, topic_key, name, default_state, commercial, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
          [ctx.workspaceId, key, name, defaultState, input.commercial ? 1 : 0, now, now],
        );
      });
    } catch (err) {
      if (isUniqueViolation(err)) fail('key', `a topic with key "${key}" already exists`);
      throw err;
    }
    return (await this.get(ctx, key))!;
  }

  /** Changes the fields given; the key cannot change (templates, workflows and preferences name it). */
  async update(ctx: RequestContext, key: string, input: TopicInput): Promise<Topic> {
    if (input.key !== undefined && input.key !== null && input.key !== key) {
      fail('key', 'a topic key cannot change (templates, workflows and preferences name it); create a new topic');
    }
    const name = input.name === undefined || input.name === null ? null : checkName(input.name);
    const state =
      input.defaultState === undefined || input.defaultState === null ? null : checkState(input.defaultState);
    const commercial = input.commercial === undefined || input.commercial === null ? null : input.commercial ? 1 : 0;
    const changed = await this.db.run(
      `UPDATE topics SET name = COALESCE(?, name), default_state = COALESCE(?, default_state),
       commercial = COALESCE(?, commercial), updated_at = ? WHERE workspace_id = ? AND topic_key = ?`,
      [name, state, commercial, toDbTime(new Date()), ctx.workspaceId, key],
    );
    const topic = await this.get(ctx, key);
    if (!changed && !topic) throw new NotFoundError('Topic', key);
    return topic!;
  }

  /**
   * Deletes a topic no template or workflow names (draft or latest published version); false when there was
   * none. Refused (BAD_USER_INPUT, listing them) otherwise. Users' preference rows for the key are kept: they
   * apply again if a topic with that key is created (an opt-out is never lost by accident).
   */
  async delete(ctx: RequestContext, key: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const lock = tx.dialect.kind === 'mysql' ? ' FOR UPDATE' : '';
      const rows = await tx.rows('SELECT id FROM topics WHERE workspace_id = ? AND topic_key = ?' + lock, [
        ctx.workspaceId,
        key,
      ]);
      if (!rows.length) return false;
      const users = (await Promise.all(this.references().map((r) => r.namingTopicIn(tx, ctx, key)))).flat();
      if (users.length) {
        throw new InvalidInputError(
          `key: topic "${key}" is still named by ${users.join(', ')}; remove it from them (and publish) first`,
          { field: 'key', namedBy: users },
        );
      }
      await tx.run('DELETE FROM topics WHERE workspace_id = ? AND topic_key = ?', [ctx.workspaceId, key]);
      return true;
    });
  }
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '' || name.length > 255) fail('name', 'must be 1–255 characters');
  return name as string;
}

function checkState(state: unknown): TopicState {
  if (!Object.values(TopicState).includes(state as TopicState)) {
    fail('defaultState', `must be ON, OFF or REQUIRED, got ${describe(state)}`);
  }
  return state as TopicState;
}
