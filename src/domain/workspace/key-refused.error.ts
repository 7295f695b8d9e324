import { DomainError } from '../domain-error';
import type { ApiKeyScope } from './api-key-scope.enum';

/**
 * Why a presented key may not make a call: none was given, it matches no key, it was revoked, or its
 * scope is not one the call accepts.
 */
export type KeyRefusal = 'missing' | 'unknown' | 'revoked' | 'scope';

const MESSAGES: Record<Exclude<KeyRefusal, 'scope'>, string> = {
  missing: 'An API key is required',
  unknown: 'Unknown API key',
  revoked: 'This API key has been revoked',
};

/**
 * Thrown by `WorkspaceService.authenticate`. Each boundary translates it once, by `reason`:
 * the ingest routes to 401/403 (`ingest/segment/segment.routes.ts`), GraphQL to
 * UNAUTHENTICATED/FORBIDDEN (`graphql/register-graphql.ts`); see README.md, "Workspaces and keys".
 */
export class KeyRefusedError extends DomainError {
  constructor(
    readonly reason: KeyRefusal,
    /** The key's scope, when the key is valid but its scope is refused. */
    readonly scope?: ApiKeyScope,
  ) {
    super(
      reason === 'scope' ? 'FORBIDDEN' : 'UNAUTHENTICATED',
      reason === 'scope' ? `A ${scope?.toLowerCase()} key may not make this call` : MESSAGES[reason],
    );
  }
}
