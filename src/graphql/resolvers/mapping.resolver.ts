import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { EventMapping } from '../../domain/mapping/event-mapping.entity';
import { Template } from '../../domain/template/template.entity';
import { CancelMapping } from '../../domain/mapping/cancel-mapping';
import { Workflow } from '../../domain/workflow/workflow.entity';
import { requireAdminKey } from '../require-admin-key.middleware';
import type { GraphQLContext } from '../context.type';
import { Workspace } from '../workspace.decorator';
import type { RequestContext } from '../../domain/request-context';

@UseMiddleware(requireAdminKey)
@Resolver(() => EventMapping)
export class MappingResolver {
  @Query(() => [EventMapping])
  mappings(@Ctx() ctx: GraphQLContext, @Workspace() workspace: RequestContext): Promise<EventMapping[]> {
    return ctx.services.mappings.list(workspace);
  }

  @Mutation(() => EventMapping, {
    description:
      'Upsert: maps the full inbound name to a template or a workflow (exactly one of the two); calling twice is harmless',
  })
  mapEvent(
    @Arg('eventName', () => String) eventName: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
    @Arg('templateId', () => ID, { nullable: true }) templateId?: string | null,
    @Arg('workflowId', () => ID, { nullable: true }) workflowId?: string | null,
  ): Promise<EventMapping> {
    return ctx.services.mappings.map(workspace, eventName, { templateId, workflowId });
  }

  @Query(() => [CancelMapping], { description: 'Events that cancel workflow runs, by event name' })
  cancelMappings(@Ctx() ctx: GraphQLContext, @Workspace() workspace: RequestContext): Promise<CancelMapping[]> {
    return ctx.services.mappings.cancelMappings(workspace);
  }

  @Mutation(() => CancelMapping, {
    description:
      "Upsert: an event of this name cancels its user's RUNNING/WAITING runs of the workflow whose cancel key equals the event's value at keyPath",
  })
  mapCancel(
    @Arg('eventName', () => String) eventName: string,
    @Arg('workflowId', () => ID) workflowId: string,
    @Arg('keyPath', () => String) keyPath: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<CancelMapping> {
    return ctx.services.mappings.mapCancel(workspace, eventName, workflowId, keyPath);
  }

  @Mutation(() => Boolean, { description: 'False when there was no such cancel mapping' })
  unmapCancel(
    @Arg('eventName', () => String) eventName: string,
    @Arg('workflowId', () => ID) workflowId: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<boolean> {
    return ctx.services.mappings.unmapCancel(workspace, eventName, workflowId);
  }

  @Mutation(() => Boolean, { description: 'False when there was no mapping' })
  unmapEvent(
    @Arg('eventName', () => String) eventName: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<boolean> {
    return ctx.services.mappings.unmap(workspace, eventName);
  }

  @FieldResolver(() => Template, { nullable: true, description: 'The template it sends (null: it starts a workflow)' })
  template(@Root() mapping: EventMapping, @Ctx() ctx: GraphQLContext): Promise<Template | null> {
    return mapping.templateId ? ctx.loaders.templates.load(mapping.templateId) : Promise.resolve(null);
  }

  @FieldResolver(() => Workflow, { nullable: true, description: 'The workflow it starts (null: it sends a template)' })
  workflow(@Root() mapping: EventMapping, @Ctx() ctx: GraphQLContext): Promise<Workflow | null> {
    return mapping.workflowId ? ctx.loaders.workflows.load(mapping.workflowId) : Promise.resolve(null);
  }
}

@UseMiddleware(requireAdminKey)
@Resolver(() => CancelMapping)
export class CancelMappingResolver {
  @FieldResolver(() => Workflow)
  async workflow(@Root() mapping: CancelMapping, @Ctx() ctx: GraphQLContext): Promise<Workflow> {
    return (await ctx.loaders.workflows.load(mapping.workflowId))!;
  }
}
