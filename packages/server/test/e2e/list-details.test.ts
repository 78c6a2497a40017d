/**
 * GET /v1/files writes its files as text, splicing in the stored JSON of tags, AI tags, custom and
 * embedded metadata; GET /v1/files/{id}/details serialises the parsed record. Files whose
 * metadata holds unicode, nested objects and arrays, numbers, quotes, backslashes and control
 * characters, and whose paths need URL encoding, must come back byte for byte the same through
 * both, on every plan the list uses (keys then rows, a tag-driven search, a folder listing).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AssetState, FileRecord } from '../../src/ports/metadata-store.js';
import { api, openStoreFor, type Json } from '../support/e2e-helpers.js';
import { assetState } from '../support/records.js';
import { prepareTestBackend, startTestServer, type TestServer } from '../support/server.js';
import { assertMatchesSchema, responseSchemaFor, specAvailable } from '../support/spec.js';

let srv: TestServer;

const id = (n: number) => `a${'0'.repeat(21)}${n.toString(16).padStart(2, '0')}`;
const vid = (n: number, v: number) => `b${'0'.repeat(20)}${v}${n.toString(16).padStart(2, '0')}`;

const NASTY = 'quote " backslash \\ slash / tab \t newline \n nul-free \u0001 sep \u2028 é 日本語 🙂';

function state(over: Partial<AssetState>): AssetState {
  return assetState({
    name: 'x.jpg',
    filePath: '/odd/x.jpg',
    folderPath: '/odd/',
    fileType: 'image',
    mime: 'image/jpeg',
    format: 'jpg',
    size: 1234,
    width: 10,
    height: 20,
    createdAt: '2024-05-01T10:00:00.000Z',
    updatedAt: '2024-05-02T10:00:00.000Z',
    ...over,
  });
}

const FILES: AssetState[] = [
  state({
    name: 'Crème brûlée #1 "best".jpg',
    filePath: '/odd/Crème brûlée #1 "best".jpg',
    tags: ['needle', 'Sale "50%"', 'tag\\with\\backslashes', '日本'],
    aiTags: [{ name: 'Dessert 🍮', confidence: 97.25, source: 'google-auto-tagging' }],
    customCoordinates: '10,10,100,100',
    customMetadata: {
      brand: NASTY,
      price: -1234.5678,
      big: 1e21,
      tiny: 5e-7,
      int: 9007199254740991,
      flag: false,
      none: null,
      list: ['a', 1, true, null, { deep: ['x', { deeper: 'ü' }] }],
      nested: { 'key with "quotes"': { emoji: '🙂', empty: {}, arr: [] } },
    },
    embeddedMetadata: { Make: 'Ünïcödé Camera', ISO: 100, ExposureTime: 0.004, GPS: { Lat: -33.86, Lon: 151.21 }, Keywords: ['a "b"', 'c\\d'], Comment: NASTY },
    description: 'A "quoted" description \\ with 日本語',
    hasAlpha: true,
    isPrivate: true,
  }),
  state({
    name: 'clip.mp4',
    filePath: '/odd/clip.mp4',
    fileType: 'non-image',
    mime: 'video/mp4',
    format: 'mp4',
    width: 1920,
    height: 1080,
    bitRate: 4500,
    duration: 12,
    audioCodec: 'aac',
    videoCodec: 'h264',
    tags: ['needle'],
    customMetadata: { n: 0, s: '' },
    isPublished: false,
  }),
  state({ name: 'logo.svg', filePath: '/odd/logo.svg', mime: 'image/svg+xml', format: 'svg', width: null, height: null, tags: ['needle'], versionNumber: 3 }),
  state({ name: 'plain.png', filePath: '/odd/plain.png', mime: 'image/png', format: 'png', createdAt: '2024-05-03T10:00:00.000Z' }),
];

before(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-list-details-'));
  await prepareTestBackend(dataDir);
  const store = await openStoreFor(dataDir);
  const now = new Date().toISOString();
  await store.transaction(async (tx) => {
    await tx.insertFolder({ id: `f${'0'.repeat(23)}`, path: '/odd/', name: 'odd', parentPath: '/', createdAt: now, updatedAt: now });
    for (const [i, s] of FILES.entries()) {
      const f: FileRecord = { ...s, id: id(i + 1), currentVersionId: vid(i + 1, s.versionNumber) };
      await tx.insertFile(f);
      await tx.insertVersion({ ...s, id: f.currentVersionId, fileId: f.id });
    }
    // An older version of the first file: listed through the record path (type=file-version).
    await tx.insertVersion({ ...FILES[0]!, versionNumber: 0, tags: ['older'], id: vid(1, 0), fileId: id(1) });
  });
  await store.close();
  srv = await startTestServer({ dataDir });
});

after(async () => {
  await srv?.stop();
});

/** The list's raw body, checked against the spec, and its items. */
async function list(query: Record<string, string>): Promise<{ text: string; items: Json[] }> {
  const res = await api(srv, 'GET', `/v1/files?${new URLSearchParams(query)}`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  if (specAvailable) assertMatchesSchema(res.body, responseSchemaFor('/v1/files', 'get', 200)!);
  return { text: res.text, items: res.body as unknown as Json[] };
}

describe('GET /v1/files and GET /v1/files/{id}/details give the same bytes for a file', () => {
  const plans: Array<[string, Record<string, string>, number]> = [
    ['every file (keys, then rows)', {}, FILES.length],
    ['a folder listing by name, with the folder', { path: '/odd', type: 'all', sort: 'ASC_NAME' }, FILES.length],
    ['a tag search (driven by the tag index)', { searchQuery: 'tags IN ["needle"]' }, 3],
    ['a name search', { searchQuery: 'name : "Crème"' }, 1],
  ];
  for (const [label, query, files] of plans) {
    test(label, async () => {
      const { text, items } = await list(query);
      const fileItems = items.filter((it) => it.type === 'file');
      assert.equal(fileItems.length, files);
      for (const item of fileItems) {
        const details = await api(srv, 'GET', `/v1/files/${item.fileId as string}/details`);
        assert.equal(details.status, 200, details.text);
        assert.ok(text.includes(details.text), `the list holds the details of ${item.name as string} byte for byte:\n${details.text}`);
        assert.deepEqual(item, details.body);
      }
    });
  }

  test('the values survive: unicode, nested objects, numbers, quotes, encoded URLs', async () => {
    const { items } = await list({ searchQuery: 'name : "Crème"' });
    const [f] = items;
    assert.deepEqual(f!.customMetadata, JSON.parse(JSON.stringify(FILES[0]!.customMetadata)));
    assert.deepEqual(f!.embeddedMetadata, FILES[0]!.embeddedMetadata);
    assert.deepEqual(f!.tags, FILES[0]!.tags);
    assert.deepEqual(f!.AITags, FILES[0]!.aiTags);
    assert.equal(f!.description, FILES[0]!.description);
    assert.match(f!.url as string, /\/odd\/Cr%C3%A8me%20br%C3%BBl%C3%A9e%20%231%20%22best%22\.jpg\?updatedAt=\d+$/);
    assert.equal(f!.thumbnail, `${f!.url as string}&tr=n-ik_ml_thumbnail`);
    const clip = (await list({ searchQuery: 'name = "clip.mp4"' })).items[0]!;
    assert.deepEqual([clip.bitRate, clip.duration, clip.audioCodec, clip.videoCodec, clip.thumbnail], [4500, 12, 'aac', 'h264', undefined]);
    const svg = (await list({ searchQuery: 'name = "logo.svg"' })).items[0]!;
    assert.deepEqual([svg.width, svg.height, svg.embeddedMetadata, svg.description, svg.versionInfo], [undefined, undefined, undefined, undefined, { id: vid(3, 3), name: 'Version 3' }]);
  });

  test('older versions are listed with their own details', async () => {
    const { items } = await list({ type: 'file-version' });
    assert.equal(items.length, 1);
    const [v] = items;
    assert.deepEqual([v!.type, v!.fileId, v!.tags, v!.versionInfo], ['file-version', id(1), ['older'], { id: vid(1, 0), name: 'Version 0' }]);
    const details = await api(srv, 'GET', `/v1/files/${id(1)}/versions/${vid(1, 0)}`);
    assert.equal(details.status, 200, details.text);
    assert.deepEqual(v, details.body);
  });
});
