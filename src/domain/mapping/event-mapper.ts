import type { Database, Sql } from '../../db/database';
import { isJsonObject } from '../../lib/json';
import type { EventFilter } from '../event-log/event-filter';
import type { TrackMapper, TrackPlan } from '../event-log/event-log.service';
import { claimEvents, storedEventIds, unmappedTracks, type StoredTrack } from '../event-log/event-log-store';
import { EventStatus } from '../event-log/event-status.enum';
import { EventType } from '../event-log/event-type.enum';
import { trackEventName } from '../event-log/inbound-event.entity';
import type { IncomingEvent } from '../event-log/incoming-event';
import { timeOrderedId } from '../ids';
import type { MessageService } from '../message/message.service';
import type { NewMessage } from '../message/message-store';
import type { ProfileService } from '../profile/profile.service';
import type { RequestContext } from '../request-context';
import type { MappingService, TrackTargets } from './mapping.service';
import type { EventRunStart, WorkflowRunService } from '../workflow/workflow-run.service';

/** Stored events replay maps per transaction. */
const REPLAY_PAGE = 500;

/** The mapper's {@link TrackPlan}: with the targets it looked up, so mapping after the insert does not look again. */
interface MappingPlan extends TrackPlan {
  found: TrackTargets;
}

/**
 * Track → message or workflow run: a stored track event whose name is mapped to a template becomes a
 * message of that template, one mapped to a workflow starts a run of it (README, "From event to
 * notification: a walk-through", "Workflows"), and one with cancel mappings cancels its user's runs. The
 * event log calls {@link mapTracksIn} in the transaction that stores the events, so a mapped track and its
 * message or run (and their job), and a cancel, commit together; {@link replay} maps tracks stored while
 * they were unmapped (a replay never cancels: runs started since are not the event's to cancel). Each
 * event becomes at most one message or run: a new one is stored MAPPED with its message or run id by its own
 * insert ({@link planTracksIn}), and a replay claims UNMAPPED ones (UNMAPPED → MAPPED) before creating anything.
 */
export class EventMapper implements TrackMapper {
  constructor(
    private readonly db: Database,
    private readonly mappings: MappingService,
    private readonly profiles: ProfileService,
    private readonly messages: MessageService,
    private readonly runs: WorkflowRunService,
  ) {}

  /**
   * Before the event log stores `events` in `tx`: the tracks a mapping takes (a template or workflow, or a
   * cancel mapping), each with the id of the message or run it becomes (null when it only cancels). The event
   * log stores them MAPPED with that id, so they need no claim afterwards (nothing else can see them before
   * the transaction commits).
   */
  async planTracksIn(tx: Sql, workspaceId: number, events: readonly IncomingEvent[]): Promise<TrackPlan> {
    const refs = new Map<string, string | null>();
    const tracks = events.filter((e) => e.type === EventType.TRACK);
    if (!tracks.length) return { refs };
    const found = await this.mappings.targetsFor(
      tx,
      workspaceId,
      tracks.map((e) => trackEventName(e.event!)),
    );
    for (const e of tracks) {
      const name = trackEventName(e.event!);
      if (found.targets.has(name)) refs.set(e.messageId, timeOrderedId());
      else if (found.cancels.has(name)) refs.set(e.messageId, null);
    }
    const plan: MappingPlan = { refs, found };
    return plan;
  }

  /**
   * Maps the planned tracks among `events` ({@link planTracksIn}), stored by the event log in `tx` since, and
   * applies their cancel mappings. Returns how many became messages or runs; call {@link wake} once the
   * transaction committed.
   */
  async mapTracksIn(tx: Sql, workspaceId: number, events: IncomingEvent[], plan: TrackPlan): Promise<number> {
    const relevant = events.filter((e) => e.type === EventType.TRACK && plan.refs.has(e.messageId));
    if (!relevant.length) return 0;
    const found = 'found' in plan ? (plan as MappingPlan).found : undefined;
    const byMessageId = new Map(relevant.map((e) => [e.messageId, e]));
    const stored = (await storedEventIds(tx, workspaceId, [...byMessageId.keys()])).map(({ id, messageId }) => {
      const e = byMessageId.get(messageId)!;
      return {
        id,
        name: trackEventName(e.event!),
        userId: e.userId,
        anonymousId: e.anonymousId,
        messageId,
        payload: e.payload,
        properties: e.payload.properties,
      };
    });
    return this.mapStoredIn(tx, workspaceId, stored, events[0].receivedAt, found, plan.refs);
  }

  /** `replayEvents`: maps stored track events that are still UNMAPPED, a page per transaction. */
  async replay(ctx: RequestContext, filter: EventFilter): Promise<number> {
    if ((filter.type && filter.type !== EventType.TRACK) || (filter.status && filter.status !== EventStatus.UNMAPPED))
      return 0;
    let total = 0;
    let lastId = '0';
    for (;;) {
      const events = await unmappedTracks(this.db, ctx.workspaceId, filter, lastId, REPLAY_PAGE);
      if (!events.length) break;
      lastId = events[events.length - 1].id;
      total += await this.db.transaction((tx) => this.mapStoredIn(tx, ctx.workspaceId, events, new Date()));
      if (events.length < REPLAY_PAGE) break;
    }
    if (total) this.wake();
    return total;
  }

  /** Lets a worker in this process start on the messages and runs of a transaction that has committed. */
  wake(): void {
    this.messages.wake();
    this.runs.wake();
  }

  /**
   * Turns stored track events into messages or runs for the mapped ones (`found` is looked up when absent).
   * With `claimedAtInsert` (new events, stored MAPPED with these references by messageId) they are theirs
   * already and their cancel mappings apply first; without (a replay), the events are claimed first and one
   * a concurrent call claimed is skipped. Returns how many became messages or runs.
   */
  private async mapStoredIn(
    tx: Sql,
    workspaceId: number,
    events: StoredTrack[],
    at: Date,
    found?: TrackTargets,
    claimedAtInsert?: ReadonlyMap<string, string | null>,
  ): Promise<number> {
    found ??= await this.mappings.targetsFor(
      tx,
      workspaceId,
      events.map((e) => e.name),
    );
    const targets = found.targets;
    const cancels = found.cancels;
    // new events (stored MAPPED by their insert) apply their cancel mappings; a replay never cancels
    const cancel = Boolean(claimedAtInsert);
    const mapped = events.filter((e) => targets.has(e.name) || (cancel && cancels.has(e.name)));
    if (!mapped.length) return 0;
    // a track of an anonymous id that was merged later goes to the user
    const anonymous = mapped.filter((e) => !e.userId && e.anonymousId).map((e) => e.anonymousId!);
    const aliases = anonymous.length ? await this.profiles.resolveAliases(tx, workspaceId, anonymous) : new Map();
    const userOf = (e: StoredTrack): string => e.userId ?? aliases.get(e.anonymousId!) ?? e.anonymousId!;
    const dataOf = (e: StoredTrack) => (isJsonObject(e.properties) ? e.properties : {});

    const created: (NewMessage & { id: string })[] = [];
    let starts: EventRunStart[] = [];
    let started = 0;
    const flushStarts = async () => {
      started += (await this.runs.startForEventsIn(tx, workspaceId, starts, at)).length;
      starts = [];
    };
    // in the order received (ids grow with it): a cancelling event cancels the runs of earlier events, in
    // this batch too, and never one that a later event starts — nor the one it starts itself
    const ordered = [...mapped].sort((x, y) => Number(x.id) - Number(y.id));
    const refs = new Map(
      ordered.map((e) => [
        e.id,
        claimedAtInsert ? (claimedAtInsert.get(e.messageId) ?? null) : targets.has(e.name) ? timeOrderedId() : null,
      ]),
    );
    const claimed = claimedAtInsert
      ? new Set(ordered.map((e) => e.id))
      : await claimEvents(
          tx,
          workspaceId,
          ordered.map((e) => ({ eventId: e.id, messageRef: refs.get(e.id)! })),
        );
    for (const e of ordered) {
      // an event claimed by a concurrent replay or ingest first is theirs: it neither cancels nor starts anything here
      if (!claimed.has(e.id)) continue;
      const cancelling = cancel ? cancels.get(e.name) : undefined;
      if (cancelling) {
        await flushStarts();
        await this.runs.cancelForEventsIn(
          tx,
          workspaceId,
          cancelling.map((c) => ({
            ...c,
            userId: userOf(e),
            data: dataOf(e),
            event: e.payload,
            eventId: e.id,
            eventName: e.name,
          })),
          at,
        );
      }
      const target = targets.get(e.name);
      const ref = refs.get(e.id)!;
      if (!target) continue;
      if (target.templateId) {
        created.push({
          id: ref!,
          templateId: target.templateId,
          userId: userOf(e),
          data: dataOf(e),
          eventId: e.id,
          eventName: e.name,
        });
      } else {
        const context = e.payload.context;
        const zone = isJsonObject(context) && typeof context.timezone === 'string' ? context.timezone : null;
        starts.push({
          id: ref!,
          workflowId: target.workflowId!,
          userId: userOf(e),
          data: dataOf(e),
          eventId: e.id,
          messageId: e.messageId,
          event: e.payload,
          eventTimezone: zone && zone.length <= 64 ? zone : null,
        });
      }
    }
    await flushStarts();
    await this.messages.createIn(tx, workspaceId, created, at);
    return created.length + started;
  }
}
