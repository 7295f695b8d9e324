import { Field, Int, ObjectType } from 'type-graphql';
import { EventMapping } from '../../domain/mapping/event-mapping.entity';

@ObjectType({ description: 'A distinct track event name seen in the log' })
export class EventName {
  @Field(() => String, { description: 'The full inbound name, e.g. `Segment-TrackEvent:Order Completed`' })
  name!: string;

  @Field(() => Int)
  count!: number;

  @Field(() => Date)
  lastSeenAt!: Date;

  /**
   * Filled by `eventNames` for the whole list with one query when the document selects it (a plain
   * property: no resolver and no promise per name); left unset, and never read, when it does not.
   */
  @Field(() => EventMapping, { nullable: true, description: 'The mapping of this name, if any' })
  mapping?: EventMapping | null;
}
