import { Field, InputType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Channel } from '../../domain/channel/channel.enum';

@InputType({ description: 'A template draft' })
export class TemplateInput {
  @Field(() => String, { description: 'Stable key, unique in the workspace' })
  key!: string;

  @Field(() => String)
  name!: string;

  @Field(() => [Channel], { description: 'Channels in order of preference' })
  channels!: Channel[];

  @Field(() => GraphQLJSONObject, {
    description:
      'One entry per channel: email {subject, html?, text?}, sms {body}, push {title, body}, slack {text}, msteams {text}, whatsapp {body}, webhook {body}; Handlebars over { data, profile, event }',
  })
  content!: Record<string, unknown>;
}
