import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { jsonColumn, timeColumn } from '../../db/columns';

/** One step of a message's way through the pipeline, with the facts that decided it. */
@Entity('message_history')
@Index('IDX_message_history_message', ['messageId', 'id'])
@ObjectType({ description: 'A step of the pipeline and the facts that decided it' })
export class MessageHistory {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'message_id' })
  messageId!: string;

  @Column(timeColumn('at'))
  @Field(() => Date)
  at!: Date;

  @Column({ type: 'varchar', length: 32 })
  @Field(() => String)
  type!: string;

  @Column(jsonColumn('detail'))
  @Field(() => GraphQLJSONObject)
  detail!: Record<string, unknown>;
}
