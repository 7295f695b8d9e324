import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { timeColumn } from '../../db/columns';

/** A user's membership of a group; keyed by the profile's `userId`. */
@Entity('group_memberships')
@Unique('UQ_group_memberships_workspace_group_user', ['workspaceId', 'groupId', 'userId'])
@Index('IDX_group_memberships_workspace_user', ['workspaceId', 'userId'])
export class GroupMembership {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @Column({ type: 'varchar', length: 255, name: 'group_id' })
  groupId!: string;

  @Column({ type: 'varchar', length: 255, name: 'user_id' })
  userId!: string;

  @Column(timeColumn('created_at'))
  createdAt!: Date;
}
