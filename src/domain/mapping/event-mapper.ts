import type { Database, Sql } from '../../db/database';
import { isJsonObject } from '../../lib/json';
import type { EventFilter } from '../event-log/event-filter';
import type { TrackMapper } from '../event-log/event-log.service';
import { claimEvent, storedEventIds, unmappedTracks, type StoredTrack } from '../event-log/event-log-store';
import { EventStatus } from '../event-log/event-status.enum';
import { EventType } from '../event-log/event-type.enum';
import { trackEventName } from '../event-log/inbound-event.entity';
import type { IncomingEvent } from '../event-log/incoming-event';
import { timeOrderedId } from '../ids';
import type { MessageService } from '../message/message.service';
import type { NewMessage } from '../message/message-store';
import type { ProfileService } from '../profile/profile.service';
import type { RequestContext } from '../request-context';
import type { MappingService } from './mapping.service';

/** Stored events replay maps per transaction. */
const REPLAY_PAGE = 500;

/**
 * Track → message: a stored track event whose name is mapped to a template becomes a message of that
 * template (README, "From event to notification: a walk-through"). The event log calls
 * {@link mapTracksIn} in the transaction that stores the events, so a mapped track and its message
 * (and the message's job) commit together; {@link replay} maps tracks stored while they were unmapped.
 * Each event becomes at most one message: it is claimed (UNMAPPED → MAPPED) before its message is created.
 */
export class EventMapper implements TrackMapper {
  constructor(
    private readonly db: Database,
    private readonly mappings: MappingService,
    private readonly profiles: ProfileService,
    private readonly messages: MessageService,
  ) {}

  /**
   * Maps the tracks among `events`, just stored by the event log in `tx` (other types are skipped).
   * Returns how many became messages; call {@link wake} once the transaction committed.
   */
  async mapTracksIn(tx: Sql, workspaceId: number, events: IncomingEvent[]): Promise<number> {
    const tracks = events.filter((e) => e.type === EventType.TRACK);
    if (!tracks.length) return 0;
    const templates = await this.mappings.templatesFor(
      tx,
      workspaceId,
      tracks.map((e) => trackEventName(e.event!)),
    );
    const mapped = tracks.filter((e) => templates.has(trackEventName(e.event!)));
    if (!mapped.length) return 0;
    const byMessageId = new Map(mapped.map((e) => [e.messageId, e]));
    const stored = (await storedEventIds(tx, workspaceId, [...byMessageId.keys()])).map(({ id, messageId }) => {
      const e = byMessageId.get(messageId)!;
      return {
        id,
        name: trackEventName(e.event!),
        userId: e.userId,
        anonymousId: e.anonymousId,
        properties: e.payload.properties,
      };
    });
    return this.mapStoredIn(tx, workspaceId, stored, events[0].receivedAt, templates);
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

  /** Lets a worker in this process start on the messages of a transaction that has committed. */
  wake(): void {
    this.messages.wake();
  }

  /**
   * Turns stored track events into messages for the mapped ones (`templates`: event name → template
   * id, looked up when absent), claiming each event first: an event a concurrent call claimed is
   * skipped. Returns how many became messages.
   */
  private async mapStoredIn(
    tx: Sql,
    workspaceId: number,
    events: StoredTrack[],
    at: Date,
    templates?: Map<string, string>,
  ): Promise<number> {
    templates ??= await this.mappings.templatesFor(
      tx,
      workspaceId,
      events.map((e) => e.name),
    );
    const mapped = events.filter((e) => templates.has(e.name));
    if (!mapped.length) return 0;
    // a track of an anonymous id that was merged later goes to the user
    const anonymous = mapped.filter((e) => !e.userId && e.anonymousId).map((e) => e.anonymousId!);
    const aliases = anonymous.length ? await this.profiles.resolveAliases(tx, workspaceId, anonymous) : new Map();
    const created: (NewMessage & { id: string })[] = [];
    for (const e of mapped) {
      const id = timeOrderedId();
      if (!(await claimEvent(tx, workspaceId, e.id, id))) continue;
      created.push({
        id,
        templateId: templates.get(e.name)!,
        userId: e.userId ?? aliases.get(e.anonymousId!) ?? e.anonymousId!,
        data: isJsonObject(e.properties) ? e.properties : {},
        eventId: e.id,
        eventName: e.name,
      });
    }
    await this.messages.createIn(tx, workspaceId, created, at);
    return created.length;
  }
}
