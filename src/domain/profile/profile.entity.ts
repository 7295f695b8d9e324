import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { jsonColumn, timeColumn } from '../../db/columns';

/**
 * A user's profile, keyed by `userId` (or by `anonymousId` while the user is anonymous).
 * `traits` is merged with RFC 7396 semantics by the database itself.
 */
@Entity('profiles')
@Unique('UQ_profiles_workspace_user', ['workspaceId', 'userId'])
@ObjectType({ description: 'A user profile built from identify calls' })
export class Profile {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @Column({ type: 'varchar', length: 255, name: 'user_id' })
  @Field(() => String)
  userId!: string;

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
