/**
 * Fuzzing list and search: random, grammar-built and mutated searchQuery strings, and random
 * query parameters, go through parse → analyse → compile → execute against a real SQLite store
 * (service level, many runs) and through the HTTP route of a real app (fewer runs, app.inject).
 * The only acceptable outcomes are results or a 400 with a message: never another exception,
 * never an SQL error, never a 500.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { assetSearchFor } from '../../src/adapters/db/asset-search.js';
import { customFieldStoreFor } from '../../src/adapters/db/custom-field-repo.js';
import type { KyselyMetadataStore } from '../../src/adapters/db/kysely-store.js';
import { openSqliteStore } from '../../src/adapters/db/sqlite/index.js';
import { buildApp, type App } from '../../src/app.js';
import { resolveConfig } from '../../src/config/index.js';
import { ApiError } from '../../src/errors/index.js';
import type { AssetState } from '../../src/ports/metadata-store.js';
import type { CustomType } from '../../src/search/index.js';
import { ListService } from '../../src/services/list-service.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);
const FIELDS: Array<[string, CustomType]> = [
  ['brand', 'Text'],
  ['notes', 'Textarea'],
  ['price', 'Number'],
  ['launch', 'Date'],
  ['active', 'Boolean'],
  ['rating', 'SingleSelect'],
  ['colors', 'MultiSelect'],
];

let dir: string;
let store: KyselyMetadataStore;
let service: ListService;
let app: App;

function state(i: number, over: Partial<AssetState> = {}): AssetState {
  const now = new Date(Date.now() - i * 86_400_000).toISOString();
  return {
    name: `file-${i} Crème ${i % 3 === 0 ? 'red' : 'blue'}.jpg`,
    filePath: `/f${i % 3}/file-${i} Crème ${i % 3 === 0 ? 'red' : 'blue'}.jpg`,
    folderPath: `/f${i % 3}/`,
    fileType: i % 4 === 0 ? 'non-image' : 'image',
    mime: 'image/jpeg',
    format: ['jpg', 'png', 'pdf', 'webp'][i % 4]!,
    size: 1000 * (i + 1),
    width: i % 4 === 0 ? null : 100 * i,
    height: i % 4 === 0 ? null : 50 * i,
    hasAlpha: i % 2 === 0,
    bitRate: null,
    duration: null,
    audioCodec: null,
    videoCodec: null,
    tags: i % 5 === 0 ? null : [`tag${i % 3}`, 'Sale', 'x"y\'z%_'],
    aiTags: i % 2 ? [{ name: 'Dress', confidence: 90, source: 'aws-auto-tagging' }] : null,
    customCoordinates: null,
    customMetadata: { brand: i % 2 ? 'Nike' : 'nike', price: i * 1.5, launch: now, active: i % 2 === 0, rating: [4, 'good', true][i % 3], colors: ['red', 'blue'], notes: 'Crème brûlée %_\\' },
    embeddedMetadata: i % 3 ? { DateTimeOriginal: now, Keywords: ['a', 'b'], ISO: i * 100, GPS: { Alt: i } } : null,
    description: i % 2 ? `description ${i} with words` : null,
    isPrivate: i % 3 === 0,
    isPublished: i % 7 !== 0,
    blobKey: `k${i}`,
    checksum: '0'.repeat(64),
    versionNumber: 1,
    createdAt: now,
    updatedAt: now,
    ...over,
  };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-fuzz-'));
  store = await openSqliteStore(join(dir, 'tessera.db'));
  const fields = customFieldStoreFor(store);
  for (const [i, [name, type]] of FIELDS.entries()) {
    const schema = type.endsWith('Select') ? { type, selectOptions: ['red', 'blue', 4, 'good', true] } : { type };
    await fields.insert({ id: `c${String(i).padStart(23, '0')}`, name, label: name, schema: schema as never, isDeleted: false, createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z' });
  }
  const now = new Date().toISOString();
  for (const [i, p] of ['/f0/', '/f1/', '/f2/', '/f1/sub/'].entries()) {
    await store.repo.insertFolder({ id: `d${String(i).padStart(23, '0')}`, path: p, name: p.split('/').filter(Boolean).pop()!, parentPath: p === '/f1/sub/' ? '/f1/' : '/', createdAt: now, updatedAt: now });
  }
  for (let i = 0; i < 12; i++) {
    const id = `a${String(i).padStart(23, '0')}`;
    const s = state(i);
    await store.repo.insertFile({ ...s, versionNumber: 2, id, currentVersionId: `b${id.slice(1)}` });
    await store.repo.insertVersion({ ...s, tags: ['old'], versionNumber: 1, id: `e${id.slice(1)}`, fileId: id });
    await store.repo.insertVersion({ ...s, versionNumber: 2, id: `b${id.slice(1)}`, fileId: id });
  }
  service = new ListService({
    search: assetSearchFor(store),
    customFieldTypes: async () => new Map(FIELDS),
  });
  app = await buildApp(resolveConfig({ dataDir: join(dir, 'app'), privateKey: 'private_fuzz_key', publicKey: 'public_fuzz_key', logLevel: 'silent' }, {}), {
    store,
    logger: false,
  });
});

after(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

// --- generators -------------------------------------------------------------------------------

const FIELD_NAMES = [
  'name', 'tags', 'type', 'id', 'createdAt', 'updatedAt', 'width', 'height', 'size', 'format', 'private', 'published',
  'transparency', 'path', 'createdBy', 'description', 'nope', '"tags"',
  ...FIELDS.map(([n]) => `"customMetadata.${n}"`),
  '"customMetadata.missing"', '"embeddedMetadata.ISO"', '"embeddedMetadata.DateTimeOriginal"', '"embeddedMetadata.Keywords"',
  '"embeddedMetadata.GPS.Alt"', '"embeddedMetadata.LocationTaken"', '"embeddedMetadata."', '"customMetadata."', '""',
];
const OPS = ['=', ':', '<', '<=', '>', '>=', 'IN', 'HAS', 'EXISTS', 'NOT =', 'NOT :', 'NOT <', 'NOT IN', 'NOT HAS', 'NOT EXISTS', '!=', '==', 'LIKE', 'not in'];
const VALUES = [
  '"red"', '"Nike"', 'red', '5', '-1.5', '1e308', '1e999', '0', 'true', 'false', '"true"', '"1mb"', '10kb', '"1.5 GB"', '"7d"', '1h', '"2y"', '"4m"',
  '"2020-01-01"', '2020-01-01T12:12:12', '"2020-01-01 12:12:12"', '"2021-02-30"', '"99999-01-01"', '"0000-01-01"', '"9999-12-31"', '"file"',
  '"file-version"', '"folder"', '"/f1"', '"/"', '"../x"', '""', '"%"', '"_"', '"\\\\"', '"\\""', "'single'", '"Crème brûlée"', '"日本語 テキスト"',
  '"a b c d e f"', '"\u0000"', '"x\u202ey"', '"\uD800"', '"🙂"', '[]', '["a", "b"]', '[1, 2, 3]', '[true]', '["red", 4, true]', '[a]',
  '["' + 'z'.repeat(300) + '"]', '"' + 'w '.repeat(40) + '"',
];

const condition = fc
  .tuple(fc.constantFrom(...FIELD_NAMES), fc.constantFrom(...OPS), fc.constantFrom(...VALUES))
  .map(([f, op, v]) => (op.endsWith('EXISTS') ? `${f} ${op}` : `${f} ${op} ${v}`));

/** Conditions that are valid by construction, so the compiled SQL of every field and operator runs. */
const DATES = ['"7d"', '"1h"', '"2020-01-01"', '"2020-01-01T12:12:12"', '"3m"', '"1y"'];
const STRINGS = ['"red"', '"Nike"', '"nike"', '"x\\"y"', '"%"', '"_"', '"Crème"', '"日本"', '""'];
const NUMS = ['0', '5', '1.5', '-3', '1000'];
const VALID: Record<string, Array<[string[], string[]]>> = {
  name: [[['=', ':', 'NOT =', 'NOT :'], STRINGS], [['HAS', 'NOT HAS'], ['"red blue"', '"crème"', '"file 1"']], [['IN', 'NOT IN'], ['["a", "b"]', '["file-1 Crème blue.jpg"]']]],
  tags: [[['IN', 'NOT IN'], ['["sale"]', '["tag1", "dress", "x\\"y\'z%_"]']], [['HAS'], ['"sale"', '"dress"']], [['EXISTS', 'NOT EXISTS'], ['']]],
  type: [[['=', 'NOT ='], ['"file"', '"file-version"', '"folder"']], [['IN', 'NOT IN'], ['["file", "folder"]', '["file-version"]']]],
  id: [[['=', 'NOT ='], ['"a00000000000000000000001"']], [['IN'], ['["a00000000000000000000001", "d00000000000000000000001"]']]],
  createdAt: [[['=', '<', '<=', '>', '>=', 'NOT ='], DATES], [['IN', 'NOT IN'], ['["2020-01-01", "7d"]']]],
  updatedAt: [[['<', '>='], DATES]],
  width: [[['=', '<', '>', '>=', 'NOT <='], NUMS], [['IN'], ['[100, 200]']]],
  height: [[['<=', '>', 'NOT ='], NUMS]],
  size: [[['<', '>', '=', 'NOT >='], ['"1mb"', '10kb', '5000', '"1.5 gb"']], [['IN'], ['[1000, 2000]']]],
  format: [[['=', 'NOT ='], ['"jpg"', '"PNG"']], [['IN', 'NOT IN'], ['["jpg", "pdf"]']]],
  private: [[['=', 'NOT ='], ['true', 'false']]],
  published: [[['='], ['true', 'false']]],
  transparency: [[['=', 'NOT ='], ['true', 'false']]],
  path: [[['=', ':', 'NOT :'], ['"/f1"', '"/"', '"f1/sub/"', '"/nope"']]],
  createdBy: [[['=', 'NOT ='], ['"me"']], [['EXISTS', 'NOT EXISTS'], ['']]],
  description: [[['HAS', 'NOT HAS'], ['"words"', '"description 3"']], [['EXISTS', 'NOT EXISTS'], ['']]],
  '"customMetadata.brand"': [[['=', ':', 'NOT ='], STRINGS], [['IN', 'NOT IN'], ['["Nike", "nike"]']], [['HAS'], ['"nike"']], [['EXISTS', 'NOT EXISTS'], ['']]],
  '"customMetadata.notes"': [[['HAS', 'NOT HAS'], ['"brulee"', '"creme brûlée"']], [[':'], ['"Crème"']]],
  '"customMetadata.price"': [[['=', '<', '<=', '>', '>=', 'NOT >'], NUMS], [['IN', 'NOT IN'], ['[1.5, 3]']], [['EXISTS'], ['']]],
  '"customMetadata.launch"': [[['=', '<', '>', 'NOT <'], DATES], [['IN'], ['["2020-01-01", "1d"]']]],
  '"customMetadata.active"': [[['=', 'NOT ='], ['true', 'false']]],
  '"customMetadata.rating"': [[['=', 'NOT ='], ['4', '"good"', 'true']], [['<', '>='], ['4']], [[':'], ['"go"']], [['IN'], ['[4, "good", true]']]],
  '"customMetadata.colors"': [[['IN', 'NOT IN'], ['["red"]', '["blue", "green"]']], [['NOT EXISTS'], ['']]],
  '"embeddedMetadata.ISO"': [[['=', '<', '>=', 'NOT ='], NUMS], [['EXISTS'], ['']]],
  '"embeddedMetadata.Keywords"': [[['IN', 'NOT IN'], ['["a"]', '["b", "c"]']], [['=', ':'], ['"a"']]],
  '"embeddedMetadata.DateTimeOriginal"': [[['<', '>', '='], DATES]],
  '"embeddedMetadata.GPS.Alt"': [[['>', '='], NUMS], [['EXISTS'], ['']]],
};
const validCondition = fc
  .constantFrom(...Object.keys(VALID))
  .chain((f) => fc.constantFrom(...VALID[f]!).chain(([ops, vals]) => fc.tuple(fc.constant(f), fc.constantFrom(...ops), fc.constantFrom(...vals))))
  .map(([f, op, v]) => `${f} ${op} ${v}`.trim());

const { expr } = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    condition,
    validCondition,
    validCondition,
    fc.tuple(tie('expr'), fc.constantFrom('AND', 'OR', 'and', 'or', 'AND', 'OR', ''), tie('expr')).map(([a, k, b]) => `${a} ${k} ${b}`),
    tie('expr').map((e) => `(${e})`),
  ),
}));

/** A grammar-built query with a few random edits: deleted ranges, inserted tokens, swapped characters. */
const mutated = fc
  .tuple(
    expr,
    fc.array(
      fc.tuple(fc.nat(), fc.nat({ max: 6 }), fc.constantFrom('', '(', ')', '"', '[', ']', ',', ' AND ', ' OR ', 'NOT ', ':', '=', '\\', '\n', '\u0000', '%', "'")),
      { maxLength: 4 },
    ),
  )
  .map(([q, edits]) => {
    let s = q;
    for (const [at, del, ins] of edits) {
      const i = s.length === 0 ? 0 : at % (s.length + 1);
      s = s.slice(0, i) + ins + s.slice(i + del);
    }
    return s;
  });

const anyQuery = fc.oneof(
  expr,
  mutated,
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...'()[]",:=<>! \\ANDORNOTINHASEXISTSname5'.split('')), maxLength: 60 }),
);

const paramValue = (good: string[]) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...good) },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
    { weight: 1, arbitrary: fc.constantFrom('-1', '0', '1001', '1e3', ' 5 ', '999999999999999999', '') },
  );
const otherParams = fc.record(
  {
    type: paramValue(['file', 'file-version', 'folder', 'all']),
    sort: paramValue(['ASC_NAME', 'DESC_NAME', 'ASC_CREATED', 'DESC_CREATED', 'ASC_UPDATED', 'DESC_UPDATED', 'ASC_HEIGHT', 'DESC_HEIGHT', 'ASC_WIDTH', 'DESC_WIDTH', 'ASC_SIZE', 'DESC_SIZE', 'ASC_RELEVANCE', 'DESC_RELEVANCE']),
    fileType: paramValue(['all', 'image', 'non-image']),
    limit: paramValue(['1', '3', '1000']),
    skip: paramValue(['0', '2', '20']),
    path: paramValue(['/f1', 'f1/sub', '/', '/../x']),
    tags: paramValue(['tag1,Sale', 'old']),
    name: paramValue(['file-1 Crème blue.jpg']),
    includeFolder: paramValue(['true', 'false']),
  },
  { requiredKeys: [] },
);

async function outcome(run: () => Promise<unknown>): Promise<'ok' | '400'> {
  try {
    const r = await run();
    assert.ok(Array.isArray(r));
    return 'ok';
  } catch (e) {
    if (e instanceof ApiError && e.status === 400 && e.message.length > 0) return '400';
    throw new Error(`unexpected ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
  }
}

describe('search fuzz (service: parse → analyse → compile → SQLite)', () => {
  test('random and mutated searchQuery strings give results or a 400', async () => {
    const seen = { ok: 0, '400': 0 };
    await fc.assert(
      fc.asyncProperty(anyQuery, otherParams, async (q, p) => {
        seen[await outcome(() => service.list({ ...p, searchQuery: q }))]++;
      }),
      { numRuns: RUNS },
    );
    if (process.env.FUZZ_VERBOSE) console.log(JSON.stringify(seen));
    // Both outcomes must actually occur, or the generators are not exercising the code.
    assert.ok(seen.ok > RUNS / 50 && seen['400'] > RUNS / 50, JSON.stringify(seen));
  });

  test('grammar-built queries over every field, operator and value kind', async () => {
    const seen = { ok: 0, '400': 0 };
    await fc.assert(
      fc.asyncProperty(fc.oneof(validCondition, expr), fc.constantFrom('ASC_NAME', 'DESC_RELEVANCE', 'DESC_SIZE', 'ASC_HEIGHT', 'ASC_CREATED', 'DESC_CREATED'), async (q, sort) => {
        seen[await outcome(() => service.list({ searchQuery: q, sort, limit: '5' }))]++;
      }),
      { numRuns: RUNS },
    );
    if (process.env.FUZZ_VERBOSE) console.log(JSON.stringify(seen));
    assert.ok(seen.ok > RUNS / 4, JSON.stringify(seen));
  });

  test('every valid field × operator × value of the table runs on files, versions and folders', async () => {
    let n = 0;
    for (const [field, groups] of Object.entries(VALID)) {
      for (const [ops, vals] of groups) {
        for (const op of ops) {
          for (const v of vals) {
            const cond = `${field} ${op} ${v}`.trim();
            for (const sort of ['ASC_CREATED', 'DESC_RELEVANCE']) {
              const r = await service.list({ searchQuery: `(${cond}) AND type IN ["file", "file-version", "folder"]`, sort });
              assert.ok(Array.isArray(r), cond);
              n++;
            }
          }
        }
      }
    }
    assert.ok(n > 300, String(n));
  });

  test('parameters alone', async () => {
    await fc.assert(
      fc.asyncProperty(otherParams, async (p) => {
        await outcome(() => service.list(p));
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });
});

describe('driven searches (one tag or value read in creation order) equal the general plan', () => {
  // `createdAt > "500y"` is always true and makes the planner use the general plan (see plan.ts),
  // so each query runs both ways; creation times are distinct, so both orders are total.
  before(async () => {
    for (let i = 0; i < 700; i++) {
      const id = `7${String(i).padStart(23, '0')}`;
      const s = state(i % 12, {
        name: `bulk-${i}.jpg`,
        filePath: `/bulk/bulk-${i}.jpg`,
        folderPath: '/bulk/',
        format: i % 3 ? 'jpg' : 'png',
        tags: i % 4 ? ['bulk', `b${i % 5}`] : ['Bulk'],
        aiTags: i % 6 ? null : [{ name: 'bulk', confidence: 1, source: 'x' }],
        customMetadata: { brand: ['Nike', 'Puma', 'nike'][i % 3], price: i % 7 },
        createdAt: new Date(Date.UTC(2022, 0, 1) + i * 7_919_000).toISOString(),
      });
      await store.repo.insertFile({ ...s, id, currentVersionId: `8${id.slice(1)}` });
    }
  });

  const ids = (r: Array<{ type: string; file?: { id: string } }>) => r.map((x) => x.file?.id ?? x.type);

  test('same pages for random filters, directions, skips and limits', async () => {
    const drivers = ['tags IN ["bulk"]', 'tags IN ["b1", "b3", "BULK"]', '"customMetadata.brand" = "Nike"', '"customMetadata.brand" IN ["nike", "Puma"]', '"customMetadata.price" = 3'];
    const extras = ['', ' AND format = "jpg"', ' AND tags NOT IN ["b2"]', ' AND (size > 4000 OR private = true)', ' AND "customMetadata.price" >= 5'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...drivers),
        fc.constantFrom(...extras),
        fc.constantFrom('ASC_CREATED', 'DESC_CREATED'),
        fc.integer({ min: 0, max: 800 }),
        fc.integer({ min: 1, max: 1000 }),
        async (d, extra, sort, skip, limit) => {
          const base = { sort, skip: String(skip), limit: String(limit) };
          const driven = await service.list({ ...base, searchQuery: `${d}${extra}` });
          const general = await service.list({ ...base, searchQuery: `${d}${extra} AND createdAt > "500y"` });
          assert.deepEqual(ids(driven), ids(general));
        },
      ),
      { numRuns: Math.ceil(RUNS / 5) },
    );
  });
});

describe('search fuzz (HTTP route, real app)', () => {
  test('never a 500: 200 with an array or 400 with {message, help}', async () => {
    await fc.assert(
      fc.asyncProperty(anyQuery, otherParams, async (q, p) => {
        const qs = new URLSearchParams({ ...(p as Record<string, string>), searchQuery: q });
        const res = await app.server.inject({
          method: 'GET',
          url: `/v1/files?${qs}`,
          headers: { authorization: `Basic ${Buffer.from('private_fuzz_key:').toString('base64')}` },
        });
        const body = res.json() as unknown;
        if (res.statusCode === 200) {
          assert.ok(Array.isArray(body));
        } else {
          assert.equal(res.statusCode, 400, res.body);
          const b = body as { message?: unknown; help?: unknown };
          assert.equal(typeof b.message, 'string');
          assert.ok((b.message as string).length > 0);
          assert.equal(typeof b.help, 'string');
        }
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });
});
