import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { timeColumn } from '../../db/columns';

/** A tenant: every profile, event, key and setting belongs to exactly one workspace. */
@Entity('workspaces')
@Unique('UQ_workspaces_name', ['name'])
export class Workspace {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column(timeColumn('created_at'))
  createdAt!: Date;
}
