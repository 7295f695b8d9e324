import 'reflect-metadata';
import v8 from 'node:v8';
import { ConfigError, loadConfig } from './config';
import { redactUrl } from './db/data-source-options';
import { buildOpenApiDocument } from './ingest/segment/openapi';
import { openDatabase } from './open-database';
import { Lifecycle } from './ops/lifecycle';
import { createLogger } from './ops/logger';
import { createOpsApp } from './ops/ops-app';
import { startRetention, startSoftBouncePurge } from './ops/housekeeping';
import { drainMs } from './ops/shutdown';
import { Worker } from './pipeline/worker';
import { createServices } from './services';

/**
 * V8 grows the heap by up to 4× its live size between full collections when a process allocates
 * fast (a busy ingest server does: every request is short-lived garbage, and what waits a few ms for
 * its group commit gets promoted). 1.5× keeps a busy API process near 180 MB instead of 300 MB+, at
 * no measurable throughput cost (bench/README.md). It is a growth factor, not a cap: a process whose
 * live data grows still grows. PIGEON_HEAP_GROWING_PERCENT sets it (0 = V8's own heuristics).
 */
function tuneHeap(percent: number): void {
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/** Boot only: read config, open the database, migrate, bootstrap, listen. */
async function main(): Promise<void> {
  const config = loadConfig();
  tuneHeap(config.heapGrowingPercent);
  const logger = createLogger(config.logLevel);
  const db = await openDatabase(config.databaseUrl);
  logger.info({ database: redactUrl(config.databaseUrl), role: config.role }, 'database ready, migrations applied');
  if (!config.secret) {
    logger.warn(
      'PIGEON_SECRET is not set: provider secrets are encrypted with a built-in development key (set it in production)',
    );
  }
  const services = createServices(db, config, logger);
  services.metrics.collectDefaults();

  const generated = await services.workspaces.bootstrapDefault({
    adminKey: config.adminKey,
    ingestKey: config.ingestKey,
  });
  if (generated.length) {
    const lines = generated.map((k) => `  ${k.apiKey.scope.toLowerCase().padEnd(6)} key: ${k.secret}`);
    process.stdout.write(
      `\nPigeon created workspace "default". Its keys are shown only this once; store them now:\n${lines.join('\n')}\n\n`,
    );
  }

  const worker =
    config.role === 'api'
      ? undefined
      : new Worker(
          services.queue,
          services.pipeline,
          { concurrency: config.workerConcurrency, leaseMs: config.jobLeaseMs, pollMs: config.workerPollMs },
          logger,
          services.runner,
          services.callbacks,
        );
  // from the first SIGTERM/SIGINT on, /readyz answers 503 "stopping" (see stop below)
  const lifecycle = new Lifecycle();
  const app =
    config.role === 'worker'
      ? undefined
      : // loaded only where it serves: a worker process never loads Apollo, GraphQL or the routes
        await (await import('./app')).createApp({ services, config, logger, role: config.role, worker, lifecycle });
  if (app) {
    await app.listen({ port: config.port, host: config.host });
  }
  const opsApp =
    config.role === 'worker' && config.opsPort !== undefined
      ? await createOpsApp({
          db,
          metrics: services.metrics,
          openApi: buildOpenApiDocument,
          logger,
          role: config.role,
          worker,
          lifecycle,
        })
      : undefined;
  await opsApp?.listen({ port: config.opsPort, host: config.host });
  worker?.start();
  if (worker) logger.info({ workerId: worker.id, concurrency: config.workerConcurrency }, 'worker started');
  const stopRetention =
    worker && config.eventRetentionDays
      ? startRetention(services.retention, { days: config.eventRetentionDays }, logger)
      : undefined;
  const stopSoftBouncePurge = worker ? startSoftBouncePurge(services.suppressions, {}, logger) : undefined;

  const stop = async (signal: string) => {
    if (lifecycle.stopping) return;
    // before anything awaits: from here on /readyz answers 503 "stopping"
    lifecycle.beginStopping(signal);
    const drain = drainMs(signal, app !== undefined, config.shutdownDelayMs);
    logger.info({ signal, drainMs: drain }, 'shutting down');
    const timer = setTimeout(() => process.exit(1), drain + 20_000);
    timer.unref();
    // the worker stops claiming at once and lets its sends in flight finish (at most 15 s)
    const workerStopped = worker?.stop(15_000);
    // an API process keeps serving for PIGEON_SHUTDOWN_DELAY_MS while /readyz says "stopping", so a load
    // balancer polling it takes the process out of rotation before it stops accepting connections
    if (drain > 0) await new Promise((resolve) => setTimeout(resolve, drain));
    await app?.close();
    await stopRetention?.();
    await stopSoftBouncePurge?.();
    // a worker process's ops routes stay up while its sends finish: /readyz says "stopping", /metrics still answers
    await workerStopped;
    await opsApp?.close();
    await db.dataSource.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`pigeon: ${err.message}\n`);
  } else {
    process.stderr.write(
      `pigeon: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  }
  process.exit(1);
});
