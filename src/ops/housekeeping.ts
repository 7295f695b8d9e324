import type { Logger } from 'pino';
import type { EventRetentionService } from '../domain/event-log/retention.service';
import type { SuppressionService } from '../domain/suppression/suppression.service';

export interface PeriodicSchedule {
  /** Time between runs; default one hour. */
  intervalMs?: number;
  /** Delay of the first run after start; default one minute. */
  firstRunMs?: number;
}

export interface RetentionSchedule extends PeriodicSchedule {
  /** Purge events older than this many days. */
  days: number;
}

/**
 * Runs `run` periodically in a process with workers (`index.ts`): runs never overlap; each run's result is
 * logged as `<name> run` (under `component: housekeeping`), a failed run is logged and tried again at the
 * next tick. Returns a stop function that waits for a run in progress to end.
 */
export function startPeriodic(
  name: string,
  run: () => Promise<Record<string, unknown>>,
  schedule: PeriodicSchedule,
  logger: Logger,
): () => Promise<void> {
  const log = logger.child({ component: 'housekeeping' });
  const intervalMs = schedule.intervalMs ?? 60 * 60 * 1000;
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = run()
      .then((result) => log.info(result, `${name} run`))
      .catch((err) => log.error({ err }, `${name} run failed`))
      .finally(() => {
        running = null;
      });
  };
  const first = setTimeout(tick, schedule.firstRunMs ?? 60_000);
  const timer = setInterval(tick, intervalMs);
  first.unref();
  timer.unref();
  log.info({ intervalMs }, `${name} scheduled`);
  return async () => {
    stopped = true;
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}

/** Event retention (`PIGEON_EVENT_RETENTION_DAYS`), hourly by default, 10 ms between its batches. */
export function startRetention(
  retention: EventRetentionService,
  schedule: RetentionSchedule,
  logger: Logger,
): () => Promise<void> {
  return startPeriodic(
    'event retention',
    async () => {
      const r = await retention.purgeOlderThan(schedule.days, { pauseMs: 10 });
      return { days: schedule.days, purged: r.purged, kept: r.kept, cutoff: r.cutoff.toISOString(), ms: r.ms };
    },
    schedule,
    logger,
  );
}

/** Soft bounces no count needs any more (`SuppressionService.purgeSoftBounces`), hourly by default; always on. */
export function startSoftBouncePurge(
  suppressions: SuppressionService,
  schedule: PeriodicSchedule,
  logger: Logger,
): () => Promise<void> {
  return startPeriodic(
    'soft bounce purge',
    async () => {
      const started = Date.now();
      const purged = await suppressions.purgeSoftBounces();
      return { purged, ms: Date.now() - started };
    },
    schedule,
    logger,
  );
}
