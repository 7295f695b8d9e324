import type { Database, Sql } from '../../db/database';
import { fromDbTime, toDbTime } from '../../db/dialect';
import { insertRows, parseJsonColumn, placeholders } from '../../db/rows';
import { byKey, upsertTraits, type TraitTable } from '../../db/trait-upsert';
import type { RequestContext } from '../request-context';
import { decodeCursor, encodeCursor, type Page } from '../pagination';
import type { JsonObject } from '../../lib/json';
import { toProfile } from '../profile/profile.service';
import type { Profile } from '../profile/profile.entity';
import type { MembershipsOfUsers } from '../profile/profile.service';
import { Group } from './group.entity';

/** One group call: merge `patch` into group `groupId` and make `userId` a member. */
export interface GroupChange {
  groupId: string;
  patch: JsonObject;
  userId: string;
}

const GROUPS: TraitTable = { table: 'user_groups', scopeColumn: 'workspace_id', keyColumn: 'group_id' };

interface GroupRow {
  id: string | number;
  workspace_id: number;
  group_id: string;
  traits: unknown;
  created_at: unknown;
  updated_at: unknown;
}

function toGroup(row: GroupRow): Group {
  return Object.assign(new Group(), {
    id: String(row.id),
    workspaceId: Number(row.workspace_id),
    groupId: row.group_id,
    traits: parseJsonColumn<JsonObject>(row.traits ?? '{}'),
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  });
}

/** Groups, their traits (merged like a profile's) and their members. */
export class GroupService implements MembershipsOfUsers {
  constructor(private readonly db: Database) {}

  async moveMemberships(tx: Sql, workspaceId: number, fromUserId: string, toUserId: string): Promise<void> {
    // memberships the user already has stay where they are, and the duplicates are dropped with the rest
    await tx.run(
      `${tx.dialect.updateIgnore} group_memberships SET user_id = ? WHERE workspace_id = ? AND user_id = ?`,
      [toUserId, workspaceId, fromUserId],
    );
    await this.dropMemberships(tx, workspaceId, fromUserId);
  }

  async dropMemberships(tx: Sql, workspaceId: number, userId: string): Promise<void> {
    await tx.run('DELETE FROM group_memberships WHERE workspace_id = ? AND user_id = ?', [workspaceId, userId]);
  }

  /** Applies group calls in order inside an ingest transaction. */
  async apply(tx: Sql, workspaceId: number, changes: GroupChange[], at: Date): Promise<void> {
    await upsertTraits(
      tx,
      GROUPS,
      workspaceId,
      changes.map((c) => ({ key: c.groupId, patch: c.patch })),
      at,
    );
    // memberships in lock order too (by group, then user)
    const members = [...new Map(changes.map((c) => [`${c.groupId}\u0000${c.userId}`, c])).values()].sort(
      (a, b) => byKey(a.groupId, b.groupId) || byKey(a.userId, b.userId),
    );
    const now = toDbTime(at);
    await insertRows(
      tx,
      'group_memberships',
      ['workspace_id', 'group_id', 'user_id', 'created_at'],
      members,
      (m) => [workspaceId, m.groupId, m.userId, now],
      tx.dialect.onConflictIgnore(['workspace_id', 'group_id', 'user_id']),
    );
  }

  async get(ctx: RequestContext, groupId: string): Promise<Group | null> {
    const rows = await this.db.rows<GroupRow>('SELECT * FROM user_groups WHERE workspace_id = ? AND group_id = ?', [
      ctx.workspaceId,
      groupId,
    ]);
    return rows.length ? toGroup(rows[0]) : null;
  }

  /** The groups each user belongs to (for DataLoader). */
  async groupsOf(ctx: RequestContext, userIds: readonly string[]): Promise<Map<string, Group[]>> {
    const map = new Map<string, Group[]>(userIds.map((u) => [u, []]));
    if (!userIds.length) return map;
    const rows = await this.db.rows<GroupRow & { member: string }>(
      `SELECT g.*, m.user_id AS member FROM group_memberships m
       JOIN user_groups g ON g.workspace_id = m.workspace_id AND g.group_id = m.group_id
       WHERE m.workspace_id = ? AND m.user_id IN (${placeholders(userIds.length)}) ORDER BY m.id`,
      [ctx.workspaceId, ...userIds],
    );
    rows.forEach((r) => map.get(r.member)?.push(toGroup(r)));
    return map;
  }

  /** Members of a group, in the order they joined, keyset-paginated. */
  async members(ctx: RequestContext, groupId: string, first: number, after?: string | null): Promise<Page<Profile>> {
    const params: unknown[] = [ctx.workspaceId, groupId];
    let keyset = '';
    if (after) {
      const [membershipId] = decodeCursor(after, 1);
      keyset = 'AND m.id > ?';
      params.push(membershipId);
    }
    const rows = await this.db.rows<GroupRow & { membership_id: string | number; user_id: string }>(
      `SELECT p.*, m.id AS membership_id FROM group_memberships m
       JOIN profiles p ON p.workspace_id = m.workspace_id AND p.user_id = m.user_id
       WHERE m.workspace_id = ? AND m.group_id = ? ${keyset} ORDER BY m.id ASC LIMIT ${first + 1}`,
      params,
    );
    const page = rows.slice(0, first);
    const cursors = new Map<Profile, string>();
    const items = page.map((r) => {
      const profile = toProfile({ ...r, id: r.id });
      cursors.set(profile, encodeCursor([String(r.membership_id)]));
      return profile;
    });
    return { items, hasNextPage: rows.length > first, cursorOf: (p) => cursors.get(p)! };
  }
}
