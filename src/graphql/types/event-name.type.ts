import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'A distinct track event name seen in the log' })
export class EventName {
  @Field(() => String, { description: 'The full inbound name, e.g. `Segment-TrackEvent:Order Completed`' })
  name!: string;

  @Field(() => Int)
  count!: number;

  @Field(() => Date)
  lastSeenAt!: Date;
}
