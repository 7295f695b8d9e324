import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { InboundEvent } from '../../domain/event-log/inbound-event.entity';
import { Message } from '../../domain/message/message.entity';
import { MessageHistory } from '../../domain/message/message-history.entity';
import { pageSize } from '../../domain/pagination';
import type { RequestContext } from '../../domain/request-context';
import { WorkflowRun } from '../../domain/workflow/workflow-run';
import { Workflow } from '../../domain/workflow/workflow.entity';
import type { GraphQLContext } from '../context.type';
import { TriggerInput, WorkflowRunFilter } from '../inputs/workflow-run.input';
import { requireAdminKey } from '../require-admin-key.middleware';
import { toConnection } from '../types/connection.type';
import { WorkflowRunConnection } from '../types/workflow-run-connection.type';
import { Workspace } from '../workspace.decorator';

@UseMiddleware(requireAdminKey)
@Resolver(() => WorkflowRun)
export class WorkflowRunResolver {
  @Query(() => WorkflowRunConnection, { description: 'Workflow runs, newest first' })
  async workflowRuns(
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('filter', () => WorkflowRunFilter, { nullable: true }) filter?: WorkflowRunFilter | null,
  ) {
    return toConnection(await ctx.services.runs.list(workspace, filter ?? {}, pageSize(first), after));
  }

  @Query(() => WorkflowRun, { nullable: true })
  workflowRun(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<WorkflowRun | null> {
    return ctx.services.runs.get(workspace, id);
  }

  @Mutation(() => WorkflowRun, {
    description: 'Starts a run of a workflow for one user; the same idempotencyKey returns the same run',
  })
  trigger(
    @Arg('input', () => TriggerInput) input: TriggerInput,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<WorkflowRun> {
    return ctx.services.runs.trigger(workspace, input);
  }

  @Mutation(() => Int, {
    description:
      'Cancels every RUNNING or WAITING run of the workflow with this cancel key (every recipient); how many were cancelled',
  })
  cancelRuns(
    @Arg('workflowKey', () => String) workflowKey: string,
    @Arg('cancelKey', () => String) cancelKey: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<number> {
    return ctx.services.runs.cancelRuns(workspace, workflowKey, cancelKey);
  }

  @Mutation(() => WorkflowRun, {
    description:
      'Cancels one RUNNING or WAITING run, as cancelRuns cancels each of its runs. BAD_USER_INPUT for a run that has ended; NOT_FOUND for an unknown id',
  })
  cancelRun(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<WorkflowRun> {
    return ctx.services.runs.cancelRun(workspace, id);
  }

  @FieldResolver(() => Workflow)
  async workflow(@Root() run: WorkflowRun, @Ctx() ctx: GraphQLContext): Promise<Workflow> {
    return (await ctx.loaders.workflows.load(run.workflowId))!;
  }

  @FieldResolver(() => InboundEvent, { nullable: true, description: 'The event that started it (null for `trigger`)' })
  event(@Root() run: WorkflowRun, @Ctx() ctx: GraphQLContext): Promise<InboundEvent | null> {
    return run.eventId ? ctx.loaders.events.load(run.eventId) : Promise.resolve(null);
  }

  @FieldResolver(() => [MessageHistory], { description: 'Every step, with the facts that decided it, oldest first' })
  history(@Root() run: WorkflowRun, @Ctx() ctx: GraphQLContext): Promise<MessageHistory[]> {
    return ctx.loaders.runHistory.load(run.id);
  }

  @FieldResolver(() => [Message], { description: 'The messages its send steps created, oldest first' })
  messages(@Root() run: WorkflowRun, @Ctx() ctx: GraphQLContext): Promise<Message[]> {
    return ctx.loaders.runMessages.load(run.id);
  }
}

@UseMiddleware(requireAdminKey)
@Resolver(() => Message)
export class MessageRunResolver {
  @FieldResolver(() => WorkflowRun, { nullable: true, description: 'The workflow run whose send step created it' })
  run(@Root() message: Message, @Ctx() ctx: GraphQLContext): Promise<WorkflowRun | null> {
    return message.runId ? ctx.loaders.runs.load(message.runId) : Promise.resolve(null);
  }
}
