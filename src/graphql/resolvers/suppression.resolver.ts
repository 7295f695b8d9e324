import { Arg, Ctx, Int, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import { Channel } from '../../domain/channel/channel.enum';
import { pageSize } from '../../domain/pagination';
import type { RequestContext } from '../../domain/request-context';
import { Suppression } from '../../domain/suppression/suppression.entity';
import type { GraphQLContext } from '../context.type';
import { SuppressionFilter } from '../inputs/suppression-filter.input';
import { requireAdminKey } from '../require-admin-key.middleware';
import { toConnection } from '../types/connection.type';
import { SuppressionConnection } from '../types/suppression-connection.type';
import { Workspace } from '../workspace.decorator';

/** Suppressed addresses (README, "Delivery tracking" → "Suppression"). */
@UseMiddleware(requireAdminKey)
@Resolver(() => Suppression)
export class SuppressionResolver {
  @Query(() => SuppressionConnection, {
    description: 'The suppressions in force (expired ones are left out), newest first',
  })
  async suppressions(
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('filter', () => SuppressionFilter, { nullable: true }) filter?: SuppressionFilter | null,
  ) {
    return toConnection(await ctx.services.suppressions.list(workspace, filter ?? {}, pageSize(first), after));
  }

  @Mutation(() => Suppression, {
    description:
      'Suppresses an address on a channel until removed (an earlier permanent suppression is kept as it was). ' +
      'BAD_USER_INPUT for WEBHOOK (no address), an address that is not one of the channel, or an empty reason',
  })
  addSuppression(
    @Arg('channel', () => Channel) channel: Channel,
    @Arg('address', () => String) address: string,
    @Arg('reason', () => String) reason: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<Suppression> {
    return ctx.services.suppressions.add(workspace, channel, address, reason);
  }

  @Mutation(() => Boolean, {
    description: 'Lifts the suppression of an address (and forgets its soft bounces); false when there was none',
  })
  removeSuppression(
    @Arg('channel', () => Channel) channel: Channel,
    @Arg('address', () => String) address: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<boolean> {
    return ctx.services.suppressions.remove(workspace, channel, address);
  }
}
