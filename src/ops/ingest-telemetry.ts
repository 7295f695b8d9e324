import type { FastifyRequest } from 'fastify';
import type { IngestMetricOutcome, Metrics } from './metrics';

/** Ingest counts of one request, for its log line. */
export interface IngestCounts {
  stored: number;
  duplicate: number;
  rejected: number;
}

/**
 * Records what became of the events of one ingest request: the `pigeon_events_ingested_total`
 * metric (by type and outcome) and the counts in the request's log line. Types only, never names or ids.
 *
 * @example
 * ```ts
 * const outcomes = await services.events.ingest(ctx, events);
 * noteIngest(request, services.metrics, events.map((e, i) => ({ type: e.type, outcome: outcomes[i] })));
 * ```
 */
export function noteIngest(
  request: FastifyRequest,
  metrics: Metrics | undefined,
  items: { type: unknown; outcome: IngestMetricOutcome }[],
): void {
  const counts = (request.ingest ??= { stored: 0, duplicate: 0, rejected: 0 });
  for (const { type, outcome } of items) {
    counts[outcome]++;
    metrics?.ingested(type, outcome);
  }
}

/** {@link noteIngest} for events handed to the store, with the outcome it returned for each. */
export function noteStored(
  request: FastifyRequest,
  metrics: Metrics | undefined,
  events: readonly { type: unknown }[],
  outcomes: readonly ('stored' | 'duplicate')[] | undefined,
): void {
  noteIngest(
    request,
    metrics,
    events.map((e, i) => ({ type: e.type, outcome: outcomes?.[i] ?? 'stored' })),
  );
}

/** The `type` field of a raw body, when it has one (for labelling a rejected message). */
export function rawType(body: unknown): unknown {
  return typeof body === 'object' && body !== null ? (body as { type?: unknown }).type : undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** What became of the events of an ingest request (set by the ingest routes), for the log line. */
    ingest?: IngestCounts;
  }
}
