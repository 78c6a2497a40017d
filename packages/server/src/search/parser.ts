import type { BaseOp, Condition, Expr, Literal } from './ast.js';
import { SearchQueryError } from './errors.js';

/**
 * A recursive-descent parser for ImageKit's searchQuery language.
 *
 *   query      := or-expr END
 *   or-expr    := and-expr ( "OR" and-expr )*
 *   and-expr   := primary ( "AND" primary )*
 *   primary    := "(" or-expr ")" | condition
 *   condition  := field operator
 *   field      := identifier | "quoted string"
 *   operator   := "NOT"? ( ( "=" | ":" | "<" | "<=" | ">" | ">=" | "HAS" ) value
 *                        | "IN" list
 *                        | "EXISTS" )
 *   list       := "[" item ( "," item )* "]"
 *   item       := "quoted string" | number | true | false
 *   value      := "quoted string" | bare word (number, true/false, 7d, 50kb, 2020-01-01T10:00:00, …)
 *
 * AND binds tighter than OR; parentheses group. Keywords are case-insensitive. Inside a list,
 * non-numeric values must be quoted (as ImageKit documents). Values after an operator are read
 * as a bare word up to whitespace or one of ( ) [ ] , " — so unquoted dates with colons work.
 * The parser only builds the tree; fields and values are checked by the analyser.
 */

export const SEARCH_LIMITS = {
  /** Characters in the whole query. */
  maxLength: 4096,
  /** Nested parentheses. */
  maxDepth: 16,
  /** Conditions in one query. */
  maxConditions: 100,
  /** Items in one IN list. */
  maxListItems: 500,
  /** Characters in one value. */
  maxValueLength: 1024,
} as const;

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'HAS', 'EXISTS']);
const WORD_CHAR = /[A-Za-z0-9_.]/;
const IDENT_START = /[A-Za-z_]/;
const BARE_STOP = new Set([' ', '\t', '\n', '\r', '(', ')', '[', ']', ',', '"']);
const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
const OPERATORS_EXPECTED = 'an operator (=, :, <, <=, >, >=, IN, HAS, EXISTS, or NOT before one of them)';

class Parser {
  private i = 0;
  private depth = 0;
  private conditions = 0;

  constructor(private readonly s: string) {}

  parse(): Expr {
    this.ws();
    if (this.eof()) throw new SearchQueryError('the query is empty; expected a condition such as name = "photo.jpg".', 1, 'a condition');
    const e = this.orExpr();
    this.ws();
    if (!this.eof()) {
      if (this.peek() === ')') throw this.error('a ")" without a matching "(".', 'AND, OR or the end of the query');
      throw this.expected('AND, OR or the end of the query');
    }
    return e;
  }

  private orExpr(): Expr {
    const items = [this.andExpr()];
    while (this.keyword('OR')) items.push(this.andExpr());
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }

  private andExpr(): Expr {
    const items = [this.primary()];
    while (this.keyword('AND')) items.push(this.primary());
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }

  private primary(): Expr {
    this.ws();
    if (this.peek() === '(') {
      const open = this.i;
      this.i++;
      if (++this.depth > SEARCH_LIMITS.maxDepth) {
        throw new SearchQueryError(`parentheses are nested more than ${SEARCH_LIMITS.maxDepth} deep.`, open + 1);
      }
      const e = this.orExpr();
      this.ws();
      if (this.peek() !== ')') {
        if (this.eof()) throw new SearchQueryError('the "(" here is never closed; expected ")".', open + 1, '")"');
        throw this.expected('AND, OR or ")"');
      }
      this.i++;
      this.depth--;
      return e;
    }
    return this.condition();
  }

  private condition(): Condition {
    this.ws();
    const fieldPos = this.i + 1;
    const field = this.field();
    if (++this.conditions > SEARCH_LIMITS.maxConditions) {
      throw new SearchQueryError(`the query has more than ${SEARCH_LIMITS.maxConditions} conditions.`, fieldPos);
    }
    this.ws();
    const opPos = this.i + 1;
    let negated = false;
    if (this.keyword('NOT')) {
      negated = true;
      this.ws();
    }
    const op = this.operator();
    let values: Literal[];
    if (op === 'EXISTS') values = [];
    else if (op === 'IN') values = this.list();
    else values = [this.value(op)];
    return { kind: 'cond', field, fieldPos, op, negated, opPos, values };
  }

  private field(): string {
    const c = this.peek();
    if (c === '"') {
      const pos = this.i + 1;
      const name = this.quoted();
      if (name.trim() === '') throw new SearchQueryError('a field name cannot be empty.', pos, 'a field name');
      return name;
    }
    if (c !== undefined && IDENT_START.test(c)) {
      const start = this.i;
      while (!this.eof() && WORD_CHAR.test(this.peek()!)) this.i++;
      const word = this.s.slice(start, this.i);
      if (KEYWORDS.has(word.toUpperCase())) {
        this.i = start;
        throw this.expected('a field name');
      }
      return word;
    }
    throw this.expected('a field name');
  }

  private operator(): BaseOp {
    const c = this.peek();
    const n = this.s[this.i + 1];
    if (c === '<' || c === '>') {
      this.i += n === '=' ? 2 : 1;
      return (n === '=' ? `${c}=` : c) as BaseOp;
    }
    if (c === '=' || c === ':') {
      this.i++;
      return c;
    }
    for (const k of ['IN', 'HAS', 'EXISTS'] as const) if (this.keyword(k)) return k;
    throw this.expected(OPERATORS_EXPECTED);
  }

  /** A single value after =, :, <, <=, >, >= or HAS. */
  private value(op: BaseOp): Literal {
    this.ws();
    const pos = this.i + 1;
    const c = this.peek();
    if (c === '"') return { type: 'string', value: this.quoted(), quoted: true, pos };
    if (c === '[') throw this.error(`a list of values is only allowed after IN; "${op}" takes a single value.`, 'a value');
    const start = this.i;
    while (!this.eof() && !BARE_STOP.has(this.peek()!)) this.i++;
    const word = this.s.slice(start, this.i);
    if (word === '' || KEYWORDS.has(word.toUpperCase())) {
      this.i = start;
      throw this.expected(`a value after "${op}"`);
    }
    if (word.length > SEARCH_LIMITS.maxValueLength) {
      throw new SearchQueryError(`a value is longer than ${SEARCH_LIMITS.maxValueLength} characters.`, pos);
    }
    return this.classify(word, pos) ?? { type: 'string', value: word, quoted: false, pos };
  }

  /** The list after IN: quoted strings, numbers and booleans. */
  private list(): Literal[] {
    this.ws();
    if (this.peek() !== '[') throw this.expected('"[" to start the list of values after IN');
    this.i++;
    const out: Literal[] = [];
    for (;;) {
      this.ws();
      const pos = this.i + 1;
      if (this.peek() === '"') {
        out.push({ type: 'string', value: this.quoted(), quoted: true, pos });
      } else {
        const start = this.i;
        while (!this.eof() && !BARE_STOP.has(this.peek()!)) this.i++;
        const word = this.s.slice(start, this.i);
        if (word === '') {
          this.i = start;
          throw this.expected(out.length === 0 ? 'a value (an empty list matches nothing)' : 'a value after ","');
        }
        const lit = this.classify(word, pos);
        if (!lit) {
          this.i = start;
          throw this.error('non-numeric values inside a list must be written within double quotes.', 'a quoted string, a number, true or false');
        }
        out.push(lit);
      }
      if (out.length > SEARCH_LIMITS.maxListItems) {
        throw new SearchQueryError(`a list has more than ${SEARCH_LIMITS.maxListItems} values.`, pos);
      }
      this.ws();
      const c = this.peek();
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === ']') {
        this.i++;
        return out;
      }
      if (this.eof()) throw this.expected('"," or "]" to close the list');
      throw this.expected('"," or "]"');
    }
  }

  private classify(word: string, pos: number): Literal | undefined {
    const lower = word.toLowerCase();
    if (lower === 'true' || lower === 'false') return { type: 'boolean', value: lower === 'true', pos };
    if (NUMBER.test(word)) {
      const value = Number(word);
      if (Number.isFinite(value)) return { type: 'number', value, raw: word, pos };
    }
    return undefined;
  }

  /** A double-quoted string; a backslash makes the next character literal. */
  private quoted(): string {
    const open = this.i;
    this.i++;
    let out = '';
    for (;;) {
      if (this.eof()) throw new SearchQueryError('this string is never closed; expected a closing double quote.', open + 1, '"\\""');
      const c = this.s[this.i++]!;
      if (c === '"') break;
      if (c === '\\') {
        if (this.eof()) continue;
        out += this.s[this.i++];
      } else out += c;
      if (out.length > SEARCH_LIMITS.maxValueLength) {
        throw new SearchQueryError(`a value is longer than ${SEARCH_LIMITS.maxValueLength} characters.`, open + 1);
      }
    }
    return out;
  }

  /** Consumes keyword k (case-insensitive) when it stands as a whole word here. */
  private keyword(k: string): boolean {
    this.ws();
    const end = this.i + k.length;
    if (this.s.slice(this.i, end).toUpperCase() !== k) return false;
    const after = this.s[end];
    if (after !== undefined && WORD_CHAR.test(after)) return false;
    this.i = end;
    return true;
  }

  private ws(): void {
    while (!this.eof() && /\s/.test(this.peek()!)) this.i++;
  }

  private peek(): string | undefined {
    return this.s[this.i];
  }

  private eof(): boolean {
    return this.i >= this.s.length;
  }

  private found(): string {
    if (this.eof()) return 'the end of the query';
    const m = /^[^\s]{1,20}/.exec(this.s.slice(this.i));
    return `"${m ? m[0] : this.s[this.i]}"`;
  }

  private expected(what: string): SearchQueryError {
    return new SearchQueryError(`expected ${what}, found ${this.found()}.`, this.i + 1, what);
  }

  private error(message: string, expected?: string): SearchQueryError {
    return new SearchQueryError(message, this.i + 1, expected);
  }
}

/** Parses a searchQuery into its syntax tree; throws SearchQueryError (a 400) on any mistake. */
export function parseSearchQuery(query: string): Expr {
  if (query.length > SEARCH_LIMITS.maxLength) {
    throw new SearchQueryError(`the query is longer than ${SEARCH_LIMITS.maxLength} characters.`, SEARCH_LIMITS.maxLength + 1);
  }
  return new Parser(query).parse();
}
