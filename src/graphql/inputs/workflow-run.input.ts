import { Field, InputType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { WorkflowRunStatus } from '../../domain/workflow/workflow-run';

@InputType({ description: 'Starts a run of a workflow for one user' })
export class TriggerInput {
  @Field(() => String)
  workflowKey!: string;

  @Field(() => String)
  userId!: string;

  @Field(() => GraphQLJSONObject, { nullable: true, description: "The run's data (what templates read as `data`)" })
  data?: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, description: 'Unique per workflow: a repeat returns the same run' })
  idempotencyKey?: string | null;

  @Field(() => String, { nullable: true, description: "Replaces the key the workflow's cancelKeyPath would give" })
  cancelKey?: string | null;
}

@InputType({ description: 'Keeps runs matching every given condition' })
export class WorkflowRunFilter {
  @Field(() => String, { nullable: true })
  workflowKey?: string | null;

  @Field(() => WorkflowRunStatus, { nullable: true })
  status?: WorkflowRunStatus | null;

  @Field(() => String, { nullable: true })
  userId?: string | null;

  @Field(() => Date, { nullable: true, description: 'createdAt at or after' })
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: 'createdAt before' })
  until?: Date | null;
}
