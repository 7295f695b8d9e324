/**
 * The first argument of every service call: who is asking, for which workspace.
 * Built by the HTTP/GraphQL layer from the caller's key.
 */
export interface RequestContext {
  workspaceId: number;
}
