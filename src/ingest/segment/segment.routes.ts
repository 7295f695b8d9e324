import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingEvent, IngestOutcome } from '../../domain/event-log/incoming-event';
import { isJsonObject, type JsonObject } from '../../lib/json';
import { SENDING_SCOPES } from '../../domain/workspace/api-key-scope.enum';
import { KeyRefusedError } from '../../domain/workspace/key-refused.error';
import type { Services } from '../../services';
import { bodyKey, headerKey } from '../credentials';
import { HttpError } from '../http-error';
import { rawType, recordStored, type IngestTelemetry } from '../ingest-telemetry';
import { acceptJsonOfAnyContentType, decompressBody } from '../request-body';
import { MAX_BATCH_ITEMS, MessageRejection, normalizeMessage, type BatchDefaults } from './normalize';
import { SEGMENT_TYPES, type SegmentType } from './segment.schemas';

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

  /** The key the caller presented; 401 when there is none. */
  function presentedKey(request: FastifyRequest): string {
    const key = headerKey(request) ?? bodyKey(request.body);
    if (key === undefined) throw refusal(new KeyRefusedError('missing'));
    return key;
  }

  /**
   * Checks the caller's key on its own. Only a request refused before it reaches the event log takes this
   * extra round trip, so that a bad key is answered 401/403 before a bad body is answered 400.
   */
  async function authenticate(request: FastifyRequest, key: string): Promise<void> {
    try {
      request.workspaceId = (await services.workspaces.authenticate(key, SENDING_SCOPES)).workspaceId;
    } catch (err) {
      throw err instanceof KeyRefusedError ? refusal(err) : err;
    }
  }

  /** Refuses the request with `error`, once its key is known to be good (a bad key answers first). */
  async function refuse(
    request: FastifyRequest,
    key: string,
    error: HttpError,
    rejectedTypes: unknown[] = [],
  ): Promise<never> {
    await authenticate(request, key);
    if (rejectedTypes.length)
      telemetry.record(
        request,
        rejectedTypes.map((type) => ({ type, outcome: 'rejected' })),
      );
    throw error;
  }

  /**
   * Stores `events` for the caller whose key is checked in the same transaction (one database round trip
   * for an accepted request); a refused key answers 401/403 and stores nothing.
   */
  async function store(request: FastifyRequest, key: string, events: IncomingEvent[]): Promise<IngestOutcome[]> {
    try {
      const { workspaceId, outcomes } = await services.events.ingestWithKey(key, events);
      request.workspaceId = workspaceId;
      return outcomes;
    } catch (err) {
      throw err instanceof KeyRefusedError ? refusal(err) : err;
    }
  }

  async function one(request: FastifyRequest, key: string, forcedType?: SegmentType): Promise<IncomingEvent> {
    const event = normalizeMessage(request.body, new Date(), { forcedType });
    if (event instanceof MessageRejection) {
      return refuse(request, key, new HttpError(event.status, event.code, event.message), [
        forcedType ?? rawType(request.body),
      ]);
    }
    return event;
  }

  const destination = async (request: FastifyRequest, reply: FastifyReply) => {
    const key = presentedKey(request);
    const event = await one(request, key);
    recordStored(telemetry, request, [event], await store(request, key, [event]));
    return reply.code(202).send({ messageId: event.messageId });
  };
  app.post('/segment', destination);
  app.post('/inbound/segment', destination);

  for (const type of SEGMENT_TYPES) {
    app.post(`/v1/${type}`, async (request, reply) => {
      const key = presentedKey(request);
      const event = await one(request, key, type);
      recordStored(telemetry, request, [event], await store(request, key, [event]));
      return reply.code(200).send({ success: true });
    });
  }

  app.post('/v1/batch', async (request, reply) => {
    const key = presentedKey(request);
    const body = request.body;
    if (!isJsonObject(body) || !Array.isArray(body.batch)) {
      return refuse(
        request,
        key,
        new HttpError(400, 'INVALID_EVENT', 'batch must be an array of messages: {"batch": [...]}'),
      );
    }
    if (body.batch.length > MAX_BATCH_ITEMS) {
      return refuse(
        request,
        key,
        new HttpError(
          413,
          'PAYLOAD_TOO_LARGE',
          `a batch holds at most ${MAX_BATCH_ITEMS} messages, got ${body.batch.length}`,
        ),
      );
    }
    const defaults: BatchDefaults = {
      context: isJsonObject(body.context) ? (body.context as JsonObject) : undefined,
      integrations: isJsonObject(body.integrations) ? (body.integrations as JsonObject) : undefined,
      sentAt: typeof body.sentAt === 'string' ? body.sentAt : undefined,
    };
    const receivedAt = new Date();
    const events: IncomingEvent[] = [];
    const rejected: { index: number; message: string; type: unknown }[] = [];
    body.batch.forEach((item: unknown, index: number) => {
      const result = normalizeMessage(item, receivedAt, { defaults });
      if (result instanceof MessageRejection) rejected.push({ index, message: result.message, type: rawType(item) });
      else events.push(result);
    });
    // the key is checked where the events are stored (with none valid, only the key is checked)
    const outcomes = await store(request, key, events);
    if (rejected.length)
      telemetry.record(
        request,
        rejected.map((r) => ({ type: r.type, outcome: 'rejected' })),
      );
    recordStored(telemetry, request, events, outcomes);
    return reply
      .code(200)
      .send(
        rejected.length
          ? { success: true, rejected: rejected.map(({ index, message }) => ({ index, message })) }
          : { success: true },
      );
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the caller's key is known, for logs. */
    workspaceId?: number;
  }
}
