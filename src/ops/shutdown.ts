import { ConfigError } from '../config';

/** How long an API process keeps serving after SIGTERM, by default: /readyz says "stopping" meanwhile. */
export const DEFAULT_SHUTDOWN_DELAY_MS = 5_000;
export const MAX_SHUTDOWN_DELAY_MS = 60_000;

/**
 * `PIGEON_SHUTDOWN_DELAY_MS`: how long a process that serves HTTP keeps accepting requests after SIGTERM,
 * answering `/readyz` with `503 {"status":"stopping"}`, so a load balancer that polls `/readyz` takes it
 * out of rotation before it stops accepting connections. `0` closes at once. Throws {@link ConfigError}.
 */
export function shutdownDelayMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.PIGEON_SHUTDOWN_DELAY_MS?.trim();
  if (!raw) return DEFAULT_SHUTDOWN_DELAY_MS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > MAX_SHUTDOWN_DELAY_MS) {
    throw new ConfigError(
      `PIGEON_SHUTDOWN_DELAY_MS must be an integer from 0 to ${MAX_SHUTDOWN_DELAY_MS}, got "${raw}"`,
    );
  }
  return value;
}

/**
 * How long to keep serving after `signal` before closing: the delay on SIGTERM (what orchestrators and
 * deploys send) when the process serves HTTP; none on SIGINT (Ctrl-C at a terminal means now).
 */
export function drainMs(signal: string, servesHttp: boolean, delayMs: number): number {
  return signal === 'SIGTERM' && servesHttp ? delayMs : 0;
}
