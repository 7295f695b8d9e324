import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingEvent } from '../../domain/event-log/incoming-event';
import { isJsonObject, type JsonObject } from '../../lib/json';
import type { RequestContext } from '../../domain/request-context';
import { StoreUnavailableError } from '../../domain/domain-error';
import { ApiKeyScope } from '../../domain/workspace/api-key-scope.enum';
import type { Services } from '../../services';
import { bodyKey, headerKey } from '../credentials';
import { HttpError } from '../http-error';
import { noteIngest, noteStored, rawType } from '../../ops/ingest-telemetry';
import { MAX_BATCH_ITEMS, MessageRejection, normalizeMessage, type BatchDefaults } from './normalize';
import { SEGMENT_TYPES, type SegmentType } from './segment.schemas';

/**
 * The Segment ingest routes (CONTRACT §2): the destination endpoint `POST /segment`
 * (alias `/inbound/segment`) and the HTTP Tracking API `POST /v1/<type>` and `/v1/batch`.
 * Every event is committed before the answer; nothing here answers 2xx for an event not stored.
 */
export function registerSegmentRoutes(app: FastifyInstance, services: Services): void {
  async function authenticate(request: FastifyRequest): Promise<RequestContext> {
    const key = headerKey(request) ?? bodyKey(request.body);
    if (!key) {
      throw new HttpError(
        401,
        'UNAUTHENTICATED',
        'An API key is required: Authorization Basic base64("<key>:"), Bearer <key>, or writeKey in the body',
      );
    }
    let check;
    try {
      check = await services.workspaces.verify(key);
    } catch (err) {
      throw new StoreUnavailableError(err);
    }
    if (!check.ok) {
      throw check.reason === 'revoked'
        ? new HttpError(403, 'FORBIDDEN', 'This API key has been revoked')
        : new HttpError(401, 'UNAUTHENTICATED', 'Unknown API key');
    }
    if (check.key.scope !== ApiKeyScope.INGEST && check.key.scope !== ApiKeyScope.ADMIN) {
      throw new HttpError(403, 'FORBIDDEN', 'This key may not send events');
    }
    request.workspaceId = check.key.workspaceId;
    return { workspaceId: check.key.workspaceId };
  }

  function one(request: FastifyRequest, forcedType?: SegmentType): IncomingEvent {
    const event = normalizeMessage(request.body, new Date(), { forcedType });
    if (event instanceof MessageRejection) {
      noteIngest(request, services.metrics, [{ type: forcedType ?? rawType(request.body), outcome: 'rejected' }]);
      throw new HttpError(event.status, event.code, event.message);
    }
    return event;
  }

  const destination = async (request: FastifyRequest, reply: FastifyReply) => {
    const ctx = await authenticate(request);
    const event = one(request);
    noteStored(request, services.metrics, [event], await services.events.ingest(ctx, [event]));
    return reply.code(202).send({ messageId: event.messageId });
  };
  app.post('/segment', destination);
  app.post('/inbound/segment', destination);

  for (const type of SEGMENT_TYPES) {
    app.post(`/v1/${type}`, async (request, reply) => {
      const ctx = await authenticate(request);
      const event = one(request, type);
      noteStored(request, services.metrics, [event], await services.events.ingest(ctx, [event]));
      return reply.code(200).send({ success: true });
    });
  }

  app.post('/v1/batch', async (request, reply) => {
    const ctx = await authenticate(request);
    const body = request.body;
    if (!isJsonObject(body) || !Array.isArray(body.batch)) {
      throw new HttpError(400, 'INVALID_EVENT', 'batch must be an array of messages: {"batch": [...]}');
    }
    if (body.batch.length > MAX_BATCH_ITEMS) {
      throw new HttpError(
        413,
        'PAYLOAD_TOO_LARGE',
        `a batch holds at most ${MAX_BATCH_ITEMS} messages, got ${body.batch.length}`,
      );
    }
    const defaults: BatchDefaults = {
      context: isJsonObject(body.context) ? (body.context as JsonObject) : undefined,
      integrations: isJsonObject(body.integrations) ? (body.integrations as JsonObject) : undefined,
      sentAt: typeof body.sentAt === 'string' ? body.sentAt : undefined,
    };
    const receivedAt = new Date();
    const events: IncomingEvent[] = [];
    const rejected: { index: number; message: string }[] = [];
    body.batch.forEach((item: unknown, index: number) => {
      const result = normalizeMessage(item, receivedAt, { defaults });
      if (result instanceof MessageRejection) {
        rejected.push({ index, message: result.message });
        noteIngest(request, services.metrics, [{ type: rawType(item), outcome: 'rejected' }]);
      } else events.push(result);
    });
    noteStored(request, services.metrics, events, await services.events.ingest(ctx, events));
    return reply.code(200).send(rejected.length ? { success: true, rejected } : { success: true });
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the caller's key is known, for logs. */
    workspaceId?: number;
  }
}
