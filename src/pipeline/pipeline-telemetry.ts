/**
 * What the send pipeline reports about its work, for metrics and logs. The pipeline only knows this
 * interface; the process wires an implementation (see `src/ops/pipeline-telemetry.ts`), so pipeline
 * code never imports prom-client, pino configuration or HTTP code.
 *
 * @example
 * ```ts
 * const telemetry: PipelineTelemetry = {
 *   status: (e) => console.log(e.messageId, e.status, e.reason),
 *   attempt: (e) => console.log(e.deliveryId, e.provider, e.outcome, e.ms),
 * };
 * ```
 */
export interface PipelineTelemetry {
  /** A message moved to `status` (ROUTED, SENT, DELIVERED, FILTERED, UNROUTABLE, UNDELIVERABLE). */
  status(event: MessageStatusEvent): void;
  /** One try of one delivery ended (or was skipped because its configuration is gone). */
  attempt(event: DeliveryAttemptEvent): void;
}

export interface MessageStatusEvent {
  workspaceId: number;
  messageId: string;
  status: string;
  reason: string | null;
}

export type DeliveryOutcome = 'SENT' | 'DELIVERED' | 'RETRY' | 'FAILED' | 'SKIPPED';

export interface DeliveryAttemptEvent {
  workspaceId: number;
  messageId: string;
  deliveryId: string;
  channel: string;
  /** The provider plugin's slug (a bounded set), never a configuration's settings. */
  provider: string;
  providerConfigId: string;
  attempt: number;
  outcome: DeliveryOutcome;
  /** How long the provider call took; absent when no call was made. */
  ms?: number;
  /** The provider's error message (already truncated), for failed and retried tries. */
  error?: string;
  /** The HTTP status the provider answered, when there was one. */
  status?: number | null;
}
