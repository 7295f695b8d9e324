import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { timeColumn } from '../../db/columns';

/** An anonymous id remembered for a user after identify (with both ids) or alias merged it. */
@Entity('profile_aliases')
@Unique('UQ_profile_aliases_workspace_anonymous', ['workspaceId', 'anonymousId'])
@Index('IDX_profile_aliases_workspace_user', ['workspaceId', 'userId'])
export class ProfileAlias {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @Column({ type: 'varchar', length: 255, name: 'anonymous_id' })
  anonymousId!: string;

  @Column({ type: 'varchar', length: 255, name: 'user_id' })
  userId!: string;

  @Column(timeColumn('created_at'))
  createdAt!: Date;
}
