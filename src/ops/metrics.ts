import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RetentionObserver } from '../domain/event-log/retention.service';
import type { Channel } from '../domain/channel/channel.enum';
import { SuppressionReason, type SuppressionObserver } from '../domain/suppression/suppression.service';

/** Where the queue gauges are read at scrape time (the job queue implements it). */
export interface QueueDepthSource {
  /** When the oldest due job became due (null: none is due); cheap at any queue size, read at every scrape. */
  oldestDue(): Promise<Date | null>;
  /** Jobs ready or running, and workflow runs waiting for a later time: counts whose cost grows with the queue. */
  counts(): Promise<{ jobs: number; waitingRuns: number }>;
}

/**
 * The share of time the queue counts may take of one database connection, per process: a count that took
 * `d` ms is read again no sooner than `d / COUNTS_SHARE` ms later (a 340 ms count of a million jobs at
 * most every 34 s), so scrapes never load the database in proportion to the backlog.
 */
const COUNTS_SHARE = 0.01;
/** Counts quicker than this (a queue of up to some tens of thousands of jobs) are read at every scrape. */
const CHEAP_COUNTS_MS = 20;

/** What became of one ingested event. */
export type IngestMetricOutcome = 'stored' | 'duplicate' | 'rejected';

/** What became of one provider callback event (`stored`, `duplicate`) or request (the others). */
export type CallbackMetricOutcome =
  'stored' | 'duplicate' | 'rejected_signature' | 'rejected_timestamp' | 'malformed' | 'unknown_hook';

/** Event types used as a label: the six Segment types, anything else is `unknown` (bounded cardinality). */
const EVENT_TYPES = new Set(['identify', 'track', 'group', 'page', 'screen', 'alias']);

/**
 * The names of every Pigeon metric (default process metrics come on top: `process_*`, `nodejs_*`).
 * Labels never hold user ids, event names, message ids or keys, so their cardinality stays bounded.
 */
export const METRIC_NAMES = {
  eventsIngested: 'pigeon_events_ingested_total',
  callbacks: 'pigeon_callbacks_total',
  httpDuration: 'pigeon_http_request_duration_seconds',
  messages: 'pigeon_messages_total',
  deliveries: 'pigeon_deliveries_total',
  deliveryDuration: 'pigeon_delivery_duration_seconds',
  queueDepth: 'pigeon_job_queue_depth',
  queueOldest: 'pigeon_job_queue_oldest_ready_age_seconds',
  workflowRuns: 'pigeon_workflow_runs_total',
  workflowRunsWaiting: 'pigeon_workflow_runs_waiting',
  workflowStepLateness: 'pigeon_workflow_step_lateness_seconds',
  retentionPurged: 'pigeon_retention_rows_purged_total',
  retentionRuns: 'pigeon_retention_runs_total',
  retentionLastRun: 'pigeon_retention_last_run_timestamp_seconds',
  retentionLastDuration: 'pigeon_retention_last_run_duration_seconds',
  suppressions: 'pigeon_suppressions_total',
  callbacksApplied: 'pigeon_callbacks_applied_total',
} as const;

/** Suppression reasons used as a label: Pigeon's own; any reason given by hand (GraphQL) is `MANUAL`. */
const SUPPRESSION_REASONS = new Set<string>(Object.values(SuppressionReason));

/**
 * Prometheus metrics of one process, on a registry of its own (never prom-client's global one, so
 * several apps in one process — the tests — do not collide). Served at `GET /metrics`.
 *
 * @example
 * ```ts
 * const metrics = new Metrics();
 * metrics.eventsIngested.inc({ type: 'track', outcome: 'stored' });
 * const text = await metrics.registry.metrics();
 * ```
 */
export class Metrics implements RetentionObserver, SuppressionObserver {
  readonly registry = new Registry();

  /** `type` (identify…alias, or `unknown`) × `outcome` (stored, duplicate, rejected). */
  readonly eventsIngested = new Counter({
    name: METRIC_NAMES.eventsIngested,
    help: 'Segment events received, by type and outcome (stored, duplicate, rejected)',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  /**
   * Provider callbacks (`POST /hooks/:id`): events `stored` or `duplicate`; requests refused as
   * `rejected_signature`, `rejected_timestamp`, `malformed` or `unknown_hook`. `provider` is the plugin slug
   * (`unknown` for an unknown hook).
   */
  readonly callbacks = new Counter({
    name: METRIC_NAMES.callbacks,
    help: 'Provider callbacks: events stored or duplicate, requests rejected (signature, timestamp), malformed or to an unknown hook; by provider plugin',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });

  /** `route` is the route pattern (`/v1/:type` style), never the raw URL; unmatched URLs are `unmatched`. */
  readonly httpDuration = new Histogram({
    name: METRIC_NAMES.httpDuration,
    help: 'HTTP request duration in seconds, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /** Status changes made by the send pipeline; `reason` is a fixed code (UNPUBLISHED, …) or empty. */
  readonly messages = new Counter({
    name: METRIC_NAMES.messages,
    help: 'Messages moved to a status by the send pipeline, by status and reason',
    labelNames: ['status', 'reason'] as const,
    registers: [this.registry],
  });

  /** One per provider try: outcome SENT, DELIVERED, RETRY, FAILED or SKIPPED (configuration gone). */
  readonly deliveries = new Counter({
    name: METRIC_NAMES.deliveries,
    help: 'Delivery attempts, by provider plugin, channel and outcome',
    labelNames: ['provider', 'channel', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly deliveryDuration = new Histogram({
    name: METRIC_NAMES.deliveryDuration,
    help: 'Time a provider took to accept (or refuse) one delivery attempt, in seconds, by provider plugin',
    labelNames: ['provider'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: METRIC_NAMES.queueDepth,
    help: 'Jobs in the queue (ready or running), counted in the database at scrape time; a count that was slow is reused for up to 100 times its duration',
    registers: [this.registry],
    collect: () => this.readQueue(),
  });

  readonly queueOldest = new Gauge({
    name: METRIC_NAMES.queueOldest,
    help: 'How long the oldest due job has been waiting, in seconds (0 when none is due)',
    registers: [this.registry],
    collect: () => this.readQueue(),
  });

  /** Runs reaching a status (WAITING each time a run starts waiting). */
  readonly workflowRuns = new Counter({
    name: METRIC_NAMES.workflowRuns,
    help: 'Workflow runs reaching a status, by status (WAITING counted each time a run starts to wait)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly workflowRunsWaiting = new Gauge({
    name: METRIC_NAMES.workflowRunsWaiting,
    help: 'Workflow runs waiting for a later time (delay, send window, digest), counted like pigeon_job_queue_depth',
    registers: [this.registry],
    collect: () => this.readQueue(),
  });

  /** How long after its due time a waiting run's step started (the worker's poll and claim). */
  readonly workflowStepLateness = new Histogram({
    name: METRIC_NAMES.workflowStepLateness,
    help: 'Seconds between a waiting workflow step being due and starting',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly retentionPurged = new Counter({
    name: METRIC_NAMES.retentionPurged,
    help: 'Event-log rows deleted by retention (PIGEON_EVENT_RETENTION_DAYS)',
    registers: [this.registry],
  });

  readonly retentionRuns = new Counter({
    name: METRIC_NAMES.retentionRuns,
    help: 'Retention runs, by outcome (ok, error)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly retentionLastRun = new Gauge({
    name: METRIC_NAMES.retentionLastRun,
    help: 'When the last retention run finished (Unix time, seconds); 0 before the first',
    registers: [this.registry],
  });

  readonly retentionLastDuration = new Gauge({
    name: METRIC_NAMES.retentionLastDuration,
    help: 'How long the last retention run took, in seconds',
    registers: [this.registry],
  });

  /** Addresses suppressed (or suppressed longer), by channel and reason (HARD_BOUNCE, …, MANUAL). */
  readonly suppressions = new Counter({
    name: METRIC_NAMES.suppressions,
    help: 'Addresses suppressed, by channel and reason (HARD_BOUNCE, SPAM_COMPLAINT, STOP, SOFT_BOUNCES, MANUAL)',
    labelNames: ['channel', 'reason'] as const,
    registers: [this.registry],
  });

  /** Stored provider callbacks applied by workers, by provider plugin and result (APPLIED, NO_EFFECT, UNKNOWN_DELIVERY). */
  readonly callbacksApplied = new Counter({
    name: METRIC_NAMES.callbacksApplied,
    help: 'Provider callbacks applied to deliveries, by provider plugin and result (APPLIED, NO_EFFECT, UNKNOWN_DELIVERY)',
    labelNames: ['provider', 'result'] as const,
    registers: [this.registry],
  });

  private queueSource?: QueueDepthSource;
  private defaultsOn = false;

  private queueRead: Promise<void> | null = null;

  /** When the queue counts may be read again (epoch ms; 0: at the next scrape). */
  private countsDueAt = 0;

  constructor() {
    for (const outcome of ['ok', 'error']) this.retentionRuns.inc({ outcome }, 0);
    this.retentionPurged.inc(0);
    this.retentionLastRun.set(0);
  }

  /**
   * Reads the queue once per scrape for its three gauges (concurrent scrapes share the read); keeps the last
   * values when the database is down. The oldest due job is looked up every time; the two counts only when
   * their last reading's cost allows ({@link COUNTS_SHARE}), else the gauges keep that reading.
   */
  private readQueue(): Promise<void> {
    this.queueRead ??= (async () => {
      try {
        if (!this.queueSource) return;
        const due = await this.queueSource.oldestDue();
        this.queueOldest.set(due ? Math.max(0, Date.now() - due.getTime()) / 1000 : 0);
        if (Date.now() < this.countsDueAt) return;
        const started = performance.now();
        const { jobs, waitingRuns } = await this.queueSource.counts();
        const took = performance.now() - started;
        this.queueDepth.set(jobs);
        this.workflowRunsWaiting.set(waitingRuns);
        this.countsDueAt = took < CHEAP_COUNTS_MS ? 0 : Date.now() + took / COUNTS_SHARE;
      } catch {
        // the database is unreachable: /readyz says so
      } finally {
        this.queueRead = null;
      }
    })();
    return this.queueRead;
  }

  /** The queue whose depth the gauges show (read at each scrape). */
  watchQueue(source: QueueDepthSource): void {
    this.queueSource = source;
  }

  /** Adds prom-client's default process metrics (`process_*`, `nodejs_*`) to this registry, once. */
  collectDefaults(): void {
    if (this.defaultsOn) return;
    this.defaultsOn = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts provider callback events or requests (see {@link callbacks}). */
  callback(provider: string, outcome: CallbackMetricOutcome, n = 1): void {
    if (n > 0) this.callbacks.inc({ provider, outcome }, n);
  }

  /** Counts one ingested event; `type` outside the Segment types becomes `unknown`. */
  ingested(type: unknown, outcome: IngestMetricOutcome, n = 1): void {
    const label = typeof type === 'string' && EVENT_TYPES.has(type.toLowerCase()) ? type.toLowerCase() : 'unknown';
    this.eventsIngested.inc({ type: label, outcome }, n);
  }

  /** One HTTP request: `route` is the matched route pattern (undefined for unmatched URLs). */
  request(method: string, route: string | undefined, status: number, seconds: number): void {
    this.httpDuration.observe({ method, route: route ?? 'unmatched', status: String(status) }, seconds);
  }

  // RetentionObserver

  retentionBatch(rows: number): void {
    this.retentionPurged.inc(rows);
  }

  retentionRun(result: { ok: boolean; ms: number; at: Date }): void {
    this.retentionRuns.inc({ outcome: result.ok ? 'ok' : 'error' });
    this.retentionLastRun.set(result.at.getTime() / 1000);
    this.retentionLastDuration.set(result.ms / 1000);
  }

  // SuppressionObserver

  suppressed(channel: Channel, reason: string): void {
    this.suppressions.inc({ channel, reason: SUPPRESSION_REASONS.has(reason) ? reason : 'MANUAL' });
  }

  /** The exposition text and its content type, for `GET /metrics`. */
  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
