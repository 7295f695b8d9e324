import { Field, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Channel } from '../../domain/channel/channel.enum';

@ObjectType({ description: 'A published version of a template: frozen when it was published, never changed' })
export class TemplateVersion {
  @Field(() => Int, { description: '1, 2, 3…' })
  version!: number;

  @Field(() => [Channel], { description: 'Its channels, in order of preference' })
  channels!: Channel[];

  @Field(() => GraphQLJSONObject, { description: 'Its content, one entry per channel' })
  content!: Record<string, unknown>;

  @Field(() => String, { nullable: true, description: 'The topic it was published with' })
  topic!: string | null;

  @Field(() => Date)
  publishedAt!: Date;
}
