import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { jsonColumn, timeColumn } from '../../db/columns';
import { Channel } from '../channel/channel.enum';

/**
 * One configured provider for one channel. Several may coexist per channel; the pipeline tries
 * them by ascending `priority`. Secret settings are stored encrypted and read back masked.
 */
@Entity('provider_configs')
@Index('IDX_provider_configs_workspace_channel', ['workspaceId', 'channel'])
@Index('UQ_provider_configs_callback_id', ['callbackId'], { unique: true })
@ObjectType({ description: 'A configured channel provider; secret settings read as "********"' })
export class ProviderConfig {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  @Field(() => ID)
  id!: string;

  @Column({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @Column({ type: 'varchar', length: 16 })
  @Field(() => Channel)
  channel!: Channel;

  @Column({ type: 'varchar', length: 64 })
  @Field(() => String, { description: 'The plugin slug, e.g. `sendgrid`' })
  provider!: string;

  @Column(jsonColumn('config'))
  @Field(() => GraphQLJSONObject)
  config!: Record<string, unknown>;

  @Column({ type: 'int', default: 0 })
  @Field(() => Int)
  priority!: number;

  /** The opaque id of this configuration's callback URL (`/hooks/<callbackId>`); unguessable, never reused. */
  @Column({ type: 'varchar', length: 48, name: 'callback_id', nullable: true })
  callbackId!: string | null;

  /** Not a column: set by the service from PIGEON_PUBLIC_URL and {@link callbackId}. */
  @Field(() => String, {
    nullable: true,
    description:
      'Where the provider posts delivery callbacks (PIGEON_PUBLIC_URL + /hooks/<opaque id>): paste it into the ' +
      "provider's console. Null when the plugin has no callbacks or PIGEON_PUBLIC_URL is not set",
  })
  callbackUrl?: string | null;

  @Column({ type: 'boolean', default: true })
  @Field(() => Boolean)
  enabled!: boolean;

  @Column(timeColumn('created_at'))
  @Field(() => Date)
  createdAt!: Date;

  @Column(timeColumn('updated_at'))
  updatedAt!: Date;
}
