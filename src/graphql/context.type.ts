import type { ApiKeyScope } from '../domain/workspace/api-key-scope.enum';
import type { Services } from '../services';
import type { Loaders } from './loaders';

/** The request's key, checked once per request: the caller, or why the root fields are refused. */
export type GraphQLAuth =
  | { ok: true; workspaceId: number; scope: ApiKeyScope; keyId: string }
  | { ok: false; code: 'UNAUTHENTICATED' | 'FORBIDDEN'; message: string };

/** Per-request GraphQL context: the caller, the services and the request's DataLoaders. */
export interface GraphQLContext {
  auth: GraphQLAuth;
  services: Services;
  loaders: Loaders;
}
