import { InvalidInputError } from './domain-error';

/** One page of a keyset-paginated list, ready to become a Relay connection. */
export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
  cursorOf: (item: T) => string;
}

export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

/** `first` is 1–500 (CONTRACT §3.3); absent means 50. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new InvalidInputError(`first must be between 1 and ${MAX_PAGE_SIZE}, got ${first}`);
  }
  return first;
}

/** An opaque cursor: the keyset values of the last row seen. */
export function encodeCursor(values: (string | number)[]): string {
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
