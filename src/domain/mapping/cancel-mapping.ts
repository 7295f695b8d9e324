import { Field, ObjectType } from 'type-graphql';

/**
 * Cancels runs of a workflow whenever an inbound event of this name arrives: runs of the event's user
 * whose cancel key equals the value at `keyPath` in the event (e.g. `data.cartId`: the track's
 * `properties.cartId`). README, "Workflows".
 */
@ObjectType({ description: "Cancels a workflow's runs with the same cancel key when an event of this name arrives" })
export class CancelMapping {
  workspaceId!: number;

  @Field(() => String, { description: 'The full inbound name, e.g. `Segment-TrackEvent:Order Completed`' })
  eventName!: string;

  workflowId!: string;

  @Field(() => String, {
    description: 'Where the cancel key is in the event: `data.<…>` (its properties) or `event.<…>`',
  })
  keyPath!: string;

  @Field(() => Date)
  createdAt!: Date;

  updatedAt!: Date;
}
