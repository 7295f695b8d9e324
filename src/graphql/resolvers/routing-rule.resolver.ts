import { Arg, Ctx, ID, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import { RoutingRule } from '../../domain/routing/routing-rule.entity';
import { requireAdminKey } from '../auth-checker';
import { workspaceOf, type GraphQLContext } from '../context.type';
import { RoutingRuleInput } from '../inputs/routing-rule.input';

@UseMiddleware(requireAdminKey)
@Resolver(() => RoutingRule)
export class RoutingRuleResolver {
  @Query(() => [RoutingRule], {
    description: 'With templateId: the rules that apply to it (its own and workspace-wide), in evaluation order',
  })
  routingRules(
    @Ctx() ctx: GraphQLContext,
    @Arg('templateId', () => ID, { nullable: true }) templateId?: string | null,
  ): Promise<RoutingRule[]> {
    return ctx.services.rules.list(workspaceOf(ctx), templateId);
  }

  @Mutation(() => RoutingRule)
  createRoutingRule(
    @Arg('input', () => RoutingRuleInput) input: RoutingRuleInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<RoutingRule> {
    return ctx.services.rules.create(workspaceOf(ctx), input);
  }

  @Mutation(() => RoutingRule)
  updateRoutingRule(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => RoutingRuleInput) input: RoutingRuleInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<RoutingRule> {
    return ctx.services.rules.update(workspaceOf(ctx), id, input);
  }

  @Mutation(() => Boolean)
  deleteRoutingRule(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.rules.delete(workspaceOf(ctx), id);
  }
}
