import { Field, InputType } from 'type-graphql';
import { EventStatus } from '../../domain/event-log/event-status.enum';
import { EventType } from '../../domain/event-log/event-type.enum';

@InputType({ description: 'Keeps events matching every given condition' })
export class EventFilter {
  @Field(() => EventType, { nullable: true })
  type?: EventType | null;

  @Field(() => EventStatus, { nullable: true })
  status?: EventStatus | null;

  @Field(() => String, {
    nullable: true,
    description: 'The full inbound name, e.g. `Segment-TrackEvent:Order Completed`',
  })
  name?: string | null;

  @Field(() => String, { nullable: true })
  userId?: string | null;

  @Field(() => Date, { nullable: true, description: 'receivedAt at or after' })
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: 'receivedAt before' })
  until?: Date | null;
}
