/**
 * List pages are written as text (listedFileDetailsJson over the adapter's ListedFile, whose JSON
 * fields are the stored JSON text) while a single file goes through fileDetails and
 * JSON.stringify. For any file the two must give the same bytes: random records go through the
 * store's own row mapper (toColumns), come back as SQLite returns them (JSON as text) and as
 * PostgreSQL does (jsonb already parsed), and are presented both ways.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { listedFileFromRow, type ListedFileRow } from '../../src/adapters/db/asset-search.js';
import { fileFromRow, toColumns } from '../../src/adapters/db/kysely-store.js';
import type { FilesTable } from '../../src/adapters/db/schema.js';
import { encodeFilePath, fileDetails, listedFileDetailsJson } from '../../src/http/presenters/files.js';
import type { AssetState, FileRecord } from '../../src/ports/metadata-store.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);

/** Characters that JSON, URLs and encodings treat specially, mixed with ordinary text. */
const NASTY = ['"', '\\', '/', ' ', '%', '?', '#', '&', '+', '\u0000', '\u0001', '\n', '\u2028', '\u007f', 'é', 'ß', '日', '🙂', '\ud800', '\udfff', 'a', 'Z', '0', '-', '.', '_', '~', "'", '(', '*'];
const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: fc.constantFrom(...NASTY), maxLength: 16 }));
/** Paths without lone surrogates: encodeURIComponent throws on those (on both paths alike). */
const pathText = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: fc.constantFrom(...NASTY.filter((c) => !/^[\ud800-\udfff]$/.test(c))), maxLength: 16 }));
const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
const json = fc.jsonValue({ maxDepth: 3 });
const object = fc.dictionary(text, json, { maxKeys: 6 });
const iso = fc.date({ min: new Date('1970-01-01T00:00:00.000Z'), max: new Date('2100-01-01T00:00:00.000Z'), noInvalidDate: true }).map((d) => d.toISOString());

const record: fc.Arbitrary<FileRecord> = fc.record({
  id: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 24, maxLength: 24 }),
  currentVersionId: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 24, maxLength: 24 }),
  name: text,
  filePath: fc.array(pathText, { maxLength: 4 }).map((segs) => `/${segs.join('/')}`),
  folderPath: fc.constant('/'),
  fileType: fc.constantFrom('image' as const, 'non-image' as const),
  mime: text,
  format: fc.constantFrom('jpg', 'png', 'mp4'),
  size: fc.nat(),
  width: nullable(fc.nat()),
  height: nullable(fc.nat()),
  hasAlpha: fc.boolean(),
  bitRate: nullable(fc.nat()),
  duration: nullable(fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e6, noNaN: true }))),
  audioCodec: nullable(text),
  videoCodec: nullable(text),
  tags: nullable(fc.array(text, { maxLength: 5 })),
  aiTags: nullable(fc.array(fc.record({ name: text, confidence: fc.double({ min: 0, max: 100, noNaN: true }), source: text }), { maxLength: 3 })),
  customCoordinates: nullable(text),
  customMetadata: object,
  embeddedMetadata: nullable(object),
  metadata: nullable(object),
  description: nullable(text),
  isPrivate: fc.boolean(),
  isPublished: fc.boolean(),
  blobKey: text,
  checksum: fc.constant('0'.repeat(64)),
  versionNumber: fc.integer({ min: 1, max: 1000 }),
  createdAt: iso,
  updatedAt: fc.oneof(iso, text),
});

const ctx = { publicUrl: 'http://127.0.0.1:3000', imagekitId: 'demo' };
const JSON_COLUMNS = ['tags', 'ai_tags', 'custom_metadata', 'embedded_metadata', 'metadata'] as const;

/** The row as the database hands it back: SQLite keeps JSON as text, pg parses jsonb. */
function rowOf(f: FileRecord, dialect: 'sqlite' | 'postgres'): FilesTable {
  const row: Record<string, unknown> = { ...toColumns(f as AssetState), id: f.id, current_version_id: f.currentVersionId };
  if (dialect === 'postgres') for (const c of JSON_COLUMNS) if (typeof row[c] === 'string') row[c] = JSON.parse(row[c] as string) as unknown;
  return row as unknown as FilesTable;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`a listed file's JSON is byte for byte JSON.stringify(fileDetails) of the same row (${dialect} rows)`, () => {
    fc.assert(
      fc.property(record, (f) => {
        const row = rowOf(f, dialect);
        const listed = listedFileDetailsJson(ctx, listedFileFromRow(row as unknown as ListedFileRow));
        assert.equal(listed, JSON.stringify(fileDetails(ctx, fileFromRow(row))));
      }),
      { numRuns: RUNS },
    );
  });
}

test('a page of listed files is valid JSON that parses back to the records', () => {
  fc.assert(
    fc.property(fc.array(record, { maxLength: 8 }), (files) => {
      const page = `[${files.map((f) => listedFileDetailsJson(ctx, listedFileFromRow(rowOf(f, 'sqlite') as unknown as ListedFileRow))).join(',')}]`;
      const parsed = JSON.parse(page) as Array<Record<string, unknown>>;
      assert.equal(parsed.length, files.length);
      for (const [i, f] of files.entries()) {
        assert.equal(parsed[i]!.fileId, f.id);
        assert.deepEqual(parsed[i]!.customMetadata, JSON.parse(JSON.stringify(f.customMetadata)));
        assert.deepEqual(parsed[i]!.tags, f.tags);
      }
    }),
    { numRuns: Math.ceil(RUNS / 4) },
  );
});

test('encodeFilePath encodes each segment as encodeURIComponent does', () => {
  fc.assert(
    fc.property(fc.array(pathText, { maxLength: 5 }), (segs) => {
      const path = `/${segs.join('/')}`;
      assert.equal(encodeFilePath(path), path.split('/').map((s) => encodeURIComponent(s)).join('/'));
    }),
    { numRuns: RUNS },
  );
  assert.equal(encodeFilePath("/a/B-9_.!~*'()/x.jpg"), "/a/B-9_.!~*'()/x.jpg");
  assert.equal(encodeFilePath('/a b/é%#?.jpg'), '/a%20b/%C3%A9%25%23%3F.jpg');
});
