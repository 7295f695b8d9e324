import type { RequestContext } from '../domain/request-context';
import type { ApiKeyScope } from '../domain/workspace/api-key-scope.enum';
import type { Services } from '../services';
import type { Loaders } from './loaders';

export type GraphQLAuth =
  | { ok: true; workspaceId: number; scope: ApiKeyScope; keyId: string }
  | { ok: false; code: 'UNAUTHENTICATED' | 'FORBIDDEN'; message: string };

/** Per-request GraphQL context: the caller, the services and the request's DataLoaders. */
export interface GraphQLContext {
  auth: GraphQLAuth;
  services: Services;
  loaders: Loaders;
}

/** The caller's workspace. Only called behind the auth middleware, which has already refused the rest. */
export function workspaceOf(context: GraphQLContext): RequestContext {
  if (!context.auth.ok) throw new Error('workspaceOf called for an unauthenticated request');
  return { workspaceId: context.auth.workspaceId };
}
