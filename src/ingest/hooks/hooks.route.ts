import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CallbacksDisabledError, type CallbackIntakeService } from '../../domain/callback/callback-intake.service';
import { CallbackRejectedError } from '../../domain/provider/provider-callback';
import { HttpError } from '../http-error';

/** The largest callback body read (SendGrid posts batches of events; 1 MB is well above one). */
export const MAX_CALLBACK_BYTES = 1024 * 1024;

/** What became of a callback request, or of each of its events. */
export type CallbackOutcome =
  'stored' | 'duplicate' | 'rejected_signature' | 'rejected_timestamp' | 'malformed' | 'unknown_hook';

/**
 * Where the hooks route reports what became of each callback (for the `pigeon_callbacks_total` metric).
 * Implemented with the metrics in `app.ts`, so ingest and ops do not import each other.
 */
export interface CallbackTelemetry {
  record(provider: string, outcome: CallbackOutcome, n?: number): void;
}

/** Header values as strings (a repeated header joined with `, `), names lower-cased as Node gives them. */
function headersOf(request: FastifyRequest): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/**
 * `POST /hooks/:id`: provider callbacks (README, "Delivery tracking"). The id is a provider configuration's opaque
 * callback id; its plugin verifies the exact raw bytes (any content type, at most 1 MB, else 413) and reads the
 * events, which are stored before the answer:
 * `200 {"received": n, "duplicates": m}` once committed; `401` for a missing or wrong signature or a timestamp
 * more than 5 minutes off; `400` for a body that cannot be read; `404` for an unknown id (also a disabled
 * configuration or a plugin without callbacks); `503` when PIGEON_PUBLIC_URL is not set or the store is down.
 * Nothing is stored unless the answer is 200. Errors are `{"message", "code"}` (the app's error handler).
 */
export function registerHookRoutes(
  app: FastifyInstance,
  intake: CallbackIntakeService,
  telemetry?: CallbackTelemetry,
): void {
  void app.register(async (scope) => {
    // the plugins verify signatures over the exact bytes: every body is read raw, whatever its content type
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_CALLBACK_BYTES }, (_req, body, done) =>
      done(null, body),
    );
    scope.setErrorHandler((error, _request, reply) => {
      if ((error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return reply
          .code(413)
          .send({ message: `The callback body is over ${MAX_CALLBACK_BYTES / 1024} KB`, code: 'PAYLOAD_TOO_LARGE' });
      }
      if ((error as { code?: string }).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        return reply
          .code(415)
          .send({ message: 'The Content-Type header is not valid', code: 'UNSUPPORTED_MEDIA_TYPE' });
      }
      throw error; // answered by the app's error handler
    });

    scope.post<{ Params: { id: string } }>('/hooks/:id', async (request, reply) => {
      const now = new Date();
      if (!intake.publicUrl) throw new HttpError(503, 'CALLBACKS_DISABLED', new CallbacksDisabledError().message);
      const hookId = request.params.id;
      const target = await intake.target(hookId);
      if (!target) {
        telemetry?.record('unknown', 'unknown_hook');
        throw new HttpError(404, 'NOT_FOUND', 'No callback URL /hooks/<id> with this id takes callbacks');
      }
      request.workspaceId = target.workspaceId;
      const q = request.url.indexOf('?');
      let events;
      try {
        events = intake.read(target, {
          hookId,
          query: q >= 0 ? request.url.slice(q + 1) : '',
          rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
          headers: headersOf(request),
          now,
        });
      } catch (err) {
        if (!(err instanceof CallbackRejectedError)) throw err;
        if (err.reason === 'malformed') {
          telemetry?.record(target.provider, 'malformed');
          throw new HttpError(400, 'MALFORMED_CALLBACK', err.message);
        }
        telemetry?.record(target.provider, err.reason === 'timestamp' ? 'rejected_timestamp' : 'rejected_signature');
        throw new HttpError(401, err.reason === 'timestamp' ? 'STALE_CALLBACK' : 'INVALID_SIGNATURE', err.message);
      }
      const result = await intake.store(target, events, now);
      telemetry?.record(target.provider, 'stored', result.received);
      telemetry?.record(target.provider, 'duplicate', result.duplicates);
      return reply.code(200).send(result);
    });
  });
}
