import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { Field, ObjectType } from 'type-graphql';
import { timeColumn } from '../../db/columns';
import { TopicState } from './preference.enums';

/**
 * A topic: a category of messages users can opt in to or out of (README, "Preferences and topics").
 * Templates and workflows name it by `key`.
 */
@Entity('topics')
@Unique('UQ_topics_workspace_key', ['workspaceId', 'key'])
@ObjectType({ description: 'A category of messages that users can opt in to or out of' })
export class Topic {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @Column({ type: 'varchar', length: 100, name: 'topic_key' })
  @Field(() => String, { description: 'Stable key, unique in the workspace; templates and workflows name it' })
  key!: string;

  @Column({ type: 'varchar', length: 255 })
  @Field(() => String)
  name!: string;

  @Column({ type: 'varchar', length: 16, name: 'default_state' })
  @Field(() => TopicState, { description: 'What applies when no preference of the user decides' })
  defaultState!: TopicState;

  @Column({ type: 'boolean', default: false })
  @Field(() => Boolean, { description: 'Marketing: its email carries one-click unsubscribe headers (RFC 8058)' })
  commercial!: boolean;

  @Column(timeColumn('created_at'))
  createdAt!: Date;

  @Column(timeColumn('updated_at'))
  updatedAt!: Date;
}
