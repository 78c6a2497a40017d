/**
 * The searchQuery parser (one test group per grammar production), its errors and their
 * positions, and the analyser's field/operator/value rules.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/errors/index.js';
import {
  analyzeSearchQuery,
  hasWords,
  parseDate,
  parseSearchQuery,
  parseSize,
  prefixUpperBound,
  SearchQueryError,
  SEARCH_LIMITS,
  type CheckedCondition,
  type Condition,
  type CustomType,
  type Expr,
} from '../../src/search/index.js';

const cond = (e: Expr): Condition => {
  assert.equal(e.kind, 'cond');
  return e as Condition;
};

/** Asserts a 400 SearchQueryError at `position`, whose message mentions each of `mentions`. */
function syntaxError(query: string, position: number, ...mentions: string[]): SearchQueryError {
  let err: unknown;
  try {
    parseSearchQuery(query);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof SearchQueryError, `expected a SearchQueryError for ${JSON.stringify(query)}, got ${String(err)}`);
  assert.ok(err instanceof ApiError);
  assert.equal(err.status, 400);
  assert.equal(err.position, position, `${JSON.stringify(query)}: ${err.message}`);
  assert.match(err.message, new RegExp(`at position ${position}:`));
  for (const m of mentions) assert.ok(err.message.includes(m), `${err.message} should mention ${m}`);
  return err;
}

describe('query := or-expr END', () => {
  test('a single condition is the whole tree', () => {
    const c = cond(parseSearchQuery('name = "a.jpg"'));
    assert.equal(c.field, 'name');
    assert.equal(c.op, '=');
    assert.deepEqual(c.values, [{ type: 'string', value: 'a.jpg', quoted: true, pos: 8 }]);
  });
  test('surrounding whitespace is ignored', () => {
    assert.equal(cond(parseSearchQuery(' \n\t name = x \r\n ')).field, 'name');
  });
  test('an empty or blank query is an error at position 1', () => {
    syntaxError('', 1, 'empty');
    syntaxError('   ', 1, 'empty');
  });
  test('trailing input after a complete expression', () => {
    syntaxError('name = "a" size > 1', 12, 'expected AND, OR or the end of the query', '"size"');
    syntaxError('name = "a")', 11, 'without a matching "("');
  });
});

describe('or-expr := and-expr ( OR and-expr )*', () => {
  test('OR collects its operands into one node', () => {
    const e = parseSearchQuery('size > 1 OR size < 2 OR name = a');
    assert.equal(e.kind, 'or');
    assert.equal((e as { items: Expr[] }).items.length, 3);
  });
  test('AND binds tighter than OR', () => {
    const e = parseSearchQuery('name = a OR name = b AND size > 1');
    assert.equal(e.kind, 'or');
    const [first, second] = (e as { items: Expr[] }).items;
    assert.equal(first!.kind, 'cond');
    assert.equal(second!.kind, 'and');
  });
  test('keywords are case-insensitive', () => {
    assert.equal(parseSearchQuery('name = a or name = b').kind, 'or');
    assert.equal(parseSearchQuery('name = a And name = b').kind, 'and');
  });
  test('OR without a right operand', () => {
    syntaxError('name = a OR', 12, 'expected a field name', 'the end of the query');
    syntaxError('name = a OR )', 13, 'expected a field name');
  });
});

describe('and-expr := primary ( AND primary )*', () => {
  test('AND collects its operands', () => {
    const e = parseSearchQuery('a = 1 AND b = 2 AND c = 3');
    assert.equal(e.kind, 'and');
    assert.equal((e as { items: Expr[] }).items.length, 3);
  });
  test('a keyword glued to a word is not a keyword', () => {
    syntaxError('name = a ANDsize > 1', 10, 'expected AND, OR');
  });
  test('a keyword directly after a quoted value works', () => {
    assert.equal(parseSearchQuery('name = "a"AND size > 1').kind, 'and');
  });
  test('AND AND', () => {
    syntaxError('name = a AND AND size > 1', 14, 'expected a field name', '"AND"');
  });
});

describe('primary := "(" or-expr ")" | condition', () => {
  test('parentheses override precedence', () => {
    const e = parseSearchQuery('(name = a OR name = b) AND size > 1');
    assert.equal(e.kind, 'and');
    assert.equal((e as { items: Expr[] }).items[0]!.kind, 'or');
  });
  test('the documented example', () => {
    const e = parseSearchQuery('(size < "1mb" AND width > 500) OR (tags IN ["summer-sale","banner"])');
    assert.equal(e.kind, 'or');
  });
  test('nested parentheses', () => {
    assert.equal(cond(parseSearchQuery('((((name = a))))')).field, 'name');
  });
  test('an unclosed parenthesis points at the "("', () => {
    syntaxError('size > 1 AND (name = a', 14, 'never closed', '")"');
  });
  test('something other than ")" inside', () => {
    syntaxError('(name = a name = b)', 11, 'expected AND, OR or ")"');
  });
  test('empty parentheses', () => {
    syntaxError('()', 2, 'expected a field name', '")"');
  });
  test('nesting deeper than the limit', () => {
    const deep = '('.repeat(SEARCH_LIMITS.maxDepth + 1) + 'a = 1' + ')'.repeat(SEARCH_LIMITS.maxDepth + 1);
    syntaxError(deep, SEARCH_LIMITS.maxDepth + 1, 'nested more than');
    const ok = '('.repeat(SEARCH_LIMITS.maxDepth) + 'a = 1' + ')'.repeat(SEARCH_LIMITS.maxDepth);
    assert.equal(cond(parseSearchQuery(ok)).field, 'a');
  });
});

describe('condition := field operator; field := identifier | "quoted"', () => {
  test('a bare identifier', () => {
    const c = cond(parseSearchQuery('createdAt > 7d'));
    assert.equal(c.field, 'createdAt');
    assert.equal(c.fieldPos, 1);
  });
  test('a quoted field, as custom and embedded metadata need', () => {
    const c = cond(parseSearchQuery('"customMetadata.brand" = "Nike"'));
    assert.equal(c.field, 'customMetadata.brand');
    assert.equal(cond(parseSearchQuery('"tags" IN ["a"]')).field, 'tags');
  });
  test('a dotted bare identifier is accepted too', () => {
    assert.equal(cond(parseSearchQuery('customMetadata.brand = x')).field, 'customMetadata.brand');
  });
  test('a missing field', () => {
    syntaxError('= "a"', 1, 'expected a field name');
    syntaxError('  123 = 4', 3, 'expected a field name', '"123"');
  });
  test('an empty quoted field', () => {
    syntaxError('"" = a', 1, 'cannot be empty');
  });
  test('a field with nothing after it', () => {
    syntaxError('name', 5, 'expected an operator', 'the end of the query');
  });
  test('too many conditions', () => {
    const q = Array.from({ length: SEARCH_LIMITS.maxConditions + 1 }, (_, i) => `size > ${i}`).join(' OR ');
    const err = syntaxError(q, q.lastIndexOf('size') + 1, 'more than');
    assert.ok(err.message.includes(String(SEARCH_LIMITS.maxConditions)));
  });
});

describe('operator := NOT? ( = | : | < | <= | > | >= | HAS ) value | IN list | EXISTS', () => {
  const ops = ['=', ':', '<', '<=', '>', '>=', 'HAS'] as const;
  for (const op of ops) {
    test(`"${op}" takes one value`, () => {
      const c = cond(parseSearchQuery(`size ${op} 5`));
      assert.equal(c.op, op);
      assert.equal(c.negated, false);
      assert.equal(c.values.length, 1);
      const n = cond(parseSearchQuery(`size NOT ${op} 5`));
      assert.equal(n.op, op);
      assert.equal(n.negated, true);
    });
  }
  test('operators need no surrounding spaces', () => {
    assert.equal(cond(parseSearchQuery('size<=5')).op, '<=');
    assert.equal(cond(parseSearchQuery('name:red')).op, ':');
    assert.equal(cond(parseSearchQuery('name="a"')).op, '=');
  });
  test('IN and NOT IN take a list', () => {
    const c = cond(parseSearchQuery('tags IN ["a", "b"]'));
    assert.equal(c.op, 'IN');
    assert.deepEqual(c.values.map((v) => v.type === 'string' && v.value), ['a', 'b']);
    assert.equal(cond(parseSearchQuery('tags NOT IN ["a"]')).negated, true);
  });
  test('EXISTS and NOT EXISTS take nothing', () => {
    const c = cond(parseSearchQuery('tags EXISTS'));
    assert.equal(c.op, 'EXISTS');
    assert.deepEqual(c.values, []);
    const e = parseSearchQuery('"customMetadata.x" NOT EXISTS AND size > 1');
    assert.equal(e.kind, 'and');
    assert.equal(cond((e as { items: Expr[] }).items[0]!).negated, true);
  });
  test('the operator position is where NOT (or the operator) starts', () => {
    assert.equal(cond(parseSearchQuery('name NOT = a')).opPos, 6);
    assert.equal(cond(parseSearchQuery('name   = a')).opPos, 8);
  });
  test('an unknown operator', () => {
    syntaxError('size != 5', 6, 'expected an operator');
    syntaxError('size LIKE 5', 6, 'expected an operator', '"LIKE"');
    syntaxError('size NOT', 9, 'expected an operator');
    syntaxError('size NOT NOT = 1', 10, 'expected an operator');
  });
  test('IN without a list, and a list after another operator', () => {
    syntaxError('tags IN "a"', 9, '"[" to start the list');
    syntaxError('tags = ["a"]', 8, 'only allowed after IN');
  });
});

describe('list := "[" item ( "," item )* "]"', () => {
  test('quoted strings, numbers and booleans', () => {
    const c = cond(parseSearchQuery('"customMetadata.tuple" IN ["luxury", 500, true, -1.5]'));
    assert.deepEqual(
      c.values.map((v) => [v.type, v.type === 'number' ? v.value : v.type === 'boolean' ? v.value : v.value]),
      [
        ['string', 'luxury'],
        ['number', 500],
        ['boolean', true],
        ['number', -1.5],
      ],
    );
  });
  test('whitespace anywhere between items', () => {
    assert.equal(cond(parseSearchQuery('tags IN[ "a" ,"b",\n"c" ]')).values.length, 3);
  });
  test('unquoted words are refused, as documented', () => {
    syntaxError('tags IN [small, "x"]', 10, 'within double quotes');
    syntaxError("tags IN ['small', 'inventory']", 10, 'within double quotes');
  });
  test('an empty list', () => {
    syntaxError('tags IN []', 10, 'expected a value');
  });
  test('a trailing comma', () => {
    syntaxError('tags IN ["a",]', 14, 'expected a value after ","');
  });
  test('a missing separator or close', () => {
    syntaxError('tags IN ["a" "b"]', 14, 'expected "," or "]"');
    syntaxError('tags IN ["a"', 13, 'to close the list');
  });
  test('more items than the limit', () => {
    const items = Array.from({ length: SEARCH_LIMITS.maxListItems + 1 }, (_, i) => i).join(',');
    syntaxError(`size IN [${items}]`, 10 + items.lastIndexOf(',') + 1, 'more than');
  });
});

describe('value := "quoted" | bare word', () => {
  test('quoted strings keep spaces and unescape \\" and \\\\', () => {
    const c = cond(parseSearchQuery('name = "red \\"dress\\" \\\\ x"'));
    assert.deepEqual(c.values[0], { type: 'string', value: 'red "dress" \\ x', quoted: true, pos: 8 });
  });
  test('bare words: sizes, relative dates, dates with colons, names', () => {
    const vals = ['50kb', '7d', '2020-01-01T12:12:12', 'red_dress.jpg', 'a=b'].map((w) => cond(parseSearchQuery(`x = ${w}`)).values[0]);
    assert.deepEqual(
      vals.map((v) => v && v.type === 'string' && [v.value, v.quoted]),
      [
        ['50kb', false],
        ['7d', false],
        ['2020-01-01T12:12:12', false],
        ['red_dress.jpg', false],
        ['a=b', false],
      ],
    );
  });
  test('bare numbers and booleans', () => {
    const n = cond(parseSearchQuery('width > 1e3')).values[0]!;
    assert.deepEqual(n, { type: 'number', value: 1000, raw: '1e3', pos: 9 });
    assert.deepEqual(cond(parseSearchQuery('private = TRUE')).values[0], { type: 'boolean', value: true, pos: 11 });
    assert.equal(cond(parseSearchQuery('private = "true"')).values[0]!.type, 'string');
  });
  test('a bare word ends at ) so a condition can close a group', () => {
    const e = parseSearchQuery('(size < 1mb)');
    assert.equal(cond(e).values[0]!.type === 'string' && (cond(e).values[0] as { value: string }).value, '1mb');
  });
  test('a missing value', () => {
    syntaxError('name =', 7, 'expected a value after "="', 'the end of the query');
    syntaxError('name = )', 8, 'expected a value');
    syntaxError('(name = ) AND x = 1', 9, 'expected a value');
    syntaxError('name = AND size > 1', 8, 'expected a value', '"AND"');
    syntaxError('name HAS', 9, 'expected a value after "HAS"');
  });
  test('an unterminated string points at its opening quote', () => {
    syntaxError('name = "abc', 8, 'never closed');
    syntaxError('"customMetadata.x = 5', 1, 'never closed');
  });
  test('values longer than the limit', () => {
    syntaxError(`name = "${'a'.repeat(SEARCH_LIMITS.maxValueLength + 1)}"`, 8, 'longer than');
    syntaxError(`name = ${'a'.repeat(SEARCH_LIMITS.maxValueLength + 1)}`, 8, 'longer than');
  });
  test('the whole query has a length limit', () => {
    const q = `name = "${'a'.repeat(SEARCH_LIMITS.maxLength)}"`;
    syntaxError(q, SEARCH_LIMITS.maxLength + 1, 'longer than');
  });
});

// --- analyser -------------------------------------------------------------------------------

const NOW = Date.parse('2024-06-15T12:00:00.000Z');
const FIELDS = new Map<string, CustomType>([
  ['brand', 'Text'],
  ['notes', 'Textarea'],
  ['price', 'Number'],
  ['launch', 'Date'],
  ['active', 'Boolean'],
  ['rating', 'SingleSelect'],
  ['colors', 'MultiSelect'],
]);

function analyze(q: string): CheckedCondition {
  const e = analyzeSearchQuery(parseSearchQuery(q), { customFields: FIELDS, now: NOW });
  assert.equal(e.kind, 'cond');
  return e as CheckedCondition;
}

function analyzeError(q: string, position: number, ...mentions: string[]): void {
  let err: unknown;
  try {
    analyzeSearchQuery(parseSearchQuery(q), { customFields: FIELDS, now: NOW });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof SearchQueryError, `expected a SearchQueryError for ${q}, got ${String(err)}`);
  assert.equal(err.status, 400);
  assert.equal(err.position, position, `${q}: ${err.message}`);
  for (const m of mentions) assert.ok(err.message.includes(m), `${err.message} should mention ${m}`);
}

describe('analyser: fields and operators', () => {
  test('an unknown field is a 400 naming it', () => {
    analyzeError('colour = "red"', 1, 'unknown field "colour"');
    analyzeError('size > 1 AND Name = "x"', 14, 'unknown field "Name"');
  });
  test('an unknown custom metadata field names the field', () => {
    analyzeError('"customMetadata.nope" = "x"', 1, 'unknown field "customMetadata.nope"', 'no custom metadata field named "nope"');
    analyzeError('"customMetadata." = "x"', 1, 'not a valid field name');
  });
  test('an operator the field does not support names both', () => {
    analyzeError('size : 5', 6, 'operator ":"', 'field "size"');
    analyzeError('tags = "a"', 6, 'operator "="', 'field "tags"', 'IN, NOT IN');
    analyzeError('name NOT EXISTS', 6, 'operator "NOT EXISTS"', 'field "name"');
    analyzeError('private > true', 9, 'operator ">"', 'field "private"');
    analyzeError('"customMetadata.colors" = "red"', 25, 'operator "="', 'field "customMetadata.colors"');
    analyzeError('"customMetadata.active" IN [true]', 25, 'operator "IN"');
    analyzeError('"customMetadata.price" : 5', 24, 'operator ":"');
  });
  test('NOT is accepted before any supported operator', () => {
    assert.equal(analyze('name NOT : "a"').negated, true);
    assert.equal(analyze('"customMetadata.price" NOT >= 5').op, '>=');
  });
  test('LocationTaken is refused rather than ignored', () => {
    analyzeError('"embeddedMetadata.LocationTaken" = "40,100 5km"', 1, 'not supported');
  });
  test('embedded fields: date-like names take dates', () => {
    const c = analyze('"embeddedMetadata.DateTimeOriginal" > "1y"');
    assert.equal(c.target.kind === 'meta' && c.target.metaKind, 'EmbeddedDate');
    assert.deepEqual(c.operands[0], { t: 'date', start: '2023-06-15T12:00:00.000Z', end: '2023-06-15T12:00:00.001Z' });
  });
});

describe('analyser: values', () => {
  test('type accepts only file, file-version and folder', () => {
    assert.deepEqual(analyze('type IN ["file", "folder"]').operands, [
      { t: 'text', v: 'file' },
      { t: 'text', v: 'folder' },
    ]);
    analyzeError('type = "image"', 8, 'one of "file", "file-version" or "folder"');
  });
  test('sizes: bytes or units of 1024', () => {
    assert.deepEqual(analyze('size < "1mb"').operands, [{ t: 'num', v: 1048576 }]);
    assert.deepEqual(analyze('size >= 10kb').operands, [{ t: 'num', v: 10240 }]);
    assert.deepEqual(analyze('size = 1024').operands, [{ t: 'num', v: 1024 }]);
    assert.deepEqual(analyze('size > "1.5 GB"').operands, [{ t: 'num', v: 1610612736 }]);
    analyzeError('size > "big"', 8, 'a size in bytes');
  });
  test('booleans must be unquoted', () => {
    assert.deepEqual(analyze('private = true').operands, [{ t: 'bool', v: true }]);
    analyzeError('published = "false"', 13, 'true or false');
  });
  test('width and height want numbers', () => {
    assert.deepEqual(analyze('width > 500').operands, [{ t: 'num', v: 500 }]);
    analyzeError('height > "tall"', 10, 'a numeric value');
  });
  test('dates: ISO forms and relative units', () => {
    assert.deepEqual(analyze('createdAt < 2020-01-01').operands, [
      { t: 'date', start: '2020-01-01T00:00:00.000Z', end: '2020-01-02T00:00:00.000Z' },
    ]);
    assert.deepEqual(analyze('createdAt < "2020-01-01T12:12:12"').operands, [
      { t: 'date', start: '2020-01-01T12:12:12.000Z', end: '2020-01-01T12:12:13.000Z' },
    ]);
    assert.deepEqual(analyze('updatedAt >= "2020-01-01 12:12:12"').operands[0], {
      t: 'date',
      start: '2020-01-01T12:12:12.000Z',
      end: '2020-01-01T12:12:13.000Z',
    });
    assert.equal((analyze('createdAt > "7d"').operands[0] as { start: string }).start, '2024-06-08T12:00:00.000Z');
    assert.equal((analyze('createdAt > 1h').operands[0] as { start: string }).start, '2024-06-15T11:00:00.000Z');
    assert.equal((analyze('createdAt > 2w').operands[0] as { start: string }).start, '2024-06-01T12:00:00.000Z');
    assert.equal((analyze('createdAt > 4m').operands[0] as { start: string }).start, '2024-02-15T12:00:00.000Z');
    assert.equal((analyze('createdAt > "1y"').operands[0] as { start: string }).start, '2023-06-15T12:00:00.000Z');
    analyzeError('createdAt > "yesterday"', 13, 'a date');
    analyzeError('createdAt > 2021-02-30', 13, 'a date');
    analyzeError('createdAt > 5', 13, 'a date');
  });
  test('custom metadata values by field type', () => {
    assert.deepEqual(analyze('"customMetadata.price" > 200.125').operands, [{ t: 'num', v: 200.125 }]);
    assert.deepEqual(analyze('"customMetadata.active" = true').operands, [{ t: 'bool', v: true }]);
    assert.deepEqual(analyze('"customMetadata.rating" IN ["excellent", 4, true]').operands, [
      { t: 'text', v: 'excellent' },
      { t: 'num', v: 4 },
      { t: 'bool', v: true },
    ]);
    analyzeError('"customMetadata.rating" > "high"', 27, 'a numeric value');
    analyzeError('"customMetadata.active" = 1', 27, 'true or false');
    analyzeError('"customMetadata.launch" > "soon"', 27, 'a date');
  });
  test('HAS splits words case- and accent-insensitively', () => {
    assert.deepEqual(analyze('name HAS "Red-Dress Café"').operands, [{ t: 'words', words: ['red', 'dress', 'cafe'] }]);
    analyzeError('name HAS "!!!"', 10, 'at least one word');
  });
  test('path values are folder paths', () => {
    assert.deepEqual(analyze('path = "a/b"').operands, [{ t: 'text', v: '/a/b/' }]);
    assert.deepEqual(analyze('path : "/"').operands, [{ t: 'text', v: '/' }]);
    analyzeError('path = "/a/../b"', 8, 'without "." or ".."');
  });
});

describe('helpers', () => {
  test('parseSize', () => {
    assert.equal(parseSize({ type: 'string', value: '2MB', quoted: true, pos: 1 }), 2 * 1024 * 1024);
    assert.equal(parseSize({ type: 'string', value: '12 b', quoted: true, pos: 1 }), 12);
    assert.equal(parseSize({ type: 'boolean', value: true, pos: 1 }), undefined);
  });
  test('parseDate offsets and fractions', () => {
    assert.deepEqual(parseDate('2020-01-01T10:00:00+05:30', NOW), { start: '2020-01-01T04:30:00.000Z', end: '2020-01-01T04:30:01.000Z' });
    assert.deepEqual(parseDate('2020-01-01T10:00:00.5Z', NOW), { start: '2020-01-01T10:00:00.500Z', end: '2020-01-01T10:00:00.501Z' });
    assert.deepEqual(parseDate('2020-01-01T10:00', NOW), { start: '2020-01-01T10:00:00.000Z', end: '2020-01-01T10:01:00.000Z' });
    assert.equal(parseDate('2020-13-01', NOW), undefined);
    assert.equal(parseDate('999999d', NOW), undefined);
  });
  test('hasWords', () => {
    assert.deepEqual(hasWords('  Ünïcode_wörds 42  '), ['unicode', 'words', '42']);
  });
  test('prefixUpperBound', () => {
    assert.equal(prefixUpperBound('abc'), 'abd');
    assert.equal(prefixUpperBound('a\u{10FFFF}'), 'b');
    assert.equal(prefixUpperBound('\u{D7FF}'), '\u{E000}');
    assert.equal(prefixUpperBound(''), undefined);
  });
});
