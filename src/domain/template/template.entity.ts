import { Column, Entity, PrimaryColumn, Unique } from 'typeorm';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { jsonColumn, timeColumn } from '../../db/columns';
import { Channel } from '../channel/channel.enum';
import type { ChannelContent } from '../channel/channel-content';

/**
 * A notification template: an editable draft and, once published, numbered immutable versions
 * (kept in `template_versions`). The pipeline only ever renders a published version.
 */
@Entity('templates')
@Unique('UQ_templates_workspace_key', ['workspaceId', 'key'])
@ObjectType({ description: 'A notification template with a draft and published versions' })
export class Template {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  @Field(() => ID)
  id!: string;

  @Column({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @Column({ type: 'varchar', length: 100, name: 'template_key' })
  @Field(() => String, { description: 'Stable key for scripts, unique in the workspace' })
  key!: string;

  @Column({ type: 'varchar', length: 255 })
  @Field(() => String)
  name!: string;

  @Column(jsonColumn('channels'))
  @Field(() => [Channel], { description: "The draft's channels, in order of preference" })
  channels!: Channel[];

  @Column(jsonColumn('draft'))
  @Field(() => GraphQLJSONObject, { description: 'The draft content, one entry per channel' })
  draft!: ChannelContent;

  @Column({ type: 'varchar', length: 100, nullable: true })
  @Field(() => String, {
    nullable: true,
    description: 'The draft\'s topic key (README, "Preferences and topics"); its messages are judged by it',
  })
  topic!: string | null;

  @Column({ type: 'int', name: 'published_version', nullable: true })
  @Field(() => Int, { nullable: true, description: 'The latest published version: 1, 2, 3…' })
  publishedVersion!: number | null;

  @Column(timeColumn('created_at'))
  @Field(() => Date)
  createdAt!: Date;

  @Column(timeColumn('updated_at'))
  @Field(() => Date)
  updatedAt!: Date;
}
