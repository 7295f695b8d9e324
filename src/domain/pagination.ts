import { InvalidInputError } from './domain-error';

/** One page of a keyset-paginated list, ready to become a Relay connection. */
export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
  cursorOf: (item: T) => string;
}

export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

/** `first` is 1–500 (README.md, "GraphQL"); absent means 50. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new InvalidInputError(`first must be between 1 and ${MAX_PAGE_SIZE}, got ${first}`);
  }
  return first;
}

/** Printable ASCII that JSON writes as it is (no `"`, no `\\`). */
const PLAIN_JSON_STRING = /^[ !#-[\]-~]*$/;

/** An opaque cursor: the keyset values of the last row seen (base64url of their JSON array). */
export function encodeCursor(values: (string | number)[]): string {
  // the usual keyset (a time and an id, both plain ASCII) written without JSON.stringify: the same bytes
  if (values.length === 2) {
    const [a, b] = values;
    if (typeof a === 'string' && typeof b === 'string' && PLAIN_JSON_STRING.test(a) && PLAIN_JSON_STRING.test(b)) {
      return Buffer.from(`["${a}","${b}"]`, 'latin1').toString('base64url');
    }
  }
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): (string | number)[] {
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(values) &&
      values.length === arity &&
      values.every((v) => typeof v === 'string' || typeof v === 'number')
    ) {
      return values;
    }
  } catch {
    // fall through
  }
  throw new InvalidInputError(`"${cursor.slice(0, 60)}" is not a cursor of this list`);
}
