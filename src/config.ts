/**
 * Configuration, read from the environment in one place (the variables are listed in
 * README.md, "Configuration").
 * Nothing else in the code reads `process.env`.
 */
import { IANAZone } from 'luxon';
import { operatorKeyProblem } from './lib/api-key-format';

export type Role = 'api' | 'worker' | 'all';

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  role: Role;
  adminKey?: string;
  ingestKey?: string;
  secret?: string;
  /** The secret before a rotation (PIGEON_SECRET_PREVIOUS): still decrypts, never encrypts. */
  secretPrevious?: string;
  /** Purge event-log rows received more than this many days ago (PIGEON_EVENT_RETENTION_DAYS); off when unset or 0. */
  eventRetentionDays?: number;
  /** Port of the operational routes (/healthz, /readyz, /metrics) in a PIGEON_ROLE=worker process (PIGEON_OPS_PORT). */
  opsPort?: number;
  logLevel: string;
  production: boolean;
  /** Tries per provider (PIGEON_RETRY_ATTEMPTS). */
  retryAttempts: number;
  /** Base of the exponential retry backoff in ms (PIGEON_RETRY_BASE_MS). */
  retryBaseMs: number;
  /** How long a worker holds a claimed job before another may take it (PIGEON_JOB_LEASE_MS). */
  jobLeaseMs: number;
  /** Jobs one worker process runs at once (PIGEON_WORKER_CONCURRENCY). */
  workerConcurrency: number;
  /** How often an idle worker polls for due jobs (PIGEON_WORKER_POLL_MS). */
  workerPollMs: number;
  /** Ingest requests one key may make per minute, per API process; 0 is no limit (PIGEON_RATE_LIMIT_PER_MINUTE). */
  rateLimitPerMinute: number;
  /** How far V8 lets the heap grow past its live size, in % (PIGEON_HEAP_GROWING_PERCENT); 0 is V8's own. */
  heapGrowingPercent: number;
  /**
   * How long a process that serves HTTP keeps accepting requests after SIGTERM, answering /readyz with
   * 503 "stopping", so a load balancer takes it out of rotation first (PIGEON_SHUTDOWN_DELAY_MS, 0–60000).
   */
  shutdownDelayMs: number;
  /** The IANA zone of a workflow recipient with no known zone (PIGEON_DEFAULT_TIMEZONE, default UTC). */
  defaultTimezone: string;
  /**
   * The URL people and providers reach Pigeon at (PIGEON_PUBLIC_URL), without a trailing slash: unsubscribe
   * and preference links need it; without it they are not offered.
   */
  publicUrl?: string;
}

/** PIGEON_SHUTDOWN_DELAY_MS when unset. */
export const DEFAULT_SHUTDOWN_DELAY_MS = 5_000;
const MAX_SHUTDOWN_DELAY_MS = 60_000;

export class ConfigError extends Error {}

const ROLES: Role[] = ['api', 'worker', 'all'];

export const DEFAULT_DATABASE_URL = 'sqlite:./data/pigeon.sqlite';

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function operatorKey(env: NodeJS.ProcessEnv, name: 'PIGEON_ADMIN_KEY' | 'PIGEON_INGEST_KEY'): string | undefined {
  const value = nonEmpty(env[name]);
  const problem = value === undefined ? undefined : operatorKeyProblem(value);
  if (problem) {
    // never echo the key itself
    throw new ConfigError(
      `${name} ${problem}: use e.g. \`openssl rand -base64 32\`, or leave it unset to have a key generated`,
    );
  }
  return value;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new ConfigError(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return value;
}

function defaultTimezone(env: NodeJS.ProcessEnv): string {
  const zone = nonEmpty(env.PIGEON_DEFAULT_TIMEZONE) ?? 'UTC';
  if (!IANAZone.isValidZone(zone)) {
    throw new ConfigError(`PIGEON_DEFAULT_TIMEZONE must be an IANA time zone such as "Europe/Berlin", got "${zone}"`);
  }
  return zone;
}

function shutdownDelay(env: NodeJS.ProcessEnv): number {
  const value = integer(env, 'PIGEON_SHUTDOWN_DELAY_MS', DEFAULT_SHUTDOWN_DELAY_MS, 0);
  if (value > MAX_SHUTDOWN_DELAY_MS) {
    throw new ConfigError(`PIGEON_SHUTDOWN_DELAY_MS must be at most ${MAX_SHUTDOWN_DELAY_MS}, got "${value}"`);
  }
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be an integer between 0 and 65535, got "${env.PORT}"`);
  }
  const role = (nonEmpty(env.PIGEON_ROLE) ?? 'all') as Role;
  if (!ROLES.includes(role)) {
    throw new ConfigError(`PIGEON_ROLE must be one of ${ROLES.join(', ')}, got "${env.PIGEON_ROLE}"`);
  }
  const production = env.NODE_ENV === 'production';
  const secret = nonEmpty(env.PIGEON_SECRET);
  if (production && !secret) {
    throw new ConfigError('PIGEON_SECRET is required when NODE_ENV=production (it encrypts provider secrets at rest)');
  }
  return {
    port,
    host: nonEmpty(env.HOST) ?? '127.0.0.1',
    databaseUrl: nonEmpty(env.DATABASE_URL) ?? DEFAULT_DATABASE_URL,
    role,
    adminKey: operatorKey(env, 'PIGEON_ADMIN_KEY'),
    ingestKey: operatorKey(env, 'PIGEON_INGEST_KEY'),
    secret,
    secretPrevious: nonEmpty(env.PIGEON_SECRET_PREVIOUS),
    eventRetentionDays: integer(env, 'PIGEON_EVENT_RETENTION_DAYS', 0, 0) || undefined,
    opsPort: nonEmpty(env.PIGEON_OPS_PORT) === undefined ? undefined : integer(env, 'PIGEON_OPS_PORT', 0, 0),
    logLevel: nonEmpty(env.LOG_LEVEL) ?? 'info',
    production,
    retryAttempts: integer(env, 'PIGEON_RETRY_ATTEMPTS', 3, 1),
    retryBaseMs: integer(env, 'PIGEON_RETRY_BASE_MS', 1000, 0),
    jobLeaseMs: integer(env, 'PIGEON_JOB_LEASE_MS', 60_000, 100),
    workerConcurrency: integer(env, 'PIGEON_WORKER_CONCURRENCY', 50, 1),
    workerPollMs: integer(env, 'PIGEON_WORKER_POLL_MS', 500, 1),
    rateLimitPerMinute: integer(env, 'PIGEON_RATE_LIMIT_PER_MINUTE', 0, 0),
    heapGrowingPercent: integer(env, 'PIGEON_HEAP_GROWING_PERCENT', 50, 0),
    shutdownDelayMs: shutdownDelay(env),
    defaultTimezone: defaultTimezone(env),
    publicUrl: publicUrl(env),
  };
}

/** PIGEON_PUBLIC_URL: an absolute http(s) URL, kept without its trailing slashes. */
function publicUrl(env: NodeJS.ProcessEnv): string | undefined {
  const value = nonEmpty(env.PIGEON_PUBLIC_URL);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      `PIGEON_PUBLIC_URL must be an absolute URL such as https://pigeon.example.com, got "${value}"`,
    );
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.search || url.hash) {
    throw new ConfigError(`PIGEON_PUBLIC_URL must be an http(s) URL without query or fragment, got "${value}"`);
  }
  return value.replace(/\/+$/, '');
}

/** PIGEON_SECRET and PIGEON_SECRET_PREVIOUS alone, for `pigeon secrets rotate`. */
export function loadSecrets(env: NodeJS.ProcessEnv = process.env): Pick<Config, 'secret' | 'secretPrevious'> {
  return { secret: nonEmpty(env.PIGEON_SECRET), secretPrevious: nonEmpty(env.PIGEON_SECRET_PREVIOUS) };
}

/** The database URL alone: the `pigeon` CLI needs nothing else of the configuration. */
export function loadDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return nonEmpty(env.DATABASE_URL) ?? DEFAULT_DATABASE_URL;
}
