import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { SettingsFormat, SettingsSchema } from './provider-plugin';

/**
 * Validation of provider settings against a plugin's JSON Schema, shared by the save path
 * (`ProviderConfigService`) and the send path (`ProviderRegistry.send`), so both accept exactly the
 * same settings and word a problem the same way.
 */

/** One problem with a configuration's settings. Never contains a setting's value (it may be a secret). */
export interface SettingsProblem {
  /** Where: the setting's path, e.g. `['headers', 'X-Team']`; empty for the settings object itself. */
  path: string[];
  /** What is wrong, to follow the path: `is required`, `must be an http(s) URL`. */
  problem: string;
}

/**
 * `sendgrid: settings.apiKey is required` — `root` is how the settings are called where the message
 * is shown: `config` in the API (`ProviderConfigInput.config`), `settings` at send time.
 */
export function describeSettingsProblem(slug: string, root: string, { path, problem }: SettingsProblem): string {
  return `${slug}: ${[root, ...path].join('.')} ${problem}`;
}

/** An absolute http or https URL. */
export function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Pigeon's formats, and how a value that fails one is described. */
const FORMATS: Record<SettingsFormat, { check?: (value: string) => boolean; mustBe: string }> = {
  email: { mustBe: 'an email address' },
  uri: { mustBe: 'a URI' },
  'http-url': { check: isHttpUrl, mustBe: 'an http(s) URL' },
  'header-name': { check: (v) => HEADER_NAME.test(v), mustBe: 'an HTTP header name' },
  'single-line': { check: (v) => !/[\r\n\0]/.test(v), mustBe: 'a single-line string' },
};

/** One Ajv for every settings schema; `useDefaults` fills in `default`s while validating. */
function createAjv(): Ajv {
  const ajv = addFormats(new Ajv({ allErrors: false, strict: false, useDefaults: true, verbose: true }));
  for (const [name, format] of Object.entries(FORMATS)) {
    if (format.check) ajv.addFormat(name, { type: 'string', validate: format.check });
  }
  return ajv;
}

let ajv: Ajv | undefined;
/** Compiled validators by schema object: a schema is compiled once per process, whichever registry asks. */
const compiled = new WeakMap<SettingsSchema, ValidateFunction>();

export type SettingsCheck = { ok: true; settings: Record<string, unknown> } | { ok: false; problem: SettingsProblem };

/**
 * Validates a copy of `settings` against `schema`, with the schema's `default`s filled in; `settings`
 * itself is never modified. Answers the first problem found.
 */
export function checkSettings(schema: SettingsSchema, settings: unknown): SettingsCheck {
  let validate = compiled.get(schema);
  if (!validate) {
    ajv ??= createAjv();
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  const copy = copyJson(settings);
  if (validate(copy)) return { ok: true, settings: copy as Record<string, unknown> };
  return { ok: false, problem: problemOf(validate.errors ?? []) };
}

/** A deep copy of the arrays and plain objects of a JSON value (defaults are written into the copy). */
function copyJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyJson);
  if (typeof value !== 'object' || value === null || !isPlainRecord(value)) return value;
  // fromEntries defines own properties: a "__proto__" key stays data
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copyJson(v)]));
}

function isPlainRecord(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/** Ajv's first error, in words: the path to the setting and what is wrong with it. */
function problemOf(errors: ErrorObject[]): SettingsProblem {
  // a bad key in a free-form object: Ajv reports the key's own check first, then propertyNames
  const e = errors.find((x) => x.keyword === 'propertyNames') ?? errors[0];
  if (!e) return { path: [], problem: 'is invalid' };
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = e.params as Record<string, unknown>;
  const parent = (e.parentSchema ?? {}) as { type?: unknown; minimum?: number; maximum?: number };
  switch (e.keyword) {
    case 'required':
      return { path: [...path, String(params.missingProperty)], problem: 'is required' };
    case 'additionalProperties':
      return { path: [...path, String(params.additionalProperty)], problem: 'is not a known setting' };
    case 'propertyNames':
      return { path, problem: `has an invalid name "${String(params.propertyName)}"` };
    case 'type':
      return { path, problem: `must be ${typeNames(params.type)}` };
    case 'minLength':
      return { path, problem: params.limit === 1 ? 'is required' : `must be at least ${params.limit} characters long` };
    case 'maxLength':
      return { path, problem: `must be at most ${params.limit} characters long` };
    case 'minimum':
    case 'maximum':
      return { path, problem: rangeProblem(parent) };
    case 'enum':
      return { path, problem: `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}` };
    case 'format': {
      const format = FORMATS[params.format as SettingsFormat];
      return { path, problem: `must be ${format?.mustBe ?? `in the ${String(params.format)} format`}` };
    }
    default:
      return { path, problem: e.message ?? 'is invalid' };
  }
}

function typeNames(type: unknown): string {
  const names = Array.isArray(type) ? type : String(type).split(',');
  return names.map((t) => TYPE_NAMES[String(t)] ?? String(t)).join(' or ');
}

function rangeProblem({ type, minimum, maximum }: { type?: unknown; minimum?: number; maximum?: number }): string {
  const kind = type === 'integer' ? 'an integer' : 'a number';
  if (minimum !== undefined && maximum !== undefined) return `must be ${kind} between ${minimum} and ${maximum}`;
  if (minimum === 1) return 'must be a positive number';
  return minimum !== undefined ? `must be at least ${minimum}` : `must be at most ${maximum}`;
}
