import Ajv, { type ErrorObject } from 'ajv';
import { describe } from '../../lib/json';
import { ALL_CHANNELS, type Channel } from '../channel/channel.enum';
import { DomainError } from '../domain-error';
import { RoutingAction, RoutingMethod } from '../routing/routing.enums';
import { CANCEL_KEY_PATH } from '../mapping/mapping.service';

/**
 * The configuration file of `pigeon config export` / `pigeon config import` (README.md, "Configuration as
 * code"): a workspace's templates, workflows, event mappings, cancel mappings and routing rules, referenced
 * by key and never by id, so a file exported from one workspace (or installation) imports into another.
 *
 * @example
 * ```json
 * {
 *   "pigeon": 1,
 *   "templates": [
 *     { "key": "welcome", "name": "Welcome", "channels": ["EMAIL"],
 *       "content": { "email": { "subject": "Hi {{profile.firstName}}", "html": "<p>Welcome!</p>" } },
 *       "published": true }
 *   ],
 *   "mappings": [{ "event": "Segment-TrackEvent:Signed Up", "template": "welcome" }]
 * }
 * ```
 */
export interface ConfigFile {
  /** The format version; this Pigeon reads and writes 1. */
  pigeon: 1;
  templates?: TemplateDoc[];
  workflows?: WorkflowDoc[];
  mappings?: MappingDoc[];
  cancelMappings?: CancelMappingDoc[];
  rules?: RuleDoc[];
  /**
   * Reserved for topics (preference categories), which this Pigeon does not have yet: an import refuses a
   * non-empty list. A workflow's own `topic` field is a plain key and imports as it is.
   */
  topics?: unknown[];
}

/** The current format version. */
export const CONFIG_FORMAT_VERSION = 1;

/**
 * Whether and what is published: `false` never published; `true` the latest published version is the
 * draft; an object: the latest published version, which differs from the draft (unpublished changes).
 */
export type Published<T> = boolean | T;

/** A template's content as published: channels and content. */
export interface PublishedTemplateDoc {
  channels: Channel[];
  content: Record<string, unknown>;
}

/** A template: the draft (`name`, `channels`, `content`) and what is published. */
export interface TemplateDoc extends PublishedTemplateDoc {
  key: string;
  name: string;
  published: Published<PublishedTemplateDoc>;
}

/** A workflow definition as a version holds it (everything but the key). */
export interface WorkflowDefinitionDoc {
  name: string;
  topic?: string | null;
  cancelKeyPath?: string | null;
  window?: Record<string, unknown> | null;
  steps: unknown[];
}

/** A workflow: the draft definition and what is published. */
export interface WorkflowDoc extends WorkflowDefinitionDoc {
  key: string;
  published: Published<WorkflowDefinitionDoc>;
}

/** An event mapping: the full inbound event name → a template key or (exclusive) a workflow key. */
export interface MappingDoc {
  event: string;
  template?: string;
  workflow?: string;
}

/** A cancel mapping: events of this name cancel runs of the workflow whose cancel key is at `keyPath`. */
export interface CancelMappingDoc {
  event: string;
  workflow: string;
  keyPath: string;
}

/** A routing rule, identified by its `name` and `template` (a template key, or null for a workspace-wide rule). */
export interface RuleDoc {
  name: string;
  template?: string | null;
  priority: number;
  when?: Record<string, unknown> | null;
  action: RoutingAction;
  method?: RoutingMethod | null;
  channels?: Channel[] | null;
  enabled?: boolean;
}

/**
 * The file is not valid (or cannot be read). The message lists every problem with its path in the file,
 * e.g. `templates[0].channels[1]: must be one of EMAIL, SMS, …, got "FAX"`.
 */
export class ConfigFileError extends DomainError {
  constructor(
    readonly source: string,
    readonly problems: string[],
    what = 'is not a valid Pigeon configuration file',
  ) {
    const shown = problems.slice(0, 25);
    const more = problems.length > shown.length ? `\n  … and ${problems.length - shown.length} more` : '';
    super(
      'BAD_USER_INPUT',
      `${source} ${what} (${problems.length} problem${problems.length === 1 ? '' : 's'}); ` +
        `nothing was changed:\n${shown.map((p) => `  ${p}`).join('\n')}${more}`,
      { problems },
    );
  }
}

const KEY = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$' } as const;
const CHANNELS = { type: 'array', minItems: 1, uniqueItems: true, items: { enum: ALL_CHANNELS } } as const;
const OBJECT = { type: 'object' } as const;
const NULLABLE_OBJECT = { type: ['object', 'null'] } as const;
const EVENT_NAME = { type: 'string', minLength: 1, maxLength: 255 } as const;

const templateContent = {
  channels: CHANNELS,
  content: OBJECT,
};
const workflowDefinition = {
  name: { type: 'string', minLength: 1, maxLength: 255 },
  topic: { type: ['string', 'null'] },
  cancelKeyPath: { type: ['string', 'null'] },
  window: NULLABLE_OBJECT,
  steps: { type: 'array', items: OBJECT },
};

/**
 * The shape of the file as a JSON Schema (checked with Ajv). Meaning — template content, workflow steps,
 * conditions, references between keys — is checked after it by the services' own validators.
 */
export const CONFIG_FILE_SCHEMA = {
  type: 'object',
  required: ['pigeon'],
  additionalProperties: false,
  properties: {
    pigeon: { const: CONFIG_FORMAT_VERSION },
    templates: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'name', 'channels', 'content'],
        additionalProperties: false,
        properties: {
          key: KEY,
          name: { type: 'string', minLength: 1, maxLength: 255 },
          ...templateContent,
          published: {
            type: ['boolean', 'object'],
            required: ['channels', 'content'],
            additionalProperties: false,
            properties: templateContent,
          },
        },
      },
    },
    workflows: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'name', 'steps'],
        additionalProperties: false,
        properties: {
          key: KEY,
          ...workflowDefinition,
          published: {
            type: ['boolean', 'object'],
            required: ['name', 'steps'],
            additionalProperties: false,
            properties: workflowDefinition,
          },
        },
      },
    },
    mappings: {
      type: 'array',
      items: {
        type: 'object',
        required: ['event'],
        additionalProperties: false,
        properties: { event: EVENT_NAME, template: KEY, workflow: KEY },
      },
    },
    cancelMappings: {
      type: 'array',
      items: {
        type: 'object',
        required: ['event', 'workflow', 'keyPath'],
        additionalProperties: false,
        properties: {
          event: EVENT_NAME,
          workflow: KEY,
          // the rule of MappingService.mapCancel: a dotted path into the cancelling event
          keyPath: { type: 'string', maxLength: 255, pattern: CANCEL_KEY_PATH.source },
        },
      },
    },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'priority', 'action'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 255 },
          template: { anyOf: [KEY, { type: 'null' }] },
          priority: { type: 'integer', minimum: -2147483648, maximum: 2147483647 },
          when: NULLABLE_OBJECT,
          action: { enum: Object.values(RoutingAction) },
          method: { enum: [...Object.values(RoutingMethod), null] },
          channels: { anyOf: [CHANNELS, { type: 'null' }] },
          enabled: { type: 'boolean' },
        },
      },
    },
    topics: { type: 'array' },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
const validateShape = ajv.compile<ConfigFile>(CONFIG_FILE_SCHEMA);

/** `/templates/0/channels/1` → `templates[0].channels[1]`; the root is `(file)`. */
export function pathOf(pointer: string): string {
  if (!pointer) return '(file)';
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
}

function valueAt(root: unknown, pointer: string): unknown {
  let value = root;
  for (const part of pointer.slice(1).split('/')) {
    if (!pointer) break;
    value = (value as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return value;
}

/** One Ajv error in words, with its path in the file. */
function explain(error: ErrorObject, root: unknown): string | null {
  const at = pathOf(error.instancePath);
  const value = valueAt(root, error.instancePath);
  const params = error.params as Record<string, any>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${at}: unknown field "${params.additionalProperty}"`;
    case 'required':
      return `${at}: missing field "${params.missingProperty}"`;
    case 'enum':
      return `${at}: must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}, got ${describe(value)}`;
    case 'const':
      return (
        `${at}: must be ${JSON.stringify(params.allowedValue)}, got ${describe(value)}` +
        (error.instancePath === '/pigeon' ? ' (the format version this Pigeon reads)' : '')
      );
    case 'type':
      return `${at}: must be ${String(params.type).replace(/,/g, ' or ')}, got ${describe(value)}`;
    case 'pattern':
      return error.instancePath.endsWith('/keyPath')
        ? `${at}: must be a dotted path into the cancelling event starting with "data." or "event.", got ${describe(value)}`
        : `${at}: must be 1–100 letters, digits, "_", ".", ":" or "-", starting with a letter or digit, got ${describe(value)}`;
    case 'anyOf':
      return null; // the branches' own errors say more
    default:
      return `${at}: ${error.message ?? 'is invalid'}`;
  }
}

/**
 * Reads a configuration file's text: JSON, then the shape of {@link CONFIG_FILE_SCHEMA}. Throws a
 * {@link ConfigFileError} listing every problem; `source` names the file in the message.
 */
export function parseConfigFile(text: string, source = 'the file'): ConfigFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigFileError(source, [`(file): not JSON: ${(err as Error).message}`]);
  }
  if (!validateShape(value)) {
    const problems = [
      ...new Set((validateShape.errors ?? []).map((e) => explain(e, value)).filter((p): p is string => p !== null)),
    ];
    throw new ConfigFileError(source, problems.length ? problems : ['(file): does not have the expected shape']);
  }
  return value;
}

/** Keys that lead, in this order, wherever they occur (a step's `ref` and `type`, a condition's `path`, `op`, `value`). */
const LEADING_KEYS = ['ref', 'type', 'path', 'op', 'value'];

function keyOrder(a: string, b: string): number {
  const ia = LEADING_KEYS.indexOf(a);
  const ib = LEADING_KEYS.indexOf(b);
  if (ia !== -1 || ib !== -1) return (ia === -1 ? LEADING_KEYS.length : ia) - (ib === -1 ? LEADING_KEYS.length : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Orders the keys of every object in a JSON value (alphabetically, after the few of `LEADING_KEYS`), so the
 * same content always prints the same, whichever database stored it.
 */
export function canonicalJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map(canonicalJson) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort(keyOrder)) {
      Object.defineProperty(out, key, {
        value: canonicalJson((value as Record<string, unknown>)[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out as T;
  }
  return value;
}

/** Deep equality of JSON values, ignoring the order of object keys (arrays keep theirs). */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonicalJson(a ?? null)) === JSON.stringify(canonicalJson(b ?? null));
}

/** The file's text: 2-space indented JSON with a final newline. */
export function formatConfigFile(file: ConfigFile): string {
  return JSON.stringify(file, null, 2) + '\n';
}
