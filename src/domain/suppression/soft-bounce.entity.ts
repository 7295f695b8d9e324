import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { timeColumn } from '../../db/columns';
import type { Channel } from '../channel/channel.enum';

/** A soft bounce of one delivery to a (channel, address); three different deliveries within 7 days suppress it. */
@Entity('soft_bounces')
@Unique('UQ_soft_bounces_address_delivery', ['workspaceId', 'channel', 'address', 'deliveryId'])
export class SoftBounce {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @Column({ type: 'varchar', length: 16 })
  channel!: Channel;

  @Column({ type: 'varchar', length: 320 })
  address!: string;

  @Column({ type: 'varchar', length: 36, name: 'delivery_id' })
  deliveryId!: string;

  @Column(timeColumn('bounced_at'))
  bouncedAt!: Date;
}
