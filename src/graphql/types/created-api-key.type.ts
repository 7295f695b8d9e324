import { Field, ObjectType } from 'type-graphql';
import { ApiKey } from '../../domain/workspace/api-key.entity';

@ObjectType({ description: 'A new API key with its secret, which is shown only here' })
export class CreatedApiKey {
  @Field(() => ApiKey)
  apiKey!: ApiKey;

  @Field(() => String)
  secret!: string;
}
