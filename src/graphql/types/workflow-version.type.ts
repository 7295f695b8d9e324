import { Field, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';

@ObjectType({ description: 'A published version of a workflow: frozen when it was published, never changed' })
export class WorkflowVersion {
  @Field(() => Int, { description: '1, 2, 3…' })
  version!: number;

  @Field(() => GraphQLJSONObject, {
    description: 'The definition as published: name, topic, cancelKeyPath, window and steps',
  })
  definition!: Record<string, unknown>;

  @Field(() => [GraphQLJSONObject], { description: 'Its steps (the same as `definition.steps`)' })
  steps!: Record<string, unknown>[];

  @Field(() => Date)
  publishedAt!: Date;
}
