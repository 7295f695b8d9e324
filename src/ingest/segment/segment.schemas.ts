import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import ajvErrors from 'ajv-errors';

/**
 * JSON Schemas of the Segment spec messages Pigeon accepts (https://segment.com/docs/connections/spec/),
 * with the caller-facing message for each rule. They are the single source of truth for validation
 * (and, later, for the OpenAPI document of the ingest routes).
 */
export const SEGMENT_TYPES = ['identify', 'track', 'group', 'page', 'screen', 'alias'] as const;
export type SegmentType = (typeof SEGMENT_TYPES)[number];

export function isSegmentType(value: unknown): value is SegmentType {
  return typeof value === 'string' && (SEGMENT_TYPES as readonly string[]).includes(value);
}

/** Longest track `event` name: the log stores `Segment-TrackEvent:<event>` in 255 characters. */
export const MAX_EVENT_NAME = 255 - 'Segment-TrackEvent:'.length;

/** ISO-8601 date-time: date, `T`, time with optional fraction, optional zone. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$/i;

const id = (what: string) => ({
  type: ['string', 'number'],
  minLength: 1,
  maxLength: 255,
  errorMessage: `${what} must be a non-empty string (or number) of at most 255 characters`,
});
const time = (what: string) => ({
  type: 'string',
  format: 'iso-date-time',
  errorMessage: `${what} must be an ISO-8601 date-time, e.g. 2026-11-20T18:41:29.093Z`,
});
const object = (what: string) => ({ type: 'object', errorMessage: `${what} must be an object` });

const common = {
  type: { type: 'string' },
  userId: id('userId'),
  anonymousId: id('anonymousId'),
  messageId: {
    type: 'string',
    minLength: 1,
    maxLength: 255,
    errorMessage: 'messageId must be a non-empty string of at most 255 characters',
  },
  timestamp: time('timestamp'),
  originalTimestamp: time('originalTimestamp'),
  sentAt: time('sentAt'),
  receivedAt: time('receivedAt'),
  context: object('context'),
  integrations: object('integrations'),
};

const needsIdentity = {
  anyOf: [{ required: ['userId'] }, { required: ['anonymousId'] }],
};

function schema(type: SegmentType, properties: Record<string, unknown>, required: Record<string, string> = {}) {
  return {
    $id: `segment-${type}`,
    title: `Segment ${type}`,
    type: 'object',
    properties: { ...common, ...properties },
    required: Object.keys(required),
    ...(type === 'alias' ? {} : needsIdentity),
    additionalProperties: true,
    errorMessage: {
      type: 'a message must be a JSON object',
      ...(Object.keys(required).length ? { required } : {}),
      ...(type === 'alias' ? {} : { anyOf: `${type} requires userId or anonymousId` }),
    },
  };
}

export const SEGMENT_SCHEMAS: Record<SegmentType, object> = {
  identify: schema('identify', { traits: object('identify traits') }),
  track: schema(
    'track',
    {
      event: {
        type: 'string',
        minLength: 1,
        maxLength: MAX_EVENT_NAME,
        errorMessage: `track event must be a non-empty string of at most ${MAX_EVENT_NAME} characters`,
      },
      properties: object('track properties'),
    },
    { event: 'track requires event' },
  ),
  group: schema(
    'group',
    { groupId: id('groupId'), traits: object('group traits') },
    { groupId: 'group requires groupId' },
  ),
  page: schema('page', { name: { type: 'string' }, properties: object('page properties') }),
  screen: schema('screen', { name: { type: 'string' }, properties: object('screen properties') }),
  alias: schema(
    'alias',
    { previousId: id('previousId') },
    { previousId: 'alias requires previousId', userId: 'alias requires userId' },
  ),
};

const ajv = new Ajv({ allErrors: true, strict: false });
ajvErrors(ajv);
ajv.addFormat('iso-date-time', {
  type: 'string',
  validate: (value: string) => ISO_8601.test(value) && !Number.isNaN(Date.parse(value)),
});

const validators = Object.fromEntries(SEGMENT_TYPES.map((t) => [t, ajv.compile(SEGMENT_SCHEMAS[t])])) as Record<
  SegmentType,
  ValidateFunction
>;

/** Validates one message of a known type; returns the first problem in words, or null. */
export function validateMessage(type: SegmentType, message: unknown): string | null {
  const validate = validators[type];
  if (validate(message)) return null;
  return describe(validate.errors ?? []);
}

function describe(errors: ErrorObject[]): string {
  const e = errors.find((x) => x.keyword === 'errorMessage') ?? errors[0];
  return e?.message ?? 'invalid message';
}
