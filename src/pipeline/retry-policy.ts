/** How often a provider is tried and how long to wait in between (README, "Configuration": PIGEON_RETRY_*). */
export interface RetryPolicy {
  /** Tries per provider (PIGEON_RETRY_ATTEMPTS, default 3). */
  attempts: number;
  /** Base of the exponential backoff (PIGEON_RETRY_BASE_MS, default 1000). */
  baseMs: number;
}

/** The longest a provider's `Retry-After` is honoured. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * Delay before try `attempt + 1` after `attempt` tries failed: exponential (`base · 2^(attempt−1)`) with
 * "equal jitter" (between half and all of it), or the provider's `Retry-After` (capped at 5 minutes)
 * when it gave one.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs?: number,
  random = Math.random,
): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
  const exponential = policy.baseMs * 2 ** Math.max(0, attempt - 1);
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

/**
 * Backoff before a job that failed unexpectedly (database down, a bug — not a provider's answer) runs again,
 * after `tries` failed tries: 1 s doubling, at most 60 s. Used for send jobs and workflow runs alike.
 */
export function crashDelayMs(tries: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.min(tries, 6));
}
