import { Field, InputType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Channel } from '../../domain/channel/channel.enum';
import { describeChannelContent } from '../../domain/channel/channels';

@InputType({ description: 'A template draft' })
export class TemplateInput {
  @Field(() => String, { description: 'Stable key, unique in the workspace' })
  key!: string;

  @Field(() => String)
  name!: string;

  @Field(() => [Channel], { description: 'Channels in order of preference' })
  channels!: Channel[];

  @Field(() => GraphQLJSONObject, {
    // the fields come from the channel table
    description: `One entry per channel: ${describeChannelContent()}; Handlebars over { data, profile, event }`,
  })
  content!: Record<string, unknown>;
}
