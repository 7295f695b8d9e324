import { Field, ID, InputType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';

@InputType({ description: 'A direct send: one template (by id or key) to one user' })
export class SendInput {
  @Field(() => String)
  userId!: string;

  @Field(() => ID, { nullable: true })
  templateId?: string | null;

  @Field(() => String, { nullable: true })
  templateKey?: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true })
  data?: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, description: 'A repeat with the same key returns the same message' })
  idempotencyKey?: string | null;
}
