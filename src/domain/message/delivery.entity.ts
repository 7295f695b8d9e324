import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';
import { Field, Int, ObjectType } from 'type-graphql';
import { timeColumn } from '../../db/columns';
import { Channel } from '../channel/channel.enum';
import { DeliveryStatus } from './message-status.enum';

/** One (channel, provider configuration) a message was tried on; `attempts` counts its tries. */
@Entity('deliveries')
@Unique('UQ_deliveries_message_channel_config', ['messageId', 'channel', 'providerConfigId'])
@Index('IDX_deliveries_config_external', ['providerConfigId', 'externalId'])
@ObjectType({ description: 'A message on one channel through one provider configuration' })
export class Delivery {
  /** Also the idempotency key passed to providers: the same for every attempt. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'message_id' })
  messageId!: string;

  @Column({ type: 'varchar', length: 16 })
  @Field(() => Channel)
  channel!: Channel;

  @Column({ type: 'varchar', length: 36, name: 'provider_config_id' })
  providerConfigId!: string;

  @Column({ type: 'varchar', length: 64 })
  @Field(() => String)
  provider!: string;

  @Column({ type: 'varchar', length: 16 })
  @Field(() => DeliveryStatus)
  status!: DeliveryStatus;

  @Column({ type: 'int', default: 0 })
  @Field(() => Int)
  attempts!: number;

  @Column({ type: 'varchar', length: 1000, name: 'last_error', nullable: true })
  @Field(() => String, { nullable: true })
  lastError!: string | null;

  @Column({ type: 'varchar', length: 255, name: 'external_id', nullable: true })
  @Field(() => String, { nullable: true })
  externalId!: string | null;

  @Column(timeColumn('sent_at', { nullable: true }))
  @Field(() => Date, { nullable: true })
  sentAt!: Date | null;

  /** When the provider confirmed delivery, by a callback (README, "Delivery tracking"). */
  @Column(timeColumn('delivered_at', { nullable: true }))
  @Field(() => Date, {
    nullable: true,
    description: 'When the provider confirmed delivery, by a callback',
  })
  deliveredAt!: Date | null;

  /** The first open the provider reported (a time, not a status). */
  @Column(timeColumn('opened_at', { nullable: true }))
  @Field(() => Date, { nullable: true, description: 'The first open the provider reported (a time, not a status)' })
  openedAt!: Date | null;

  /** The first click the provider reported (a time, not a status). */
  @Column(timeColumn('clicked_at', { nullable: true }))
  @Field(() => Date, { nullable: true, description: 'The first click the provider reported (a time, not a status)' })
  clickedAt!: Date | null;

  @Column(timeColumn('next_attempt_at', { nullable: true }))
  nextAttemptAt!: Date | null;

  @Column(timeColumn('created_at'))
  createdAt!: Date;

  @Column(timeColumn('updated_at'))
  updatedAt!: Date;
}
