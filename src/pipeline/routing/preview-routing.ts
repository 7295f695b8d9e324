import { randomUUID } from 'node:crypto';
import { InvalidInputError, NotFoundError } from '../../domain/domain-error';
import type { HistoryEntry } from '../../domain/message/message-history.types';
import { Message } from '../../domain/message/message.entity';
import { MessageStatus } from '../../domain/message/message-status.enum';
import type { RequestContext } from '../../domain/request-context';
import type { RoutingMethod } from '../../domain/routing/routing.enums';
import type { Channel } from '../../domain/channel/channel.enum';
import { decide } from './decide';
import { loadInputs, loadPreferencesIn, loadSuppressionsIn, type RoutingSources } from './load-inputs';

/** What routing would decide for a message, without one being stored. */
export interface RoutingPreviewResult {
  /** The status the message would end with here: ROUTED (it would be sent), FILTERED, UNROUTABLE or UNDELIVERABLE. */
  status: MessageStatus;
  reason: string | null;
  /** The method of the plan (null when nothing would be sent). */
  method: RoutingMethod | null;
  /** The planned channels, in the order they would be tried. */
  channels: Channel[];
  /** The history entries a real message would get from routing (TEMPLATE, PROFILE, RULES, …). */
  history: HistoryEntry[];
}

/**
 * Runs the real routing decision (`decide`) for an unsaved message of `templateId` to `userId` with
 * `data`, from the inputs the pipeline would load (rules, published template, profile, provider
 * configurations, topic, preferences, suppressions), and writes nothing: no message, no history.
 * Preferences and suppressions are plain reads (the pipeline reads them in the transaction that
 * records the decision; a preview records none).
 */
export async function previewRouting(
  sources: RoutingSources,
  ctx: RequestContext,
  input: { templateId: string; userId: string; data?: Record<string, unknown> | null },
): Promise<RoutingPreviewResult> {
  const userId = input.userId.trim();
  if (!userId) throw new InvalidInputError('userId must not be empty', { field: 'userId' });
  if (input.data != null && (typeof input.data !== 'object' || Array.isArray(input.data))) {
    throw new InvalidInputError('data must be a JSON object', { field: 'data' });
  }
  const template = await sources.templates.get(ctx, { id: input.templateId });
  if (!template) throw new NotFoundError('Template', input.templateId);

  const now = new Date();
  const message = Object.assign(new Message(), {
    id: randomUUID(),
    workspaceId: ctx.workspaceId,
    status: MessageStatus.ENQUEUED,
    reason: null,
    templateId: template.id,
    templateVersion: null,
    eventId: null,
    eventName: null,
    userId,
    data: input.data ?? {},
    channel: null,
    plan: null,
    idempotencyKey: null,
    runId: null,
    sendOptions: null,
    createdAt: now,
    updatedAt: now,
  } satisfies Partial<Message>);
  const messages = [message];
  const inputs = await loadInputs(sources, ctx, messages);
  const decision = decide(message, {
    ...inputs,
    ...(await loadPreferencesIn(sources, sources.db, ctx, messages, inputs)),
    ...(await loadSuppressionsIn(sources, sources.db, ctx, messages, inputs, now)),
  });
  return {
    status: decision.status,
    reason: decision.reason,
    method: decision.plan?.method ?? null,
    channels: decision.plan?.channels.map((c) => c.channel) ?? [],
    history: decision.history,
  };
}
