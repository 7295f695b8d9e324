import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Field, ObjectType } from 'type-graphql';
import { timeColumn } from '../../db/columns';

/** Maps an inbound event name (`Segment-TrackEvent:<event>`) to the template it sends or the workflow it starts. */
@Entity('event_mappings')
@ObjectType({
  description: 'Sends a template, or starts a workflow run, whenever an inbound event of this name arrives',
})
export class EventMapping {
  @PrimaryColumn({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @PrimaryColumn({ type: 'varchar', length: 255, name: 'event_name' })
  @Field(() => String, { description: 'The full inbound name, e.g. `Segment-TrackEvent:Order Completed`' })
  eventName!: string;

  /** The template sent; exactly one of `templateId` and `workflowId` is set. */
  @Column({ type: 'varchar', length: 36, name: 'template_id', nullable: true })
  templateId!: string | null;

  /** The workflow started. */
  @Column({ type: 'varchar', length: 36, name: 'workflow_id', nullable: true })
  workflowId!: string | null;

  @Column(timeColumn('created_at'))
  @Field(() => Date)
  createdAt!: Date;

  @Column(timeColumn('updated_at'))
  @Field(() => Date)
  updatedAt!: Date;
}
