import { Arg, Ctx, FieldResolver, Int, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { Group } from '../../domain/group/group.entity';
import { pageSize } from '../../domain/pagination';
import { requireAdminKey } from '../require-admin-key.middleware';
import type { GraphQLContext } from '../context.type';
import { Workspace } from '../workspace.decorator';
import type { RequestContext } from '../../domain/request-context';
import { toConnection } from '../types/connection.type';
import { ProfileConnection } from '../types/profile-connection.type';

@UseMiddleware(requireAdminKey)
@Resolver(() => Group)
export class GroupResolver {
  @Query(() => Group, { nullable: true })
  group(
    @Arg('groupId', () => String) groupId: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<Group | null> {
    return ctx.services.groups.get(workspace, groupId);
  }

  @FieldResolver(() => ProfileConnection, { description: 'Members in the order they joined' })
  async members(
    @Root() group: Group,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    return toConnection(await ctx.services.groups.members(workspace, group.groupId, pageSize(first), after));
  }
}
