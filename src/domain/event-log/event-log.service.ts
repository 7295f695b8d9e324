import { randomInt } from 'node:crypto';
import type { Database, Sql } from '../../db/database';
import { isConnectionError, isUniqueViolation } from '../../db/database';
import { Batcher } from '../../db/batcher';
import { fromDbTime, toDbTime } from '../../db/dialect';
import { CHUNK_ROWS, chunks, insertRows, parseJsonColumn, placeholders } from '../../db/rows';
import { newestFirstPage } from '../newest-first';
import { DomainError, StoreUnavailableError } from '../domain-error';
import type { RequestContext } from '../request-context';
import type { Page } from '../pagination';
import type { GroupChange, GroupService } from '../group/group.service';
import type { ProfileService, TraitPatch } from '../profile/profile.service';
import { EventStatus } from './event-status.enum';
import { EventType } from './event-type.enum';
import { ALL_EVENT_FIELDS, eventListRead, eventWhere, type EventField, type EventFilter } from './event-filter';
import { InboundEvent, trackEventName } from './inbound-event.entity';
import type { IncomingEvent, IngestOutcome } from './incoming-event';

export interface EventNameCount {
  name: string;
  count: number;
  lastSeenAt: Date;
}

interface EventRow {
  id: string | number;
  workspace_id: number;
  message_id: string;
  type: string;
  name: string | null;
  user_id: string | null;
  anonymous_id: string | null;
  status: string;
  payload: unknown;
  timestamp: unknown;
  received_at: unknown;
  message_ref: string | null;
}

/** The most events one group commit takes (a batch request may bring up to 2,500 on its own). */
const GROUP_MAX_EVENTS = 1000;

/**
 * Events waiting that are worth a transaction of their own beside a running one: two 100-event batch
 * requests. Single events (a few dozen at most behind one commit) wait and share the next transaction;
 * batch requests from a few clients overlap instead of queueing behind each other.
 */
const GROUP_OVERLAP_EVENTS = 200;

/**
 * Shards of each `event_names` counter. The group commits running at once in one process count into
 * different shards (their batcher slot), so they never wait for each other's row locks; another process
 * starts at a random shard, so two processes rarely meet. `eventNames` sums the shards of a name.
 */
const EVENT_NAME_SHARDS = 16;
const SHARD_OFFSET = randomInt(EVENT_NAME_SHARDS);

/** One ingest call: its workspace, or the key its caller presented (checked in the group's transaction). */
type IngestRequest = { events: IncomingEvent[] } & ({ workspaceId: number } | { secret: string });

interface IngestResult {
  /** The workspace the events were stored in. */
  workspaceId: number;
  outcomes: IngestOutcome[];
  mapped: number;
}

/**
 * Checks the keys of ingest callers in the transaction that stores their events (the composition root
 * wires in `WorkspaceService.authenticateIn` with the sending scopes), so the event log does not depend on
 * workspaces and a request costs one transaction, not a key lookup and then a transaction.
 */
export interface IngestKeys {
  /** The workspace of each key that may send events, or the error that refuses it (a `DomainError`). */
  authenticateIn(tx: Sql, secrets: readonly string[]): Promise<({ workspaceId: number } | DomainError)[]>;
}

/**
 * What the event log hands stored track events to, in the transaction that stores them: the event
 * mapper (`domain/mapping/event-mapper.ts`) implements it, and the composition root wires it in, so the
 * event log does not depend on mapping.
 */
export interface TrackMapper {
  /**
   * Before `events` are stored in `tx`: the tracks among them that a mapping takes, by Segment messageId, each
   * with the id of the message or run it becomes (null: it only cancels runs). The event log stores them
   * `MAPPED` with that reference, so their own insert claims them.
   */
  planTracksIn(tx: Sql, workspaceId: number, events: readonly IncomingEvent[]): Promise<TrackPlan>;
  /** Turns the planned tracks among `events` (stored in `tx` since) into messages or runs; returns how many. */
  mapTracksIn(tx: Sql, workspaceId: number, events: IncomingEvent[], plan: TrackPlan): Promise<number>;
  /** Called after that transaction committed, so a worker in this process starts at once. */
  wake(): void;
}

/** What {@link TrackMapper.planTracksIn} decided: the message or run reference of each mapped track by messageId. */
export interface TrackPlan {
  readonly refs: ReadonlyMap<string, string | null>;
}

/** The error an ingest caller sees: domain errors as they are, anything from the database as 503. */
function asIngestError(err: unknown): Error {
  return err instanceof DomainError ? err : new StoreUnavailableError(err);
}
const INSERT_BYTES = 4 * 1024 * 1024;
const UNIQUE_RACE_RETRIES = 3;

/**
 * An event from its row. A read of some columns only ({@link EventLogService.list} with `fields`) leaves
 * the fields of the others undefined.
 */
function toEvent(row: EventRow): InboundEvent {
  return Object.assign(new InboundEvent(), {
    id: String(row.id),
    workspaceId: row.workspace_id === undefined ? undefined : Number(row.workspace_id),
    messageId: row.message_id,
    type: row.type as EventType,
    name: row.name,
    userId: row.user_id,
    anonymousId: row.anonymous_id,
    status: row.status as EventStatus,
    payload: parseJsonColumn(row.payload),
    timestamp: row.timestamp === undefined ? undefined : fromDbTime(row.timestamp),
    receivedAt: fromDbTime(row.received_at),
    messageRef: row.message_ref,
  });
}

/**
 * The inbound event log. {@link ingest} stores a batch of events and applies what each one does
 * (README, "What each call does": identify/group/alias change profiles and groups, a mapped track
 * becomes a message through the {@link TrackMapper}) in one transaction, with multi-row inserts; an
 * event whose messageId the workspace already holds is acknowledged again and applied never twice.
 */
export class EventLogService {
  /** Group commit: concurrent ingest calls share one transaction and its multi-row inserts. */
  private readonly committer: Batcher<IngestRequest, IngestResult | Error>;

  constructor(
    private readonly db: Database,
    private readonly profiles: ProfileService,
    private readonly groups: GroupService,
    private readonly mapper: TrackMapper,
    private readonly keys?: IngestKeys,
  ) {
    this.committer = new Batcher(
      (requests, slot) => this.commitGroup(requests, (SHARD_OFFSET + slot) % EVENT_NAME_SHARDS),
      {
        // SQLite has one writer. On MySQL/MariaDB small calls (single events) wait for the running
        // transaction and commit together in the next one — one commit for many requests is cheaper
        // than several half-empty ones in parallel — and once batch requests worth a transaction wait,
        // they overlap, up to 4 at once (the pool has 10 connections)
        maxInFlight: db.kind === 'sqlite' ? 1 : 4,
        // better-sqlite3 never yields to I/O inside a transaction: gather what the event loop has read first
        gatherTurn: db.kind === 'sqlite',
        overlapAt: GROUP_OVERLAP_EVENTS,
        maxItems: GROUP_MAX_EVENTS,
        sizeOf: (r) => r.events.length,
      },
    );
  }

  /**
   * Stores and applies `events` in order. Resolves only once everything is committed; throws
   * {@link StoreUnavailableError} when the database cannot commit (nothing of the call is stored then).
   * Calls that arrive while others are committing are committed together with them (group commit).
   */
  async ingest(ctx: RequestContext, events: IncomingEvent[]): Promise<IngestOutcome[]> {
    if (!events.length) return [];
    return (await this.submit({ workspaceId: ctx.workspaceId, events })).outcomes;
  }

  /**
   * {@link ingest} for a caller known by the key it presented: the key is checked in the transaction that
   * stores the events (with {@link IngestKeys}), so a refused key stores nothing and throws the refusal
   * (a `KeyRefusedError`); an accepted one answers its workspace. With no events only the key is checked.
   */
  async ingestWithKey(
    secret: string,
    events: IncomingEvent[],
  ): Promise<{ workspaceId: number; outcomes: IngestOutcome[] }> {
    if (!this.keys) throw new Error('EventLogService was built without IngestKeys');
    const { workspaceId, outcomes } = await this.submit({ secret, events });
    return { workspaceId, outcomes };
  }

  private async submit(request: IngestRequest): Promise<IngestResult> {
    const result = await this.committer.submit(request);
    if (result instanceof Error) throw result;
    if (result.mapped) this.mapper.wake();
    return result;
  }

  /**
   * Commits a group of ingest calls in one transaction. When that fails for a reason other than the
   * database being unreachable, each call is tried on its own, so one bad call never fails the others.
   */
  private async commitGroup(requests: IngestRequest[], shard: number): Promise<(IngestResult | Error)[]> {
    try {
      return await this.commitWithRetry(requests, shard);
    } catch (err) {
      if (requests.length === 1 || isConnectionError(err)) return requests.map(() => asIngestError(err));
      return Promise.all(requests.map((r) => this.commitWithRetry([r], shard).then((res) => res[0], asIngestError)));
    }
  }

  /** Commits the group, counting its track names into `shard` of their counters. */
  private async commitWithRetry(requests: IngestRequest[], shard: number): Promise<(IngestResult | Error)[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction((tx) => this.ingestGroup(tx, requests, shard));
      } catch (err) {
        // a concurrent call stored one of these messageIds first: run again, it is a duplicate now
        if (isUniqueViolation(err) && attempt < UNIQUE_RACE_RETRIES) continue;
        throw err;
      }
    }
  }

  /** One transaction for the group: the events of each workspace go through {@link ingestIn} together, in order. */
  private async ingestGroup(tx: Sql, requests: IngestRequest[], shard: number): Promise<(IngestResult | Error)[]> {
    const workspaces = await this.workspacesOf(tx, requests);
    const results: (IngestResult | Error)[] = workspaces.map((w) =>
      w instanceof Error ? w : { workspaceId: w, outcomes: [], mapped: 0 },
    );
    const byWorkspace = new Map<number, number[]>();
    workspaces.forEach((w, i) => {
      if (!(w instanceof Error) && requests[i].events.length) byWorkspace.set(w, [...(byWorkspace.get(w) ?? []), i]);
    });
    for (const [workspaceId, indexes] of byWorkspace) {
      const { outcomes, mapped } = await this.ingestIn(
        tx,
        workspaceId,
        indexes.flatMap((i) => requests[i].events),
        shard,
      );
      let offset = 0;
      for (const i of indexes) {
        (results[i] as IngestResult).outcomes = outcomes.slice(offset, offset + requests[i].events.length);
        offset += requests[i].events.length;
      }
      (results[indexes[0]] as IngestResult).mapped += mapped;
    }
    return results;
  }

  /** The workspace of each request: given, or its caller's key checked through `tx` (a refusal is its error). */
  private async workspacesOf(tx: Sql, requests: IngestRequest[]): Promise<(number | Error)[]> {
    const secrets = requests.flatMap((r) => ('secret' in r ? [r.secret] : []));
    const checked = secrets.length ? await this.keys!.authenticateIn(tx, secrets) : [];
    let next = 0;
    return requests.map((r) => {
      if ('workspaceId' in r) return r.workspaceId;
      const check = checked[next++];
      return check instanceof Error ? check : check.workspaceId;
    });
  }

  private async ingestIn(
    tx: Sql,
    workspaceId: number,
    events: IncomingEvent[],
    shard: number,
  ): Promise<{ outcomes: IngestOutcome[]; mapped: number }> {
    const outcomes: IngestOutcome[] = events.map(() => 'duplicate');
    const firstIndex = new Map<string, number>();
    events.forEach((e, i) => {
      if (!firstIndex.has(e.messageId)) firstIndex.set(e.messageId, i);
    });
    const unique = firstIndex.size === events.length ? events : [...firstIndex.values()].map((i) => events[i]);
    // Retried messages are rare: insert first, and look for the ones already stored only when the unique
    // key refuses a statement (both engines undo just that statement; the transaction goes on).
    // mapped tracks are stored MAPPED with their message or run id: the insert claims them (no UPDATE after)
    const plan = await this.mapper.planTracksIn(tx, workspaceId, unique);
    let fresh = unique;
    const done = await this.insertEvents(tx, workspaceId, unique, plan, true);
    if (done < unique.length) {
      const rest = unique.slice(done);
      const stored = await this.existingMessageIds(
        tx,
        workspaceId,
        rest.map((e) => e.messageId),
      );
      const restFresh = rest.filter((e) => !stored.has(e.messageId));
      if (restFresh.length) await this.insertEvents(tx, workspaceId, restFresh, plan, false);
      fresh = done ? [...unique.slice(0, done), ...restFresh] : restFresh;
    }
    for (const e of fresh) outcomes[firstIndex.get(e.messageId)!] = 'stored';
    if (!fresh.length) return { outcomes, mapped: 0 };

    await this.applyEffects(tx, workspaceId, fresh);
    await this.countNames(tx, workspaceId, fresh, shard);
    const mapped = plan.refs.size ? await this.mapper.mapTracksIn(tx, workspaceId, fresh, plan) : 0;
    return { outcomes, mapped };
  }

  private async existingMessageIds(tx: Sql, workspaceId: number, messageIds: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const part of chunks(messageIds)) {
      const rows = await tx.rows<{ message_id: string }>(
        `SELECT message_id FROM inbound_events WHERE workspace_id = ? AND message_id IN (${placeholders(part.length)})`,
        [workspaceId, ...part],
      );
      rows.forEach((r) => found.add(r.message_id));
    }
    return found;
  }

  /**
   * Inserts `events` in multi-row statements and answers how many were inserted. With `optimistic`, a
   * statement the unique key refuses (a messageId stored before) stops there: the answer is the number
   * of events of the statements before it, and the caller sorts out the rest.
   */
  private async insertEvents(
    tx: Sql,
    workspaceId: number,
    events: IncomingEvent[],
    plan: TrackPlan,
    optimistic: boolean,
  ): Promise<number> {
    let done = 0;
    let rows: unknown[][] = [];
    let bytes = 0;
    const flush = async (): Promise<boolean> => {
      if (!rows.length) return true;
      try {
        await tx.runPrepared(
          `INSERT INTO inbound_events (workspace_id, message_id, type, name, user_id, anonymous_id, status, message_ref, payload, timestamp, received_at)
           VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
          rows.flat(),
        );
      } catch (err) {
        if (optimistic && isUniqueViolation(err)) return false;
        throw err;
      }
      done += rows.length;
      rows = [];
      bytes = 0;
      return true;
    };
    for (const e of events) {
      const payload = e.payloadJson ?? JSON.stringify(e.payload);
      const isTrack = e.type === EventType.TRACK;
      rows.push([
        workspaceId,
        e.messageId,
        e.type,
        isTrack ? trackEventName(e.event!) : null,
        e.userId,
        e.anonymousId,
        isTrack ? (plan.refs.has(e.messageId) ? EventStatus.MAPPED : EventStatus.UNMAPPED) : EventStatus.PROCESSED,
        plan.refs.get(e.messageId) ?? null,
        payload,
        toDbTime(e.timestamp),
        toDbTime(e.receivedAt),
      ]);
      bytes += payload.length;
      if ((rows.length >= CHUNK_ROWS || bytes >= INSERT_BYTES) && !(await flush())) return done;
    }
    await flush();
    return done;
  }

  /**
   * identify, group and alias change profiles and groups, in the order received. Runs of simple
   * changes are written together; a merge of one profile into another is a point where they are flushed.
   */
  private async applyEffects(tx: Sql, workspaceId: number, events: IncomingEvent[]): Promise<void> {
    const at = events[0].receivedAt;
    // only identify, group and alias touch profiles: the anonymousIds of tracks, pages and screens are not looked up
    const anonymousIds = new Set<string>();
    let touchesProfiles = false;
    for (const e of events) {
      if (e.type !== EventType.IDENTIFY && e.type !== EventType.GROUP && e.type !== EventType.ALIAS) continue;
      touchesProfiles = true;
      if (e.anonymousId) anonymousIds.add(e.anonymousId);
      if (e.type === EventType.ALIAS && e.previousId) anonymousIds.add(e.previousId);
    }
    if (!touchesProfiles) return;
    const aliasOf = await this.profiles.resolveAliases(tx, workspaceId, [...anonymousIds]);
    const hasProfile = await this.profiles.existingKeys(tx, workspaceId, [...anonymousIds]);

    let patches: TraitPatch[] = [];
    let aliases: { anonymousId: string; userId: string }[] = [];
    let groupChanges: GroupChange[] = [];
    const flush = async () => {
      await this.profiles.upsertTraits(tx, workspaceId, patches, at);
      await this.profiles.recordAliases(tx, workspaceId, aliases, at);
      await this.groups.apply(tx, workspaceId, groupChanges, at);
      patches = [];
      aliases = [];
      groupChanges = [];
    };
    const profileKey = (e: IncomingEvent): string => {
      if (e.userId) return e.userId;
      const key = aliasOf.get(e.anonymousId!) ?? e.anonymousId!;
      if (key === e.anonymousId) hasProfile.add(key);
      return key;
    };

    for (const e of events) {
      switch (e.type) {
        case EventType.IDENTIFY: {
          const anon = e.anonymousId;
          if (e.userId && anon && anon !== e.userId) {
            if (hasProfile.has(anon)) {
              await flush();
              await this.profiles.mergeInto(tx, workspaceId, anon, e.userId, at);
              hasProfile.delete(anon);
            } else {
              aliases.push({ anonymousId: anon, userId: e.userId });
            }
            if (!aliasOf.has(anon)) aliasOf.set(anon, e.userId);
          }
          patches.push({ key: profileKey(e), patch: e.traits ?? {} });
          break;
        }
        case EventType.GROUP: {
          const key = profileKey(e);
          patches.push({ key, patch: {} });
          groupChanges.push({ groupId: e.groupId!, patch: e.traits ?? {}, userId: key });
          break;
        }
        case EventType.ALIAS: {
          const from = e.previousId!;
          const to = e.userId!;
          if (from === to) break;
          await flush();
          await this.profiles.mergeInto(tx, workspaceId, from, to, at);
          hasProfile.delete(from);
          if (!aliasOf.has(from)) aliasOf.set(from, to);
          break;
        }
        default:
          break;
      }
    }
    await flush();
  }

  /** Maintains the per-name counters behind `eventNames` (sorted, so concurrent batches lock in one order). */
  private async countNames(tx: Sql, workspaceId: number, events: IncomingEvent[], shard: number): Promise<void> {
    const counts = new Map<string, { n: number; last: Date }>();
    for (const e of events) {
      if (e.type !== EventType.TRACK) continue;
      const name = trackEventName(e.event!);
      const c = counts.get(name);
      if (c) {
        c.n++;
        if (e.receivedAt > c.last) c.last = e.receivedAt;
      } else counts.set(name, { n: 1, last: e.receivedAt });
    }
    if (!counts.size) return;
    const names = [...counts.keys()].sort();
    const d = tx.dialect;
    await insertRows(
      tx,
      'event_names',
      ['workspace_id', 'name', 'shard', 'event_count', 'last_seen_at'],
      names,
      (n) => [workspaceId, n, shard, counts.get(n)!.n, toDbTime(counts.get(n)!.last)],
      d.onConflictUpdate(
        ['workspace_id', 'name', 'shard'],
        `event_count = event_count + ${d.inserted('event_count')}, last_seen_at = ${d.greatest('last_seen_at', d.inserted('last_seen_at'))}`,
      ),
    );
  }

  // ---- reads -------------------------------------------------------------------------------------

  /**
   * Events newest first (receivedAt, then id), keyset-paginated so pages stay stable under inserts.
   * Only the columns of `fields` (and the keyset, `id` and `receivedAt`) are read: the events' other fields
   * are undefined. A filter by user or name reads through that index, from the index alone when it holds
   * every field asked for ({@link eventListRead}).
   */
  async list(
    ctx: RequestContext,
    filter: EventFilter,
    first: number,
    after?: string | null,
    { fields = ALL_EVENT_FIELDS }: { fields?: readonly EventField[] } = {},
  ): Promise<Page<InboundEvent>> {
    const { where, params } = eventWhere(ctx.workspaceId, filter);
    const read = eventListRead(filter, fields, this.db.kind);
    const page = await newestFirstPage(this.db, {
      table: read.source,
      columns: read.columns,
      timeColumn: 'received_at',
      where,
      params,
      first,
      after,
      toItem: toEvent,
      idPattern: /^\d{1,19}$/,
      keyOf: (e: InboundEvent) => ({ time: e.receivedAt, id: e.id }),
    });
    // messageIds longer than the list index holds: from the rows (a messageId is never null)
    const cut = read.shortMessageIds ? page.items.filter((e) => e.messageId === null) : [];
    if (cut.length) {
      const rows = await this.db.rows<Pick<EventRow, 'id' | 'message_id'>>(
        `SELECT id, message_id FROM inbound_events WHERE workspace_id = ? AND id IN (${placeholders(cut.length)})`,
        [ctx.workspaceId, ...cut.map((e) => e.id)],
      );
      const messageIds = new Map(rows.map((r) => [String(r.id), r.message_id]));
      for (const event of cut) event.messageId = messageIds.get(event.id) ?? event.messageId;
    }
    return page;
  }

  async get(ctx: RequestContext, id: string): Promise<InboundEvent | null> {
    if (!/^\d{1,19}$/.test(id)) return null;
    const rows = await this.db.rows<EventRow>('SELECT * FROM inbound_events WHERE workspace_id = ? AND id = ?', [
      ctx.workspaceId,
      id,
    ]);
    return rows.length ? toEvent(rows[0]) : null;
  }

  async getByIds(ctx: RequestContext, ids: readonly string[]): Promise<Map<string, InboundEvent>> {
    const valid = ids.filter((id) => /^\d{1,19}$/.test(id));
    if (!valid.length) return new Map();
    const rows = await this.db.rows<EventRow>(
      `SELECT * FROM inbound_events WHERE workspace_id = ? AND id IN (${placeholders(valid.length)})`,
      [ctx.workspaceId, ...valid],
    );
    return new Map(rows.map((r) => [String(r.id), toEvent(r)]));
  }

  /** Distinct track names with their counts, from the maintained counters (no scan of the log). */
  async names(ctx: RequestContext): Promise<EventNameCount[]> {
    const rows = await this.db.rows<{ name: string; event_count: string | number; last_seen_at: unknown }>(
      `SELECT name, SUM(event_count) AS event_count, MAX(last_seen_at) AS last_seen_at
       FROM event_names WHERE workspace_id = ? GROUP BY name ORDER BY name`,
      [ctx.workspaceId],
    );
    return rows.map((r) => ({ name: r.name, count: Number(r.event_count), lastSeenAt: fromDbTime(r.last_seen_at) }));
  }
}
