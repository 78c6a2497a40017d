import { badRequest } from '../../errors/index.js';
import { BASE_VARIABLES, expressionVariables, formatExpression, formatNumber, isNumberText, parseExpression } from './expression.js';
import type { Amount, Expression, ExprVariable, Length, RelativePosition, SignedAmount } from './types.js';

/**
 * Where a parameter is being read: the image itself, or the inside of a layer. Layer contexts
 * decide which expression variables are allowed (bw/bh/bar only make sense inside layers; text
 * and solid-colour layers only know their base).
 */
export type Context = 'top' | 'image' | 'text' | 'solid' | 'media';

export interface ValueContext {
  key: string;
  context: Context;
  maxDimension: number;
}

export function invalid(c: ValueContext | string, text: string, expected: string): Error {
  const key = typeof c === 'string' ? c : c.key;
  return badRequest(`Invalid value "${text}" for transformation parameter "${key}": expected ${expected}.`);
}

/** `%20` and friends are decoded after the string is split, so an encoded `,` or `:` stays literal. */
export function decodeValue(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function number(c: ValueContext, text: string, opts: { min: number; max: number; integer?: boolean; minExclusive?: boolean }, expected: string): number {
  if (!isNumberText(text)) throw invalid(c, text, expected);
  const n = Number(text);
  if (opts.integer && !Number.isInteger(n)) throw invalid(c, text, expected);
  if (opts.minExclusive ? n <= opts.min : n < opts.min) throw invalid(c, text, expected);
  if (n > opts.max) throw invalid(c, text, expected);
  return n;
}

export function bool(c: ValueContext, text: string): boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw invalid(c, text, '"true" or "false"');
}

export function oneOf<T extends string>(c: ValueContext, text: string, values: readonly T[], aliases: Record<string, T> = {}): T {
  const lower = text.toLowerCase();
  if ((values as readonly string[]).includes(lower)) return lower as T;
  const alias = aliases[lower];
  if (alias !== undefined) return alias;
  throw invalid(c, text, `one of ${values.join(', ')}`);
}

/** Checks that an expression only uses variables available where it is written. */
export function checkExpression(c: ValueContext, e: Expression, text: string): Expression {
  const vars = expressionVariables(e);
  const baseOnly = c.context === 'text' || c.context === 'solid';
  for (const v of vars) {
    const isBase = (BASE_VARIABLES as readonly ExprVariable[]).includes(v);
    if (isBase && c.context === 'top') {
      throw badRequest(
        `Invalid value "${text}" for transformation parameter "${c.key}": "${v}" refers to the base of a layer and can only be used inside a layer.`,
      );
    }
    if (!isBase && baseOnly) {
      throw badRequest(
        `Invalid value "${text}" for transformation parameter "${c.key}": only bw, bh and bar can be used inside text and solid-colour layers.`,
      );
    }
  }
  return e;
}

export const EXPRESSION_FORM = 'an arithmetic expression such as iw_div_2';

/** w and h: pixels (≥ 1), a fraction of the current size (0 < f < 1), or an expression. */
export function length(c: ValueContext, text: string): Length {
  const expected = `a number of pixels (1–${c.maxDimension}), a fraction between 0 and 1, or ${EXPRESSION_FORM}`;
  if (isNumberText(text)) {
    const n = Number(text);
    if (n <= 0 || n > c.maxDimension) throw invalid(c, text, expected);
    if (n < 1) return { kind: 'fraction', value: n };
    return { kind: 'px', value: Math.round(n) };
  }
  const e = parseExpression(text);
  if (!e) throw invalid(c, text, expected);
  return checkExpression(c, e, text);
}

export function formatLength(l: Length): string {
  return l.kind === 'expr' ? formatExpression(l) : formatNumber(l.value);
}

/** A non-negative number or an expression. */
export function amount(c: ValueContext, text: string, max = c.maxDimension): Amount {
  if (isNumberText(text)) {
    const n = Number(text);
    if (n > max) throw invalid(c, text, `a number from 0 to ${max} or ${EXPRESSION_FORM}`);
    return { kind: 'num', value: n };
  }
  const e = parseExpression(text);
  if (!e) throw invalid(c, text, `a non-negative number or ${EXPRESSION_FORM}`);
  return checkExpression(c, e, text);
}

export function formatAmount(a: Amount): string {
  return a.kind === 'expr' ? formatExpression(a) : formatNumber(a.value);
}

/** lx, ly, lxc, lyc: `N` in front measures from the far edge. */
export function signedAmount(c: ValueContext, text: string): SignedAmount {
  const negative = text.startsWith('N');
  const rest = negative ? text.slice(1) : text;
  if (rest === '') throw invalid(c, text, `a number, N<number> for a negative one, or ${EXPRESSION_FORM}`);
  return { negative, amount: amount(c, rest) };
}

export function formatSigned(s: SignedAmount): string {
  return (s.negative ? 'N' : '') + formatAmount(s.amount);
}

export const RELATIVE_POSITIONS: readonly RelativePosition[] = [
  'center',
  'top',
  'left',
  'bottom',
  'right',
  'top_left',
  'top_right',
  'bottom_left',
  'bottom_right',
];

/** A library path written with `@@` for `/` (i-, di-), or base64 (ie-). */
export function libraryPath(c: ValueContext | string, text: string): string {
  const key = typeof c === 'string' ? c : c.key;
  const path = '/' + text.replace(/@@/g, '/').replace(/^\/+/, '').replace(/\/+$/, '');
  const segments = path.split('/').slice(1);
  if (
    path.length > 1024 ||
    segments.length === 0 ||
    segments.some((s) => s === '' || s === '.' || s === '..') ||
    /[\u0000-\u001f\\]/.test(path)
  ) {
    throw badRequest(`Invalid value "${text}" for transformation parameter "${key}": expected a file path in the media library, with @@ in place of /.`);
  }
  return path;
}

export function base64Text(key: string, text: string): string {
  const cleaned = text.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(cleaned) || cleaned.length === 0) {
    throw badRequest(`Invalid value "${text}" for transformation parameter "${key}": expected URL-safe base64 text.`);
  }
  const decoded = Buffer.from(cleaned, 'base64').toString('utf8');
  if (decoded.includes('\uFFFD')) {
    throw badRequest(`Invalid value "${text}" for transformation parameter "${key}": the base64 text is not valid UTF-8.`);
  }
  return decoded;
}

export function encodeBase64(text: string): string {
  return encodeURIComponent(Buffer.from(text, 'utf8').toString('base64'));
}
