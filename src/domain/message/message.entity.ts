import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { jsonColumn, timeColumn } from '../../db/columns';
import { Channel } from '../channel/channel.enum';
import { MessageStatus } from './message-status.enum';
import type { RoutingMethod } from '../routing/routing.enums';

/**
 * What a workflow's send step adds to its message: the step, channels and method replacing the
 * template's defaults (routing rules still decide first), and the digest the templates render.
 */
export interface SendOptions {
  /** The send step's `ref`. */
  step?: string;
  channels?: Channel[];
  method?: RoutingMethod;
  digest?: Record<string, unknown>;
  /**
   * The workflow's topic (README, "Preferences and topics"): the send is judged by it, before the
   * template's own topic. Absent: the template's published topic.
   */
  topic?: string;
}

/** A notification to one user, created by a mapped track or by `send`, routed by the pipeline. */
@Entity('messages')
@Unique('UQ_messages_workspace_idempotency', ['workspaceId', 'idempotencyKey'])
@Index('IDX_messages_ws_created', ['workspaceId', 'createdAt', 'id'])
@Index('IDX_messages_ws_status_created', ['workspaceId', 'status', 'createdAt', 'id'])
@Index('IDX_messages_ws_user_created', ['workspaceId', 'userId', 'createdAt', 'id'])
@Index('IDX_messages_ws_template_created', ['workspaceId', 'templateId', 'createdAt', 'id'])
@Index('IDX_messages_ws_event_created', ['workspaceId', 'eventName', 'createdAt', 'id'])
@ObjectType({ description: 'A notification to one user and what became of it' })
export class Message {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  @Field(() => ID)
  id!: string;

  @Column({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @Column({ type: 'varchar', length: 16 })
  @Field(() => MessageStatus)
  status!: MessageStatus;

  @Column({ type: 'varchar', length: 64, nullable: true })
  @Field(() => String, { nullable: true, description: 'Why it ended FILTERED, UNROUTABLE or UNDELIVERABLE' })
  reason!: string | null;

  @Column({ type: 'varchar', length: 36, name: 'template_id', nullable: true })
  templateId!: string | null;

  @Column({ type: 'int', name: 'template_version', nullable: true })
  @Field(() => Int, { nullable: true, description: 'The published template version it was rendered from' })
  templateVersion!: number | null;

  @Column({ type: 'bigint', name: 'event_id', nullable: true })
  eventId!: string | null;

  @Column({ type: 'varchar', length: 255, name: 'event_name', nullable: true })
  @Field(() => String, { nullable: true })
  eventName!: string | null;

  @Column({ type: 'varchar', length: 255, name: 'user_id' })
  @Field(() => String)
  userId!: string;

  @Column(jsonColumn('data'))
  @Field(() => GraphQLJSONObject)
  data!: Record<string, unknown>;

  @Column({ type: 'varchar', length: 16, nullable: true })
  @Field(() => Channel, { nullable: true, description: 'The channel it was sent on (the first, for ALL)' })
  channel!: Channel | null;

  /** The routing decision and rendered content, fixed when the message is routed. */
  @Column(jsonColumn('plan', { nullable: true }))
  plan!: Record<string, unknown> | null;

  @Column({ type: 'varchar', length: 255, name: 'idempotency_key', nullable: true })
  @Field(() => String, { nullable: true })
  idempotencyKey!: string | null;

  /** The workflow run whose send step created it (GraphQL `run`). */
  @Column({ type: 'varchar', length: 36, name: 'run_id', nullable: true })
  runId!: string | null;

  @Column(jsonColumn('send_options', { nullable: true }))
  sendOptions!: SendOptions | null;

  @Column(timeColumn('created_at'))
  @Field(() => Date)
  createdAt!: Date;

  @Column(timeColumn('updated_at'))
  @Field(() => Date)
  updatedAt!: Date;
}
