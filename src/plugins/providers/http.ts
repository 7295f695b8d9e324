import { Agent, request, type Dispatcher } from 'undici';
import {
  isRetryableStatus,
  parseRetryAfter,
  PermanentProviderError,
  RetryableProviderError,
} from '../../domain/provider/provider.errors';

/** Default time one provider HTTP call may take. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** The most of a provider's answer that is kept (the rest is discarded); answers are ids and errors. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface ProviderRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Header names in lower case. */
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The delivery's signal (worker shutdown): aborts the call when it fires. */
  signal?: AbortSignal;
  /** How long the provider may take to answer, and at most between two chunks of its answer. */
  timeoutMs?: number;
  /** Another connection pool, e.g. `publicOnlyDispatcher()` of `./safe-url` for an untrusted URL; default the shared one. */
  dispatcher?: Dispatcher;
}

/** A provider's answer, read in full (up to {@link MAX_RESPONSE_BYTES}) before it is returned. */
export interface ProviderResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
  /** The answer parsed as JSON; rejects when it is not JSON. */
  json(): Promise<unknown>;
}

/**
 * One keep-alive connection pool per process for every provider call (undici's `Agent`: a pool per
 * origin). `fetch` would also pool, but builds WHATWG streams, a Request/Response pair and an
 * `AbortSignal.any` per call: a third of a busy worker's CPU when it delivers thousands per second.
 */
const agent: Dispatcher = new Agent({
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 120_000,
  connections: 256,
  connect: { timeout: DEFAULT_TIMEOUT_MS },
});

function headerGetter(headers: Record<string, string | string[] | undefined>): ProviderResponse['headers'] {
  return {
    get(name: string) {
      const v = headers[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
    },
  };
}

async function readCapped(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (size + chunk.length > MAX_RESPONSE_BYTES) {
      chunks.push(chunk.subarray(0, MAX_RESPONSE_BYTES - size));
      body.destroy();
      break;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
}

function parseUrl(what: string, url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PermanentProviderError(`${what}: invalid URL ${url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new PermanentProviderError(`${what}: invalid URL ${url} (only http and https)`);
  }
  return parsed;
}

/**
 * HTTP for providers, over a shared keep-alive pool: a timeout, and every failure turned into a
 * typed provider error — connection failures, timeouts, 408, 429 and 5xx are retryable (with
 * `Retry-After`), other non-2xx answers are permanent. Resolves with the answer only when it is 2xx.
 *
 * @param what names the provider call in error messages, e.g. `"SendGrid mail/send"`.
 */
export async function providerFetch(what: string, url: string, init: ProviderRequest = {}): Promise<ProviderResponse> {
  const { timeoutMs = DEFAULT_TIMEOUT_MS, signal, method = 'GET', headers, body, dispatcher = agent } = init;
  const target = parseUrl(what, url);
  if (signal?.aborted) throw new RetryableProviderError(`${what}: cancelled (the worker is stopping)`);
  // one timer for the whole call (undici's own timeouts tick once a second: a 300 ms timeout would
  // fire after up to a second); the worker's signal is forwarded to the same controller
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(TIMED_OUT), timeoutMs);
  const forward = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', forward, { once: true });
  let status: number;
  let responseHeaders: ProviderResponse['headers'];
  let text: string;
  try {
    const response = await request(target, { dispatcher, method, headers, body, signal: controller.signal });
    status = response.statusCode;
    responseHeaders = headerGetter(response.headers);
    text = await readCapped(response.body);
  } catch (err) {
    throw controller.signal.reason === TIMED_OUT
      ? new RetryableProviderError(`${what}: no answer within ${timeoutMs} ms`)
      : requestError(what, timeoutMs, err);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', forward);
  }
  const ok = status >= 200 && status < 300;
  if (ok) {
    return {
      status,
      ok,
      headers: responseHeaders,
      text: () => Promise.resolve(text),
      json: () => new Promise((resolve) => resolve(JSON.parse(text) as unknown)),
    };
  }
  const detail = text.slice(0, 500);
  const message = `${what}: HTTP ${status}${detail ? ` ${detail}` : ''}`;
  if (isRetryableStatus(status)) {
    throw new RetryableProviderError(message, status, parseRetryAfter(responseHeaders.get('retry-after')));
  }
  throw new PermanentProviderError(message, status);
}

/** The abort reason of a call that took longer than its timeout. */
const TIMED_OUT = Symbol('timed out');

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** Maps an undici failure (no HTTP answer) to a retryable provider error. */
function requestError(what: string, timeoutMs: number, err: unknown): RetryableProviderError {
  // codes, not instanceof: errors may come from another realm (Jest's module registry)
  const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
  if (TIMEOUT_CODES.has(e.code ?? '')) {
    return new RetryableProviderError(`${what}: no answer within ${timeoutMs} ms`);
  }
  if (e.name === 'AbortError' || e.code === 'UND_ERR_ABORTED') {
    return new RetryableProviderError(`${what}: cancelled (the worker is stopping)`);
  }
  return new RetryableProviderError(
    `${what}: connection failed (${e.code ?? e.cause?.code ?? e.cause?.message ?? e.message})`,
  );
}

/** POSTs JSON through {@link providerFetch}. */
export function postJson(
  what: string,
  url: string,
  body: unknown,
  init: ProviderRequest = {},
): Promise<ProviderResponse> {
  return providerFetch(what, url, {
    ...init,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Joins a configurable base URL and a path without doubling or dropping the slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
