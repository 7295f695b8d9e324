import { Arg, Ctx, ID, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import { RoutingRule } from '../../domain/routing/routing-rule.entity';
import { requireAdminKey } from '../require-admin-key.middleware';
import type { GraphQLContext } from '../context.type';
import { Workspace } from '../workspace.decorator';
import type { RequestContext } from '../../domain/request-context';
import { RoutingRuleInput } from '../inputs/routing-rule.input';

@UseMiddleware(requireAdminKey)
@Resolver(() => RoutingRule)
export class RoutingRuleResolver {
  @Query(() => [RoutingRule], {
    description: 'With templateId: the rules that apply to it (its own and workspace-wide), in evaluation order',
  })
  routingRules(
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
    @Arg('templateId', () => ID, { nullable: true }) templateId?: string | null,
  ): Promise<RoutingRule[]> {
    return ctx.services.rules.list(workspace, templateId);
  }

  @Mutation(() => RoutingRule)
  createRoutingRule(
    @Arg('input', () => RoutingRuleInput) input: RoutingRuleInput,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<RoutingRule> {
    return ctx.services.rules.create(workspace, input);
  }

  @Mutation(() => RoutingRule)
  updateRoutingRule(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => RoutingRuleInput) input: RoutingRuleInput,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<RoutingRule> {
    return ctx.services.rules.update(workspace, id, input);
  }

  @Mutation(() => Boolean)
  deleteRoutingRule(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<boolean> {
    return ctx.services.rules.delete(workspace, id);
  }
}
