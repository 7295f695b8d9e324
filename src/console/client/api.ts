/**
 * The console's one way to the server: `POST /graphql` with the signed-in admin key. The key lives in this
 * module and in the tab's sessionStorage (so a reload keeps it and closing the tab forgets it), never in a
 * URL, a cookie or persistent storage.
 */
import { print } from '@0no-co/graphql.web';
import type { TadaDocumentNode } from 'gql.tada';

const STORAGE_KEY = 'pigeon.console.adminKey';

/** A request the server refused or that never reached it; `message` is the server's own words when it sent some. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
    /** The error's other `extensions` (e.g. a workflow step error's `ref`, `step` and `field`). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

type SignOutListener = (reason: string | null) => void;
const listeners = new Set<SignOutListener>();
let key: string | null = readStoredKey();

function readStoredKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function currentKey(): string | null {
  return key;
}

export function onSignOut(listener: SignOutListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function signOut(reason: string | null = null): void {
  key = null;
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage unavailable: the key was only in memory
  }
  for (const listener of listeners) listener(reason);
}

async function post<R, V>(doc: TadaDocumentNode<R, V>, variables: V, withKey: string): Promise<R> {
  let res: Response;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${withKey}` },
      body: JSON.stringify({ query: print(doc), variables }),
    });
  } catch {
    throw new ApiError('The server could not be reached. Check your connection and try again.', 'NETWORK');
  }
  let body: {
    data?: R | null;
    errors?: { message: string; extensions?: { code?: string } & Record<string, unknown> }[];
  };
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`The server answered ${res.status} ${res.statusText} without a GraphQL response.`, 'HTTP');
  }
  const error = body.errors?.[0];
  if (error) throw new ApiError(error.message, error.extensions?.code ?? null, error.extensions ?? {});
  if (!body.data) throw new ApiError(`The server answered ${res.status} without data.`, 'HTTP');
  return body.data;
}

/** Checks a key with a cheap admin-only query, then keeps it for this tab. */
export async function signIn(candidate: string, check: TadaDocumentNode<unknown, Record<string, never>>) {
  await post(check, {}, candidate.trim());
  key = candidate.trim();
  try {
    sessionStorage.setItem(STORAGE_KEY, key);
  } catch {
    // storage unavailable: the key stays in memory for this page only
  }
}

/**
 * Runs one document with the signed-in key. A key refused mid-session (revoked, or the workspace gone) signs the
 * user out with the server's message.
 */
export async function request<R, V>(doc: TadaDocumentNode<R, V>, variables: V): Promise<R> {
  if (!key) throw new ApiError('Sign in with an admin key first.', 'UNAUTHENTICATED');
  try {
    return await post(doc, variables, key);
  } catch (err) {
    if (err instanceof ApiError && (err.code === 'UNAUTHENTICATED' || err.code === 'FORBIDDEN')) {
      signOut(`You were signed out: ${err.message}`);
    }
    throw err;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
