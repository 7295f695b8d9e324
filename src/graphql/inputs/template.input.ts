import { Field, InputType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Channel } from '../../domain/channel/channel.enum';
import { describeChannelContent } from '../../domain/channel/channels';

/**
 * One input for both template mutations, so a client's `$input: TemplateInput!` works with either:
 * `createTemplate` needs every field (a missing one is `BAD_USER_INPUT` naming it); `updateTemplate`
 * changes only the fields given (`content` per channel: a given channel's entry replaces that channel's
 * content, `null` removes it, channels not mentioned keep theirs).
 */
@InputType({
  description:
    "A template draft. createTemplate needs every field; updateTemplate changes only the fields given (content: per channel, null removes a channel's content)",
})
export class TemplateInput {
  @Field(() => String, { nullable: true, description: 'Stable key, unique in the workspace (required to create)' })
  key?: string | null;

  @Field(() => String, { nullable: true, description: 'Required to create' })
  name?: string | null;

  @Field(() => [Channel], { nullable: true, description: 'Channels in order of preference (required to create)' })
  channels?: Channel[] | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    // the fields come from the channel table
    description: `One entry per channel: ${describeChannelContent()}; Handlebars over { data, profile, event }. Required to create; on update, the channels given replace theirs (null removes one)`,
  })
  content?: Record<string, unknown> | null;

  @Field(() => String, {
    nullable: true,
    description:
      'The topic key its messages are judged by (README, "Preferences and topics"); the topic must exist. On update, "" removes it',
  })
  topic?: string | null;
}
