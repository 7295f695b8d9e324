import type { Logger } from 'pino';
import type { DeliveryAttemptEvent, MessageStatusEvent, PipelineTelemetry } from '../pipeline/pipeline-telemetry';
import type { WorkflowTelemetry } from '../pipeline/workflow-runner';
import type { Metrics } from './metrics';

/**
 * The send pipeline's telemetry for a process: each status change and delivery attempt becomes a
 * metric and one structured log line carrying `messageId` (and `deliveryId` for attempts). Lines
 * hold ids, channel, provider, outcome and the provider's error text — never addresses, rendered
 * content, traits or provider settings.
 */
export function pipelineTelemetry(metrics: Metrics, logger?: Logger): PipelineTelemetry {
  const log = logger?.child({ component: 'pipeline' });
  return {
    status(e: MessageStatusEvent) {
      metrics.messages.inc({ status: e.status, reason: e.reason ?? '' });
      log?.info(
        { workspaceId: e.workspaceId, messageId: e.messageId, status: e.status, reason: e.reason },
        `message ${e.status.toLowerCase()}`,
      );
    },
    attempt(e: DeliveryAttemptEvent) {
      metrics.deliveries.inc({ provider: e.provider, channel: e.channel, outcome: e.outcome });
      if (e.ms !== undefined) metrics.deliveryDuration.observe({ provider: e.provider }, e.ms / 1000);
      const line = {
        workspaceId: e.workspaceId,
        messageId: e.messageId,
        deliveryId: e.deliveryId,
        channel: e.channel,
        provider: e.provider,
        providerConfigId: e.providerConfigId,
        attempt: e.attempt,
        outcome: e.outcome,
        ms: e.ms === undefined ? undefined : Math.round(e.ms),
        error: e.error,
        providerStatus: e.status ?? undefined,
      };
      if (e.outcome === 'SENT' || e.outcome === 'DELIVERED') log?.info(line, 'delivery attempt');
      else log?.warn(line, 'delivery attempt');
    },
  };
}

/** The workflow runner's telemetry for a process: runs by status and step lateness. */
export function workflowTelemetry(metrics: Metrics): WorkflowTelemetry {
  return {
    runStatus(status) {
      metrics.workflowRuns.inc({ status });
    },
    stepLateness(lateMs) {
      metrics.workflowStepLateness.observe(lateMs / 1000);
    },
  };
}
