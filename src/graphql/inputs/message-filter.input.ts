import { Field, ID, InputType } from 'type-graphql';
import { MessageStatus } from '../../domain/message/message-status.enum';

@InputType({ description: 'Keeps messages matching every given condition' })
export class MessageFilter {
  @Field(() => MessageStatus, { nullable: true })
  status?: MessageStatus | null;

  @Field(() => String, { nullable: true })
  userId?: string | null;

  @Field(() => ID, { nullable: true })
  templateId?: string | null;

  @Field(() => String, { nullable: true, description: 'The full inbound event name' })
  eventName?: string | null;

  @Field(() => Date, { nullable: true, description: 'createdAt at or after' })
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: 'createdAt before' })
  until?: Date | null;
}
