import { Arg, Ctx, ID, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import { ApiKey } from '../../domain/workspace/api-key.entity';
import { ApiKeyScope } from '../../domain/workspace/api-key-scope.enum';
import { requireAdminKey } from '../require-admin-key.middleware';
import type { GraphQLContext } from '../context.type';
import { Workspace } from '../workspace.decorator';
import type { RequestContext } from '../../domain/request-context';
import { CreatedApiKey } from '../types/created-api-key.type';

@UseMiddleware(requireAdminKey)
@Resolver(() => ApiKey)
export class ApiKeyResolver {
  @Query(() => [ApiKey], { description: "The workspace's keys (never their secrets)" })
  apiKeys(@Ctx() ctx: GraphQLContext, @Workspace() workspace: RequestContext): Promise<ApiKey[]> {
    return ctx.services.workspaces.listKeys(workspace);
  }

  @Mutation(() => CreatedApiKey, { description: 'Creates a key; its secret is returned here only' })
  createApiKey(
    @Arg('scope', () => ApiKeyScope) scope: ApiKeyScope,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
    @Arg('name', () => String, { nullable: true }) name?: string | null,
  ): Promise<CreatedApiKey> {
    return ctx.services.workspaces.createKey(workspace, scope, name);
  }

  @Mutation(() => ApiKey, { description: 'Revokes a key of this workspace; it stops working at once' })
  revokeApiKey(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<ApiKey> {
    return ctx.services.workspaces.revokeKey(workspace, id);
  }
}
