/**
 * A small scanner over template source, beside Handlebars' own parser, for two jobs:
 *
 * 1. **`}}}` after a `{{` mustache** (JSON text such as `{"n":{{data.n}}}`): Handlebars' lexer reads any `}}}` as
 *    the end of a triple-stash `{{{…}}}`, so such a template is refused. The scanner finds every mustache the way
 *    the lexer does (string literals, `[segments]`, comments, `\{{` escapes) and, where one opened with `{{` is
 *    closed by `}}` followed by `}`, marks that `}`: {@link prepareSource} swaps it for a placeholder character
 *    (same length, so lines and columns stay true) and the parsed template gets the `}` back in its text.
 *    Only templates Handlebars refused change meaning; a `{{{…}}}` triple-stash still closes with `}}}`.
 * 2. **Syntax errors in words a template author understands** ({@link explainSyntax}): when Handlebars refuses a
 *    template, the scanner says which `{{`, block or comment is the problem and where.
 */

/** A problem at an offset of the source; the message names the construct, e.g. "`{{#if}}` is never closed". */
export interface SyntaxProblem {
  offset: number;
  message: string;
}

type TagKind = 'open' | 'close' | 'else' | 'plain';

interface Tag {
  kind: TagKind;
  /** Offset of the opening `{{`. */
  offset: number;
  /** The block's name for `open` / `close` (`if`, `each`, `data.items`). */
  name: string;
}

interface Scan {
  tags: Tag[];
  /** Offsets of `}` characters that follow a `{{…}}` mustache's `}}` (text, not a triple-stash end). */
  extraBraces: number[];
  problem?: SyntaxProblem;
}

function scan(source: string): Scan {
  const tags: Tag[] = [];
  const extraBraces: number[] = [];
  let i = 0;
  for (;;) {
    const open = source.indexOf('{{', i);
    if (open < 0) return { tags, extraBraces };
    // `\{{` is literal text (the lexer's escape); `\\{{` is a backslash and a mustache
    if (source[open - 1] === '\\' && source[open - 2] !== '\\') {
      i = open + 2;
      continue;
    }
    // raw blocks ({{{{raw}}}}…{{{{/raw}}}}): the lexer's own business; stop looking
    if (source.startsWith('{{{{', open)) return { tags, extraBraces };
    let k = open + 2;
    if (source[k] === '~') k++;
    if (source[k] === '!') {
      const long = source.startsWith('--', k + 1);
      const end = long ? /--~?\}\}/g : /\}\}/g;
      end.lastIndex = k + 1;
      const m = end.exec(source);
      if (!m) {
        return {
          tags,
          extraBraces,
          problem: {
            offset: open,
            message: `the comment \`${long ? '{{!--' : '{{!'}\` is never closed (\`${long ? '--}}' : '}}'}\`)`,
          },
        };
      }
      i = m.index + m[0].length;
      continue;
    }
    const triple = source[k] === '{';
    if (triple) k++;
    const bodyStart = k;
    let close = -1;
    while (k < source.length) {
      const c = source[k];
      if (c === '"' || c === "'" || c === '[') {
        const end = closingOf(source, k, c === '[' ? ']' : c);
        if (end < 0) {
          const what = c === '[' ? '`[` (a path segment)' : `the string starting with \`${c}\``;
          return { tags, extraBraces, problem: { offset: k, message: `${what} is never closed` } };
        }
        k = end + 1;
        continue;
      }
      if (c === '{' && source[k + 1] === '{') break; // a new mustache: this one was never closed
      if (c === '}' && source[k + 1] === '}') {
        close = k;
        break;
      }
      k++;
    }
    const opener = triple ? '{{{' : '{{';
    if (close < 0) {
      return {
        tags,
        extraBraces,
        problem: { offset: open, message: `\`${opener}\` is never closed (expected \`${triple ? '}}}' : '}}'}\`)` },
      };
    }
    if (triple) {
      if (source.startsWith('}}}', close)) {
        i = close + 3;
        if (source[i] === '}') extraBraces.push(i); // `{{{x}}}}`: the lexer would read `}}}}` (a raw block's end)
      } else if (source[close - 1] === '~' && source[close - 2] === '}') {
        i = close + 2; // `}~}}`
      } else {
        return {
          tags,
          extraBraces,
          problem: { offset: open, message: '`{{{` is closed by `}}`: a triple-stash closes with `}}}`' },
        };
      }
    } else {
      if (source[close + 2] === '}' && source[close - 1] !== '~') extraBraces.push(close + 2);
      i = close + 2;
    }
    tags.push(classify(source.slice(bodyStart, close), open));
  }
}

/** The index of the `end` character closing the literal that starts at `start` (`\` escapes it), or -1. */
function closingOf(source: string, start: number, end: string): number {
  for (let k = start + 1; k < source.length; k++) {
    if (source[k] === '\\' && source[k + 1] === end) k++;
    else if (source[k] === end) return k;
  }
  return -1;
}

function classify(body: string, offset: number): Tag {
  const text = body.replace(/~$/, '').trim();
  const nameAfter = (s: string) => (/^[>*]?\s*([^\s~}()]+)/.exec(s)?.[1] ?? '').trim();
  if (text.startsWith('#')) return { kind: 'open', offset, name: nameAfter(text.slice(1)) };
  if (text.startsWith('/')) return { kind: 'close', offset, name: nameAfter(text.slice(1)) };
  if (text === '^' || /^else(\s|$)/.test(text)) return { kind: 'else', offset, name: '' };
  if (text.startsWith('^')) return { kind: 'open', offset, name: nameAfter(text.slice(1)) };
  return { kind: 'plain', offset, name: '' };
}

/**
 * The source Handlebars should parse: each `}` that follows a `{{…}}` mustache's `}}` replaced by a placeholder
 * character that does not occur in the source (put back with {@link restoreBraces} after parsing).
 *
 * @example
 * prepareSource('{"n":{{data.n}}}'); // { text: '{"n":{{data.n}}\uE000', placeholder: '\uE000' }
 */
export function prepareSource(source: string): { text: string; placeholder?: string } {
  const { extraBraces } = scan(source);
  if (!extraBraces.length) return { text: source };
  let code = 0xe000;
  while (source.includes(String.fromCharCode(code))) code++;
  const placeholder = String.fromCharCode(code);
  const chars = source.split('');
  for (const at of extraBraces) chars[at] = placeholder;
  return { text: chars.join(''), placeholder };
}

/** Puts the `}` back into the text of a parsed template (content statements are the only literal text). */
export function restoreBraces(node: unknown, placeholder: string): void {
  if (Array.isArray(node)) return node.forEach((n) => restoreBraces(n, placeholder));
  if (!node || typeof node !== 'object') return;
  const n = node as Record<string, unknown>;
  if (n.type === 'ContentStatement') {
    for (const key of ['value', 'original'] as const) {
      if (typeof n[key] === 'string') n[key] = (n[key] as string).split(placeholder).join('}');
    }
    return;
  }
  for (const key of Object.keys(n)) if (key !== 'loc') restoreBraces(n[key], placeholder);
}

/**
 * Why Handlebars refused `source`, in a template author's words, at the offset of the construct at fault;
 * undefined when the scanner sees nothing wrong (the caller then words Handlebars' own message).
 *
 * @example
 * explainSyntax('{{#if data.vip}}VIP'); // { offset: 0, message: '`{{#if}}` is never closed (add `{{/if}}`)' }
 */
export function explainSyntax(source: string): SyntaxProblem | undefined {
  const { tags, problem } = scan(source);
  const stack: Tag[] = [];
  for (const tag of tags) {
    if (tag.kind === 'open') stack.push(tag);
    else if (tag.kind === 'else' && !stack.length) {
      return {
        offset: tag.offset,
        message:
          '`{{else}}` is outside any block: it belongs between `{{#if …}}` (or `#each`, `#unless`, `#with`) and its end',
      };
    } else if (tag.kind === 'close') {
      const top = stack.pop();
      if (!top) return { offset: tag.offset, message: `\`{{/${tag.name}}}\` closes a block that was never opened` };
      if (top.name !== tag.name) {
        return {
          offset: tag.offset,
          message: `\`{{/${tag.name}}}\` does not match \`{{#${top.name}}}\` opened at ${describeOffset(source, top.offset)} (close it with \`{{/${top.name}}}\`)`,
        };
      }
    }
  }
  if (problem) return problem;
  const open = stack.pop();
  if (open)
    return { offset: open.offset, message: `\`{{#${open.name}}}\` is never closed (add \`{{/${open.name}}}\`)` };
  return undefined;
}

/** `line 3, column 7` (1-based) of an offset. */
export function describeOffset(source: string, offset: number): string {
  const { line, column } = lineColumn(source, offset);
  return `line ${line}, column ${column}`;
}

/** The 1-based line and column of an offset. */
export function lineColumn(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** Handlebars' grammar tokens in words, for the errors the scanner does not explain. */
const TOKENS: Record<string, string> = {
  EOF: 'the end of the template',
  INVALID: 'a character that cannot appear there',
  CLOSE: '`}}`',
  CLOSE_UNESCAPED: '`}}}`',
  CLOSE_RAW_BLOCK: '`}}}}`',
  OPEN_SEXPR: '`(`',
  CLOSE_SEXPR: '`)`',
  EQUALS: '`=`',
  ID: 'a name',
  STRING: 'a string',
  NUMBER: 'a number',
  BOOLEAN: '`true` or `false`',
  UNDEFINED: '`undefined`',
  NULL: '`null`',
  DATA: 'an `@` variable',
  SEP: '`.` or `/`',
  OPEN_BLOCK_PARAMS: '`as |…|`',
  CLOSE_BLOCK_PARAMS: '`|`',
  OPEN_ENDBLOCK: 'a block end `{{/…}}`',
  INVERSE: '`{{else}}`',
  OPEN_INVERSE_CHAIN: '`{{else …}}`',
  OPEN_BLOCK: 'a block `{{#…}}`',
  OPEN: '`{{`',
  OPEN_UNESCAPED: '`{{{`',
  CONTENT: 'text',
  COMMENT: 'a comment',
};

/**
 * Handlebars' "Parse error … Expecting 'ID', 'STRING', got 'CLOSE'" as "unexpected `}}` (expected a name, a string)".
 */
export function wordParseError(detail: string): string {
  const m = /Expecting (.*), got '([A-Z_]+)'/.exec(detail);
  if (!m) return `the template cannot be read here (${detail.trim()})`;
  const expected = [...m[1].matchAll(/'([A-Z_]+)'/g)]
    .map((e) => TOKENS[e[1]])
    .filter((w): w is string => w !== undefined && !/^a block|^`\{\{/.test(w) && w !== 'text' && w !== 'a comment');
  const got = TOKENS[m[2]] ?? m[2];
  const list = [...new Set(expected)].slice(0, 5);
  return `unexpected ${got}${list.length ? ` (expected ${list.join(', ')})` : ''}`;
}
