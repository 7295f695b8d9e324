import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { Field, ID, ObjectType } from 'type-graphql';
import { timeColumn } from '../../db/columns';
import { ApiKeyScope } from './api-key-scope.enum';

/** An API key. Only its SHA-256 hash is stored; `prefix` identifies it in listings. */
@Entity('api_keys')
@Index('IDX_api_keys_prefix', ['prefix'])
@Index('IDX_api_keys_workspace', ['workspaceId'])
@ObjectType({ description: 'An API key; the secret itself is shown only once, when it is created' })
export class ApiKey {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  @Field(() => ID)
  id!: string;

  @Column({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @Column({ type: 'varchar', length: 100, nullable: true })
  @Field(() => String, { nullable: true })
  name!: string | null;

  @Column({ type: 'varchar', length: 16 })
  @Field(() => String)
  prefix!: string;

  @Column({ type: 'varchar', length: 64, name: 'secret_hash' })
  secretHash!: string;

  @Column({ type: 'varchar', length: 10 })
  @Field(() => ApiKeyScope)
  scope!: ApiKeyScope;

  @Column(timeColumn('created_at'))
  @Field(() => Date)
  createdAt!: Date;

  @Column(timeColumn('last_used_at', { nullable: true }))
  @Field(() => Date, { nullable: true })
  lastUsedAt!: Date | null;

  @Column(timeColumn('revoked_at', { nullable: true }))
  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;
}
