import type { Database, Sql } from '../../db/database';
import { fromDbTime, jsonPath, likePattern, toDbTime } from '../../db/dialect';
import { chunks, insertRows, parseJsonColumn, placeholders } from '../../db/rows';
import { upsertTraits, type TraitPatch, type TraitTable } from '../../db/trait-upsert';
import { InvalidInputError } from '../domain-error';
import type { RequestContext } from '../request-context';
import { decodeCursor, encodeCursor, type Page } from '../pagination';
import { isJsonObject, mergePatch, type JsonObject } from '../../lib/json';
import { Profile } from './profile.entity';

/** One identify-style change: merge `patch` (RFC 7396) into the profile `key`. */
export type { TraitPatch };

const PROFILES: TraitTable = { table: 'profiles', scopeColumn: 'workspace_id', keyColumn: 'user_id' };

export interface ProfileFilter {
  /** Substring of the user id or of the `email` trait, case-insensitive. */
  search?: string | null;
  /** Dotted trait path, e.g. `order_completed_last_30days` or `address.city`. */
  trait?: string | null;
  /** The value `trait` must equal (JSON types respected). */
  equals?: unknown;
}

interface ProfileRow {
  id: string | number;
  workspace_id: number;
  user_id: string;
  traits: unknown;
  created_at: unknown;
  updated_at: unknown;
}

export function toProfile(row: ProfileRow): Profile {
  return Object.assign(new Profile(), {
    id: String(row.id),
    workspaceId: Number(row.workspace_id),
    userId: row.user_id,
    traits: parseJsonColumn<JsonObject>(row.traits ?? '{}'),
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  });
}

export function checkUserId(userId: string): string {
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > 255) {
    throw new InvalidInputError('userId must be a non-empty string of at most 255 characters');
  }
  return userId;
}

/**
 * Group memberships are the group service's table; a profile merge or delete asks it to follow the user.
 * The composition root hands in the group service (the group domain already depends on profiles).
 */
export interface MembershipsOfUsers {
  /** Moves `fromUserId`'s memberships to `toUserId` (ones `toUserId` already has are kept once). */
  moveMemberships(tx: Sql, workspaceId: number, fromUserId: string, toUserId: string): Promise<void>;
  /** Drops every membership of `userId`. */
  dropMemberships(tx: Sql, workspaceId: number, userId: string): Promise<void>;
}

/**
 * Profiles and their anonymous-id aliases. Trait merges are done by the database in one atomic
 * upsert (JSON_MERGE_PATCH / json_patch), so concurrent identifies for one user never lose a trait.
 */
export class ProfileService {
  constructor(
    private readonly db: Database,
    private readonly memberships: MembershipsOfUsers,
  ) {}

  // ---- used inside an ingest transaction -------------------------------------------------------

  /** Applies trait patches in the given order, each merged by the database (see `db/trait-upsert.ts`). */
  async upsertTraits(tx: Sql, workspaceId: number, patches: TraitPatch[], at: Date): Promise<void> {
    await upsertTraits(tx, PROFILES, workspaceId, patches, at);
  }

  /** Which of `keys` have a profile row. */
  async existingKeys(tx: Sql, workspaceId: number, keys: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const part of chunks(keys)) {
      const rows = await tx.rows<{ user_id: string }>(
        `SELECT user_id FROM profiles WHERE workspace_id = ? AND user_id IN (${placeholders(part.length)})`,
        [workspaceId, ...part],
      );
      rows.forEach((r) => found.add(r.user_id));
    }
    return found;
  }

  /** The user each of `anonymousIds` was merged into, where it was. */
  async resolveAliases(sql: Sql, workspaceId: number, anonymousIds: string[]): Promise<Map<string, string>> {
    const map = new Map<string, string>();
    for (const part of chunks(anonymousIds)) {
      const rows = await sql.rows<{ anonymous_id: string; user_id: string }>(
        `SELECT anonymous_id, user_id FROM profile_aliases WHERE workspace_id = ? AND anonymous_id IN (${placeholders(part.length)})`,
        [workspaceId, ...part],
      );
      rows.forEach((r) => map.set(r.anonymous_id, r.user_id));
    }
    return map;
  }

  /** Remembers `anonymousId → userId`; an anonymous id keeps the first user it was linked to. */
  async recordAliases(
    tx: Sql,
    workspaceId: number,
    pairs: { anonymousId: string; userId: string }[],
    at: Date,
  ): Promise<void> {
    const now = toDbTime(at);
    await insertRows(
      tx,
      'profile_aliases',
      ['workspace_id', 'anonymous_id', 'user_id', 'created_at'],
      pairs,
      (p) => [workspaceId, p.anonymousId, p.userId, now],
      tx.dialect.onConflictIgnore(['workspace_id', 'anonymous_id']),
    );
  }

  /**
   * Merges the profile `fromKey` into `toKey` (the target's traits win, the merged profile only
   * fills gaps: README.md, "What each call does"), moves its aliases and group memberships, deletes it and remembers
   * `fromKey` as an alias of `toKey`. Returns whether there was a profile to merge.
   */
  async mergeInto(tx: Sql, workspaceId: number, fromKey: string, toKey: string, at: Date): Promise<boolean> {
    if (fromKey === toKey) return false;
    const d = tx.dialect;
    const now = toDbTime(at);
    const [from] = await tx.rows<{ traits: unknown }>(
      `SELECT traits FROM profiles WHERE workspace_id = ? AND user_id = ?${d.kind === 'mysql' ? ' FOR UPDATE' : ''}`,
      [workspaceId, fromKey],
    );
    if (from) {
      const fromTraits = typeof from.traits === 'string' ? from.traits : JSON.stringify(from.traits ?? {});
      await tx.run(
        `INSERT INTO profiles (workspace_id, user_id, traits, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ${d.onConflictUpdate(['workspace_id', 'user_id'], `traits = ${d.jsonMergePatch(d.inserted('traits'), 'traits')}, updated_at = ${d.inserted('updated_at')}`)}`,
        [workspaceId, toKey, fromTraits, now, now],
      );
      await tx.run('UPDATE profile_aliases SET user_id = ? WHERE workspace_id = ? AND user_id = ?', [
        toKey,
        workspaceId,
        fromKey,
      ]);
      await this.memberships.moveMemberships(tx, workspaceId, fromKey, toKey);
      await tx.run('DELETE FROM profiles WHERE workspace_id = ? AND user_id = ?', [workspaceId, fromKey]);
    }
    await this.recordAliases(tx, workspaceId, [{ anonymousId: fromKey, userId: toKey }], at);
    return Boolean(from);
  }

  // ---- GraphQL-facing operations ---------------------------------------------------------------

  /** A profile by user id; an anonymous id that was merged into a user finds that user's profile. */
  async get(ctx: RequestContext, userId: string): Promise<Profile | null> {
    const rows = await this.db.rows<ProfileRow>('SELECT * FROM profiles WHERE workspace_id = ? AND user_id = ?', [
      ctx.workspaceId,
      userId,
    ]);
    if (rows.length) return toProfile(rows[0]);
    const alias = await this.resolveAliases(this.db, ctx.workspaceId, [userId]);
    const target = alias.get(userId);
    if (!target) return null;
    const aliased = await this.db.rows<ProfileRow>('SELECT * FROM profiles WHERE workspace_id = ? AND user_id = ?', [
      ctx.workspaceId,
      target,
    ]);
    return aliased.length ? toProfile(aliased[0]) : null;
  }

  async getByIds(ctx: RequestContext, userIds: readonly string[]): Promise<Map<string, Profile>> {
    const map = new Map<string, Profile>();
    for (const part of chunks(userIds)) {
      const rows = await this.db.rows<ProfileRow>(
        `SELECT * FROM profiles WHERE workspace_id = ? AND user_id IN (${placeholders(part.length)})`,
        [ctx.workspaceId, ...part],
      );
      rows.forEach((r) => map.set(r.user_id, toProfile(r)));
    }
    return map;
  }

  /** Profiles in creation order, keyset-paginated, optionally filtered. */
  async list(ctx: RequestContext, filter: ProfileFilter, first: number, after?: string | null): Promise<Page<Profile>> {
    const where = ['workspace_id = ?'];
    const params: unknown[] = [ctx.workspaceId];
    const d = this.db.dialect;
    if (filter.search) {
      where.push(
        `(${d.containsInsensitive('user_id')} OR ${d.containsInsensitive(d.jsonValue('traits', "'$.email'"))})`,
      );
      params.push(likePattern(filter.search), likePattern(filter.search));
    }
    if (filter.trait !== undefined && filter.trait !== null) {
      if (filter.equals === undefined)
        throw new InvalidInputError('filter.trait needs filter.equals (the value to compare with)');
      let path: string;
      try {
        path = jsonPath(filter.trait);
      } catch (err) {
        throw new InvalidInputError(`filter.trait: ${(err as Error).message}`);
      }
      const eq = d.jsonEquals('traits', path, filter.equals);
      where.push(`(${eq.sql})`);
      params.push(...eq.params);
    } else if (filter.equals !== undefined) {
      throw new InvalidInputError('filter.equals needs filter.trait (the dotted trait path to compare)');
    }
    if (after) {
      const [id] = decodeCursor(after, 1);
      where.push('id > ?');
      params.push(id);
    }
    const rows = await this.db.rows<ProfileRow>(
      `SELECT * FROM profiles WHERE ${where.join(' AND ')} ORDER BY id ASC LIMIT ${first + 1}`,
      params,
    );
    const items = rows.slice(0, first).map(toProfile);
    return { items, hasNextPage: rows.length > first, cursorOf: (p) => encodeCursor([p.id]) };
  }

  /** `mergeProfile`: the same RFC 7396 merge as identify. */
  async merge(ctx: RequestContext, userId: string, traits: JsonObject): Promise<Profile> {
    checkUserId(userId);
    if (!isJsonObject(traits)) throw new InvalidInputError('traits must be a JSON object');
    await this.db.transaction((tx) =>
      this.upsertTraits(tx, ctx.workspaceId, [{ key: userId, patch: traits }], new Date()),
    );
    return (await this.get(ctx, userId))!;
  }

  /** `replaceProfile`: the traits become exactly `traits` (keys holding `null` are left out). */
  async replace(ctx: RequestContext, userId: string, traits: JsonObject): Promise<Profile> {
    checkUserId(userId);
    if (!isJsonObject(traits)) throw new InvalidInputError('traits must be a JSON object');
    const now = toDbTime(new Date());
    const d = this.db.dialect;
    await this.db.run(
      `INSERT INTO profiles (workspace_id, user_id, traits, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
       ${d.onConflictUpdate(['workspace_id', 'user_id'], `traits = ${d.inserted('traits')}, updated_at = ${d.inserted('updated_at')}`)}`,
      [ctx.workspaceId, userId, JSON.stringify(mergePatch({}, traits)), now, now],
    );
    return (await this.get(ctx, userId))!;
  }

  /** Deletes a profile with its aliases and memberships; the event log keeps its events. */
  async delete(ctx: RequestContext, userId: string): Promise<boolean> {
    checkUserId(userId);
    return this.db.transaction(async (tx) => {
      const deleted = await tx.run('DELETE FROM profiles WHERE workspace_id = ? AND user_id = ?', [
        ctx.workspaceId,
        userId,
      ]);
      if (!deleted) return false;
      await tx.run('DELETE FROM profile_aliases WHERE workspace_id = ? AND user_id = ?', [ctx.workspaceId, userId]);
      await this.memberships.dropMemberships(tx, ctx.workspaceId, userId);
      return true;
    });
  }

  /** Anonymous ids remembered for each user (for DataLoader). */
  async anonymousIdsOf(ctx: RequestContext, userIds: readonly string[]): Promise<Map<string, string[]>> {
    const map = new Map<string, string[]>(userIds.map((u) => [u, []]));
    for (const part of chunks(userIds)) {
      const rows = await this.db.rows<{ anonymous_id: string; user_id: string }>(
        `SELECT anonymous_id, user_id FROM profile_aliases WHERE workspace_id = ? AND user_id IN (${placeholders(part.length)}) ORDER BY id`,
        [ctx.workspaceId, ...part],
      );
      rows.forEach((r) => map.get(r.user_id)?.push(r.anonymous_id));
    }
    return map;
  }
}
