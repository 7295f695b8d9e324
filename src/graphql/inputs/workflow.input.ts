import { Field, InputType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';

@InputType({ description: 'A workflow draft; the steps are checked when it is saved' })
export class WorkflowInput {
  @Field(() => String, { description: 'Stable key, unique in the workspace' })
  key!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true, description: 'The topic its sends belong to (preferences)' })
  topic?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Where each run finds its cancel key, e.g. `data.cartId`',
  })
  cancelKeyPath?: string | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'Send window for every send step: {"days":["MO",…], "from":"08:00", "until":"20:00"} (local time)',
  })
  window?: Record<string, unknown> | null;

  @Field(() => [GraphQLJSONObject], {
    description:
      'The steps, in order: {"ref","type":"send"|"delay"|"throttle"|"digest"|"exit", …, "when"?}; see the README, "Workflows"',
  })
  steps!: Record<string, unknown>[];
}
