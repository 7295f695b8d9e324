import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import zlib from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-error';
import { MAX_REQUEST_BYTES } from './segment/normalize';

/** The content codings an ingest body may come in (besides none, `identity`). */
export type BodyEncoding = 'gzip' | 'deflate';

/**
 * The one coding of `Content-Encoding`, or `undefined` for none/`identity`; anything else is `415`.
 * `x-gzip` is gzip (RFC 9110 §8.4.1.3); `deflate` is the zlib format (RFC 1950), as HTTP defines it.
 */
export function bodyEncoding(header: string | string[] | undefined): BodyEncoding | undefined {
  const raw = Array.isArray(header) ? header.join(',') : (header ?? '');
  const codings = raw
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return undefined;
  if (codings.length === 1) {
    if (codings[0] === 'gzip' || codings[0] === 'x-gzip') return 'gzip';
    if (codings[0] === 'deflate') return 'deflate';
  }
  throw new HttpError(
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    `Content-Encoding "${raw.trim().slice(0, 100)}" is not supported: send the body uncompressed, or with Content-Encoding gzip or deflate`,
  );
}

/** A decompressed body as fastify reads it: `receivedEncodedLength` counts the compressed bytes received. */
export type InflatedBody = Transform & { receivedEncodedLength: number };

/**
 * Decompresses `source` while it streams, refusing it with `413` as soon as more than `limit` bytes have come
 * out (a small body that inflates to gigabytes is stopped after `limit` bytes: nothing bigger is ever held),
 * and with `400` when the stream is not valid `encoding`. On either error the inflater is destroyed and the
 * request is no longer read (fastify answers and closes the connection).
 */
export function inflateBody(source: Readable, encoding: BodyEncoding, limit: number): InflatedBody {
  const inflater = encoding === 'gzip' ? zlib.createGunzip() : zlib.createInflate();
  let inflated = 0;
  const body = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      inflated += chunk.length;
      if (inflated > limit) {
        callback(
          new HttpError(413, 'PAYLOAD_TOO_LARGE', `The request body is over ${limit / 1024} KB once decompressed`),
        );
        return;
      }
      callback(null, chunk);
    },
  }) as InflatedBody;
  body.receivedEncodedLength = 0;

  const count = (chunk: Buffer | string) => {
    body.receivedEncodedLength += chunk.length;
  };
  const sourceFailed = (err: Error) => body.destroy(err);
  inflater.on('error', (err) => {
    body.destroy(
      new HttpError(
        400,
        'MALFORMED_REQUEST',
        `The body is not valid ${encoding} (Content-Encoding: ${encoding}): ${err.message}`,
      ),
    );
  });
  body.on('close', () => {
    source.off('data', count);
    source.off('error', sourceFailed);
    source.unpipe(inflater);
    if (!source.readableEnded) source.pause();
    inflater.destroy();
  });
  source.on('data', count);
  source.on('error', sourceFailed);
  source.pipe(inflater).pipe(body);
  return body;
}

/**
 * fastify `preParsing` hook of the ingest routes: a body sent with `Content-Encoding: gzip` or `deflate` is
 * decompressed on the way to the JSON parser, which then applies its 500 KB limit to the decompressed bytes.
 * An unsupported coding is `415` before anything is read.
 */
export async function decompressBody(
  request: FastifyRequest,
  _reply: FastifyReply,
  payload: Readable,
): Promise<Readable> {
  const encoding = bodyEncoding(request.headers['content-encoding']);
  return encoding ? inflateBody(payload, encoding, MAX_REQUEST_BYTES) : payload;
}

/** The media type of the request's content type, without parameters ('' when there is none). */
function typeName(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
}

/**
 * Makes the routes of `scope` lenient about the content type: a JSON body is read as JSON whatever its
 * content type says, or without one (rudder-sdk-node sends gzip JSON as `application/x-www-form-urlencoded`).
 * A body under another content type that is not JSON is `415`. `application/json` and `text/plain` keep the
 * app-wide parser. Only the ingest routes use this; GraphQL keeps its strict types (and Apollo's CSRF rules).
 */
export function acceptJsonOfAnyContentType(scope: FastifyInstance): void {
  scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_REQUEST_BYTES }, (request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      const type = typeName(request);
      done(
        new HttpError(
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          `The body is not JSON (content-type: ${type ? type.slice(0, 100) : 'none'}): send a JSON body with content-type: application/json`,
        ),
      );
    }
  });
}
