import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { fromDbTime } from '../../db/dialect';
import { parseJsonColumn } from '../../db/rows';

/** Where a run is: RUNNING or WAITING while it goes on, one of the others once it has ended. */
export enum WorkflowRunStatus {
  RUNNING = 'RUNNING',
  WAITING = 'WAITING',
  COMPLETED = 'COMPLETED',
  EXITED = 'EXITED',
  CANCELLED = 'CANCELLED',
  THROTTLED = 'THROTTLED',
  DIGESTED = 'DIGESTED',
  FAILED = 'FAILED',
}

registerEnumType(WorkflowRunStatus, { name: 'WorkflowRunStatus' });

/** The statuses of a run that has not ended: a cancel ends these. */
export const OPEN_RUN_STATUSES: readonly WorkflowRunStatus[] = [WorkflowRunStatus.RUNNING, WorkflowRunStatus.WAITING];

/** What a digest step hands the collecting run: templates and conditions read it as `digest`. */
export interface DigestValue {
  /** Items in the bucket, the collecting run's own data included. */
  count: number;
  /** The first 50 items' `data`, oldest first. */
  items: Record<string, unknown>[];
  firstAt: string;
  lastAt: string;
}

/**
 * One run of a workflow for one recipient (README, "Workflows"): started by a mapped track or by
 * `trigger`, it keeps the published version it started with and moves through the steps; while it
 * waits it is a row with a due time (`resumeAt`) and a job, never a timer in memory.
 */
@ObjectType({ description: 'One run of a workflow for one recipient' })
export class WorkflowRun {
  @Field(() => ID)
  id!: string;

  workspaceId!: number;

  workflowId!: string;

  @Field(() => Int, { nullable: true, description: 'The published version it runs (null: none was published)' })
  version!: number | null;

  @Field(() => String)
  userId!: string;

  eventId!: string | null;

  /** The trigger's identity as a digest item: the event's Segment messageId, else the run id. */
  sourceKey!: string;

  @Field(() => GraphQLJSONObject, { description: "The track's properties or trigger's data" })
  data!: Record<string, unknown>;

  @Field(() => WorkflowRunStatus)
  status!: WorkflowRunStatus;

  @Field(() => String, { nullable: true, description: 'Why it ended FAILED (e.g. UNPUBLISHED, INVALID_DELAY)' })
  reason!: string | null;

  /** Index of the step it is at (waiting on, or next to run). */
  stepIndex!: number;

  @Field(() => String, { nullable: true, description: '`ref` of the step it is at, or ended on' })
  step!: string | null;

  @Field(() => Date, { nullable: true, description: 'When it is next due, while WAITING' })
  resumeAt!: Date | null;

  @Field(() => String, { nullable: true })
  cancelKey!: string | null;

  idempotencyKey!: string | null;

  @Field(() => String, { nullable: true, description: "The recipient's IANA time zone used, once resolved" })
  timezone!: string | null;

  /** The triggering event's `context.timezone`, a candidate for {@link timezone}. */
  eventTimezone!: string | null;

  /** After a digest step: what it collected. */
  digest!: DigestValue | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;

  get isOpen(): boolean {
    return OPEN_RUN_STATUSES.includes(this.status);
  }
}

/** A `workflow_runs` row as the drivers return it. */
export interface RunRow {
  id: string;
  workspace_id: number;
  workflow_id: string;
  version: number | null;
  user_id: string;
  event_id: string | number | null;
  source_key: string;
  data: unknown;
  status: string;
  reason: string | null;
  step_index: number;
  step_ref: string | null;
  resume_at: unknown;
  cancel_key: string | null;
  idempotency_key: string | null;
  timezone: string | null;
  event_timezone: string | null;
  digest: unknown;
  created_at: unknown;
  updated_at: unknown;
}

export function toRun(row: RunRow): WorkflowRun {
  return Object.assign(new WorkflowRun(), {
    id: row.id,
    workspaceId: Number(row.workspace_id),
    workflowId: row.workflow_id,
    version: row.version === null ? null : Number(row.version),
    userId: row.user_id,
    eventId: row.event_id === null ? null : String(row.event_id),
    sourceKey: row.source_key,
    data: parseJsonColumn<Record<string, unknown>>(row.data) ?? {},
    status: row.status as WorkflowRunStatus,
    reason: row.reason,
    stepIndex: Number(row.step_index),
    step: row.step_ref,
    resumeAt: row.resume_at ? fromDbTime(row.resume_at) : null,
    cancelKey: row.cancel_key,
    idempotencyKey: row.idempotency_key,
    timezone: row.timezone,
    eventTimezone: row.event_timezone,
    digest: row.digest === null || row.digest === undefined ? null : parseJsonColumn<DigestValue>(row.digest),
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  });
}
