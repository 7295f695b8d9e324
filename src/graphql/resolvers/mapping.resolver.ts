import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { EventMapping } from '../../domain/mapping/event-mapping.entity';
import { Template } from '../../domain/template/template.entity';
import { requireAdminKey } from '../require-admin-key.middleware';
import type { GraphQLContext } from '../context.type';
import { Workspace } from '../workspace.decorator';
import type { RequestContext } from '../../domain/request-context';
import { EventName } from '../types/event-name.type';

@UseMiddleware(requireAdminKey)
@Resolver(() => EventMapping)
export class MappingResolver {
  @Query(() => [EventMapping])
  mappings(@Ctx() ctx: GraphQLContext, @Workspace() workspace: RequestContext): Promise<EventMapping[]> {
    return ctx.services.mappings.list(workspace);
  }

  @Mutation(() => EventMapping, {
    description: 'Upsert: maps the full inbound name to a template; calling twice is harmless',
  })
  mapEvent(
    @Arg('eventName', () => String) eventName: string,
    @Arg('templateId', () => ID) templateId: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<EventMapping> {
    return ctx.services.mappings.map(workspace, eventName, templateId);
  }

  @Mutation(() => Boolean, { description: 'False when there was no mapping' })
  unmapEvent(
    @Arg('eventName', () => String) eventName: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<boolean> {
    return ctx.services.mappings.unmap(workspace, eventName);
  }

  @FieldResolver(() => Template)
  async template(@Root() mapping: EventMapping, @Ctx() ctx: GraphQLContext): Promise<Template> {
    return (await ctx.loaders.templates.load(mapping.templateId))!;
  }
}

@UseMiddleware(requireAdminKey)
@Resolver(() => EventName)
export class EventNameResolver {
  @FieldResolver(() => EventMapping, { nullable: true, description: 'The mapping of this name, if any' })
  mapping(@Root() name: EventName, @Ctx() ctx: GraphQLContext): Promise<EventMapping | null> {
    return ctx.loaders.mappings.load(name.name);
  }
}
