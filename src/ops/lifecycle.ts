/**
 * Where the process is in its life, for `/readyz`: once shutdown has begun (SIGTERM/SIGINT in
 * `index.ts`), readiness answers `503 {"status":"stopping"}` so load balancers stop sending traffic,
 * while the process finishes what it is doing.
 *
 * @example
 * const lifecycle = new Lifecycle();
 * const app = await createApp({ services, config, lifecycle });
 * process.on('SIGTERM', () => { lifecycle.beginStopping('SIGTERM'); void app.close(); });
 */
export class Lifecycle {
  private reason: string | undefined;

  /** True once {@link beginStopping} was called; it never becomes false again. */
  get stopping(): boolean {
    return this.reason !== undefined;
  }

  /** Why the process is stopping (e.g. `SIGTERM`), once it is. */
  get stoppingBecause(): string | undefined {
    return this.reason;
  }

  /** Marks the process as shutting down; the first reason given is kept. */
  beginStopping(reason: string): void {
    this.reason ??= reason;
  }
}
