/**
 * Upload API `checks`: grammar, the documented fields/operators/examples, size units,
 * errors with positions, and hostile input. Doc examples are quoted from ImageKit's
 * "Upload API checks" section (upload-file V1 reference).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isApiError } from '../../src/errors/index.js';
import {
  CHECKS_SYNTAX_MESSAGE,
  MAX_CHECKS_DEPTH,
  MAX_CHECKS_LENGTH,
  evaluateUploadChecks,
  parseUploadChecks,
  type UploadCheckContext,
  type UploadCheckExpr,
  type UploadCheckOperator,
} from '../../src/services/upload-checks.js';

type Overrides = { request?: Record<string, unknown>; file?: Record<string, unknown> };

function ctx(o: Overrides = {}): UploadCheckContext {
  return {
    request: { fileName: 'photo.jpg', folder: '/', ...o.request },
    file: { size: 1000, mime: 'image/jpeg', ...o.file },
  };
}

function check(source: string, o: Overrides = {}): boolean {
  return evaluateUploadChecks(parseUploadChecks(source), ctx(o));
}

/** Asserts a clean 400 whose message starts with the documented sentence. */
function assertBad(fn: () => unknown, opts: { at?: number; match?: RegExp } = {}): string {
  let message = '';
  assert.throws(fn, (e: unknown) => {
    assert.ok(isApiError(e), `expected ApiError, got ${String(e)}`);
    assert.equal(e.status, 400);
    assert.equal(e.code, 'BAD_REQUEST');
    assert.ok(e.message.startsWith(CHECKS_SYNTAX_MESSAGE), e.message);
    if (opts.at !== undefined) assert.match(e.message, new RegExp(`At character ${opts.at}:`));
    if (opts.match) assert.match(e.message, opts.match);
    message = e.message;
    return true;
  });
  return message;
}

const badParse = (source: string, opts: { at?: number; match?: RegExp } = {}) =>
  assertBad(() => parseUploadChecks(source), opts);

const cond = (field: string, operator: UploadCheckOperator, value: unknown, position = 1): UploadCheckExpr =>
  (operator === 'IN' || operator === 'NOT IN'
    ? { kind: 'condition', field, operator, values: value, position }
    : { kind: 'condition', field, operator, value, position }) as UploadCheckExpr;

// ---------------------------------------------------------------------------------------

describe('grammar productions', () => {
  test('condition: field, scalar operator, literal', () => {
    assert.deepEqual(parseUploadChecks('"request.fileName" = "a.jpg"'), cond('request.fileName', '=', 'a.jpg'));
  });

  test('every operator token parses', () => {
    const cases: [string, UploadCheckOperator, unknown][] = [
      ['"request.fileName" = "a"', '=', 'a'],
      ['"request.fileName" NOT = "a"', 'NOT =', 'a'],
      ['"request.fileName" : "a"', ':', 'a'],
      ['"request.fileName" IN ["a"]', 'IN', ['a']],
      ['"request.fileName" NOT IN ["a"]', 'NOT IN', ['a']],
      ['"file.size" < 5', '<', 5],
      ['"file.size" <= 5', '<=', 5],
      ['"file.size" > 5', '>', 5],
      ['"file.size" >= 5', '>=', 5],
    ];
    for (const [src, op, value] of cases) {
      const field = src.slice(1, src.indexOf('"', 1));
      assert.deepEqual(parseUploadChecks(src), cond(field, op, value), src);
    }
  });

  test('NOT = and NOT IN tolerate any whitespace, including none before "="', () => {
    for (const src of ['"request.folder" NOT="a"', '"request.folder" NOT   =  "a"', '"request.folder"\nNOT\n=\n"a"']) {
      assert.equal((parseUploadChecks(src) as { operator: string }).operator, 'NOT =', src);
    }
    assert.equal((parseUploadChecks('"request.folder" NOT\tIN ["a"]') as { operator: string }).operator, 'NOT IN');
  });

  test('AND chain is one n-ary node', () => {
    const e = parseUploadChecks('"file.size" > 1 AND "file.size" > 2 AND "file.size" > 3');
    assert.deepEqual(e, {
      kind: 'and',
      operands: [cond('file.size', '>', 1, 1), cond('file.size', '>', 2, 21), cond('file.size', '>', 3, 41)],
    });
  });

  test('OR chain is one n-ary node', () => {
    const e = parseUploadChecks('"file.size" > 1 OR "file.size" > 2');
    assert.deepEqual(e, { kind: 'or', operands: [cond('file.size', '>', 1, 1), cond('file.size', '>', 2, 20)] });
  });

  test('parentheses group and are dropped from the AST', () => {
    assert.deepEqual(parseUploadChecks('(("file.size" > 1))'), cond('file.size', '>', 1, 3));
    const e = parseUploadChecks('("file.size" > 1 OR "file.size" > 2) AND "file.size" < 9');
    assert.equal(e.kind, 'and');
    assert.equal((e as { operands: UploadCheckExpr[] }).operands[0]!.kind, 'or');
  });

  test('list: one item, several items, mixed literals for custom metadata', () => {
    assert.deepEqual(parseUploadChecks('"request.tags" IN ["a"]'), cond('request.tags', 'IN', ['a']));
    assert.deepEqual(parseUploadChecks('"request.tags" IN [ "a" , \'b\',"c" ]'), cond('request.tags', 'IN', ['a', 'b', 'c']));
    assert.deepEqual(
      parseUploadChecks('"request.customMetadata.t" IN ["luxury", 500, true, -1.5]'),
      cond('request.customMetadata.t', 'IN', ['luxury', 500, true, -1.5]),
    );
  });

  test('literals: double and single quotes, escapes, numbers, booleans, barewords', () => {
    const value = (src: string) => (parseUploadChecks(src) as { value: unknown }).value;
    assert.equal(value('"request.fileName" = "a b"'), 'a b');
    assert.equal(value("'request.fileName' = 'a b'"), 'a b');
    assert.equal(value('"request.fileName" = "it\'s"'), "it's");
    assert.equal(value('"request.fileName" = "say \\"hi\\" \\\\ ok"'), 'say "hi" \\ ok');
    assert.equal(value("'request.fileName' = 'it\\'s'"), "it's");
    assert.equal(value('"request.fileName" = ""'), '');
    assert.equal(value('"mediaMetadata.width" = 42'), 42);
    assert.equal(value('"mediaMetadata.duration" > 1.25'), 1.25);
    assert.equal(value('"request.customMetadata.n" > -3'), -3);
    assert.equal(value('"request.isPrivateFile" = true'), true);
    assert.equal(value('"request.isPrivateFile" = FALSE'), false);
    assert.equal(value('"file.mime" : image'), 'image');
    assert.equal(value('"file.mime" = image/svg+xml'), 'image/svg+xml');
  });

  test('keywords are case-insensitive', () => {
    const e = parseUploadChecks('"file.size" > 1 and ("file.size" < 9 or "request.tags" not in ["x"]) And "request.tags" in ["y"]');
    assert.equal(e.kind, 'and');
    assert.equal((e as { operands: UploadCheckExpr[] }).operands.length, 3);
  });

  test('whitespace, newlines and no spaces at all', () => {
    assert.equal(check('"request.folder":"/socialflow"', { request: { folder: '/socialflow/' } }), true);
    assert.equal(check('\n\t "file.size"\n<\r\n"1mb"\n', {}), true);
  });

  test('positions are 1-based and count across lines', () => {
    const e = parseUploadChecks('"file.size" > 1 AND\n  "file.mime" : "image"') as { operands: { position: number }[] };
    assert.deepEqual(
      e.operands.map((o) => o.position),
      [1, 23],
    );
  });
});

describe('precedence', () => {
  test('AND binds tighter than OR: a OR b AND c == a OR (b AND c)', () => {
    const e = parseUploadChecks('"file.size" = 1 OR "file.size" = 2 AND "file.mime" = "x"');
    assert.equal(e.kind, 'or');
    const [a, bc] = (e as { operands: UploadCheckExpr[] }).operands;
    assert.equal(a!.kind, 'condition');
    assert.equal(bc!.kind, 'and');
    // size 1 with the wrong mime passes only under this grouping.
    assert.equal(check('"file.size" = 1 OR "file.size" = 2 AND "file.mime" = "x"', { file: { size: 1 } }), true);
    assert.equal(check('("file.size" = 1 OR "file.size" = 2) AND "file.mime" = "x"', { file: { size: 1 } }), false);
  });

  test('a AND b OR c == (a AND b) OR c', () => {
    const e = parseUploadChecks('"file.size" = 1 AND "file.mime" = "x" OR "file.size" = 2');
    assert.equal(e.kind, 'or');
    assert.equal((e as { operands: UploadCheckExpr[] }).operands[0]!.kind, 'and');
    assert.equal(check('"file.size" = 1 AND "file.mime" = "x" OR "file.size" = 2', { file: { size: 2 } }), true);
    assert.equal(check('"file.size" = 1 AND ("file.mime" = "x" OR "file.size" = 2)', { file: { size: 2 } }), false);
  });

  test('truth table of AND / OR', () => {
    const t = '"request.isPrivateFile" = true';
    const f = '"request.isPrivateFile" = false';
    const c = ctx({ request: { isPrivateFile: true } });
    const run = (s: string) => evaluateUploadChecks(parseUploadChecks(s), c);
    assert.equal(run(`${t} AND ${t}`), true);
    assert.equal(run(`${t} AND ${f}`), false);
    assert.equal(run(`${f} AND ${t}`), false);
    assert.equal(run(`${f} OR ${f}`), false);
    assert.equal(run(`${f} OR ${t}`), true);
    assert.equal(run(`${f} OR ${f} OR ${t}`), true);
    assert.equal(run(`${t} AND ${t} AND ${f}`), false);
  });
});

describe('documented examples', () => {
  test('"request.folder" : "marketing/" admits marketing and its sub-folders', () => {
    const src = '"request.folder" : "marketing/"';
    assert.equal(check(src, { request: { folder: '/marketing/' } }), true);
    assert.equal(check(src, { request: { folder: 'marketing' } }), true);
    assert.equal(check(src, { request: { folder: '/marketing/2024/q1' } }), true);
    assert.equal(check(src, { request: { folder: '/marketing-old/' } }), false);
    assert.equal(check(src, { request: { folder: '/' } }), false);
    assert.equal(check(src, { request: { folder: '/sales/marketing/' } }), false);
    // The API reference's example value carries a trailing newline.
    assert.equal(check('"request.folder" : "marketing/"\n', { request: { folder: '/marketing/a' } }), true);
  });

  test('"request.fileName" : "screenshot" matches names starting with screenshot', () => {
    assert.equal(check('"request.fileName" : "screenshot"', { request: { fileName: 'screenshot-2024.png' } }), true);
    assert.equal(check('"request.fileName" : "screenshot"', { request: { fileName: 'my-screenshot.png' } }), false);
  });

  test('"request.fileName" NOT = "mountain.jpg"', () => {
    assert.equal(check('"request.fileName" NOT = "mountain.jpg"', { request: { fileName: 'mountain.jpg' } }), false);
    assert.equal(check('"request.fileName" NOT = "mountain.jpg"', { request: { fileName: 'lake.jpg' } }), true);
  });

  test('"request.useUniqueFileName" = true', () => {
    assert.equal(check('"request.useUniqueFileName" = true', { request: { useUniqueFileName: true } }), true);
    assert.equal(check('"request.useUniqueFileName" = true', { request: { useUniqueFileName: false } }), false);
  });

  test('"request.tags" IN / NOT IN', () => {
    const inSrc = '"request.tags" IN ["summer-collection", "sale"]';
    assert.equal(check(inSrc, { request: { tags: ['shirt', 'sale'] } }), true);
    assert.equal(check(inSrc, { request: { tags: ['shirt'] } }), false);
    const notIn = '"request.tags" NOT IN ["big-banner"]';
    assert.equal(check(notIn, { request: { tags: ['small'] } }), true);
    assert.equal(check(notIn, { request: { tags: ['small', 'big-banner'] } }), false);
  });

  test('"request.folder" = "engineering" (the docs drop a quote; corrected form)', () => {
    assert.equal(check('"request.folder" = "engineering"', { request: { folder: '/engineering/' } }), true);
    assert.equal(check('"request.folder" = "engineering"', { request: { folder: '/engineering/sub/' } }), false);
    // As printed in the docs it is malformed; say so with a hint rather than crash.
    badParse('"request.folder = "engineering"', { at: 1, match: /closing quote after "request\.folder" missing/ });
    badParse('"request.folder : "offsites/"', { at: 1, match: /unknown field/ });
  });

  test('"request.folder" : "offsites/" and IN ["apparels", "cars"]', () => {
    assert.equal(check('"request.folder" : "offsites/"', { request: { folder: '/offsites/2023/' } }), true);
    assert.equal(check('"request.folder" IN ["apparels", "cars"]', { request: { folder: '/cars/' } }), true);
    assert.equal(check('"request.folder" IN ["apparels", "cars"]', { request: { folder: '/cars/suv/' } }), false);
  });

  test('boolean request fields', () => {
    assert.equal(check('"request.isPrivateFile" = true', { request: { isPrivateFile: true } }), true);
    assert.equal(check('"request.isPublished" = false', { request: { isPublished: false } }), true);
    assert.equal(check('"request.overwriteFile" = false', { request: { overwriteFile: false } }), true);
    assert.equal(check('"request.overwriteAITags" = false', { request: { overwriteAITags: false } }), true);
    assert.equal(check('"request.overwriteTags" = false', { request: { overwriteTags: false } }), true);
    assert.equal(check('"request.overwriteCustomMetadata" = false', { request: { overwriteCustomMetadata: false } }), true);
  });

  test('"request.customCoordinates" = "10,10,500,300"', () => {
    assert.equal(check('"request.customCoordinates" = "10,10,500,300"', { request: { customCoordinates: '10,10,500,300' } }), true);
    assert.equal(check('"request.customCoordinates" = "10,10,500,300"', { request: { customCoordinates: '0,0,1,1' } }), false);
    assert.equal(check('"request.customCoordinates" = "10,10,500,300"'), false);
  });

  test('"request.webhookUrl" : "https://"', () => {
    assert.equal(check('"request.webhookUrl" : "https://"', { request: { webhookUrl: 'https://example.com/h' } }), true);
    assert.equal(check('"request.webhookUrl" : "https://"', { request: { webhookUrl: 'http://example.com/h' } }), false);
  });

  test('"file.size" < 1024 and "file.size" <= "50mb"', () => {
    assert.equal(check('"file.size" < 1024', { file: { size: 1023 } }), true);
    assert.equal(check('"file.size" < 1024', { file: { size: 1024 } }), false);
    assert.equal(check('"file.size" <= "50mb"', { file: { size: 50 * 1024 * 1024 } }), true);
    assert.equal(check('"file.size" <= "50mb"', { file: { size: 50 * 1024 * 1024 + 1 } }), false);
  });

  test('"file.mime" : image and IN ["image/jpg", "image/png"]', () => {
    assert.equal(check('"file.mime" : image', { file: { mime: 'image/webp' } }), true);
    assert.equal(check('"file.mime" : image', { file: { mime: 'video/mp4' } }), false);
    assert.equal(check('"file.mime" IN ["image/jpg", "image/png"]', { file: { mime: 'image/png' } }), true);
    assert.equal(check('"file.mime" IN ["image/jpg", "image/png"]', { file: { mime: 'image/gif' } }), false);
  });

  test('mediaMetadata examples', () => {
    assert.equal(check('"mediaMetadata.width" < 550', { file: { width: 549 } }), true);
    assert.equal(check('"mediaMetadata.width" < 550', { file: { width: 550 } }), false);
    assert.equal(check('"mediaMetadata.height" < 550', { file: { height: 10 } }), true);
    assert.equal(check('"mediaMetadata.duration" > 5', { file: { duration: 5.5 } }), true);
    assert.equal(check('"mediaMetadata.duration" > 5', { file: { duration: 5 } }), false);
    assert.equal(check('"mediaMetadata.videoCodec" = "h264"', { file: { videoCodec: 'h264' } }), true);
    assert.equal(check('"mediaMetadata.videoCodec" IN ["mpeg", "mpegvideo"]', { file: { videoCodec: 'mpegvideo' } }), true);
    assert.equal(check('"mediaMetadata.audioCodec" = "aac"', { file: { audioCodec: 'aac' } }), true);
    assert.equal(check('"mediaMetadata.bitRate" < 10000', { file: { bitRate: 9000 } }), true);
  });

  test('custom metadata: Text, Textarea', () => {
    const kind = '"request.customMetadata.kind" IN ["hatchback", "sedan"]';
    assert.equal(check(kind, { request: { customMetadata: { kind: 'sedan' } } }), true);
    assert.equal(check(kind, { request: { customMetadata: { kind: 'suv' } } }), false);
    assert.equal(check('"request.customMetadata.color" = "red"', { request: { customMetadata: { color: 'red' } } }), true);
    assert.equal(check('"request.customMetadata.description" : "Ontario"', {
        request: { customMetadata: { description: 'Ontario lakes' } },
      }), true);
  });

  test('custom metadata: Date (UTC when no offset is given)', () => {
    const day = '"request.customMetadata.purchaseDate" > "2024-01-01"';
    assert.equal(check(day, { request: { customMetadata: { purchaseDate: '2024-01-01T00:00:01Z' } } }), true);
    assert.equal(check(day, { request: { customMetadata: { purchaseDate: '2024-01-01T00:00:00.000Z' } } }), false);
    const time = '"request.customMetadata.purchaseDate" > "2024-01-01T12:12:12"';
    assert.equal(check(time, { request: { customMetadata: { purchaseDate: '2024-01-01T12:12:13Z' } } }), true);
    assert.equal(check(time, { request: { customMetadata: { purchaseDate: '2024-01-01T12:12:12Z' } } }), false);
    assert.equal(check(time, { request: { customMetadata: { purchaseDate: '2024-01-01T13:12:12+02:00' } } }), false);
  });

  test('custom metadata: Number, Boolean, SingleSelect, MultiSelect', () => {
    assert.equal(check('"request.customMetadata.quantitySold" > 200', { request: { customMetadata: { quantitySold: 201 } } }), true);
    assert.equal(check('"request.customMetadata.quantitySold" > 200', { request: { customMetadata: { quantitySold: 200 } } }), false);
    assert.equal(check('"request.customMetadata.active" = true', { request: { customMetadata: { active: true } } }), true);
    assert.equal(check('"request.customMetadata.tShirtSize" = "XL"', { request: { customMetadata: { tShirtSize: 'XL' } } }), true);
    assert.equal(check('"request.customMetadata.rating" IN [3, 4, 5]', { request: { customMetadata: { rating: 4 } } }), true);
    assert.equal(check('"request.customMetadata.rating" IN [3, 4, 5]', { request: { customMetadata: { rating: '4' } } }), false);
    const tuple = '"request.customMetadata.tuple" IN ["luxury", 500, true]';
    assert.equal(check(tuple, { request: { customMetadata: { tuple: ['basic', 500] } } }), true);
    assert.equal(check(tuple, { request: { customMetadata: { tuple: [true] } } }), true);
    assert.equal(check(tuple, { request: { customMetadata: { tuple: ['basic', 'true', '500'] } } }), false);
    const desc = '"request.customMetadata.descriptors" NOT IN ["big-banner"]';
    assert.equal(check(desc, { request: { customMetadata: { descriptors: ['small'] } } }), true);
    assert.equal(check(desc, { request: { customMetadata: { descriptors: ['small', 'big-banner'] } } }), false);
  });

  test('cURL examples (single-quoted fields and values)', () => {
    assert.equal(check("'file.size' < '1MB'", { file: { size: 1024 * 1024 - 1 } }), true);
    assert.equal(check("'file.size' < '1MB'", { file: { size: 1024 * 1024 } }), false);
    const mime = "'file.mime' IN ['image/jpeg', 'image/png', 'image/svg+xml']";
    assert.equal(check(mime, { file: { mime: 'image/svg+xml' } }), true);
    assert.equal(check(mime, { file: { mime: 'image/gif' } }), false);
    const dims = "'mediaMetadata.height' <= 300 AND 'mediaMetadata.width' <= 500";
    assert.equal(check(dims, { file: { height: 300, width: 500 } }), true);
    assert.equal(check(dims, { file: { height: 301, width: 500 } }), false);
    assert.equal(check(dims, { file: { height: 300, width: 501 } }), false);
  });

  test('SDK README: "file.size" < "1mb"; without the quotes it is invalid syntax', () => {
    assert.equal(check('"file.size" < "1mb"', { file: { size: 1000 } }), true);
    badParse('"file.size" < 1mb', { at: 15, match: /unquoted value 1mb/ });
    badParse('file.size < "1mb"', { at: 1, match: /expected a field name in quotes/ });
  });
});

describe('size units', () => {
  const bytes = (size: string) => (parseUploadChecks(`"file.size" = ${size}`) as { value: number }).value;

  test('plain numbers and unitless strings are bytes', () => {
    assert.equal(bytes('0'), 0);
    assert.equal(bytes('1024'), 1024);
    assert.equal(bytes('"500"'), 500);
    assert.equal(bytes('"500b"'), 500);
    assert.equal(bytes('"500B"'), 500);
  });

  test('kb / mb / gb / tb are binary multiples, any case, optional space', () => {
    assert.equal(bytes('"10kb"'), 10 * 1024);
    assert.equal(bytes('"10KB"'), 10 * 1024);
    assert.equal(bytes('"1mb"'), 1024 ** 2);
    assert.equal(bytes('"1Mb"'), 1024 ** 2);
    assert.equal(bytes('"2gb"'), 2 * 1024 ** 3);
    assert.equal(bytes('"1tb"'), 1024 ** 4);
    assert.equal(bytes('"1 mb"'), 1024 ** 2);
    assert.equal(bytes('" 1mb "'), 1024 ** 2);
  });

  test('decimals', () => {
    assert.equal(bytes('"1.5kb"'), 1536);
    assert.equal(bytes('"0.5mb"'), 512 * 1024);
    assert.equal(bytes('1.5'), 1.5);
  });

  test('boundaries compare exactly', () => {
    const mb = 1024 ** 2;
    for (const [op, below, at, above] of [
      ['<', true, false, false],
      ['<=', true, true, false],
      ['>', false, false, true],
      ['>=', false, true, true],
      ['=', false, true, false],
    ] as const) {
      const src = `"file.size" ${op} "1mb"`;
      assert.equal(check(src, { file: { size: mb - 1 } }), below, `${src} below`);
      assert.equal(check(src, { file: { size: mb } }), at, `${src} at`);
      assert.equal(check(src, { file: { size: mb + 1 } }), above, `${src} above`);
    }
  });

  test('invalid sizes are rejected at the value', () => {
    for (const bad of ['"1xb"', '"mb"', '""', '"-1mb"', '"1.mb"', '".5mb"', '"1e3"', '"1 m b"', '"kb1"', '"1kib"']) {
      badParse(`"file.size" < ${bad}`, { at: 15, match: /invalid size/ });
    }
    badParse('"file.size" < true', { at: 15, match: /expects a number/ });
    badParse('"file.size" < "1mb', { at: 15, match: /unterminated string/ });
    badParse('"file.size" < 1.5mb', { at: 15, match: /unquoted value 1\.5mb/ });
    badParse('"file.size" < 1.', { at: 15, match: /unquoted value/ });
  });
});

describe('every operator on each field type', () => {
  const STRING_FIELDS: [string, (v: string) => Overrides][] = [
    ['request.fileName', (v) => ({ request: { fileName: v } })],
    ['request.customCoordinates', (v) => ({ request: { customCoordinates: v } })],
    ['request.webhookUrl', (v) => ({ request: { webhookUrl: v } })],
    ['mediaMetadata.videoCodec', (v) => ({ file: { videoCodec: v } })],
    ['mediaMetadata.audioCodec', (v) => ({ file: { audioCodec: v } })],
  ];

  test('string fields: =, NOT =, :, IN, NOT IN (case-sensitive)', () => {
    for (const [field, set] of STRING_FIELDS) {
      const o = set('abc-1');
      assert.equal(check(`"${field}" = "abc-1"`, o), true, field);
      assert.equal(check(`"${field}" = "ABC-1"`, o), false, field);
      assert.equal(check(`"${field}" NOT = "abc-1"`, o), false, field);
      assert.equal(check(`"${field}" NOT = "x"`, o), true, field);
      assert.equal(check(`"${field}" : "abc"`, o), true, field);
      assert.equal(check(`"${field}" : "bc"`, o), false, field);
      assert.equal(check(`"${field}" : ""`, o), true, field);
      assert.equal(check(`"${field}" IN ["x", "abc-1"]`, o), true, field);
      assert.equal(check(`"${field}" IN ["x"]`, o), false, field);
      assert.equal(check(`"${field}" NOT IN ["x"]`, o), true, field);
      assert.equal(check(`"${field}" NOT IN ["abc-1"]`, o), false, field);
    }
  });

  test('absent optional string values: positive operators fail, negated ones pass', () => {
    for (const [field] of STRING_FIELDS.slice(1)) {
      assert.equal(check(`"${field}" = "x"`), false, field);
      assert.equal(check(`"${field}" : ""`), false, field);
      assert.equal(check(`"${field}" IN ["x"]`), false, field);
      assert.equal(check(`"${field}" NOT = "x"`), true, field);
      assert.equal(check(`"${field}" NOT IN ["x"]`), true, field);
    }
  });

  test('request.folder: slashes are normalised; root is the default', () => {
    const at = (folder: unknown) => ({ request: { folder } });
    assert.equal(check('"request.folder" = "a/b"', at('/a/b/')), true);
    assert.equal(check('"request.folder" = "/a/b/"', at('a/b')), true);
    assert.equal(check('"request.folder" = "a/b"', at('//a//b')), true);
    assert.equal(check('"request.folder" = "a"', at('/a/b/')), false);
    assert.equal(check('"request.folder" NOT = "a"', at('/a/b/')), true);
    assert.equal(check('"request.folder" : "/a/"', at('/a/b')), true);
    assert.equal(check('"request.folder" : "a"', at('/ab')), true, 'a bare prefix is a plain prefix');
    assert.equal(check('"request.folder" : "/"', at('/anything/')), true);
    assert.equal(check('"request.folder" = "/"', { request: { folder: undefined } }), true);
    assert.equal(check('"request.folder" = ""', { request: { fileName: 'x' } }), true);
    assert.equal(check('"request.folder" : "a/"', at('/')), false);
    assert.equal(check('"request.folder" IN ["x", "/a/b/"]', at('a/b')), true);
    assert.equal(check('"request.folder" NOT IN ["x", "y/"]', at('a/b')), true);
    assert.equal(check('"request.folder" NOT IN ["/a/b"]', at('a/b/')), false);
  });

  test('file.mime: =, NOT =, :, IN, NOT IN (case-insensitive)', () => {
    const o = { file: { mime: 'image/svg+xml' } };
    assert.equal(check('"file.mime" = "IMAGE/SVG+XML"', o), true);
    assert.equal(check('"file.mime" NOT = "image/png"', o), true);
    assert.equal(check('"file.mime" : "Image/"', o), true);
    assert.equal(check('"file.mime" IN ["image/png", "image/svg+xml"]', o), true);
    assert.equal(check('"file.mime" NOT IN ["image/png"]', o), true);
    assert.equal(check('"file.mime" NOT IN ["image/SVG+xml"]', o), false);
  });

  test('boolean fields: = and NOT = with documented defaults', () => {
    const defaults: [string, boolean][] = [
      ['useUniqueFileName', true],
      ['isPrivateFile', false],
      ['isPublished', true],
      ['overwriteFile', true],
      ['overwriteAITags', true],
      ['overwriteTags', true],
      ['overwriteCustomMetadata', true],
    ];
    for (const [key, dflt] of defaults) {
      const field = `request.${key}`;
      assert.equal(check(`"${field}" = ${dflt}`), true, `${field} default`);
      assert.equal(check(`"${field}" NOT = ${dflt}`), false, `${field} default`);
      for (const v of [true, false]) {
        assert.equal(check(`"${field}" = true`, { request: { [key]: v } }), v, field);
        assert.equal(check(`"${field}" NOT = true`, { request: { [key]: v } }), !v, field);
        assert.equal(check(`"${field}" = false`, { request: { [key]: String(v) } }), !v, `${field} as string`);
      }
    }
  });

  test('request.tags: IN / NOT IN, absent tags, comma-separated string', () => {
    assert.equal(check('"request.tags" IN ["a"]'), false);
    assert.equal(check('"request.tags" NOT IN ["a"]'), true);
    assert.equal(check('"request.tags" IN ["b"]', { request: { tags: 'a, b,c' } }), true);
    assert.equal(check('"request.tags" IN ["A"]', { request: { tags: ['a'] } }), false);
    assert.equal(check('"request.tags" IN ["a"]', { request: { tags: [1, null] } }), false);
  });

  test('numeric fields: =, <, <=, >, >=; absent or non-numeric values fail', () => {
    const fields: [string, string][] = [
      ['file.size', 'size'],
      ['mediaMetadata.width', 'width'],
      ['mediaMetadata.height', 'height'],
      ['mediaMetadata.duration', 'duration'],
      ['mediaMetadata.bitRate', 'bitRate'],
    ];
    for (const [field, key] of fields) {
      const o = { file: { [key]: 10 } };
      assert.equal(check(`"${field}" = 10`, o), true, field);
      assert.equal(check(`"${field}" = "10"`, o), true, `${field} quoted number`);
      assert.equal(check(`"${field}" < 10`, o), false, field);
      assert.equal(check(`"${field}" <= 10`, o), true, field);
      assert.equal(check(`"${field}" > 9.5`, o), true, field);
      assert.equal(check(`"${field}" >= 11`, o), false, field);
      for (const op of ['=', '<', '<=', '>', '>=']) {
        assert.equal(check(`"${field}" ${op} 10`, { file: { [key]: undefined } }), false, `${field} absent`);
        assert.equal(check(`"${field}" ${op} 10`, { file: { [key]: '10' } }), false, `${field} string`);
        assert.equal(check(`"${field}" ${op} 10`, { file: { [key]: NaN } }), false, `${field} NaN`);
      }
    }
    badParse('"mediaMetadata.width" < "500px"', { at: 25, match: /expects a number, found "500px"/ });
  });

  test('custom metadata: each operator on a scalar value', () => {
    const o = { request: { customMetadata: { n: 5, s: 'hello', b: true, d: '2024-06-01' } } };
    assert.equal(check('"request.customMetadata.n" = 5', o), true);
    assert.equal(check('"request.customMetadata.n" NOT = 6', o), true);
    assert.equal(check('"request.customMetadata.n" NOT = "5"', o), true, 'no coercion between number and text');
    assert.equal(check('"request.customMetadata.n" IN [1, 5]', o), true);
    assert.equal(check('"request.customMetadata.n" NOT IN [1, 2]', o), true);
    assert.equal(check('"request.customMetadata.n" < 6 AND "request.customMetadata.n" <= 5', o), true);
    assert.equal(check('"request.customMetadata.n" > 4 AND "request.customMetadata.n" >= 5', o), true);
    assert.equal(check('"request.customMetadata.s" : "hel"', o), true);
    assert.equal(check('"request.customMetadata.s" : "lo"', o), false);
    assert.equal(check('"request.customMetadata.b" = true AND "request.customMetadata.b" NOT = false', o), true);
    assert.equal(check('"request.customMetadata.d" = "2024-06-01T00:00:00.000Z"', o), true);
    assert.equal(check('"request.customMetadata.d" < "2024-06-01T00:00:00.001Z"', o), true);
    assert.equal(check('"request.customMetadata.d" >= "2024-05-31T20:00:00-04:00"', o), true);
    assert.equal(check('"request.customMetadata.d" > "2024-05-31T20:00:00-04:00"', o), false);
  });

  test('custom metadata: missing keys, no customMetadata, stringified JSON, prototype names', () => {
    assert.equal(check('"request.customMetadata.x" = "a"'), false);
    assert.equal(check('"request.customMetadata.x" > 1'), false);
    assert.equal(check('"request.customMetadata.x" : "a"'), false);
    assert.equal(check('"request.customMetadata.x" NOT = "a"'), true);
    assert.equal(check('"request.customMetadata.x" NOT IN ["a"]'), true);
    assert.equal(check('"request.customMetadata.x" = "a"', { request: { customMetadata: { x: null } } }), false);
    assert.equal(check('"request.customMetadata.x" = "a"', { request: { customMetadata: '{"x":"a"}' } }), true);
    assert.equal(check('"request.customMetadata.x" = "a"', { request: { customMetadata: '{not json' } }), false);
    // Must read own properties only, never Object.prototype.
    assert.equal(check('"request.customMetadata.constructor" : ""', { request: { customMetadata: {} } }), false);
    assert.equal(check('"request.customMetadata.__proto__" NOT IN ["x"]', { request: { customMetadata: {} } }), true);
    assert.equal(check('"request.customMetadata.a.b" = 1', { request: { customMetadata: { 'a.b': 1 } } }), true);
  });

  test('custom metadata: operators a value cannot support raise a named 400', () => {
    const multi = { request: { customMetadata: { m: ['a', 'b'] } } };
    for (const op of ['=', 'NOT =', '>', ':']) {
      assertBad(() => check(`"request.customMetadata.m" ${op} "a"`, multi), {
        at: 1,
        match: new RegExp(`"request\\.customMetadata\\.m" holds a list .*"${op}"`),
      });
    }
    assertBad(() => check('"request.customMetadata.n" : "1"', { request: { customMetadata: { n: 1 } } }), {
      match: /operator ":" needs "request\.customMetadata\.n" to hold text/,
    });
    assertBad(() => check('"request.customMetadata.s" > 3', { request: { customMetadata: { s: 'abc' } } }), {
      match: /operator ">" cannot compare "request\.customMetadata\.s" \("abc"\) with 3/,
    });
    assertBad(() => check('"request.customMetadata.s" > "zzz"', { request: { customMetadata: { s: 'abc' } } }), {
      match: /cannot compare/,
    });
    badParse('"request.customMetadata.s" : 5', { at: 30, match: /operator ":" .* expects a string/ });
    badParse('"request.customMetadata.s" > true', { at: 30, match: /expects a number or a date/ });
  });
});

describe('errors', () => {
  test('syntax errors name the position and what was expected', () => {
    const cases: [string, number, RegExp][] = [
      ['', 1, /expected a field name in quotes .* found end of input/],
      ['   ', 4, /found end of input/],
      ['"file.size"', 12, /expected an operator \(=, NOT =, :, IN, NOT IN, <, <=, >, >=\), found end of input/],
      ['"file.size" HAS "1mb"', 13, /expected an operator .* found "HAS"/],
      ['"file.size" EXISTS', 13, /expected an operator .* found "EXISTS"/],
      ['"request.tags" NOT EXISTS', 20, /expected "=" or IN after NOT, found "EXISTS"/],
      ['"file.size" NOT < 3', 17, /expected "=" or IN after NOT/],
      ['"file.size" == 3', 14, /expected a value .* found "="/],
      ['"file.size" != 3', 13, /write NOT = instead/],
      ['"file.size" < ', 15, /expected a value .* found end of input/],
      ['"file.size" < AND', 15, /expected a value .* found "AND"/],
      ['"file.size" < 3 AND', 20, /expected a field name .* found end of input/],
      ['"file.size" < 3 OR OR "file.size" > 1', 20, /expected a field name .* found "OR"/],
      ['"file.size" < 3 "file.size" > 1', 17, /expected AND, OR or end of input, found the string "file\.size"/],
      ['"file.size" < 3)', 16, /expected AND, OR or end of input, found "\)"/],
      ['("file.size" < 3', 17, /expected AND, OR or "\)", found end of input/],
      ['()', 2, /expected a field name .* found "\)"/],
      ['"request.tags" IN "a"', 19, /expected "\[" to start a list/],
      ['"request.tags" IN []', 20, /expected a value .* found "\]"/],
      ['"request.tags" IN ["a",]', 24, /expected a value .* found "\]"/],
      ['"request.tags" IN ["a" "b"]', 24, /expected "," or "\]" in the list/],
      ['"request.tags" IN ["a"', 23, /expected "," or "\]" in the list, found end of input/],
      ['"file.size" < "1mb', 15, /unterminated string \(missing closing "\)/],
      ["'file.size' < 3", 0, /./],
      ['"file.size" < 3 & "file.size" > 1', 17, /unexpected character "&"/],
      ['"file.size" < 3 AND file.mime', 21, /expected a field name in quotes .* found "file\.mime"/],
      ['"request.fileName" = "a\\', 22, /unterminated string/],
      ['"file.size" < 999999999999999999999999999999999999999999999' + '9'.repeat(400), 15, /out of range/],
    ];
    for (const [src, at, match] of cases) {
      if (at === 0) {
        assert.doesNotThrow(() => parseUploadChecks(src));
        continue;
      }
      badParse(src, { at, match });
    }
  });

  test('unknown fields are named, with a hint for a case slip', () => {
    badParse('"file.width" > 3', { at: 1, match: /unknown field "file\.width"; supported fields are request\.fileName/ });
    badParse('"request.filename" = "a"', { at: 1, match: /did you mean "request\.fileName"\?/ });
    badParse('"request.customMetadata." = "a"', { at: 1, match: /unknown field/ });
    badParse('"customMetadata.x" = "a"', { at: 1, match: /unknown field/ });
    badParse('"constructor" = "a"', { at: 1, match: /unknown field "constructor"/ });
    badParse('"__proto__" = "a"', { at: 1, match: /unknown field "__proto__"/ });
    badParse('"file.size" > 1 AND "request.nope" = 1', { at: 21, match: /unknown field "request\.nope"/ });
  });

  test('an operator a field does not support is named with the field', () => {
    const ALL: UploadCheckOperator[] = ['=', 'NOT =', ':', 'IN', 'NOT IN', '<', '<=', '>', '>='];
    const supported: Record<string, UploadCheckOperator[]> = {
      'request.fileName': ['=', 'NOT =', ':', 'IN', 'NOT IN'],
      'request.folder': ['=', 'NOT =', ':', 'IN', 'NOT IN'],
      'request.customCoordinates': ['=', 'NOT =', ':', 'IN', 'NOT IN'],
      'request.webhookUrl': ['=', 'NOT =', ':', 'IN', 'NOT IN'],
      'file.mime': ['=', 'NOT =', ':', 'IN', 'NOT IN'],
      'mediaMetadata.videoCodec': ['=', 'NOT =', ':', 'IN', 'NOT IN'],
      'mediaMetadata.audioCodec': ['=', 'NOT =', ':', 'IN', 'NOT IN'],
      'request.useUniqueFileName': ['=', 'NOT ='],
      'request.isPrivateFile': ['=', 'NOT ='],
      'request.isPublished': ['=', 'NOT ='],
      'request.overwriteFile': ['=', 'NOT ='],
      'request.overwriteAITags': ['=', 'NOT ='],
      'request.overwriteTags': ['=', 'NOT ='],
      'request.overwriteCustomMetadata': ['=', 'NOT ='],
      'request.tags': ['IN', 'NOT IN'],
      'file.size': ['=', '<', '<=', '>', '>='],
      'mediaMetadata.width': ['=', '<', '<=', '>', '>='],
      'mediaMetadata.height': ['=', '<', '<=', '>', '>='],
      'mediaMetadata.duration': ['=', '<', '<=', '>', '>='],
      'mediaMetadata.bitRate': ['=', '<', '<=', '>', '>='],
      'request.customMetadata.any': ALL,
    };
    const at = (field: string) => field.length + 4;
    for (const [field, ops] of Object.entries(supported)) {
      for (const op of ALL) {
        const src = `"${field}" ${op} ${op === 'IN' || op === 'NOT IN' ? '["1"]' : '"1"'}`;
        if (ops.includes(op)) continue;
        const esc = field.replace(/\./g, '\\.');
        badParse(src, { at: at(field), match: new RegExp(`field "${esc}" does not support operator "${op}"; it supports`) });
      }
    }
  });

  test('values of the wrong type for the field', () => {
    badParse('"request.isPrivateFile" = "true"', { at: 27, match: /expects true or false without quotes, found "true"/ });
    badParse('"request.isPrivateFile" = 1', { at: 27, match: /expects true or false/ });
    badParse('"request.folder" = 5', { at: 20, match: /expects a string value in quotes, found 5/ });
    badParse('"file.mime" = true', { at: 15, match: /expects a string value/ });
    badParse('"request.tags" IN ["a", 2]', { at: 25, match: /expects a list of strings in quotes, found 2/ });
    badParse('"request.folder" IN [true]', { at: 22, match: /list of strings/ });
  });

  test('errors are ApiErrors that serialise to message + help only', () => {
    try {
      parseUploadChecks('"file.size" < 1mb');
      assert.fail('expected a throw');
    } catch (e) {
      assert.ok(isApiError(e), 'expected an ApiError');
      assert.deepEqual(Object.keys(e.toBody()).sort(), ['help', 'message']);
    }
  });

  test('a non-string source is a 400, not a TypeError', () => {
    assertBad(() => parseUploadChecks(undefined as unknown as string), { match: /must be a string/ });
    assertBad(() => parseUploadChecks(42 as unknown as string), { match: /must be a string/ });
  });

  test('evaluating an AST with an unknown field (hand-built) is a 400', () => {
    assertBad(() => evaluateUploadChecks(cond('file.nope', '=', 'x'), ctx()), { match: /unknown field "file\.nope"/ });
  });
});

describe('hostile input', () => {
  test('10,000 nested parentheses: clean 400', () => {
    badParse('('.repeat(10_000) + '"file.size" > 1' + ')'.repeat(10_000), { match: /longer than/ });
    // Within the length cap, the depth cap answers.
    badParse('('.repeat(10_000), { at: MAX_CHECKS_DEPTH + 1, match: /nest deeper than/ });
    badParse('('.repeat(MAX_CHECKS_DEPTH + 1) + '"file.size" > 1' + ')'.repeat(MAX_CHECKS_DEPTH + 1), {
      at: MAX_CHECKS_DEPTH + 1,
    });
  });

  test('nesting at exactly the cap still parses and evaluates', () => {
    const src = '('.repeat(MAX_CHECKS_DEPTH) + '"file.size" > 1' + ')'.repeat(MAX_CHECKS_DEPTH);
    assert.equal(check(src), true);
  });

  test('100 KB inputs: clean 400 without echoing the input', () => {
    const big = '"request.fileName" = "' + 'a'.repeat(100 * 1024) + '"';
    const msg = badParse(big, { at: MAX_CHECKS_LENGTH + 1, match: /longer than 10000 characters/ });
    assert.ok(msg.length < 300, `message is ${msg.length} characters`);
    badParse('"file.size" > 1 AND '.repeat(5200) + '"file.size" > 1', { match: /longer than/ });
    badParse('x'.repeat(100 * 1024), { match: /longer than/ });
  });

  test('long inputs under the cap parse, and errors in them stay short', () => {
    const many = Array.from({ length: 250 }, (_, i) => `"request.tags" NOT IN ["t${i}"]`).join(' OR ');
    assert.ok(many.length <= MAX_CHECKS_LENGTH, `fixture is ${many.length} characters`);
    assert.equal(check(many), true);
    const longField = '"' + 'f'.repeat(9_000) + '" = 1';
    const fieldMsg = badParse(longField, { at: 1, match: /unknown field "f{80}…"/ });
    assert.ok(fieldMsg.length < 900, `message is ${fieldMsg.length} characters`);
    const longWord = '"file.size" < ' + 'z'.repeat(9_000);
    const wordMsg = badParse(longWord, { at: 15, match: /invalid size "z{40}…"/ });
    assert.ok(wordMsg.length < 300, `message is ${wordMsg.length} characters`);
    const pct = badParse('"a" ' + '%'.repeat(9_000), { at: 1, match: /unknown field "a"/ });
    assert.equal(pct.includes('%%'), false, 'the tail of the input is not echoed');
    const strMsg = badParse('"file.size" = "' + 'q'.repeat(9_000), { at: 15, match: /unterminated string/ });
    assert.ok(strMsg.length < 300, `message is ${strMsg.length} characters`);
  });

  test('input exactly at the length cap is accepted', () => {
    const base = '"request.fileName" = ""';
    const src = base.slice(0, -1) + 'a'.repeat(MAX_CHECKS_LENGTH - base.length) + '"';
    assert.equal(src.length, MAX_CHECKS_LENGTH);
    assert.doesNotThrow(() => parseUploadChecks(src));
    badParse(src + ' ', { match: /longer than/ });
  });

  test('fuzz: arbitrary strings either parse or throw a 400 ApiError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          parseUploadChecks(s);
        } catch (e) {
          return isApiError(e) && e.status === 400 && e.message.startsWith(CHECKS_SYNTAX_MESSAGE);
        }
        return true;
      }),
      { numRuns: 2000 },
    );
  });

  test('fuzz: token soups parse or 400, and parsed ones evaluate to a boolean or 400', () => {
    const tokens = [
      '(', ')', '[', ']', ',', 'AND', 'OR', 'NOT', 'IN', '=', ':', '<', '<=', '>', '>=', 'true', '5', '-2.5',
      '"1mb"', '"a"', "'b'", 'image', '"file.size"', '"file.mime"', '"request.folder"', '"request.tags"',
      '"request.isPrivateFile"', '"request.customMetadata.x"', '"mediaMetadata.width"',
    ];
    const contexts = [
      ctx(),
      ctx({ request: { tags: ['a'], isPrivateFile: true, customMetadata: { x: ['a', 5] } }, file: { width: 5 } }),
      ctx({ request: { customMetadata: { x: 'abc' } } }),
      ctx({ request: { customMetadata: { x: 5 } } }),
      ctx({ request: { customMetadata: { x: true } } }),
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 25 }), (parts) => {
        let expr: UploadCheckExpr;
        try {
          expr = parseUploadChecks(parts.join(' '));
        } catch (e) {
          return isApiError(e) && e.status === 400;
        }
        for (const c of contexts) {
          try {
            assert.equal(typeof evaluateUploadChecks(expr, c), 'boolean');
          } catch (e) {
            if (!(isApiError(e) && e.status === 400)) return false;
          }
        }
        return true;
      }),
      { numRuns: 3000 },
    );
  });
});
