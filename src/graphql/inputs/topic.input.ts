import { Field, InputType } from 'type-graphql';
import { TopicState } from '../../domain/preference/preference.enums';

/**
 * One input for both topic mutations: `createTopic` needs `key` and `name` (`defaultState` defaults to ON,
 * `commercial` to false); `updateTopic` changes only the fields given, and the key never changes.
 */
@InputType({ description: 'A topic. createTopic needs key and name; updateTopic changes only the fields given' })
export class TopicInput {
  @Field(() => String, { nullable: true, description: 'Stable key, unique in the workspace (required to create)' })
  key?: string | null;

  @Field(() => String, { nullable: true, description: 'Shown to users on the preferences page (required to create)' })
  name?: string | null;

  @Field(() => TopicState, { nullable: true, description: 'ON when omitted on create' })
  defaultState?: TopicState | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Marketing email (RFC 8058 one-click unsubscribe); default false',
  })
  commercial?: boolean | null;
}
