import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { jsonColumn, timeColumn } from '../../db/columns';
import type { Channel } from '../channel/channel.enum';
import type { CallbackOutcome } from '../provider/provider-callback';

/**
 * One event of a verified provider callback, stored before the provider gets its 2xx and applied later by
 * a worker (`applied_at` set, with its `result`). The provider's event id is unique per configuration, so
 * a retried callback is stored once. Rows are inserted only by `callback-intake.service.ts` (`POST /hooks/:id`).
 */
@Entity('provider_callbacks')
@Unique('UQ_provider_callbacks_config_event', ['providerConfigId', 'eventId'])
@Index('IDX_provider_callbacks_pending', ['appliedAt', 'id'])
export class ProviderCallback {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @Column({ type: 'varchar', length: 36, name: 'provider_config_id' })
  providerConfigId!: string;

  @Column({ type: 'varchar', length: 64 })
  provider!: string;

  @Column({ type: 'varchar', length: 16 })
  channel!: Channel;

  @Column({ type: 'varchar', length: 255, name: 'event_id' })
  eventId!: string;

  @Column({ type: 'varchar', length: 255, name: 'external_id', nullable: true })
  externalId!: string | null;

  @Column({ type: 'varchar', length: 32 })
  outcome!: CallbackOutcome;

  @Column(timeColumn('happened_at'))
  happenedAt!: Date;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  reason!: string | null;

  @Column({ type: 'varchar', length: 32, name: 'error_code', nullable: true })
  errorCode!: string | null;

  /** The provider's own item, as it sent it (a JSON event, or Twilio's form fields). */
  @Column(jsonColumn('raw'))
  raw!: Record<string, unknown>;

  @Column(timeColumn('received_at'))
  receivedAt!: Date;

  /** Null until a worker applied it. */
  @Column(timeColumn('applied_at', { nullable: true }))
  appliedAt!: Date | null;

  /** What applying it did, e.g. `APPLIED`, `NO_EFFECT`, `UNKNOWN_DELIVERY`. */
  @Column({ type: 'varchar', length: 32, nullable: true })
  result!: string | null;
}
