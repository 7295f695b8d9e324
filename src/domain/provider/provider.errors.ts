/**
 * The only errors a provider throws. The pipeline retries a {@link RetryableProviderError}
 * (with backoff, honouring `retryAfterMs`) and moves on at once after a {@link PermanentProviderError}.
 */
export abstract class ProviderError extends Error {
  abstract readonly retryable: boolean;

  constructor(
    message: string,
    /** The provider's HTTP status (or SMTP response code), when there was one. */
    readonly status?: number,
    /**
     * The provider's own error code, when its answer carries one (Twilio's `code`, e.g. `21610`: the
     * recipient replied STOP, which suppresses the address).
     */
    readonly code?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Timeouts, refused connections, DNS failures, 408, 429 and 5xx: worth another try. */
export class RetryableProviderError extends ProviderError {
  readonly retryable = true;

  constructor(
    message: string,
    status?: number,
    /** From a `Retry-After` header, when the provider sent one. */
    readonly retryAfterMs?: number,
    code?: string,
  ) {
    super(message, status, code);
  }
}

/** Other 4xx, invalid settings, a missing or malformed address: trying again will not help. */
export class PermanentProviderError extends ProviderError {
  readonly retryable = false;
}

/** Whether an HTTP status is worth another try: 408, 429 and 5xx (any other error status is permanent). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** `Retry-After` (seconds or an HTTP date) in milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
