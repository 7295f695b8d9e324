import { Arg, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Group } from '../../domain/group/group.entity';
import { pageSize } from '../../domain/pagination';
import { Profile } from '../../domain/profile/profile.entity';
import type { JsonObject } from '../../lib/json';
import { requireAdminKey } from '../require-admin-key.middleware';
import type { GraphQLContext } from '../context.type';
import { Workspace } from '../workspace.decorator';
import type { RequestContext } from '../../domain/request-context';
import { ProfileFilter } from '../inputs/profile-filter.input';
import { toConnection } from '../types/connection.type';
import { ProfileConnection } from '../types/profile-connection.type';

@UseMiddleware(requireAdminKey)
@Resolver(() => Profile)
export class ProfileResolver {
  @Query(() => Profile, { nullable: true, description: 'A profile by user id (or by an anonymous id merged into it)' })
  profile(
    @Arg('userId', () => String) userId: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<Profile | null> {
    return ctx.services.profiles.get(workspace, userId);
  }

  @Query(() => ProfileConnection, { description: 'Profiles in creation order' })
  async profiles(
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('filter', () => ProfileFilter, { nullable: true }) filter?: ProfileFilter | null,
  ) {
    const page = await ctx.services.profiles.list(workspace, filter ?? {}, pageSize(first), after);
    return toConnection(page);
  }

  @Mutation(() => Profile, { description: 'Merges traits into a profile with RFC 7396 semantics, as identify does' })
  mergeProfile(
    @Arg('userId', () => String) userId: string,
    @Arg('traits', () => GraphQLJSONObject) traits: JsonObject,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<Profile> {
    return ctx.services.profiles.merge(workspace, userId, traits);
  }

  @Mutation(() => Profile, { description: "Replaces a profile's traits" })
  replaceProfile(
    @Arg('userId', () => String) userId: string,
    @Arg('traits', () => GraphQLJSONObject) traits: JsonObject,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<Profile> {
    return ctx.services.profiles.replace(workspace, userId, traits);
  }

  @Mutation(() => Boolean, { description: 'Deletes a profile, its aliases and memberships; false when there was none' })
  deleteProfile(
    @Arg('userId', () => String) userId: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<boolean> {
    return ctx.services.profiles.delete(workspace, userId);
  }

  @FieldResolver(() => [String], { description: 'Anonymous ids merged into this profile' })
  anonymousIds(@Root() profile: Profile, @Ctx() ctx: GraphQLContext): Promise<string[]> {
    return ctx.loaders.anonymousIds.load(profile.userId);
  }

  @FieldResolver(() => [Group])
  groups(@Root() profile: Profile, @Ctx() ctx: GraphQLContext): Promise<Group[]> {
    return ctx.loaders.groups.load(profile.userId);
  }
}
