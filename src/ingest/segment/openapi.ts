import { MAX_BATCH_ITEMS, MAX_EVENT_BYTES, MAX_REQUEST_BYTES } from './normalize';
import { SEGMENT_SCHEMAS, SEGMENT_TYPES, type SegmentType } from './segment.schemas';

/**
 * The OpenAPI 3.1 document of the ingest routes (README.md, "Sending events"), built from the very
 * JSON Schemas that validate requests ({@link SEGMENT_SCHEMAS}), so the document and the validator
 * cannot drift. ajv-only keywords (`errorMessage`, `$id`) are stripped; the custom `iso-date-time`
 * format is kept and described. Served at `GET /openapi.json` by the ops routes, which get it from
 * the composition root (`app.ts`, `index.ts`).
 */

type Json = Record<string, unknown>;

const pascal = (type: SegmentType) => type[0].toUpperCase() + type.slice(1);

/** A deep copy of `schema` without the ajv-only keywords. */
export function stripAjvKeywords(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(stripAjvKeywords);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'errorMessage' || key === '$id') continue;
    out[key] = stripAjvKeywords(value);
  }
  if (out.format === 'iso-date-time' && out.description === undefined) {
    out.description = 'ISO-8601 date-time, e.g. 2026-11-20T18:41:29.093Z (seconds, fraction and zone optional)';
  }
  return out;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const writeKeyProperty = {
  type: 'string',
  description: 'The ingest (or admin) key, as the Segment HTTP API allows; an alternative to the Authorization header',
};

/** One message of `type`, as validated, plus the body `writeKey`. */
function messageSchema(type: SegmentType): Json {
  const schema = stripAjvKeywords(SEGMENT_SCHEMAS[type]) as Json;
  return {
    ...schema,
    description: `A Segment ${type} message (https://segment.com/docs/connections/spec/${type}/); at most ${MAX_EVENT_BYTES / 1024} KB`,
    properties: { ...(schema.properties as Json), writeKey: writeKeyProperty },
  };
}

/** A message with its `type` required to be `type` (for the routes where the body decides the type). */
const typedMessage = (type: SegmentType) => ({
  allOf: [ref(`${pascal(type)}Message`), { properties: { type: { const: type } }, required: ['type'] }],
});

const error = (description: string, extra: Json = {}) => ({
  description,
  content: { 'application/json': { schema: ref('Error') } },
  ...extra,
});

/** Every error an ingest route answers (README.md, "Limits and errors"). */
function errorResponses(): Json {
  return {
    '400': error(
      'Malformed JSON, a corrupt gzip/deflate stream, or an invalid message (the message says which rule it breaks)',
    ),
    '401': error('Missing or unknown key'),
    '403': error('Revoked key, or a key without ingest scope'),
    '413': error(
      `Over a limit: one message ≤ ${MAX_EVENT_BYTES / 1024} KB, one request ≤ ${MAX_REQUEST_BYTES / 1024} KB, ≤ ${MAX_BATCH_ITEMS} messages per batch (decompressed sizes)`,
    ),
    '415': error('An unsupported Content-Encoding (only gzip, x-gzip, deflate, identity), or a body that is not JSON'),
    '429': error('Rate limited; retry after the number of seconds in Retry-After', {
      headers: { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } },
    }),
    '501': error('Unknown message type: {"message": "Event Type Unsupported: <type>"}'),
    '503': error('The store cannot commit right now; nothing was stored. Retry later', {
      headers: { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } },
    }),
  };
}

const security = [{ basicAuth: [] }, { bearerAuth: [] }, {}];

/** Every ingest route reads gzip and deflate bodies (README.md, "Sending events"). */
const parameters = [
  {
    name: 'Content-Encoding',
    in: 'header',
    required: false,
    description:
      'gzip (or x-gzip) or deflate (zlib format) to send a compressed body; the size limits apply to the decompressed body',
    schema: { type: 'string', enum: ['gzip', 'x-gzip', 'deflate', 'identity'] },
  },
];

function destinationOperation(operationId: string, summary: string): Json {
  return {
    operationId,
    summary,
    tags: ['Segment destination'],
    security,
    parameters,
    requestBody: {
      required: true,
      content: { 'application/json': { schema: ref('SegmentMessage') } },
    },
    responses: {
      '202': {
        description:
          'Stored durably (or already stored: the same messageId is acknowledged again, processed once). A message without messageId gets one generated',
        content: { 'application/json': { schema: ref('Accepted') } },
      },
      ...errorResponses(),
    },
  };
}

function trackingOperation(type: SegmentType): Json {
  return {
    operationId: `v1${pascal(type)}`,
    summary: `Segment HTTP Tracking API: ${type}`,
    description: `The route decides the type: a \`type\` in the body is ignored.`,
    tags: ['Segment HTTP Tracking API'],
    security,
    parameters,
    requestBody: {
      required: true,
      content: { 'application/json': { schema: ref(`${pascal(type)}Message`) } },
    },
    responses: {
      '200': { description: 'Stored durably', content: { 'application/json': { schema: ref('Success') } } },
      ...errorResponses(),
    },
  };
}

/** Builds the document; `serverUrl` is added as the one server when given. */
export function buildOpenApiDocument(options: { version?: string; serverUrl?: string } = {}): Json {
  const schemas: Json = {};
  for (const type of SEGMENT_TYPES) schemas[`${pascal(type)}Message`] = messageSchema(type);
  Object.assign(schemas, {
    SegmentMessage: {
      description: 'One Segment message; its `type` decides the shape. An unknown type is answered 501',
      oneOf: SEGMENT_TYPES.map(typedMessage),
    },
    Batch: {
      type: 'object',
      required: ['batch'],
      properties: {
        batch: {
          type: 'array',
          maxItems: MAX_BATCH_ITEMS,
          description:
            'Messages, each with its `type`. An item that is invalid (or over 32 KB, or of an unknown type) is not stored and is listed in `rejected`; the valid items are stored either way',
          items: ref('SegmentMessage'),
        },
        context: { type: 'object', description: 'Merged into each item’s context (the item’s keys win)' },
        integrations: { type: 'object', description: 'Merged into each item’s integrations' },
        sentAt: { type: 'string', format: 'iso-date-time', description: 'Used for items without their own sentAt' },
        writeKey: writeKeyProperty,
      },
    },
    Accepted: {
      type: 'object',
      required: ['messageId'],
      properties: { messageId: { type: 'string', description: 'The message’s messageId (generated when absent)' } },
    },
    Success: {
      type: 'object',
      required: ['success'],
      properties: { success: { const: true } },
    },
    BatchSuccess: {
      type: 'object',
      required: ['success'],
      properties: {
        success: { const: true },
        rejected: {
          type: 'array',
          description: 'Present when some items were invalid: their index in `batch` and why',
          items: {
            type: 'object',
            required: ['index', 'message'],
            properties: { index: { type: 'integer', minimum: 0 }, message: { type: 'string' } },
          },
        },
      },
    },
    Error: {
      type: 'object',
      required: ['message'],
      properties: {
        message: { type: 'string', description: 'What went wrong, in words' },
        code: {
          type: 'string',
          description:
            'A stable code: MALFORMED_JSON, INVALID_EVENT, UNAUTHENTICATED, FORBIDDEN, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, RATE_LIMITED, UNSUPPORTED_EVENT_TYPE, STORE_UNAVAILABLE, …',
        },
      },
    },
  });

  const paths: Json = {
    '/segment': { post: destinationOperation('segmentDestination', 'The Segment destination endpoint') },
    '/inbound/segment': {
      post: destinationOperation('inboundSegment', 'The Segment destination endpoint (alias of /segment)'),
    },
  };
  for (const type of SEGMENT_TYPES) paths[`/v1/${type}`] = { post: trackingOperation(type) };
  paths['/v1/batch'] = {
    post: {
      operationId: 'v1Batch',
      summary: 'Segment HTTP Tracking API: batch',
      tags: ['Segment HTTP Tracking API'],
      security,
      parameters,
      requestBody: { required: true, content: { 'application/json': { schema: ref('Batch') } } },
      responses: {
        '200': {
          description: 'Every valid item is stored durably; invalid ones are listed in `rejected`',
          content: { 'application/json': { schema: ref('BatchSuccess') } },
        },
        ...errorResponses(),
      },
    },
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'Pigeon ingest API',
      version: options.version ?? '0.0.0',
      description:
        'Segment-compatible ingest: the destination endpoint and the Segment HTTP Tracking API. Authenticate with ' +
        '`Authorization: Basic base64("<key>:")` (the key as user name, empty password), `Authorization: Bearer <key>`, ' +
        'or a `writeKey` field in the JSON body. No 2xx is ever sent for an event that is not durably stored.',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    paths,
    components: {
      schemas,
      securitySchemes: {
        basicAuth: {
          type: 'http',
          scheme: 'basic',
          description: 'The ingest key as the user name and an empty password: base64("<key>:")',
        },
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'The ingest key as a bearer token' },
      },
    },
  };
}
