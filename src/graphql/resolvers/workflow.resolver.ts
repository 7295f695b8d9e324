import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import type { RequestContext } from '../../domain/request-context';
import { Workflow } from '../../domain/workflow/workflow.entity';
import type { GraphQLContext } from '../context.type';
import { WorkflowInput } from '../inputs/workflow.input';
import { requireAdminKey } from '../require-admin-key.middleware';
import { WorkflowVersion } from '../types/workflow-version.type';
import { Workspace } from '../workspace.decorator';

@UseMiddleware(requireAdminKey)
@Resolver(() => Workflow)
export class WorkflowResolver {
  @Query(() => [Workflow])
  workflows(@Ctx() ctx: GraphQLContext, @Workspace() workspace: RequestContext): Promise<Workflow[]> {
    return ctx.services.workflows.list(workspace);
  }

  @Query(() => Workflow, { nullable: true, description: 'By id or by key' })
  workflow(
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
    @Arg('key', () => String, { nullable: true }) key?: string | null,
  ): Promise<Workflow | null> {
    return ctx.services.workflows.get(workspace, { id, key });
  }

  @Mutation(() => Workflow, { description: 'Creates a workflow as a draft' })
  createWorkflow(
    @Arg('input', () => WorkflowInput) input: WorkflowInput,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<Workflow> {
    return ctx.services.workflows.create(workspace, input);
  }

  @Mutation(() => Workflow, { description: 'Edits the draft only; published versions never change' })
  updateWorkflow(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => WorkflowInput) input: WorkflowInput,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<Workflow> {
    return ctx.services.workflows.update(workspace, id, input);
  }

  @Mutation(() => Workflow, { description: 'The draft becomes the next published version' })
  publishWorkflow(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<Workflow> {
    return ctx.services.workflows.publish(workspace, id);
  }

  @FieldResolver(() => [WorkflowVersion], { description: 'Every published version, newest first' })
  async versions(@Root() workflow: Workflow, @Ctx() ctx: GraphQLContext): Promise<WorkflowVersion[]> {
    const versions = await ctx.loaders.workflowVersions.load(workflow.id);
    return versions.map((v) => ({
      version: v.version,
      definition: v.definition as unknown as Record<string, unknown>,
      steps: v.definition.steps as unknown as Record<string, unknown>[],
      publishedAt: v.publishedAt,
    }));
  }
}
