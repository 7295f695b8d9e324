import { createParameterDecorator } from 'type-graphql';
import type { RequestContext } from '../domain/request-context';
import type { GraphQLContext } from './context.type';

/** The caller's workspace. Only called behind the admin-key middleware, which has already refused the rest. */
function workspaceOf(context: GraphQLContext): RequestContext {
  if (!context.auth.ok) throw new Error('workspaceOf called for an unauthenticated request');
  return { workspaceId: context.auth.workspaceId };
}

/**
 * Injects the caller's {@link RequestContext} (its workspace) into a resolver method, for resolvers
 * behind `requireAdminKey`.
 *
 * @example
 * ```ts
 * @Query(() => Profile, { nullable: true })
 * profile(@Arg('userId', () => String) userId: string, @Workspace() workspace: RequestContext, @Ctx() ctx: GraphQLContext) {
 *   return ctx.services.profiles.get(workspace, userId);
 * }
 * ```
 */
export function Workspace() {
  return createParameterDecorator<GraphQLContext>(({ context }) => workspaceOf(context));
}
