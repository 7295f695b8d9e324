import { Field, ID, InputType, Int } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { RoutingAction, RoutingMethod } from '../../domain/routing/routing.enums';
import { Channel } from '../../domain/channel/channel.enum';

@InputType({ description: 'A routing rule; without templateId it applies to every template' })
export class RoutingRuleInput {
  @Field(() => String)
  name!: string;

  @Field(() => ID, { nullable: true })
  templateId?: string | null;

  @Field(() => Int, { description: 'Ascending: the lowest number is evaluated first' })
  priority!: number;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Condition tree; absent always holds' })
  when?: Record<string, unknown> | null;

  @Field(() => RoutingAction)
  action!: RoutingAction;

  @Field(() => RoutingMethod, { nullable: true, description: 'For ROUTE; default SINGLE' })
  method?: RoutingMethod | null;

  @Field(() => [Channel], { nullable: true, description: "For ROUTE: channels in order; default the template's" })
  channels?: Channel[] | null;

  @Field(() => Boolean, { nullable: true, description: 'Default true' })
  enabled?: boolean | null;
}
