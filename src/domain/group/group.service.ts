import type { Database, Sql } from '../../db/database';
import { fromDbTime, toDbTime } from '../../db/dialect';
import type { RequestContext } from '../request-context';
import { decodeCursor, encodeCursor, type Page } from '../pagination';
import { mergePatch, patchDeletes, type JsonObject } from '../../lib/json';
import { byKey, toProfile } from '../profile/profile.service';
import type { Profile } from '../profile/profile.entity';
import { Group } from './group.entity';

/** One group call: merge `patch` into group `groupId` and make `userId` a member. */
export interface GroupChange {
  groupId: string;
  patch: JsonObject;
  userId: string;
}

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
    traits: typeof row.traits === 'string' ? JSON.parse(row.traits) : (row.traits ?? {}),
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  });
}

/** Groups, their traits (merged like a profile's) and their members. */
export class GroupService {
  constructor(private readonly db: Database) {}

  /** Applies group calls in order inside an ingest transaction. */
  async apply(tx: Sql, workspaceId: number, changes: GroupChange[], at: Date): Promise<void> {
    const now = toDbTime(at);
    const d = tx.dialect;
    const merge = `traits = ${d.jsonMergePatch('traits', d.inserted('traits'))}, updated_at = ${d.inserted('updated_at')}`;
    // runs of plain merges go in multi-row upserts (rows of one statement apply in order, so the same
    // group twice merges twice); a patch that deletes keys is a statement of its own
    let run: GroupChange[] = [];
    const flush = async () => {
      run.sort((a, b) => byKey(a.groupId, b.groupId)); // lock order; stable, so one group's changes stay in order
      for (let i = 0; i < run.length; i += 500) {
        const part = run.slice(i, i + 500);
        await tx.run(
          `INSERT INTO user_groups (workspace_id, group_id, traits, created_at, updated_at) VALUES ${part.map(() => '(?, ?, ?, ?, ?)').join(', ')}
           ${d.onConflictUpdate(['workspace_id', 'group_id'], merge)}`,
          part.flatMap((c) => [workspaceId, c.groupId, JSON.stringify(c.patch), now, now]),
        );
      }
      run = [];
    };
    for (const change of changes) {
      if (!patchDeletes(change.patch)) {
        run.push(change);
        continue;
      }
      await flush();
      const deleting = d.jsonMergeDeleting('traits', change.patch);
      await tx.run(
        `INSERT INTO user_groups (workspace_id, group_id, traits, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ${d.onConflictUpdate(['workspace_id', 'group_id'], `traits = ${deleting.sql}, updated_at = ${d.inserted('updated_at')}`)}`,
        [workspaceId, change.groupId, JSON.stringify(mergePatch({}, change.patch)), now, now, ...deleting.params],
      );
    }
    await flush();
    const members = [...new Map(changes.map((c) => [`${c.groupId}\u0000${c.userId}`, c])).values()].sort(
      (a, b) => byKey(a.groupId, b.groupId) || byKey(a.userId, b.userId),
    );
    for (let i = 0; i < members.length; i += 500) {
      const part = members.slice(i, i + 500);
      await tx.run(
        `INSERT INTO group_memberships (workspace_id, group_id, user_id, created_at) VALUES ${part.map(() => '(?, ?, ?, ?)').join(', ')}
         ${d.onConflictIgnore(['workspace_id', 'group_id', 'user_id'])}`,
        part.flatMap((m) => [workspaceId, m.groupId, m.userId, now]),
      );
    }
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
       WHERE m.workspace_id = ? AND m.user_id IN (${userIds.map(() => '?').join(', ')}) ORDER BY m.id`,
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
