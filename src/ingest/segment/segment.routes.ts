import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingEvent } from '../../domain/event-log/incoming-event';
import { isJsonObject, type JsonObject } from '../../lib/json';
import type { RequestContext } from '../../domain/request-context';
import { ApiKeyScope } from '../../domain/workspace/api-key-scope.enum';
import { KeyRefusedError } from '../../domain/workspace/key-refused.error';
import type { Services } from '../../services';
import { bodyKey, headerKey } from '../credentials';
import { HttpError } from '../http-error';
import { rawType, recordStored, type IngestTelemetry } from '../ingest-telemetry';
import { acceptJsonOfAnyContentType, decompressBody } from '../request-body';
import { MAX_BATCH_ITEMS, MessageRejection, normalizeMessage, type BatchDefaults } from './normalize';
import { SEGMENT_TYPES, type SegmentType } from './segment.schemas';

/** The scopes that may send events. */
const SENDING_SCOPES = [ApiKeyScope.INGEST, ApiKeyScope.ADMIN];

/** A refused key as the ingest routes answer it: 401 for a missing or unknown key, else 403. */
function refusal(err: KeyRefusedError): HttpError {
  switch (err.reason) {
    case 'missing':
      return new HttpError(
        401,
        'UNAUTHENTICATED',
        'An API key is required: Authorization Basic base64("<key>:"), Bearer <key>, or writeKey in the body',
      );
    case 'unknown':
      return new HttpError(401, 'UNAUTHENTICATED', 'Unknown API key');
    case 'revoked':
      return new HttpError(403, 'FORBIDDEN', 'This API key has been revoked');
    case 'scope':
      return new HttpError(403, 'FORBIDDEN', 'This key may not send events');
  }
}

/**
 * The Segment ingest routes (README.md, "Sending events"): the destination endpoint `POST /segment`
 * (alias `/inbound/segment`) and the HTTP Tracking API `POST /v1/<type>` and `/v1/batch`.
 * Every event is committed before the answer; nothing here answers 2xx for an event not stored.
 * What becomes of each event is reported to `telemetry`.
 */
export function registerSegmentRoutes(app: FastifyInstance, services: Services, telemetry: IngestTelemetry): void {
  // Their own plugin scope, so the body rules below hold for the ingest routes only (GraphQL keeps strict types).
  void app.register(async (ingest) => segmentRoutes(ingest, services, telemetry));
}

/**
 * The routes themselves, in a scope where bodies may be gzip/deflate (decompressed while streaming, the limits
 * applying to the decompressed size) and JSON is read whatever the content type says (`../request-body.ts`).
 */
function segmentRoutes(app: FastifyInstance, services: Services, telemetry: IngestTelemetry): void {
  app.addHook('preParsing', decompressBody);
  acceptJsonOfAnyContentType(app);

  async function authenticate(request: FastifyRequest): Promise<RequestContext> {
    const key = headerKey(request) ?? bodyKey(request.body);
    let caller;
    try {
      caller = await services.workspaces.authenticate(key, SENDING_SCOPES);
    } catch (err) {
      throw err instanceof KeyRefusedError ? refusal(err) : err;
    }
    request.workspaceId = caller.workspaceId;
    return { workspaceId: caller.workspaceId };
  }

  function one(request: FastifyRequest, forcedType?: SegmentType): IncomingEvent {
    const event = normalizeMessage(request.body, new Date(), { forcedType });
    if (event instanceof MessageRejection) {
      telemetry.record(request, [{ type: forcedType ?? rawType(request.body), outcome: 'rejected' }]);
      throw new HttpError(event.status, event.code, event.message);
    }
    return event;
  }

  const destination = async (request: FastifyRequest, reply: FastifyReply) => {
    const ctx = await authenticate(request);
    const event = one(request);
    recordStored(telemetry, request, [event], await services.events.ingest(ctx, [event]));
    return reply.code(202).send({ messageId: event.messageId });
  };
  app.post('/segment', destination);
  app.post('/inbound/segment', destination);

  for (const type of SEGMENT_TYPES) {
    app.post(`/v1/${type}`, async (request, reply) => {
      const ctx = await authenticate(request);
      const event = one(request, type);
      recordStored(telemetry, request, [event], await services.events.ingest(ctx, [event]));
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
        telemetry.record(request, [{ type: rawType(item), outcome: 'rejected' }]);
      } else events.push(result);
    });
    recordStored(telemetry, request, events, await services.events.ingest(ctx, events));
    return reply.code(200).send(rejected.length ? { success: true, rejected } : { success: true });
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the caller's key is known, for logs. */
    workspaceId?: number;
  }
}
