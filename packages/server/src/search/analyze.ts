import type { BaseOp, Condition, Expr, Literal } from './ast.js';
import { SearchQueryError } from './errors.js';

/**
 * The analyser: resolves each condition's field against the catalogue (built-in fields, the
 * account's custom metadata fields, embedded metadata), checks that the field supports the
 * operator, and turns literals into typed operands (dates into UTC ranges, sizes into bytes,
 * HAS text into words). What comes out can be compiled without any further checks.
 */

/** Custom metadata field types, as the custom metadata fields API names them. */
export type CustomType = 'Text' | 'Textarea' | 'Number' | 'Date' | 'Boolean' | 'SingleSelect' | 'MultiSelect';

export type MetaKind = CustomType | 'Embedded' | 'EmbeddedDate';

export type Target =
  | { kind: 'name' }
  | { kind: 'tags' }
  | { kind: 'type' }
  | { kind: 'id' }
  | { kind: 'date'; column: 'created_at' | 'updated_at' }
  | { kind: 'num'; column: 'width' | 'height' | 'size' }
  | { kind: 'format' }
  | { kind: 'bool'; column: 'is_private' | 'is_published' | 'has_alpha' }
  | { kind: 'path' }
  | { kind: 'createdBy' }
  | { kind: 'description' }
  | { kind: 'meta'; source: 'custom' | 'embedded'; field: string; metaKind: MetaKind };

export type Operand =
  | { t: 'text'; v: string }
  | { t: 'num'; v: number }
  | { t: 'bool'; v: boolean }
  /** A UTC instant or range as ISO strings: `=` matches [start, end); comparisons use start. */
  | { t: 'date'; start: string; end: string }
  /** HAS: lower-cased, accent-free words, all of which must be present. */
  | { t: 'words'; words: string[] };

export interface CheckedCondition {
  kind: 'cond';
  target: Target;
  /** The field as written, for messages. */
  field: string;
  op: BaseOp;
  negated: boolean;
  operands: Operand[];
}

export type CheckedExpr = CheckedCondition | { kind: 'and'; items: CheckedExpr[] } | { kind: 'or'; items: CheckedExpr[] };

export interface AnalyzeContext {
  /** Live (not deleted) custom metadata fields: name → type. */
  customFields: ReadonlyMap<string, CustomType>;
  /** Epoch ms that relative dates ("7d") count back from. */
  now: number;
}

const CMP: BaseOp[] = ['=', '<', '<=', '>', '>=', 'IN'];

/** Operators each kind of field supports (NOT may precede any of them). */
const BUILTINS: Record<string, { target: Target; ops: BaseOp[] }> = {
  name: { target: { kind: 'name' }, ops: ['=', ':', 'IN', 'HAS'] },
  tags: { target: { kind: 'tags' }, ops: ['IN', 'HAS', 'EXISTS'] },
  type: { target: { kind: 'type' }, ops: ['=', 'IN'] },
  id: { target: { kind: 'id' }, ops: ['=', 'IN'] },
  createdAt: { target: { kind: 'date', column: 'created_at' }, ops: CMP },
  updatedAt: { target: { kind: 'date', column: 'updated_at' }, ops: CMP },
  width: { target: { kind: 'num', column: 'width' }, ops: CMP },
  height: { target: { kind: 'num', column: 'height' }, ops: CMP },
  size: { target: { kind: 'num', column: 'size' }, ops: CMP },
  format: { target: { kind: 'format' }, ops: ['=', 'IN'] },
  private: { target: { kind: 'bool', column: 'is_private' }, ops: ['='] },
  published: { target: { kind: 'bool', column: 'is_published' }, ops: ['='] },
  transparency: { target: { kind: 'bool', column: 'has_alpha' }, ops: ['='] },
  path: { target: { kind: 'path' }, ops: ['=', ':'] },
  createdBy: { target: { kind: 'createdBy' }, ops: ['=', 'IN', 'EXISTS'] },
  description: { target: { kind: 'description' }, ops: ['HAS', 'EXISTS'] },
};

const META_OPS: Record<MetaKind, BaseOp[]> = {
  Text: ['=', ':', 'IN', 'HAS', 'EXISTS'],
  Textarea: ['=', ':', 'IN', 'HAS', 'EXISTS'],
  Number: [...CMP, 'EXISTS'],
  Date: [...CMP, 'EXISTS'],
  Boolean: ['=', 'EXISTS'],
  SingleSelect: ['=', ':', 'IN', '<', '<=', '>', '>=', 'EXISTS'],
  MultiSelect: ['IN', 'EXISTS'],
  Embedded: ['=', ':', 'IN', '<', '<=', '>', '>=', 'EXISTS'],
  EmbeddedDate: [...CMP, 'EXISTS'],
};

const TYPE_VALUES = new Set(['file', 'file-version', 'folder']);
/** Names of metadata fields: anything printable except quotes, backslashes and control characters. */
const META_NAME = /^[^"\\\u0000-\u001f\u007f]+$/;
const MAX_HAS_WORDS = 32;
const MAX_HAS_WORDS_TOTAL = 64;

const opText = (c: Condition) => (c.negated ? `NOT ${c.op}` : c.op);

function resolveTarget(c: Condition, ctx: AnalyzeContext): { target: Target; ops: BaseOp[] } {
  const b = Object.hasOwn(BUILTINS, c.field) ? BUILTINS[c.field] : undefined;
  if (b) return b;
  const dot = c.field.indexOf('.');
  const prefix = dot > 0 ? c.field.slice(0, dot) : '';
  const rest = dot > 0 ? c.field.slice(dot + 1) : '';
  if (prefix === 'customMetadata' || prefix === 'embeddedMetadata') {
    if (rest === '' || !META_NAME.test(rest) || rest.split('.').some((s) => s === '')) {
      throw new SearchQueryError(`"${c.field}" is not a valid field name.`, c.fieldPos, 'a field name');
    }
    if (prefix === 'customMetadata') {
      const type = ctx.customFields.get(rest);
      if (!type) {
        throw new SearchQueryError(
          `unknown field "${c.field}": no custom metadata field named "${rest}" exists.`,
          c.fieldPos,
          'a field name',
        );
      }
      return { target: { kind: 'meta', source: 'custom', field: rest, metaKind: type }, ops: META_OPS[type] };
    }
    if (rest === 'LocationTaken') {
      throw new SearchQueryError(`field "${c.field}" (location search) is not supported by this server.`, c.fieldPos, 'a field name');
    }
    const metaKind: MetaKind = /date/i.test(rest) ? 'EmbeddedDate' : 'Embedded';
    return { target: { kind: 'meta', source: 'embedded', field: rest, metaKind }, ops: META_OPS[metaKind] };
  }
  throw new SearchQueryError(
    `unknown field "${c.field}". Known fields: ${Object.keys(BUILTINS).join(', ')}, "customMetadata.<name>" and "embeddedMetadata.<name>".`,
    c.fieldPos,
    'a field name',
  );
}

/** Analyses a parsed query; throws SearchQueryError (400) naming the field and the problem. */
export function analyzeSearchQuery(expr: Expr, ctx: AnalyzeContext): CheckedExpr {
  return analyze(expr, ctx, { hasWords: 0 });
}

function analyze(expr: Expr, ctx: AnalyzeContext, state: { hasWords: number }): CheckedExpr {
  if (expr.kind === 'and' || expr.kind === 'or') {
    return { kind: expr.kind, items: expr.items.map((e) => analyze(e, ctx, state)) };
  }
  const c = expr;
  const { target, ops } = resolveTarget(c, ctx);
  if (!ops.includes(c.op)) {
    const allowed = ops.flatMap((o) => [o, `NOT ${o}`]).join(', ');
    throw new SearchQueryError(
      `operator "${opText(c)}" is not supported for field "${c.field}"; it supports ${allowed}.`,
      c.opPos,
      'a supported operator',
    );
  }
  const operands = c.values.map((lit) => operand(c, target, lit, ctx));
  for (const o of operands) {
    if (o.t !== 'words') continue;
    state.hasWords += o.words.length;
    if (state.hasWords > MAX_HAS_WORDS_TOTAL) {
      throw new SearchQueryError(`the query's HAS conditions have more than ${MAX_HAS_WORDS_TOTAL} words in all.`, c.values[0]?.pos ?? c.opPos);
    }
  }
  return { kind: 'cond', target, field: c.field, op: c.op, negated: c.negated, operands };
}

function valueError(c: Condition, lit: Literal, what: string): SearchQueryError {
  return new SearchQueryError(`field "${c.field}" with "${opText(c)}" expects ${what}.`, lit.pos, what);
}

/** A string from a string literal, or from a bare number's text. */
function asText(c: Condition, lit: Literal): string {
  if (lit.type === 'string') return lit.value;
  if (lit.type === 'number') return lit.raw;
  throw valueError(c, lit, 'a string value');
}

function asNumber(c: Condition, lit: Literal): number {
  if (lit.type === 'number') return lit.value;
  if (lit.type === 'string' && /^-?\d+(\.\d+)?$/.test(lit.value.trim())) return Number(lit.value.trim());
  throw valueError(c, lit, 'a numeric value');
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };

/** Bytes from a number or a size such as "1mb", "10kb", "1.5 gb" (1 kb = 1024 bytes). */
export function parseSize(lit: Literal): number | undefined {
  if (lit.type === 'number') return lit.value;
  if (lit.type !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(b|kb|mb|gb|tb)?$/i.exec(lit.value.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]!);
}

/** Stored times are ISO strings compared as text, which only holds for years 0000–9999. */
const MIN_TIME = Date.parse('0000-01-01T00:00:00.000Z');
const MAX_TIME = Date.parse('9999-12-31T23:59:59.999Z');

function iso(ms: number): string | undefined {
  if (!Number.isFinite(ms) || ms < MIN_TIME || ms > MAX_TIME) return undefined;
  return new Date(ms).toISOString();
}

/**
 * A date value: ISO 8601 (YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.sss]][Z|±HH:MM], a space instead of
 * the T) in UTC unless an offset is given, or a relative amount back from now: 1h, 2d, 3w, 4m
 * (months), 5y. A date alone covers that UTC day; a time covers its last written unit.
 */
export function parseDate(text: string, now: number): { start: string; end: string } | undefined {
  const s = text.trim();
  const rel = /^(\d{1,6})\s*([hdwmy])$/i.exec(s);
  if (rel) {
    const n = Number(rel[1]);
    const unit = rel[2]!.toLowerCase();
    const d = new Date(now);
    if (unit === 'h') d.setTime(now - n * 3_600_000);
    else if (unit === 'd') d.setTime(now - n * 86_400_000);
    else if (unit === 'w') d.setTime(now - n * 7 * 86_400_000);
    else if (unit === 'm') d.setUTCMonth(d.getUTCMonth() - n);
    else d.setUTCFullYear(d.getUTCFullYear() - n);
    const start = iso(d.getTime());
    const end = iso(Math.min(d.getTime() + 1, MAX_TIME));
    return start && end ? { start, end } : undefined;
  }
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(s);
  if (!m) return undefined;
  const [, y, mo, da, hh, mi, ss, frac, tz] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(da);
  const hour = hh === undefined ? 0 : Number(hh);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = ss === undefined ? 0 : Number(ss);
  const ms = frac === undefined ? 0 : Number(frac.padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const base = new Date(0);
  base.setUTCFullYear(year, month - 1, day);
  base.setUTCHours(hour, minute, second, ms);
  if (base.getUTCDate() !== day || base.getUTCMonth() !== month - 1) return undefined; // e.g. 2021-02-30
  let t = base.getTime();
  if (tz && tz.toUpperCase() !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2));
    if (oh > 23 || om > 59) return undefined;
    t -= sign * (oh * 60 + om) * 60_000;
  }
  const unit = hh === undefined ? 86_400_000 : ss === undefined ? 60_000 : frac === undefined ? 1000 : 1;
  const start = iso(t);
  const end = iso(Math.min(t + unit, MAX_TIME));
  return start && end ? { start, end } : undefined;
}

/** HAS words: case- and accent-insensitive runs of letters and digits, as the full-text index splits them. */
export function hasWords(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== '');
}

/**
 * Text as its HAS words between single spaces, with a space at each end (' red dress jpg '), so
 * `LIKE '% word %'` tests for a whole word. SQLite gets it as a function (SQLITE_WORDS_FUNCTION).
 */
export function wordsText(text: string): string {
  const w = hasWords(text);
  return w.length === 0 ? ' ' : ` ${w.join(' ')} `;
}

/** The name of the SQL function the SQLite adapter registers for wordsText. */
export const SQLITE_WORDS_FUNCTION = 'tessera_words';

/** The canonical folder path '/a/b/' of a path value ("a/b", "/a/b/", "/"). */
function folderPathValue(c: Condition, lit: Literal): string {
  const raw = asText(c, lit);
  const segs = raw.split('/').filter((s) => s !== '');
  if (segs.some((s) => s === '.' || s === '..')) throw valueError(c, lit, 'a folder path without "." or ".." segments');
  return segs.length === 0 ? '/' : `/${segs.join('/')}/`;
}

function dateOperand(c: Condition, lit: Literal, ctx: AnalyzeContext): Operand {
  if (lit.type !== 'string') throw valueError(c, lit, 'a date (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS) or a relative time such as "7d"');
  const d = parseDate(lit.value, ctx.now);
  if (!d) throw valueError(c, lit, 'a date (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS) or a relative time such as "7d"');
  return { t: 'date', ...d };
}

function operand(c: Condition, target: Target, lit: Literal, ctx: AnalyzeContext): Operand {
  if (c.op === 'HAS') {
    const words = hasWords(asText(c, lit));
    if (words.length === 0) throw valueError(c, lit, 'at least one word (letters or digits)');
    if (words.length > MAX_HAS_WORDS) throw valueError(c, lit, `at most ${MAX_HAS_WORDS} words`);
    return { t: 'words', words };
  }
  switch (target.kind) {
    case 'name':
    case 'id':
    case 'createdBy':
      return { t: 'text', v: asText(c, lit) };
    case 'tags':
    case 'format':
      return { t: 'text', v: asText(c, lit).toLowerCase() };
    case 'type': {
      const v = asText(c, lit);
      if (!TYPE_VALUES.has(v)) throw valueError(c, lit, 'one of "file", "file-version" or "folder"');
      return { t: 'text', v };
    }
    case 'path':
      return { t: 'text', v: folderPathValue(c, lit) };
    case 'date':
      return dateOperand(c, lit, ctx);
    case 'num': {
      if (target.column === 'size') {
        const n = parseSize(lit);
        if (n === undefined) throw valueError(c, lit, 'a size in bytes or with a unit, such as 1024, "10kb" or "1mb"');
        return { t: 'num', v: n };
      }
      return { t: 'num', v: asNumber(c, lit) };
    }
    case 'bool':
      if (lit.type !== 'boolean') throw valueError(c, lit, 'true or false (without quotes)');
      return { t: 'bool', v: lit.value };
    case 'description':
      return { t: 'text', v: asText(c, lit) };
    case 'meta':
      return metaOperand(c, target.metaKind, lit, ctx);
  }
}

function metaOperand(c: Condition, kind: MetaKind, lit: Literal, ctx: AnalyzeContext): Operand {
  const comparison = c.op === '<' || c.op === '<=' || c.op === '>' || c.op === '>=';
  switch (kind) {
    case 'Text':
    case 'Textarea':
      return { t: 'text', v: asText(c, lit) };
    case 'Number':
      return { t: 'num', v: asNumber(c, lit) };
    case 'Date':
    case 'EmbeddedDate':
      return dateOperand(c, lit, ctx);
    case 'Boolean':
      if (lit.type !== 'boolean') throw valueError(c, lit, 'true or false (without quotes)');
      return { t: 'bool', v: lit.value };
    case 'SingleSelect':
    case 'MultiSelect':
    case 'Embedded':
      if (comparison) {
        if (lit.type !== 'number') throw valueError(c, lit, 'a numeric value');
        return { t: 'num', v: lit.value };
      }
      if (c.op === ':') {
        if (lit.type !== 'string') throw valueError(c, lit, 'a string value');
        return { t: 'text', v: lit.value };
      }
      if (lit.type === 'number') return { t: 'num', v: lit.value };
      if (lit.type === 'boolean') return { t: 'bool', v: lit.value };
      return { t: 'text', v: lit.value };
  }
}

/** Whether the query asks for file versions (a non-negated `type` condition naming "file-version"). */
export function mentionsFileVersions(e: CheckedExpr): boolean {
  if (e.kind !== 'cond') return e.items.some(mentionsFileVersions);
  return e.target.kind === 'type' && !e.negated && e.operands.some((o) => o.t === 'text' && o.v === 'file-version');
}

/** Whether the query has a HAS anywhere (relevance sorting needs one). */
export function hasFullText(e: CheckedExpr): boolean {
  if (e.kind !== 'cond') return e.items.some(hasFullText);
  return e.op === 'HAS' && !e.negated;
}
