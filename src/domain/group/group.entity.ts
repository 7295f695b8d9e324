import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { jsonColumn, timeColumn } from '../../db/columns';

/** A Segment group (an account, a company) with traits merged like a profile's. */
@Entity('user_groups')
@Unique('UQ_user_groups_workspace_group', ['workspaceId', 'groupId'])
@ObjectType({ description: 'A group (account, company) built from group calls' })
export class Group {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @Column({ type: 'varchar', length: 255, name: 'group_id' })
  @Field(() => String)
  groupId!: string;

  @Column(jsonColumn('traits'))
  @Field(() => GraphQLJSONObject)
  traits!: Record<string, unknown>;

  @Column(timeColumn('created_at'))
  @Field(() => Date)
  createdAt!: Date;

  @Column(timeColumn('updated_at'))
  @Field(() => Date)
  updatedAt!: Date;
}
