import { isRetryableStatus, parseRetryAfter, PermanentProviderError, RetryableProviderError } from './errors';

/** Default time one provider HTTP call may take. */
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface ProviderRequest extends Omit<RequestInit, 'signal'> {
  /** The delivery's signal (worker shutdown); combined with the timeout. */
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * `fetch` for providers: a timeout, and every failure turned into a typed provider error —
 * connection failures, timeouts, 408, 429 and 5xx are retryable (with `Retry-After`), other
 * non-2xx answers are permanent. Resolves with the response only when it is 2xx.
 *
 * @param what names the provider call in error messages, e.g. `"SendGrid mail/send"`.
 */
export async function providerFetch(what: string, url: string, init: ProviderRequest = {}): Promise<Response> {
  const { timeoutMs = DEFAULT_TIMEOUT_MS, signal, ...rest } = init;
  const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
  let response: Response;
  try {
    response = await fetch(url, { ...rest, signal: AbortSignal.any(signals) });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      throw new RetryableProviderError(`${what}: no answer within ${timeoutMs} ms`);
    }
    if (e.name === 'TypeError' && /invalid url|failed to parse url/i.test(`${e.message} ${e.cause?.message ?? ''}`)) {
      throw new PermanentProviderError(`${what}: invalid URL ${url}`);
    }
    throw new RetryableProviderError(`${what}: connection failed (${e.cause?.code ?? e.cause?.message ?? e.message})`);
  }
  if (response.ok) return response;
  const body = (await response.text().catch(() => '')).slice(0, 500);
  const message = `${what}: HTTP ${response.status}${body ? ` ${body}` : ''}`;
  if (isRetryableStatus(response.status)) {
    throw new RetryableProviderError(message, response.status, parseRetryAfter(response.headers.get('retry-after')));
  }
  throw new PermanentProviderError(message, response.status);
}

/** POSTs JSON through {@link providerFetch}. */
export function postJson(what: string, url: string, body: unknown, init: ProviderRequest = {}): Promise<Response> {
  return providerFetch(what, url, {
    ...init,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Joins a configurable base URL and a path without doubling or dropping the slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
