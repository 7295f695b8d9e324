import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bodyKey, headerKey } from './credentials';
import { HttpError } from './http-error';

/** One minute: the window `PIGEON_RATE_LIMIT_PER_MINUTE` counts in. */
export const RATE_LIMIT_WINDOW_MS = 60_000;

/** The ingest routes (the only ones limited). */
export function isIngestRoute(url: string | undefined): boolean {
  return url === '/segment' || url === '/inbound/segment' || (url?.startsWith('/v1/') ?? false);
}

/**
 * The bucket a request counts against: the key it presents (as a hash: no secret is kept in memory),
 * in any of its three forms (see `credentials.ts`); requests without a readable key count per client address.
 */
export function rateLimitBucket(request: FastifyRequest): string {
  let key: string | undefined;
  try {
    key = headerKey(request) ?? bodyKey(request.body);
  } catch {
    key = undefined; // an unreadable Authorization header: refused with 401 by the route
  }
  return key ? `key:${createHash('sha256').update(key).digest('base64url')}` : `ip:${request.ip}`;
}

/**
 * Per-key rate limit on the ingest routes (README.md, "Limits and errors"): at most `perMinute` requests per key and
 * minute in this process (a batch counts as one request), else `429 {"message", "code": "RATE_LIMITED"}`
 * with `Retry-After` (seconds until the window resets). Off when `perMinute` is 0, the default.
 * Counted in memory per API process: with N API processes behind a balancer a key gets up to N × the limit.
 * Must be registered before the routes it limits.
 */
export async function registerIngestRateLimit(
  app: FastifyInstance,
  perMinute: number,
  windowMs = RATE_LIMIT_WINDOW_MS,
): Promise<void> {
  if (!perMinute) return;
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: windowMs,
    hook: 'preHandler', // after the body is parsed: a writeKey in the body is a key too
    keyGenerator: (request) => (isIngestRoute(request.routeOptions.url) ? rateLimitBucket(request) : 'unlimited'),
    allowList: (request) => !isIngestRoute(request.routeOptions.url),
    errorResponseBuilder: (_request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new HttpError(
        429,
        'RATE_LIMITED',
        `Rate limit exceeded: at most ${context.max} requests per ${windowMs / 1000} s with one key; retry in ${seconds} s`,
        { 'retry-after': String(seconds) },
      );
    },
  });
}
