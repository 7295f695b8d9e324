import { InvalidInputError } from '../domain-error';
import { contentKey, type Channel } from '../channel/channel.enum';

/** Where a content problem is; `line` and `column` are 1-based and known for template errors. */
export interface TemplateContentLocation {
  channel?: Channel;
  /** The field inside the channel's content: `subject`, `html`, `body.items[0].name`. */
  field?: string;
  line?: number;
  column?: number;
}

/**
 * Invalid template content. The message starts with where the problem is:
 * `email.html: line 3, column 1: \`{{#if}}\` is never closed (add \`{{/if}}\`)`.
 */
export class TemplateContentError extends InvalidInputError {
  readonly channel?: Channel;
  readonly field?: string;
  readonly line?: number;
  readonly column?: number;

  constructor(problem: string, location: TemplateContentLocation = {}, where = describeLocation(location)) {
    const at =
      location.line === undefined
        ? ''
        : `line ${location.line}${location.column === undefined ? '' : `, column ${location.column}`}: `;
    super(`${where}: ${at}${problem}`, stripUndefined({ ...location }));
    this.channel = location.channel;
    this.field = location.field;
    this.line = location.line;
    this.column = location.column;
  }
}

function describeLocation(location: TemplateContentLocation): string {
  if (!location.channel) return location.field ?? 'template';
  const key = contentKey(location.channel);
  return location.field ? `${key}.${location.field}` : key;
}

function stripUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}
