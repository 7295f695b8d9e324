import { Column, Entity, PrimaryColumn, Unique } from 'typeorm';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { jsonColumn, timeColumn } from '../../db/columns';
import type { SendWindow } from './local-time';
import type { WorkflowStep } from './workflow-steps';
import { WorkflowStatus } from './workflow-status.enum';

/** What a workflow version holds: everything but its key. */
export interface WorkflowDefinition {
  name: string;
  topic: string | null;
  cancelKeyPath: string | null;
  window: SendWindow | null;
  steps: WorkflowStep[];
}

/**
 * A workflow: a named, versioned list of steps run for one recipient. The draft is edited freely;
 * publishing freezes it as the next numbered version (kept in `workflow_versions`), and a run keeps the
 * version it started with. `name`, `topic`, `cancelKeyPath` and `window` read the draft.
 */
@Entity('workflows')
@Unique('UQ_workflows_workspace_key', ['workspaceId', 'key'])
@ObjectType({ description: 'A workflow: steps between a trigger and a send, with a draft and published versions' })
export class Workflow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  @Field(() => ID)
  id!: string;

  @Column({ type: 'int', name: 'workspace_id' })
  workspaceId!: number;

  @Column({ type: 'varchar', length: 100, name: 'workflow_key' })
  @Field(() => String, { description: 'Stable key for scripts, mappings and `trigger`, unique in the workspace' })
  key!: string;

  @Column(jsonColumn('draft'))
  @Field(() => GraphQLJSONObject, { description: 'The draft: name, topic, cancelKeyPath, window and steps' })
  draft!: WorkflowDefinition;

  @Column({ type: 'int', name: 'published_version', nullable: true })
  @Field(() => Int, { nullable: true, description: 'The latest published version: 1, 2, 3…' })
  publishedVersion!: number | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'The latest published version, as published' })
  published!: WorkflowDefinition | null;

  @Column(timeColumn('created_at'))
  @Field(() => Date)
  createdAt!: Date;

  @Column(timeColumn('updated_at'))
  @Field(() => Date)
  updatedAt!: Date;

  @Field(() => String, { description: "The draft's name" })
  get name(): string {
    return this.draft.name;
  }

  @Field(() => String, { nullable: true, description: "The draft's topic (the preference it sends under)" })
  get topic(): string | null {
    return this.draft.topic;
  }

  @Field(() => String, {
    nullable: true,
    description:
      "The draft's cancel key path (e.g. `data.cartId`): runs with the same key value are cancelled together",
  })
  get cancelKeyPath(): string | null {
    return this.draft.cancelKeyPath;
  }

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'The draft\'s send window: {"days", "from", "until"} in the recipient\'s time zone',
  })
  get window(): SendWindow | null {
    return this.draft.window;
  }

  @Field(() => WorkflowStatus)
  get status(): WorkflowStatus {
    return this.publishedVersion ? WorkflowStatus.PUBLISHED : WorkflowStatus.DRAFT;
  }
}
