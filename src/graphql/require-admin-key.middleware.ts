import { GraphQLError } from 'graphql';
import type { MiddlewareFn } from 'type-graphql';
import type { GraphQLContext } from './context.type';

/**
 * Every root query and mutation needs an active admin key (README.md, "GraphQL"); the key was checked
 * once per request by `register-graphql.ts`, and this refuses with its result. Applied with
 * `@UseMiddleware` on each resolver class (not globally, which would wrap every scalar field of every
 * node and cost a middleware call per field); object fields without resolvers need no check, since
 * they are only reached through a root field that made it. Introspection
 * (`__schema`, `__type`) is resolved by graphql-js itself, never reaches this middleware, and stays open.
 */
export const requireAdminKey: MiddlewareFn<GraphQLContext> = ({ info, context }, next) => {
  const parent = info.parentType.name;
  if ((parent === 'Query' || parent === 'Mutation') && !context.auth.ok) {
    throw new GraphQLError(context.auth.message, { extensions: { code: context.auth.code } });
  }
  return next();
};
