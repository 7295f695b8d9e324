import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Channel } from '../../domain/channel/channel.enum';
import { MessageStatus } from '../../domain/message/message-status.enum';
import { RoutingMethod } from '../../domain/routing/routing.enums';

@ObjectType({ description: 'A routing step and the facts that decided it (as a message history entry)' })
export class RoutingPreviewStep {
  @Field(() => String, { description: 'TEMPLATE, PROFILE, RULES, TOPIC, SKIPPED_PREFERENCE, SUPPRESSED, CHANNELS, …' })
  type!: string;

  @Field(() => GraphQLJSONObject)
  detail!: Record<string, unknown>;
}

@ObjectType({ description: 'What routing would decide for a message, computed without storing anything' })
export class RoutingPreview {
  @Field(() => MessageStatus, {
    description: 'ROUTED (it would be sent to `channels`), or the final status: FILTERED, UNROUTABLE, UNDELIVERABLE',
  })
  status!: MessageStatus;

  @Field(() => String, { nullable: true, description: 'Why it would end FILTERED, UNROUTABLE or UNDELIVERABLE' })
  reason!: string | null;

  @Field(() => RoutingMethod, { nullable: true })
  method!: RoutingMethod | null;

  @Field(() => [Channel], { description: 'The planned channels, in the order they would be tried' })
  channels!: Channel[];

  @Field(() => [RoutingPreviewStep], {
    description: 'The history entries routing would write (RULES: each rule evaluated, its trace, the match)',
  })
  history!: RoutingPreviewStep[];
}
