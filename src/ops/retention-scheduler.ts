import type { Logger } from 'pino';
import type { EventRetentionService } from '../domain/event-log/retention.service';

export interface RetentionSchedule {
  /** Purge events older than this many days. */
  days: number;
  /** Time between runs; default one hour. */
  intervalMs?: number;
  /** Delay of the first run after start; default one minute. */
  firstRunMs?: number;
}

/**
 * Runs event retention periodically in a process with workers (`index.ts`). Runs never overlap;
 * a failed run is logged and tried again at the next tick. Returns a stop function that waits for
 * a run in progress to end.
 */
export function startRetention(
  retention: EventRetentionService,
  schedule: RetentionSchedule,
  logger: Logger,
): () => Promise<void> {
  const log = logger.child({ component: 'retention' });
  const intervalMs = schedule.intervalMs ?? 60 * 60 * 1000;
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = retention
      .purgeOlderThan(schedule.days, { pauseMs: 10 })
      .then((r) => {
        log.info({ purged: r.purged, kept: r.kept, cutoff: r.cutoff.toISOString(), ms: r.ms }, 'event retention run');
      })
      .catch((err) => log.error({ err }, 'event retention run failed'))
      .finally(() => {
        running = null;
      });
  };
  const first = setTimeout(tick, schedule.firstRunMs ?? 60_000);
  const timer = setInterval(tick, intervalMs);
  first.unref();
  timer.unref();
  log.info({ days: schedule.days, intervalMs }, 'event retention scheduled');
  return async () => {
    stopped = true;
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}
