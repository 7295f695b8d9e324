import { Field, InputType } from 'type-graphql';
import { Channel } from '../../domain/channel/channel.enum';

@InputType({ description: 'Keeps suppressions matching every given condition' })
export class SuppressionFilter {
  @Field(() => Channel, { nullable: true })
  channel?: Channel | null;

  @Field(() => String, {
    nullable: true,
    description: 'The address, compared as stored: e-mail lower-cased, phone numbers as given',
  })
  address?: string | null;
}
