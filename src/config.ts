/**
 * Configuration, read from the environment in one place (CONTRACT §1).
 * Nothing else in the code reads `process.env`.
 */
export type Role = 'api' | 'worker' | 'all';

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  role: Role;
  adminKey?: string;
  ingestKey?: string;
  secret?: string;
  logLevel: string;
  production: boolean;
}

export class ConfigError extends Error {}

const ROLES: Role[] = ['api', 'worker', 'all'];

export const DEFAULT_DATABASE_URL = 'sqlite:./data/pigeon.sqlite';

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
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
  return {
    port,
    host: nonEmpty(env.HOST) ?? '127.0.0.1',
    databaseUrl: nonEmpty(env.DATABASE_URL) ?? DEFAULT_DATABASE_URL,
    role,
    adminKey: nonEmpty(env.PIGEON_ADMIN_KEY),
    ingestKey: nonEmpty(env.PIGEON_INGEST_KEY),
    secret,
    logLevel: nonEmpty(env.LOG_LEVEL) ?? 'info',
    production,
  };
}
