import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { DomainError } from '../domain/domain-error';

/**
 * Translates errors once, at the GraphQL boundary: domain errors keep their message and get their
 * `code` in `extensions.code`; anything unexpected becomes INTERNAL_SERVER_ERROR with a message that
 * says nothing of SQL or stack (the stack is only added outside production, by Apollo).
 */
export function formatError(production: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof DomainError) {
      return {
        ...formatted,
        message: original.message,
        extensions: { ...formatted.extensions, code: original.code, ...(original.details ?? {}) },
      };
    }
    if (original instanceof GraphQLError || formatted.extensions?.code !== 'INTERNAL_SERVER_ERROR') return formatted;
    return production
      ? {
          message: 'Internal server error',
          locations: formatted.locations,
          path: formatted.path,
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        }
      : formatted;
  };
}
