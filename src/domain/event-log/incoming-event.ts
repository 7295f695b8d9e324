import type { JsonObject } from '../../lib/json';
import type { EventType } from './event-type.enum';

/**
 * A validated, normalised Segment message as the domain sees it. The ingest layer builds it;
 * nothing here knows about HTTP.
 */
export interface IncomingEvent {
  messageId: string;
  type: EventType;
  userId: string | null;
  anonymousId: string | null;
  /** identify / group traits. */
  traits?: JsonObject;
  /** track `event` (the bare name, without the `Segment-TrackEvent:` prefix). */
  event?: string;
  /** group */
  groupId?: string;
  /** alias */
  previousId?: string;
  /** The whole message as received (with batch-level context merged and messageId filled in). */
  payload: JsonObject;
  /** `payload` as JSON text, when the caller serialised it already (it is stored as is). */
  payloadJson?: string;
  /** When it happened, corrected for client clock skew. */
  timestamp: Date;
  receivedAt: Date;
}

/** What became of one incoming event. */
export type IngestOutcome = 'stored' | 'duplicate';
