import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { jsonColumn, timeColumn } from '../../db/columns';
import { Channel } from '../channel/channel.enum';
import { RoutingAction, RoutingMethod } from './routing.enums';

/**
 * A routing rule: for the template `templateId` (or every template when null), when `when` holds,
 * route by `method` over `channels`, or suppress. Rules are data; the pipeline evaluates them in
 * ascending `priority`, template-specific first on ties, then oldest first.
 */
@Entity('routing_rules')
@Index('IDX_routing_rules_workspace_template', ['workspaceId', 'templateId'])
@ObjectType({ description: 'A conditional routing rule' })
export class RoutingRule {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  @Field(() => ID)
  id!: string;

  @Column({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @Column({ type: 'varchar', length: 36, name: 'template_id', nullable: true })
  @Field(() => ID, { nullable: true, description: 'null: a workspace-wide rule' })
  templateId!: string | null;

  @Column({ type: 'varchar', length: 255 })
  @Field(() => String)
  name!: string;

  @Column({ type: 'int', default: 0 })
  @Field(() => Int)
  priority!: number;

  @Column(jsonColumn('condition_tree', { nullable: true }))
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'The condition tree; absent always holds' })
  when!: Record<string, unknown> | null;

  @Column({ type: 'varchar', length: 16 })
  @Field(() => RoutingAction)
  action!: RoutingAction;

  @Column({ type: 'varchar', length: 16, nullable: true })
  @Field(() => RoutingMethod, { nullable: true })
  method!: RoutingMethod | null;

  @Column(jsonColumn('channels', { nullable: true }))
  @Field(() => [Channel], { nullable: true })
  channels!: Channel[] | null;

  @Column({ type: 'boolean', default: true })
  @Field(() => Boolean)
  enabled!: boolean;

  @Column(timeColumn('created_at'))
  @Field(() => Date)
  createdAt!: Date;

  @Column(timeColumn('updated_at'))
  updatedAt!: Date;
}
