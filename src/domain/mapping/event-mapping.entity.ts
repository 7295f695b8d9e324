import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Field, ObjectType } from 'type-graphql';
import { timeColumn } from '../../db/columns';

/** Maps an inbound event name (`Segment-TrackEvent:<event>`) to the template it sends. */
@Entity('event_mappings')
@ObjectType({ description: 'Sends a template whenever an inbound event of this name arrives' })
export class EventMapping {
  @PrimaryColumn({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @PrimaryColumn({ type: 'varchar', length: 255, name: 'event_name' })
  @Field(() => String, { description: 'The full inbound name, e.g. `Segment-TrackEvent:Order Completed`' })
  eventName!: string;

  @Column({ type: 'varchar', length: 36, name: 'template_id' })
  templateId!: string;

  @Column(timeColumn('created_at'))
  @Field(() => Date)
  createdAt!: Date;

  @Column(timeColumn('updated_at'))
  @Field(() => Date)
  updatedAt!: Date;
}
