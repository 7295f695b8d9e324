import { Field, InputType } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';

@InputType({ description: 'Keeps profiles matching every given condition' })
export class ProfileFilter {
  @Field(() => String, {
    nullable: true,
    description: 'Substring of the user id or of the email trait (case-insensitive)',
  })
  search?: string | null;

  @Field(() => String, { nullable: true, description: 'A trait path, dotted for nested traits (e.g. `address.city`)' })
  trait?: string | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'The value the trait must equal' })
  equals?: unknown;
}
