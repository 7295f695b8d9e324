import { HeaderMap, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { BREAK, Kind, OperationTypeNode, visit, type DocumentNode, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);

/** Whether `document` asks for introspection (`__schema`, `__type`) anywhere. */
function introspects(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(field) {
      if (!INTROSPECTION_ROOTS.has(field.name.value)) return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}

/**
 * Queries run as JavaScript compiled once per document (graphql-jit) instead of through graphql-js's
 * generic executor, which builds a resolve-info object, an argument map and a path entry for every field
 * of every row: a page of 50 events is ~550 fields, and that walk was half the CPU of the request. The
 * compiled function calls the same resolvers and serializers, and is kept with the parsed document
 * (Apollo caches documents), so it is built once per query text — on its second request: compiling
 * costs about three executions, which a query sent once (a one-off with its values written inline)
 * would never win back.
 *
 * Only the happy path is answered here: a query whose compiled run returns data without any error.
 * Anything else — mutations, introspection, a document the compiler refuses, a run with errors (a refused
 * key, bad variables, a resolver that threw) — is executed again by graphql-js as before, so errors,
 * their codes and HTTP statuses are exactly graphql-js's and Apollo's. Running a query twice is safe:
 * queries only read. Parsing, validation and the request limits (`limits.ts`) run before this, as for
 * every request.
 */
export function compiledQueries<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  const compiled = new WeakMap<
    DocumentNode,
    Map<string | undefined, { schema: GraphQLSchema; seen: number; query?: CompiledQuery }>
  >();

  const compiledFor = (
    schema: GraphQLSchema,
    document: DocumentNode,
    operationName: string | undefined,
  ): CompiledQuery | undefined => {
    let operations = compiled.get(document);
    if (!operations) compiled.set(document, (operations = new Map()));
    let entry = operations.get(operationName);
    if (!entry || entry.schema !== schema) {
      entry = { schema, seen: 0 };
      operations.set(operationName, entry);
    }
    if (++entry.seen === 2 && !introspects(document)) {
      const result = compileQuery(schema, document, operationName);
      if (isCompiledQuery(result)) entry.query = result;
    }
    return entry.query;
  };

  return {
    async requestDidStart() {
      return {
        async responseForOperation({ operation, document, schema, request, contextValue }) {
          if (operation.operation !== OperationTypeNode.QUERY) return null;
          const name = operation.name?.kind === Kind.NAME ? operation.name.value : undefined;
          const query = compiledFor(schema, document, name);
          if (!query) return null;
          const result = await query.query(undefined, contextValue, request.variables ?? {});
          if (result.errors?.length || !result.data) return null;
          return {
            http: { status: undefined, headers: new HeaderMap() },
            body: { kind: 'single', singleResult: { data: result.data } },
          };
        },
      };
    },
  };
}
