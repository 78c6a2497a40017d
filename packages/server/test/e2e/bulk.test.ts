/**
 * Bulk endpoints against the real server over HTTP: deleteByFileIds, addTags, removeTags,
 * removeAITags — limits, validation, results, and that a batch naming a missing file changes
 * nothing. AITags are seeded in the SQLite file directly: no extension produces them yet.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import { api, assertApiError, blobFiles, getDetails, seedAITags, solidImage, uploadFile } from '../support/e2e-helpers.js';

let srv: TestServer;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies are checked field by field
type Json = any;

let shade = 0;
async function uploadImage(fields: Record<string, string> = {}): Promise<Json> {
  shade += 5;
  return uploadFile(srv, await solidImage(16, 16, { r: shade % 256, g: 10, b: 10 }), 'bulk.png', fields);
}

async function details(fileId: string): Promise<Json> {
  const r = await getDetails(srv, fileId);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function exists(fileId: string): Promise<boolean> {
  const r = await getDetails(srv, fileId);
  assert.ok(r.status === 200 || r.status === 404, r.text);
  return r.status === 200;
}

const blobPaths = async () => new Set(await blobFiles(srv.dataDir));

/** AITags with these names (confidence falling from 90) on the file and its current version. */
const seedAITagNames = (fileId: string, names: string[]) =>
  seedAITags(srv.dataDir, fileId, names.map((name, i) => ({ name, confidence: 90 - i, source: 'google-auto-tagging' })));

const aiNames = (d: Json): string[] | null => (d.AITags === null ? null : d.AITags.map((t: Json) => t.name));
const fakeId = (n: number) => n.toString(16).padStart(24, '0');
const MISSING = 'ffffffffffffffffffffffff';

before(async () => {
  srv = await startTestServer();
});

after(async () => {
  await srv?.stop();
});

describe('POST /v1/files/batch/deleteByFileIds', () => {
  const url = '/v1/files/batch/deleteByFileIds';

  test('deletes the files, their versions and bytes; others stay', async () => {
    const before = await blobPaths();
    const a = await uploadImage();
    const b = await uploadImage({ folder: 'bulk-del', useUniqueFileName: 'false' });
    await uploadImage({ folder: 'bulk-del', useUniqueFileName: 'false' }); // second version of b
    const keep = await uploadImage();
    const keepBlobs = [...(await blobPaths())].filter((p) => !before.has(p));
    assert.equal(keepBlobs.length, 4);

    const r = await api(srv, 'POST', url, { fileIds: [a.fileId, b.fileId] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body), ['successfullyDeletedFileIds']);
    assert.deepEqual([...r.body.successfullyDeletedFileIds].sort(), [a.fileId, b.fileId].sort());
    assert.equal(await exists(a.fileId), false);
    assert.equal(await exists(b.fileId), false);
    assert.equal(await exists(keep.fileId), true);
    const left = [...(await blobPaths())].filter((p) => !before.has(p));
    assert.equal(left.length, 1, 'only the kept file\'s blob remains');
    const served = await fetch(a.url);
    assert.equal(served.status, 404);
    await served.body?.cancel();
    const keepServed = await fetch(keep.url);
    assert.equal(keepServed.status, 200);
    await keepServed.body?.cancel();
  });

  test('a repeated id is deleted once', async () => {
    const a = await uploadImage();
    const r = await api(srv, 'POST', url, { fileIds: [a.fileId, a.fileId] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.successfullyDeletedFileIds, [a.fileId]);
    assert.equal(await exists(a.fileId), false);
  });

  test('some ids missing → 404 with missingFileIds and nothing deleted', async () => {
    const a = await uploadImage();
    const b = await uploadImage();
    const before = await blobPaths();
    const r = await api(srv, 'POST', url, { fileIds: [a.fileId, MISSING, b.fileId] });
    assertApiError(r, 404);
    assert.deepEqual(r.body.missingFileIds, [MISSING]);
    assert.equal(await exists(a.fileId), true);
    assert.equal(await exists(b.fileId), true);
    assert.deepEqual(await blobPaths(), before, 'no bytes were removed');
  });

  test('limits and shape: >100 → 400, not an array → 400, empty → 400, missing → 400', async () => {
    const a = await uploadImage();
    const many = Array.from({ length: 100 }, (_, i) => fakeId(i + 1)).concat(a.fileId);
    assertApiError(await api(srv, 'POST', url, { fileIds: many }), 400, 'fileIds cannot have more than 100 items.');
    assertApiError(await api(srv, 'POST', url, { fileIds: a.fileId }), 400, 'fileIds should be an Array.');
    assertApiError(await api(srv, 'POST', url, { fileIds: { 0: a.fileId } }), 400, 'fileIds should be an Array.');
    assertApiError(await api(srv, 'POST', url, { fileIds: [] }), 400, 'fileIds is empty.');
    assertApiError(await api(srv, 'POST', url, {}), 400, 'fileIds parameter is missing.');
    assertApiError(await api(srv, 'POST', url, { fileIds: [a.fileId, 5] }), 400);
    assertApiError(await api(srv, 'POST', url, undefined, { rawBody: '{"fileIds": [' }), 400);
    assertApiError(await api(srv, 'POST', url, undefined, { rawBody: '"just a string"' }), 400);
    assert.equal(await exists(a.fileId), true, 'a refused batch deletes nothing');
    // Exactly 100 is allowed (here: all missing → 404, not 400).
    const hundred = Array.from({ length: 100 }, (_, i) => fakeId(i + 1));
    const r = await api(srv, 'POST', url, { fileIds: hundred });
    assertApiError(r, 404);
    assert.equal(r.body.missingFileIds.length, 100);
  });

  test('a malformed id is refused with a 4xx and nothing is deleted', async () => {
    const a = await uploadImage();
    const r = await api(srv, 'POST', url, { fileIds: [a.fileId, 'not-an-id'] });
    assert.ok(r.status === 400 || r.status === 404, r.text);
    assertApiError(r, r.status);
    assert.equal(await exists(a.fileId), true);
  });
});

describe('POST /v1/files/addTags and /removeTags', () => {
  test('addTags merges without duplicates; removeTags removes; last tag removed → null', async () => {
    const a = await uploadImage({ tags: 'old,shared' });
    const b = await uploadImage();
    const r = await api(srv, 'POST', '/v1/files/addTags', { fileIds: [a.fileId, b.fileId], tags: ['shared', 'new1', 'new2'] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body), ['successfullyUpdatedFileIds']);
    assert.deepEqual([...r.body.successfullyUpdatedFileIds].sort(), [a.fileId, b.fileId].sort());
    assert.deepEqual([...(await details(a.fileId)).tags].sort(), ['new1', 'new2', 'old', 'shared']);
    assert.deepEqual([...(await details(b.fileId)).tags].sort(), ['new1', 'new2', 'shared']);
    // The current version carries the same tags.
    const da = await details(a.fileId);
    const v = await api(srv, 'GET', `/v1/files/${a.fileId}/versions/${da.versionInfo.id}`);
    assert.deepEqual([...v.body.tags].sort(), ['new1', 'new2', 'old', 'shared']);

    const rm = await api(srv, 'POST', '/v1/files/removeTags', { fileIds: [a.fileId, b.fileId], tags: ['shared', 'new1', 'absent'] });
    assert.equal(rm.status, 200, rm.text);
    assert.deepEqual([...rm.body.successfullyUpdatedFileIds].sort(), [a.fileId, b.fileId].sort());
    assert.deepEqual([...(await details(a.fileId)).tags].sort(), ['new2', 'old']);
    assert.deepEqual((await details(b.fileId)).tags, ['new2']);

    const rm2 = await api(srv, 'POST', '/v1/files/removeTags', { fileIds: [b.fileId], tags: ['new2'] });
    assert.equal(rm2.status, 200, rm2.text);
    assert.equal((await details(b.fileId)).tags, null);
  });

  test('a missing file → 404 with missingFileIds and nothing changed', async () => {
    const a = await uploadImage({ tags: 'keep' });
    for (const path of ['/v1/files/addTags', '/v1/files/removeTags']) {
      const r = await api(srv, 'POST', path, { fileIds: [a.fileId, MISSING], tags: ['keep', 'added'] });
      assertApiError(r, 404);
      assert.deepEqual(r.body.missingFileIds, [MISSING]);
      assert.deepEqual((await details(a.fileId)).tags, ['keep']);
    }
  });

  test('limits and validation → 400 and nothing changed', async () => {
    const a = await uploadImage({ tags: 'keep' });
    const before = await details(a.fileId);
    const fiftyOne = Array.from({ length: 50 }, (_, i) => fakeId(i + 1)).concat(a.fileId);
    for (const path of ['/v1/files/addTags', '/v1/files/removeTags']) {
      assertApiError(await api(srv, 'POST', path, { fileIds: fiftyOne, tags: ['x'] }), 400, 'A maximum of 50 files can be edited at a time.');
      assertApiError(await api(srv, 'POST', path, { tags: ['x'] }), 400, 'fileIds parameter is missing.');
      assertApiError(await api(srv, 'POST', path, { fileIds: [], tags: ['x'] }), 400, 'fileIds is empty.');
      assertApiError(await api(srv, 'POST', path, { fileIds: a.fileId, tags: ['x'] }), 400, 'fileIds should be an Array.');
      assertApiError(await api(srv, 'POST', path, { fileIds: [a.fileId] }), 400, 'tags parameter is missing.');
      assertApiError(await api(srv, 'POST', path, { fileIds: [a.fileId], tags: [] }), 400, 'tags array cannot be empty.');
      assertApiError(await api(srv, 'POST', path, { fileIds: [a.fileId], tags: 'x' }), 400);
      assertApiError(await api(srv, 'POST', path, { fileIds: [a.fileId], tags: [1] }), 400);
      assertApiError(await api(srv, 'POST', path, { fileIds: [a.fileId], tags: ['100%'] }), 400);
      assertApiError(await api(srv, 'POST', path, { fileIds: [a.fileId], tags: ['y'.repeat(501)] }), 400, /500/);
    }
    // Exactly 50 is allowed (all but one missing here → 404, not 400).
    const fifty = Array.from({ length: 49 }, (_, i) => fakeId(i + 1)).concat(a.fileId);
    assertApiError(await api(srv, 'POST', '/v1/files/addTags', { fileIds: fifty, tags: ['x'] }), 404);
    assert.deepEqual(await details(a.fileId), before);
  });

  test('addTags that would push one file past 500 characters changes no file', async () => {
    const long = Array.from({ length: 9 }, (_, i) => `${i}${'t'.repeat(49)}`); // 450 characters
    const full = await uploadImage({ tags: long.join(',') });
    const other = await uploadImage({ tags: 'small' });
    const r = await api(srv, 'POST', '/v1/files/addTags', { fileIds: [other.fileId, full.fileId], tags: ['z'.repeat(60)] });
    assertApiError(r, 400, /500/);
    assert.deepEqual((await details(other.fileId)).tags, ['small']);
    assert.equal((await details(full.fileId)).tags.length, 9);
  });
});

describe('POST /v1/files/removeAITags', () => {
  const url = '/v1/files/removeAITags';

  test('removes the named AITags from every file; none left → null', async () => {
    const a = await uploadImage();
    const b = await uploadImage();
    await seedAITagNames(a.fileId, ['Shirt', 'Cotton', 'Blue']);
    await seedAITagNames(b.fileId, ['Shirt']);
    const r = await api(srv, 'POST', url, { fileIds: [a.fileId, b.fileId], AITags: ['Shirt', 'Cotton', 'Absent'] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([...r.body.successfullyUpdatedFileIds].sort(), [a.fileId, b.fileId].sort());
    const da = await details(a.fileId);
    assert.deepEqual(aiNames(da), ['Blue']);
    assert.deepEqual(da.AITags[0], { name: 'Blue', confidence: 88, source: 'google-auto-tagging' });
    assert.equal((await details(b.fileId)).AITags, null);
    // A file without AITags is fine.
    const c = await uploadImage();
    assert.equal((await api(srv, 'POST', url, { fileIds: [c.fileId], AITags: ['Blue'] })).status, 200);
  });

  test('a missing file → 404 with missingFileIds and nothing changed', async () => {
    const a = await uploadImage();
    await seedAITagNames(a.fileId, ['Shirt', 'Cotton']);
    const r = await api(srv, 'POST', url, { fileIds: [MISSING, a.fileId], AITags: ['Shirt'] });
    assertApiError(r, 404);
    assert.deepEqual(r.body.missingFileIds, [MISSING]);
    assert.deepEqual(aiNames(await details(a.fileId)), ['Shirt', 'Cotton']);
  });

  test('limits and validation → 400', async () => {
    const a = await uploadImage();
    await seedAITagNames(a.fileId, ['Shirt']);
    const fiftyOne = Array.from({ length: 50 }, (_, i) => fakeId(i + 1)).concat(a.fileId);
    assertApiError(await api(srv, 'POST', url, { fileIds: fiftyOne, AITags: ['Shirt'] }), 400, 'A maximum of 50 files can be edited at a time.');
    assertApiError(await api(srv, 'POST', url, { AITags: ['Shirt'] }), 400, 'fileIds parameter is missing.');
    assertApiError(await api(srv, 'POST', url, { fileIds: [], AITags: ['Shirt'] }), 400, 'fileIds is empty.');
    assertApiError(await api(srv, 'POST', url, { fileIds: a.fileId, AITags: ['Shirt'] }), 400, 'fileIds should be an Array.');
    assertApiError(await api(srv, 'POST', url, { fileIds: [a.fileId] }), 400, 'AITags parameter is missing.');
    assertApiError(await api(srv, 'POST', url, { fileIds: [a.fileId], AITags: [] }), 400, 'AITags array cannot be empty.');
    assertApiError(await api(srv, 'POST', url, { fileIds: [a.fileId], AITags: 'Shirt' }), 400);
    assertApiError(await api(srv, 'POST', url, { fileIds: [a.fileId], AITags: [{ name: 'Shirt' }] }), 400);
    assertApiError(await api(srv, 'POST', url, { fileIds: [a.fileId], tags: ['Shirt'] }), 400, 'AITags parameter is missing.');
    assert.deepEqual(aiNames(await details(a.fileId)), ['Shirt']);
  });
});
