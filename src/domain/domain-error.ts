/**
 * Stable error codes of the domain. GraphQL puts them in `extensions.code`; the HTTP layer maps
 * them to status codes. Messages are written for the caller and never carry SQL or stack traces.
 */
export type DomainErrorCode =
  'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'STORE_UNAVAILABLE' | 'UNAUTHENTICATED' | 'FORBIDDEN';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidInputError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('BAD_USER_INPUT', message, details);
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string) {
    super('NOT_FOUND', `${what} "${id}" not found`);
  }
}

/** The database could not commit (down, connections lost, out of retries). Callers may retry. */
export class StoreUnavailableError extends DomainError {
  constructor(readonly cause?: unknown) {
    super('STORE_UNAVAILABLE', 'The event store is unavailable; retry later');
  }
}
