import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Paths pino replaces with `[redacted]` in every line, whatever logs them: credentials in headers and
 * bodies, provider settings and secrets, trait values, and the parameters of failed SQL (which hold
 * the data being written). Wildcards cover one level of nesting (`req.headers.authorization` and
 * `headers.authorization`, `err.parameters` and `err.cause.parameters`).
 */
export const REDACT_PATHS: string[] = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'request.headers.authorization',
  'writeKey',
  '*.writeKey',
  'body',
  'req.body',
  'apiKey',
  '*.apiKey',
  'key',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'token',
  '*.token',
  'settings',
  '*.settings',
  'config',
  '*.config',
  'traits',
  '*.traits',
  'payload',
  '*.payload',
  'variables',
  '*.variables',
  'parameters',
  '*.parameters',
  'err.cause.parameters',
  'err.driverError.sql',
  'err.sql',
  'err.cause.sql',
  'err.driverError.parameters',
];

/**
 * The process logger: pino at `level`, JSON lines to `destination` (stdout by default), with
 * {@link REDACT_PATHS} applied.
 *
 * @example
 * ```ts
 * const logger = createLogger(config.logLevel);
 * const app = await createApp({ services, config, logger });
 * ```
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
