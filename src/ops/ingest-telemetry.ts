import type { FastifyRequest } from 'fastify';
import type { IngestMetricOutcome, Metrics } from './metrics';

/** Ingest counts of one request, for its log line. */
export interface IngestCounts {
  stored: number;
  duplicate: number;
  rejected: number;
}

/**
 * The ingest routes' telemetry (the `IngestTelemetry` of `ingest/ingest-telemetry.ts`, wired in
 * `app.ts`): each event's outcome counts in the `pigeon_events_ingested_total` metric (by type and
 * outcome) and in the request's log line. Types only, never names or ids.
 *
 * @example
 * ```ts
 * const telemetry = ingestTelemetry(services.metrics);
 * telemetry.record(request, events.map((e, i) => ({ type: e.type, outcome: outcomes[i] })));
 * ```
 */
export function ingestTelemetry(metrics: Metrics | undefined) {
  return {
    record(request: FastifyRequest, items: readonly { type: unknown; outcome: IngestMetricOutcome }[]): void {
      const counts = (request.ingest ??= { stored: 0, duplicate: 0, rejected: 0 });
      for (const { type, outcome } of items) {
        counts[outcome]++;
        metrics?.ingested(type, outcome);
      }
    },
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** What became of the events of an ingest request (set by the ingest routes), for the log line. */
    ingest?: IngestCounts;
  }
}
