import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { Field, ObjectType } from 'type-graphql';
import { timeColumn } from '../../db/columns';
import { Channel } from '../channel/channel.enum';

/**
 * A suppressed (channel, address) of a workspace: the channel is unavailable for it, also for REQUIRED
 * topics. Addresses are stored normalized (`normalizeAddress`: e-mail lower-cased, phone numbers as given).
 * `expiresAt` null: until removed.
 */
@Entity('suppressions')
@Unique('UQ_suppressions_workspace_channel_address', ['workspaceId', 'channel', 'address'])
@ObjectType({
  description: 'An address a channel no longer sends to (hard bounce, complaint, STOP, soft bounces, or by hand)',
})
export class Suppression {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @Column({ type: 'varchar', length: 16 })
  @Field(() => Channel)
  channel!: Channel;

  @Column({ type: 'varchar', length: 320 })
  @Field(() => String)
  address!: string;

  @Column({ type: 'varchar', length: 100 })
  @Field(() => String)
  reason!: string;

  @Column(timeColumn('created_at'))
  @Field(() => Date)
  createdAt!: Date;

  @Column(timeColumn('expires_at', { nullable: true }))
  @Field(() => Date, { nullable: true, description: 'null: until removed' })
  expiresAt!: Date | null;
}
