import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Channel } from '../../domain/channel/channel.enum';

@ObjectType({ description: 'An installed provider plugin' })
export class ProviderPlugin {
  @Field(() => String)
  slug!: string;

  @Field(() => [Channel], { description: 'The channels it can serve' })
  channels!: Channel[];

  @Field(() => String)
  title!: string;

  @Field(() => GraphQLJSONObject, { description: 'JSON Schema of its settings; secret fields have `secret: true`' })
  settingsSchema!: Record<string, unknown>;
}
