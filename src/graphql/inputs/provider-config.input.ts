import { Field, ID, InputType, Int } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Channel } from '../../domain/channel/channel.enum';

@InputType({ description: 'Adds a provider configuration, or updates the one with `id`' })
export class ProviderConfigInput {
  @Field(() => ID, { nullable: true, description: 'Update this configuration instead of adding one' })
  id?: string | null;

  @Field(() => Channel)
  channel!: Channel;

  @Field(() => String, { description: 'Plugin slug, see `plugins`' })
  provider!: string;

  @Field(() => GraphQLJSONObject, {
    description: 'Settings per the plugin settingsSchema; "********" keeps a stored secret',
  })
  config!: Record<string, unknown>;

  @Field(() => Int, { nullable: true, description: 'Ascending; default 0' })
  priority?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'Default true' })
  enabled?: boolean | null;
}
