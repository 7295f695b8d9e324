import type { FastifyRequest } from 'fastify';

/** What became of one event of an ingest request. */
export type IngestOutcome = 'stored' | 'duplicate' | 'rejected';

/**
 * Where the ingest routes report what became of each event of a request (for metrics and the
 * request's log line). Types only, never names or ids. Implemented by `ops/ingest-telemetry.ts` and
 * handed to {@link registerSegmentRoutes} by `app.ts`, so ingest and ops do not import each other.
 */
export interface IngestTelemetry {
  record(request: FastifyRequest, items: readonly { type: unknown; outcome: IngestOutcome }[]): void;
}

/** Reports events handed to the store, with the outcome it returned for each (stored when it returned none). */
export function recordStored(
  telemetry: IngestTelemetry,
  request: FastifyRequest,
  events: readonly { type: unknown }[],
  outcomes: readonly ('stored' | 'duplicate')[] | undefined,
): void {
  telemetry.record(
    request,
    events.map((e, i) => ({ type: e.type, outcome: outcomes?.[i] ?? 'stored' })),
  );
}

/** The `type` field of a raw body, when it has one (for labelling a rejected message). */
export function rawType(body: unknown): unknown {
  return typeof body === 'object' && body !== null ? (body as { type?: unknown }).type : undefined;
}
