import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { timeColumn } from '../db/columns';

/**
 * A unit of work for the workers: "run the pipeline for this message". `run_at` is when it is due;
 * while a worker holds it (`running`), `run_at` is the end of its lease.
 */
@Entity('jobs')
@Index('IDX_jobs_kind_run_at', ['kind', 'runAt'])
@Index('IDX_jobs_message', ['messageId'])
export class Job {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @Column({ type: 'varchar', length: 32 })
  kind!: string;

  @Column({ type: 'varchar', length: 36, name: 'message_id' })
  messageId!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: 'ready' | 'running';

  @Column(timeColumn('run_at'))
  runAt!: Date;

  @Column({ type: 'varchar', length: 100, name: 'locked_by', nullable: true })
  lockedBy!: string | null;

  @Column({ type: 'int', default: 0 })
  runs!: number;

  @Column(timeColumn('created_at'))
  createdAt!: Date;

  @Column(timeColumn('updated_at'))
  updatedAt!: Date;
}
