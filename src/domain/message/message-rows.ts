import { fromDbTime } from '../../db/dialect';
import { parseJsonColumn } from '../../db/rows';
import type { Channel } from '../channel/channel.enum';
import { Delivery } from './delivery.entity';
import { Message } from './message.entity';
import { MessageHistory } from './message-history.entity';
import type { DeliveryStatus, MessageStatus } from './message-status.enum';

/** A `messages` row as the drivers return it. */
export interface MessageRow {
  id: string;
  workspace_id: number;
  status: string;
  reason: string | null;
  template_id: string | null;
  template_version: number | null;
  event_id: string | number | null;
  event_name: string | null;
  user_id: string;
  data: unknown;
  channel: string | null;
  plan: unknown;
  idempotency_key: string | null;
  run_id?: string | null;
  send_options?: unknown;
  created_at: unknown;
  updated_at: unknown;
}

/** A `message_history` row as the drivers return it. */
export interface HistoryRow {
  id: string | number;
  message_id: string;
  at: unknown;
  type: string;
  detail: unknown;
}

export function toMessage(row: MessageRow): Message {
  return Object.assign(new Message(), {
    id: row.id,
    workspaceId: Number(row.workspace_id),
    status: row.status as MessageStatus,
    reason: row.reason,
    templateId: row.template_id,
    templateVersion: row.template_version === null ? null : Number(row.template_version),
    eventId: row.event_id === null ? null : String(row.event_id),
    eventName: row.event_name,
    userId: row.user_id,
    data: parseJsonColumn(row.data) ?? {},
    channel: row.channel as Channel | null,
    plan: row.plan === null || row.plan === undefined ? null : parseJsonColumn(row.plan),
    idempotencyKey: row.idempotency_key,
    runId: row.run_id ?? null,
    sendOptions: row.send_options === null || row.send_options === undefined ? null : parseJsonColumn(row.send_options),
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  });
}

export function toDelivery(row: Record<string, any>): Delivery {
  return Object.assign(new Delivery(), {
    id: row.id,
    messageId: row.message_id,
    channel: row.channel,
    providerConfigId: row.provider_config_id,
    provider: row.provider,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    externalId: row.external_id,
    sentAt: row.sent_at ? fromDbTime(row.sent_at) : null,
    deliveredAt: row.delivered_at ? fromDbTime(row.delivered_at) : null,
    openedAt: row.opened_at ? fromDbTime(row.opened_at) : null,
    clickedAt: row.clicked_at ? fromDbTime(row.clicked_at) : null,
    nextAttemptAt: row.next_attempt_at ? fromDbTime(row.next_attempt_at) : null,
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  });
}

export function toHistory(row: HistoryRow): MessageHistory {
  return Object.assign(new MessageHistory(), {
    id: String(row.id),
    messageId: row.message_id,
    at: fromDbTime(row.at),
    type: row.type,
    detail: parseJsonColumn(row.detail),
  });
}
