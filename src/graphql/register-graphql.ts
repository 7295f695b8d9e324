import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import type { FastifyInstance } from 'fastify';
import { PAGE_HEADERS, renderIdePage, wantsHtml } from '../console/console.route';
import { ApiKeyScope } from '../domain/workspace/api-key-scope.enum';
import { KeyRefusedError } from '../domain/workspace/key-refused.error';
import type { WorkspaceService } from '../domain/workspace/workspace.service';
import type { Services } from '../services';
import { buildGraphQLSchema } from './build-schema';
import { compiledQueries } from './compiled-queries';
import type { GraphQLAuth, GraphQLContext } from './context.type';
import { formatError } from './errors';
import { graphqlLimits } from './limits';
import { createLoaders } from './loaders';

/** The scopes the GraphQL API accepts. */
const GRAPHQL_SCOPES = [ApiKeyScope.ADMIN];

/** A refused key as GraphQL answers it (in `extensions.code`, once a root field is asked for). */
function refusal(err: KeyRefusedError): Extract<GraphQLAuth, { ok: false }> {
  switch (err.reason) {
    case 'missing':
      return {
        ok: false,
        code: 'UNAUTHENTICATED',
        message: 'An admin key is required: Authorization: Bearer <admin key>',
      };
    case 'unknown':
    case 'revoked':
      return { ok: false, code: 'UNAUTHENTICATED', message: err.message };
    case 'scope':
      return { ok: false, code: 'FORBIDDEN', message: 'The GraphQL API needs an admin key; this is an ingest key' };
  }
}

/**
 * The request's `Authorization: Bearer <admin key>`, checked once per request. A refused key is not
 * an error here: introspection needs no key, and `requireAdminKey` refuses the root fields with it.
 * Throws `StoreUnavailableError` when the keys cannot be read.
 */
async function graphQLAuth(workspaces: WorkspaceService, header: string | undefined): Promise<GraphQLAuth> {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  try {
    return { ok: true, ...(await workspaces.authenticate(match?.[1], GRAPHQL_SCOPES)) };
  } catch (err) {
    if (err instanceof KeyRefusedError) return refusal(err);
    throw err;
  }
}

export interface GraphQLDeps {
  services: Services;
  /** Adds stack traces to errors and hides unexpected errors' messages when true. */
  production: boolean;
}

/**
 * GraphQL at `POST /graphql` (README.md, "GraphQL"): Apollo Server over the type-graphql schema, with
 * the request limits of `limits.ts`, errors translated once by `errors.ts`, and per request the
 * caller's key check and a fresh set of DataLoaders in the context.
 */
export async function registerGraphQL(app: FastifyInstance, deps: GraphQLDeps): Promise<void> {
  const { services, production } = deps;
  const limits = graphqlLimits();
  const apollo = new ApolloServer<GraphQLContext>({
    schema: buildGraphQLSchema(),
    introspection: true,
    // the process's own shutdown (index.ts) decides when the HTTP server closes: Apollo's SIGTERM/SIGINT
    // handler would close it at once (through the drain plugin), before /readyz could say "stopping"
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: !production,
    formatError: formatError(production),
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    // no cache-control hints are used: the plugin would otherwise wrap every field's resolver
    // Apollo runs every plugin's didResolveOperation (the limits) before any responseForOperation (compiledQueries)
    plugins: [
      fastifyApolloDrainPlugin(app),
      ApolloServerPluginCacheControlDisabled(),
      ...limits.plugins,
      compiledQueries<GraphQLContext>(),
    ],
  });
  await apollo.start();
  // a browser opening /graphql gets the offline GraphQL IDE (GraphiQL from the console's bundle) instead of
  // Apollo's landing page, which loads from a CDN; API clients (POST, or GET without Accept: text/html) are unchanged
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'GET' || request.url.split('?')[0] !== '/graphql') return;
    if (!wantsHtml(request.headers.accept)) return;
    return reply.code(200).headers(PAGE_HEADERS).send(renderIdePage());
  });
  await app.register(fastifyApollo(apollo), {
    path: '/graphql',
    context: async (request): Promise<GraphQLContext> => {
      const auth = await graphQLAuth(services.workspaces, request.headers.authorization);
      if (auth.ok) request.workspaceId = auth.workspaceId;
      return { auth, services, loaders: createLoaders(services, { workspaceId: auth.ok ? auth.workspaceId : -1 }) };
    },
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the caller's key is known, for logs (the ingest routes set it too). */
    workspaceId?: number;
  }
}
