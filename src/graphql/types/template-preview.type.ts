import { Field, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';

@ObjectType({ description: 'A rendered template' })
export class TemplatePreview {
  @Field(() => GraphQLJSONObject, { description: 'One entry per channel, same shape as the content' })
  rendered!: Record<string, unknown>;

  @Field(() => [String], {
    description: 'Variables the templates use that the sample did not have, e.g. `data.orderId`',
  })
  missingVariables!: string[];
}
