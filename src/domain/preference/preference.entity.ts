import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { Field, ObjectType } from 'type-graphql';
import { timeColumn } from '../../db/columns';
import { Channel } from '../channel/channel.enum';
import { PreferenceState } from './preference.enums';

/**
 * One stored preference of a user: (topic or all, channel or all) → OPTED_IN / OPTED_OUT. "All" is
 * stored as `''` (so the unique key holds on every engine) and read as null.
 */
@Entity('preferences')
@Unique('UQ_preferences_workspace_user_topic_channel', ['workspaceId', 'userId', 'topicKey', 'channelKey'])
@ObjectType({ description: "A user's choice for a topic and channel (null: all topics / all channels)" })
export class Preference {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @Column({ type: 'varchar', length: 255, name: 'user_id' })
  userId!: string;

  /** The topic key, `''` for all topics. */
  @Column({ type: 'varchar', length: 100, name: 'topic_key' })
  topicKey!: string;

  /** The channel, `''` for all channels. */
  @Column({ type: 'varchar', length: 16, name: 'channel' })
  channelKey!: string;

  @Field(() => String, { nullable: true, description: 'The topic key; null: every topic' })
  topic!: string | null;

  @Field(() => Channel, { nullable: true, description: 'null: every channel' })
  channel!: Channel | null;

  @Column({ type: 'varchar', length: 16 })
  @Field(() => PreferenceState)
  state!: PreferenceState;

  @Column(timeColumn('updated_at'))
  @Field(() => Date)
  updatedAt!: Date;
}
