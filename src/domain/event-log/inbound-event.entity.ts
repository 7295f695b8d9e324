import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { Field, ID, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { jsonColumn, timeColumn } from '../../db/columns';
import { EventStatus } from './event-status.enum';
import { EventType } from './event-type.enum';

/** The prefix of every track event's name in the log: `Segment-TrackEvent:<event>`. */
export const TRACK_EVENT_PREFIX = 'Segment-TrackEvent:';

/** The full name a track is logged under. */
export function trackEventName(event: string): string {
  return TRACK_EVENT_PREFIX + event;
}

/** One inbound Segment message, stored exactly once per (workspace, messageId). */
@Entity('inbound_events')
@Unique('UQ_inbound_events_workspace_message', ['workspaceId', 'messageId'])
@Index('IDX_inbound_events_ws_received', ['workspaceId', 'receivedAt', 'id'])
// the list indexes of a name and of a user also hold what a page of the events list shows (migration
// EventListIndexes1765000003000, with the virtual column `list_message_id` no entity field maps): they are
// declared there, and here only by their leading columns
@Index('IDX_inbound_events_ws_name_received', ['workspaceId', 'name', 'receivedAt', 'id'])
@Index('IDX_inbound_events_ws_status_received', ['workspaceId', 'status', 'receivedAt', 'id'])
@Index('IDX_inbound_events_ws_user_received', ['workspaceId', 'userId', 'receivedAt', 'id'])
@Index('IDX_inbound_events_ws_type_received', ['workspaceId', 'type', 'receivedAt', 'id'])
@ObjectType({ description: 'An event received from Segment, as it was received' })
export class InboundEvent {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  @Field(() => ID)
  id!: string;

  @Column({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @Column({ type: 'varchar', length: 255, name: 'message_id' })
  @Field(() => String)
  messageId!: string;

  @Column({ type: 'varchar', length: 16 })
  @Field(() => EventType)
  type!: EventType;

  @Column({ type: 'varchar', length: 255, nullable: true })
  @Field(() => String, { nullable: true, description: 'For a track: `Segment-TrackEvent:<event>`' })
  name!: string | null;

  @Column({ type: 'varchar', length: 255, name: 'user_id', nullable: true })
  @Field(() => String, { nullable: true })
  userId!: string | null;

  @Column({ type: 'varchar', length: 255, name: 'anonymous_id', nullable: true })
  @Field(() => String, { nullable: true })
  anonymousId!: string | null;

  @Column({ type: 'varchar', length: 16 })
  @Field(() => EventStatus)
  status!: EventStatus;

  @Column(jsonColumn('payload'))
  @Field(() => GraphQLJSONObject, { description: 'The Segment message as received' })
  payload!: Record<string, unknown>;

  @Column(timeColumn('timestamp'))
  @Field(() => Date, { description: 'When it happened, corrected for client clock skew' })
  timestamp!: Date;

  @Column(timeColumn('received_at'))
  @Field(() => Date)
  receivedAt!: Date;

  /** The message this event became, once mapped (send pipeline). */
  @Column({ type: 'varchar', length: 36, name: 'message_ref', nullable: true })
  messageRef!: string | null;
}
