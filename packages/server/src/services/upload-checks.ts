/**
 * ImageKit's upload `checks` parameter ("Upload API checks").
 *
 * `parseUploadChecks` turns the source into a typed AST once, rejecting bad syntax,
 * unknown fields, operators a field does not support and values of the wrong type;
 * `evaluateUploadChecks` decides one upload. The caller answers `false` with
 * 400 "Your request failed 'checks' validation."
 *
 * Grammar (keywords case-insensitive, whitespace incl. newlines between tokens):
 *
 *   checks     := or EOF
 *   or         := and ( "OR" and )*
 *   and        := primary ( "AND" primary )*          -- AND binds tighter than OR
 *   primary    := "(" or ")" | condition
 *   condition  := FIELD ( scalarOp literal | listOp list )
 *   scalarOp   := "=" | "NOT" "=" | ":" | "<" | "<=" | ">" | ">="
 *   listOp     := "IN" | "NOT" "IN"
 *   list       := "[" literal ( "," literal )* "]"
 *   literal    := STRING | NUMBER | "true" | "false" | BAREWORD
 *   FIELD      := STRING                               -- the docs require the field in quotes
 *   STRING     := '"' … '"' | "'" … "'"                -- backslash escapes the next character
 *   NUMBER     := "-"? digits ( "." digits )?          -- must not run into letters: 1mb is an error
 *   BAREWORD   := [A-Za-z_][A-Za-z0-9_./+-]*           -- the docs write `"file.mime" : image`
 *
 * Context keys read: request.fileName, folder (default "/"), useUniqueFileName (default
 * true), tags, isPrivateFile (false), isPublished (true), customCoordinates, webhookUrl,
 * overwriteFile / overwriteAITags / overwriteTags / overwriteCustomMetadata (true),
 * customMetadata; file.size, mime, width, height, duration, bitRate, videoCodec, audioCodec.
 */
import { badRequest } from '../errors/index.js';

/** The sentence ImageKit answers a malformed `checks` with; every error here starts with it. */
export const CHECKS_SYNTAX_MESSAGE = 'Your request contains invalid syntax for the checks parameter.';
/** Real checks are a few hundred characters; the cap bounds work and echo size. */
export const MAX_CHECKS_LENGTH = 10_000;
/** Parentheses nesting cap, so recursion depth stays small whatever the input. */
export const MAX_CHECKS_DEPTH = 32;

export type UploadCheckScalarOperator = '=' | 'NOT =' | ':' | '<' | '<=' | '>' | '>=';
export type UploadCheckListOperator = 'IN' | 'NOT IN';
export type UploadCheckOperator = UploadCheckScalarOperator | UploadCheckListOperator;
export type UploadCheckLiteral = string | number | boolean;

/** `position` is the 1-based character where the field name starts. */
export interface UploadCheckComparison {
  kind: 'condition';
  field: string;
  operator: UploadCheckScalarOperator;
  /** Already typed for the field: file.size holds bytes, mediaMetadata.* numbers. */
  value: UploadCheckLiteral;
  position: number;
}

export interface UploadCheckMembership {
  kind: 'condition';
  field: string;
  operator: UploadCheckListOperator;
  values: UploadCheckLiteral[];
  position: number;
}

export type UploadCheckCondition = UploadCheckComparison | UploadCheckMembership;

export type UploadCheckExpr =
  | { kind: 'and'; operands: UploadCheckExpr[] }
  | { kind: 'or'; operands: UploadCheckExpr[] }
  | UploadCheckCondition;

export interface UploadCheckContext {
  request: Record<string, unknown>;
  file: { size: number; mime: string; width?: number; height?: number; [k: string]: unknown };
}

// ---------------------------------------------------------------------------------------
// Fields (the docs' "Supported Fields" table)

type FieldKind = 'string' | 'folder' | 'mime' | 'boolean' | 'tags' | 'size' | 'number' | 'custom';

interface FieldSpec {
  kind: FieldKind;
  operators: readonly UploadCheckOperator[];
  read: (ctx: UploadCheckContext) => unknown;
}

const STRING_OPS: readonly UploadCheckOperator[] = ['=', 'NOT =', ':', 'IN', 'NOT IN'];
const BOOLEAN_OPS: readonly UploadCheckOperator[] = ['=', 'NOT ='];
const NUMBER_OPS: readonly UploadCheckOperator[] = ['=', '>', '>=', '<', '<='];
const LIST_OPS: readonly UploadCheckOperator[] = ['IN', 'NOT IN'];
// Custom metadata fields are typed by a schema this module cannot see, so the union of
// what the docs allow across Text/Date/Number/Boolean/SingleSelect/MultiSelect.
const CUSTOM_OPS: readonly UploadCheckOperator[] = ['=', 'NOT =', ':', 'IN', 'NOT IN', '>', '>=', '<', '<='];
const CUSTOM_PREFIX = 'request.customMetadata.';

// Own properties only: a field such as "constructor" must never reach Object.prototype.
function own(obj: unknown, key: string): unknown {
  if (obj === null || typeof obj !== 'object') return undefined;
  return Object.prototype.hasOwnProperty.call(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

const fromRequest = (key: string) => (ctx: UploadCheckContext) => own(ctx.request, key);
const fromFile = (key: string) => (ctx: UploadCheckContext) => own(ctx.file, key);
// Absent booleans take ImageKit's documented defaults, so checks see what the upload will do.
const requestFlag = (key: string, dflt: boolean) => (ctx: UploadCheckContext) => {
  const v = own(ctx.request, key);
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return dflt;
};

const FIELDS: ReadonlyMap<string, FieldSpec> = new Map<string, FieldSpec>([
  ['request.fileName', { kind: 'string', operators: STRING_OPS, read: fromRequest('fileName') }],
  ['request.useUniqueFileName', { kind: 'boolean', operators: BOOLEAN_OPS, read: requestFlag('useUniqueFileName', true) }],
  ['request.tags', { kind: 'tags', operators: LIST_OPS, read: fromRequest('tags') }],
  ['request.folder', { kind: 'folder', operators: STRING_OPS, read: (ctx) => own(ctx.request, 'folder') ?? '/' }],
  ['request.isPrivateFile', { kind: 'boolean', operators: BOOLEAN_OPS, read: requestFlag('isPrivateFile', false) }],
  ['request.isPublished', { kind: 'boolean', operators: BOOLEAN_OPS, read: requestFlag('isPublished', true) }],
  ['request.customCoordinates', { kind: 'string', operators: STRING_OPS, read: fromRequest('customCoordinates') }],
  ['request.webhookUrl', { kind: 'string', operators: STRING_OPS, read: fromRequest('webhookUrl') }],
  ['request.overwriteFile', { kind: 'boolean', operators: BOOLEAN_OPS, read: requestFlag('overwriteFile', true) }],
  ['request.overwriteAITags', { kind: 'boolean', operators: BOOLEAN_OPS, read: requestFlag('overwriteAITags', true) }],
  ['request.overwriteTags', { kind: 'boolean', operators: BOOLEAN_OPS, read: requestFlag('overwriteTags', true) }],
  [
    'request.overwriteCustomMetadata',
    { kind: 'boolean', operators: BOOLEAN_OPS, read: requestFlag('overwriteCustomMetadata', true) },
  ],
  ['file.size', { kind: 'size', operators: NUMBER_OPS, read: fromFile('size') }],
  ['file.mime', { kind: 'mime', operators: STRING_OPS, read: fromFile('mime') }],
  ['mediaMetadata.width', { kind: 'number', operators: NUMBER_OPS, read: fromFile('width') }],
  ['mediaMetadata.height', { kind: 'number', operators: NUMBER_OPS, read: fromFile('height') }],
  ['mediaMetadata.duration', { kind: 'number', operators: NUMBER_OPS, read: fromFile('duration') }],
  ['mediaMetadata.bitRate', { kind: 'number', operators: NUMBER_OPS, read: fromFile('bitRate') }],
  ['mediaMetadata.videoCodec', { kind: 'string', operators: STRING_OPS, read: fromFile('videoCodec') }],
  ['mediaMetadata.audioCodec', { kind: 'string', operators: STRING_OPS, read: fromFile('audioCodec') }],
]);

function customSpec(key: string): FieldSpec {
  return {
    kind: 'custom',
    operators: CUSTOM_OPS,
    read: (ctx) => {
      let meta = own(ctx.request, 'customMetadata');
      // Multipart sends customMetadata as stringified JSON; tolerate a caller that passes it raw.
      if (typeof meta === 'string') {
        try {
          meta = JSON.parse(meta) as unknown;
        } catch {
          meta = undefined;
        }
      }
      return own(meta, key);
    },
  };
}

function lookupField(name: string): FieldSpec | undefined {
  const spec = FIELDS.get(name);
  if (spec) return spec;
  if (name.startsWith(CUSTOM_PREFIX) && name.length > CUSTOM_PREFIX.length) {
    return customSpec(name.slice(CUSTOM_PREFIX.length));
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Errors

function fail(position: number, detail: string): never {
  throw badRequest(`${CHECKS_SYNTAX_MESSAGE} At character ${position}: ${detail}.`);
}

// Echoes of user input are clipped so a hostile checks string is never reflected whole.
function clip(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function showLiteral(v: UploadCheckLiteral): string {
  return typeof v === 'string' ? JSON.stringify(clip(v)) : String(v);
}

// ---------------------------------------------------------------------------------------
// Lexer

type Punct = '(' | ')' | '[' | ']' | ',' | '=' | ':' | '<' | '<=' | '>' | '>=';

type Token =
  | { type: 'string'; value: string; pos: number }
  | { type: 'number'; value: number; text: string; pos: number }
  | { type: 'word'; text: string; upper: string; pos: number }
  | { type: 'punct'; text: Punct; pos: number }
  | { type: 'eof'; pos: number };

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isWordStart = (c: string | undefined) => c !== undefined && /[A-Za-z_]/.test(c);
const isWordChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_./+-]/.test(c);
const isSpace = (c: string | undefined) => c !== undefined && /\s/.test(c);

function describe(tok: Token): string {
  switch (tok.type) {
    case 'eof':
      return 'end of input';
    case 'string':
      return `the string ${JSON.stringify(clip(tok.value))}`;
    case 'number':
      return clip(tok.text);
    case 'word':
      return `"${clip(tok.text)}"`;
    case 'punct':
      return `"${tok.text}"`;
  }
}

const NUMBER_RE = /-?\d+(?:\.\d+)?/y;
const OPERATOR_LIST = '=, NOT =, :, IN, NOT IN, <, <=, >, >=';
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN']);

class Parser {
  private i = 0;
  private tok: Token;

  constructor(private readonly src: string) {
    this.tok = this.lex();
  }

  parse(): UploadCheckExpr {
    const expr = this.parseOr(0);
    if (this.tok.type !== 'eof') fail(this.at(this.tok), `expected AND, OR or end of input, found ${describe(this.tok)}`);
    return expr;
  }

  // 1-based, as a person counts characters in the checks string.
  private at(tok: Token): number {
    return tok.pos + 1;
  }

  private advance(): void {
    this.tok = this.lex();
  }

  private isWord(upper: string): boolean {
    return this.tok.type === 'word' && this.tok.upper === upper;
  }

  private isPunct(text: Punct): boolean {
    return this.tok.type === 'punct' && this.tok.text === text;
  }

  private lex(): Token {
    const s = this.src;
    while (isSpace(s[this.i])) this.i++;
    const pos = this.i;
    const c = s[pos];
    if (c === undefined) return { type: 'eof', pos };

    if (c === '"' || c === "'") {
      let out = '';
      let j = pos + 1;
      for (;;) {
        const ch = s[j];
        if (ch === undefined) fail(pos + 1, `unterminated string (missing closing ${c})`);
        if (ch === c) break;
        if (ch === '\\') {
          const next = s[j + 1];
          if (next === undefined) fail(pos + 1, `unterminated string (missing closing ${c})`);
          out += next;
          j += 2;
          continue;
        }
        out += ch;
        j++;
      }
      this.i = j + 1;
      return { type: 'string', value: out, pos };
    }

    if (isDigit(c) || (c === '-' && isDigit(s[pos + 1]))) {
      NUMBER_RE.lastIndex = pos;
      const text = NUMBER_RE.exec(s)?.[0] ?? c;
      const end = pos + text.length;
      if (isWordChar(s[end]) || s[end] === '.') {
        // `"file.size" < 1mb` is the documented way to get this error: sizes need quotes.
        let k = end;
        while (isWordChar(s[k]) && k - pos < 64) k++;
        fail(pos + 1, `unquoted value ${clip(s.slice(pos, k))}; put sizes and text in quotes, e.g. "1mb"`);
      }
      const value = Number(text);
      if (!Number.isFinite(value)) fail(pos + 1, `number ${clip(text)} is out of range`);
      this.i = end;
      return { type: 'number', value, text, pos };
    }

    if (isWordStart(c)) {
      let j = pos + 1;
      while (isWordChar(s[j])) j++;
      this.i = j;
      const text = s.slice(pos, j);
      return { type: 'word', text, upper: text.toUpperCase(), pos };
    }

    const two = s.slice(pos, pos + 2);
    if (two === '<=' || two === '>=') {
      this.i = pos + 2;
      return { type: 'punct', text: two, pos };
    }
    if ('()[],=:<>'.includes(c)) {
      this.i = pos + 1;
      return { type: 'punct', text: c as Punct, pos };
    }
    if (two === '!=') fail(pos + 1, 'unexpected "!="; write NOT = instead');
    fail(pos + 1, `unexpected character ${JSON.stringify(c)}`);
  }

  private parseOr(depth: number): UploadCheckExpr {
    const operands = [this.parseAnd(depth)];
    while (this.isWord('OR')) {
      this.advance();
      operands.push(this.parseAnd(depth));
    }
    return operands.length === 1 ? operands[0]! : { kind: 'or', operands };
  }

  private parseAnd(depth: number): UploadCheckExpr {
    const operands = [this.parsePrimary(depth)];
    while (this.isWord('AND')) {
      this.advance();
      operands.push(this.parsePrimary(depth));
    }
    return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
  }

  private parsePrimary(depth: number): UploadCheckExpr {
    if (this.isPunct('(')) {
      if (depth >= MAX_CHECKS_DEPTH) fail(this.at(this.tok), `parentheses nest deeper than ${MAX_CHECKS_DEPTH} levels`);
      this.advance();
      const inner = this.parseOr(depth + 1);
      if (!this.isPunct(')')) fail(this.at(this.tok), `expected AND, OR or ")", found ${describe(this.tok)}`);
      this.advance();
      return inner;
    }
    return this.parseCondition();
  }

  private parseCondition(): UploadCheckCondition {
    const fieldTok = this.tok;
    if (fieldTok.type !== 'string') {
      fail(this.at(fieldTok), `expected a field name in quotes such as "file.size", or "(", found ${describe(fieldTok)}`);
    }
    const field = fieldTok.value;
    const position = this.at(fieldTok);
    const spec = lookupField(field);
    if (!spec) fail(position, unknownFieldDetail(field));
    this.advance();

    const opTok = this.tok;
    const operator = this.parseOperator();
    if (!spec.operators.includes(operator)) {
      fail(
        this.at(opTok),
        `field "${field}" does not support operator "${operator}"; it supports ${spec.operators.join(', ')}`,
      );
    }

    if (operator === 'IN' || operator === 'NOT IN') {
      const values = this.parseList().map(({ value, pos }) => coerceListItem(spec, field, value, pos));
      return { kind: 'condition', field, operator, values, position };
    }
    const valueTok = this.tok;
    const value = coerceScalar(spec, field, operator, this.parseLiteral(), this.at(valueTok));
    return { kind: 'condition', field, operator, value, position };
  }

  private parseOperator(): UploadCheckOperator {
    const tok = this.tok;
    if (tok.type === 'punct' && ['=', ':', '<', '<=', '>', '>='].includes(tok.text)) {
      this.advance();
      return tok.text as UploadCheckScalarOperator;
    }
    if (this.isWord('IN')) {
      this.advance();
      return 'IN';
    }
    if (this.isWord('NOT')) {
      this.advance();
      if (this.isPunct('=')) {
        this.advance();
        return 'NOT =';
      }
      if (this.isWord('IN')) {
        this.advance();
        return 'NOT IN';
      }
      fail(this.at(this.tok), `expected "=" or IN after NOT, found ${describe(this.tok)}`);
    }
    fail(this.at(tok), `expected an operator (${OPERATOR_LIST}), found ${describe(tok)}`);
  }

  private parseList(): { value: UploadCheckLiteral; pos: number }[] {
    if (!this.isPunct('[')) fail(this.at(this.tok), `expected "[" to start a list, found ${describe(this.tok)}`);
    this.advance();
    const items: { value: UploadCheckLiteral; pos: number }[] = [];
    for (;;) {
      const pos = this.at(this.tok);
      items.push({ value: this.parseLiteral(), pos });
      if (this.isPunct(',')) {
        this.advance();
        continue;
      }
      if (this.isPunct(']')) {
        this.advance();
        return items;
      }
      fail(this.at(this.tok), `expected "," or "]" in the list, found ${describe(this.tok)}`);
    }
  }

  private parseLiteral(): UploadCheckLiteral {
    const tok = this.tok;
    if (tok.type === 'string' || tok.type === 'number') {
      this.advance();
      return tok.value;
    }
    if (tok.type === 'word' && !KEYWORDS.has(tok.upper)) {
      this.advance();
      if (tok.upper === 'TRUE') return true;
      if (tok.upper === 'FALSE') return false;
      return tok.text;
    }
    fail(this.at(tok), `expected a value (a quoted string, a number, true or false), found ${describe(tok)}`);
  }
}

function unknownFieldDetail(field: string): string {
  const known = [...FIELDS.keys()];
  const near = known.find((k) => k.toLowerCase() === field.toLowerCase());
  // The docs themselves once wrote `"request.folder = "engineering"`: a field whose closing quote slid past the operator.
  const head = /^(\S+)\s/.exec(field)?.[1];
  const hint = near
    ? ` (did you mean "${near}"?)`
    : head !== undefined && lookupField(head)
      ? ` (is the closing quote after "${clip(head, 80)}" missing?)`
      : '';
  return `unknown field ${JSON.stringify(clip(field, 80))}${hint}; supported fields are ${known.join(', ')} and ${CUSTOM_PREFIX}<name>`;
}

// ---------------------------------------------------------------------------------------
// Values

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1024,
  mb: 1024 ** 2,
  gb: 1024 ** 3,
  tb: 1024 ** 4,
};

/** "500", "10kb", "1.5 MB" → bytes; binary multiples, unit case-insensitive. */
function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? '').toLowerCase();
  const factor = unit === '' ? 1 : SIZE_UNITS[unit];
  if (factor === undefined) return undefined;
  const bytes = Number(m[1]) * factor;
  return Number.isFinite(bytes) ? bytes : undefined;
}

function toNumberValue(spec: FieldSpec, field: string, v: UploadCheckLiteral, pos: number): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (spec.kind === 'size') {
      const bytes = parseSize(v);
      if (bytes !== undefined) return bytes;
      fail(pos, `invalid size ${showLiteral(v)} for "${field}"; use bytes or a size such as "500kb", "1mb", "2gb"`);
    }
    if (/^\s*-?\d+(?:\.\d+)?\s*$/.test(v)) return Number(v);
  }
  fail(pos, `"${field}" expects a number, found ${showLiteral(v)}`);
}

function coerceScalar(
  spec: FieldSpec,
  field: string,
  op: UploadCheckScalarOperator,
  v: UploadCheckLiteral,
  pos: number,
): UploadCheckLiteral {
  switch (spec.kind) {
    case 'string':
    case 'folder':
    case 'mime':
      if (typeof v !== 'string') fail(pos, `"${field}" expects a string value in quotes, found ${showLiteral(v)}`);
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') fail(pos, `"${field}" expects true or false without quotes, found ${showLiteral(v)}`);
      return v;
    case 'size':
    case 'number':
      return toNumberValue(spec, field, v, pos);
    case 'tags':
      // Unreachable: tags only allow IN / NOT IN, rejected before the value is read.
      return fail(pos, `"${field}" expects a list`);
    case 'custom':
      if (op === ':' && typeof v !== 'string') fail(pos, `operator ":" on "${field}" expects a string, found ${showLiteral(v)}`);
      if ((op === '<' || op === '<=' || op === '>' || op === '>=') && typeof v === 'boolean') {
        fail(pos, `operator "${op}" on "${field}" expects a number or a date, found ${showLiteral(v)}`);
      }
      return v;
  }
}

function coerceListItem(spec: FieldSpec, field: string, v: UploadCheckLiteral, pos: number): UploadCheckLiteral {
  if (spec.kind === 'custom') return v;
  if (typeof v !== 'string') fail(pos, `"${field}" expects a list of strings in quotes, found ${showLiteral(v)}`);
  return v;
}

// ---------------------------------------------------------------------------------------
// Public API

/**
 * Parse a `checks` string. Throws `badRequest` (message starting with
 * CHECKS_SYNTAX_MESSAGE) on bad syntax, unknown fields, unsupported operators and
 * mistyped values.
 */
export function parseUploadChecks(source: string): UploadCheckExpr {
  if (typeof source !== 'string') fail(1, 'the checks parameter must be a string');
  if (source.length > MAX_CHECKS_LENGTH) fail(MAX_CHECKS_LENGTH + 1, `checks is longer than ${MAX_CHECKS_LENGTH} characters`);
  return new Parser(source).parse();
}

/**
 * Decide one upload. Pure; throws `badRequest` only for a custom metadata value whose
 * type makes the operator meaningless (e.g. `>` on a MultiSelect list), which only the
 * upload itself reveals.
 */
export function evaluateUploadChecks(expr: UploadCheckExpr, ctx: UploadCheckContext): boolean {
  switch (expr.kind) {
    case 'and':
      return expr.operands.every((e) => evaluateUploadChecks(e, ctx));
    case 'or':
      return expr.operands.some((e) => evaluateUploadChecks(e, ctx));
    case 'condition':
      return evaluateCondition(expr, ctx);
  }
}

// NOT = and NOT IN are exact complements of = and IN, including when the value is absent.
function evaluateCondition(c: UploadCheckCondition, ctx: UploadCheckContext): boolean {
  const spec = lookupField(c.field);
  if (!spec) fail(c.position, unknownFieldDetail(c.field));
  const actual = spec.read(ctx);
  if ('values' in c) {
    const hit = memberOf(spec, c, actual, c.values);
    return c.operator === 'IN' ? hit : !hit;
  }
  if (c.operator === 'NOT =') return !compare(spec, c, '=', actual, c.value);
  return compare(spec, c, c.operator, actual, c.value);
}

function compare(
  spec: FieldSpec,
  c: UploadCheckCondition,
  op: Exclude<UploadCheckScalarOperator, 'NOT ='>,
  actual: unknown,
  value: UploadCheckLiteral,
): boolean {
  switch (spec.kind) {
    case 'string':
      if (typeof actual !== 'string' || typeof value !== 'string') return false;
      return op === ':' ? actual.startsWith(value) : actual === value;
    case 'mime':
      // MIME types are case-insensitive (RFC 2045).
      if (typeof actual !== 'string' || typeof value !== 'string') return false;
      return op === ':' ? actual.toLowerCase().startsWith(value.toLowerCase()) : actual.toLowerCase() === value.toLowerCase();
    case 'folder':
      if (typeof actual !== 'string' || typeof value !== 'string') return false;
      return op === ':' ? folderStartsWith(actual, value) : normalizeFolder(actual) === normalizeFolder(value);
    case 'boolean':
      return actual === value;
    case 'size':
    case 'number':
      if (typeof actual !== 'number' || !Number.isFinite(actual) || typeof value !== 'number') return false;
      return ordered(op, actual - value);
    case 'tags':
      return false;
    case 'custom':
      return compareCustom(c, op, actual, value);
  }
}

function memberOf(spec: FieldSpec, c: UploadCheckCondition, actual: unknown, values: UploadCheckLiteral[]): boolean {
  switch (spec.kind) {
    case 'tags': {
      const tags = Array.isArray(actual) ? actual : typeof actual === 'string' ? actual.split(',') : [];
      return tags.some((t) => typeof t === 'string' && values.includes(t.trim()));
    }
    case 'custom':
      if (actual === undefined || actual === null) return false;
      if (Array.isArray(actual)) return actual.some((a) => values.some((v) => sameCustomValue(a, v)));
      return values.some((v) => sameCustomValue(actual, v));
    default:
      return values.some((v) => compare(spec, c, '=', actual, v));
  }
}

function ordered(op: '=' | ':' | '<' | '<=' | '>' | '>=', diff: number): boolean {
  switch (op) {
    case '=':
      return diff === 0;
    case '<':
      return diff < 0;
    case '<=':
      return diff <= 0;
    case '>':
      return diff > 0;
    case '>=':
      return diff >= 0;
    case ':':
      return false;
  }
}

// "/a//b/", "a/b" and "a/b/" name the same folder; the root is "".
function normalizeFolder(path: string): string {
  return path
    .split('/')
    .filter((s) => s !== '')
    .join('/');
}

// Docs: `"request.folder" : "marketing/"` admits the marketing folder and its sub-folders.
function folderStartsWith(actual: string, prefix: string): boolean {
  const norm = normalizeFolder(actual);
  const withSlash = norm === '' ? '' : `${norm}/`;
  return withSlash.startsWith(prefix.replace(/\/{2,}/g, '/').replace(/^\//, ''));
}

function compareCustom(
  c: UploadCheckCondition,
  op: '=' | ':' | '<' | '<=' | '>' | '>=',
  actual: unknown,
  value: UploadCheckLiteral,
): boolean {
  if (actual === undefined || actual === null) return false;
  if (Array.isArray(actual)) {
    fail(c.position, `"${c.field}" holds a list (MultiSelect) and supports only IN and NOT IN, not "${c.operator}"`);
  }
  if (op === '=') return sameCustomValue(actual, value);
  if (op === ':') {
    if (typeof actual !== 'string') fail(c.position, `operator ":" needs "${c.field}" to hold text, but it holds a ${typeof actual}`);
    return typeof value === 'string' && actual.startsWith(value);
  }
  const diff = orderCustom(actual, value);
  if (diff === undefined) {
    fail(c.position, `operator "${op}" cannot compare "${c.field}" (${showUnknown(actual)}) with ${showLiteral(value)}`);
  }
  return ordered(op, diff);
}

function showUnknown(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? showLiteral(v) : typeof v;
}

// Date fields arrive as ISO strings; "2024-01-01" must equal "2024-01-01T00:00:00.000Z".
function sameCustomValue(actual: unknown, v: UploadCheckLiteral): boolean {
  if (actual === v) return true;
  if (typeof actual === 'string' && typeof v === 'string') {
    const a = parseIsoDate(actual);
    const b = parseIsoDate(v);
    return a !== undefined && a === b;
  }
  return false;
}

function orderCustom(actual: unknown, v: UploadCheckLiteral): number | undefined {
  if (typeof actual === 'number' && typeof v === 'number' && Number.isFinite(actual)) return actual - v;
  if (typeof actual === 'string' && typeof v === 'string') {
    const a = parseIsoDate(actual);
    const b = parseIsoDate(v);
    if (a !== undefined && b !== undefined) return a - b;
  }
  return undefined;
}

/**
 * ISO 8601 date or date-time → epoch ms. A missing offset means UTC, as the docs say
 * ("2024-01-01T12:12:12" is 12:12:12 UTC); Date.parse would read it as local time.
 */
function parseIsoDate(s: string): number | undefined {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/.exec(
      s,
    );
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const ms = Number((m[7] ?? '').slice(0, 3).padEnd(3, '0'));
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (monthDays === undefined || day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone !== 'Z' && zone !== 'z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!z) return undefined;
    const [zh, zm] = [Number(z[2]), Number(z[3] ?? 0)];
    if (zh > 23 || zm > 59) return undefined;
    offsetMinutes = (z[1] === '-' ? -1 : 1) * (zh * 60 + zm);
  }
  // setUTCFullYear, because Date.UTC maps years 0–99 to 1900–1999.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime() - offsetMinutes * 60_000;
}
