import { Column, Entity, PrimaryColumn } from 'typeorm';
import { timeColumn } from '../../db/columns';

/** A maintained per-name counter of track events, so `eventNames` never scans the log. */
@Entity('event_names')
export class EventNameStat {
  @PrimaryColumn({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  name!: string;

  /** Concurrent ingest transactions count into different shards of a name; `eventNames` sums them. */
  @PrimaryColumn({ type: 'smallint', default: 0 })
  shard!: number;

  @Column({ type: 'bigint', name: 'event_count' })
  count!: string;

  @Column(timeColumn('last_seen_at'))
  lastSeenAt!: Date;
}
