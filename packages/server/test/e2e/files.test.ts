/**
 * File lifecycle against the real server over HTTP: details, update, delete, copy, move, rename.
 * Plain fetch, multipart uploads of real images made with sharp, private-key Basic auth.
 *
 * Two things no endpoint of this stage offers are read or seeded in the SQLite file directly:
 * the fileId of a file created by copy (there is no list/search API yet), and AITags (no
 * extension produces them yet) so that removeAITags has something to remove.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  api,
  assertApiError,
  assertServes,
  blobFiles,
  fetchBytes,
  queryDb,
  readResponse,
  seedAITags,
  solidImage,
  uploadFile,
  type ApiResponse,
} from '../support/e2e-helpers.js';

let srv: TestServer;

const HEX24 = /^[0-9a-f]{24}$/;
const ISO_MS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Every property FileDetails has in the spec (plus extensionStatus on PATCH). */
const FILE_DETAILS_KEYS = new Set([
  'fileId', 'type', 'name', 'filePath', 'tags', 'AITags', 'versionInfo', 'isPrivateFile', 'isPublished',
  'customCoordinates', 'url', 'thumbnail', 'fileType', 'mime', 'width', 'height', 'size', 'bitRate',
  'duration', 'audioCodec', 'videoCodec', 'hasAlpha', 'customMetadata', 'selectedFieldsSchema',
  'embeddedMetadata', 'description', 'createdAt', 'updatedAt', 'extensionStatus',
]);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies are checked field by field
type Json = any;

/** The spec's error body with Tessera's machine-readable `reason`. */
function assertReason(res: ApiResponse, status: number, reason: string): void {
  assertApiError(res, status);
  assert.equal(res.body.reason, reason, res.text);
}


/** Uploads every buffer to the same path (useUniqueFileName=false): one file, one version each. */
async function uploadVersions(folder: string, name: string, all: Buffer[], fields: Record<string, string> = {}): Promise<Json[]> {
  const out: Json[] = [];
  for (const b of all) out.push(await uploadFile(srv, b, name, { folder, useUniqueFileName: 'false', ...fields }));
  for (const u of out) assert.equal(u.fileId, out[0].fileId);
  return out;
}

let shade = 0;
/** A JPEG whose bytes differ from every other one this file makes. */
function jpeg(width = 40, height = 30): Promise<Buffer> {
  shade += 7;
  return solidImage(width, height, { r: shade % 256, g: (shade * 3) % 256, b: 90 }, 'jpeg', 90);
}

/** A delivery URL that is refused with the spec's error body. */
async function assertDeliveryError(url: string, status: number): Promise<void> {
  assertApiError(await readResponse(await fetch(url)), status);
}

/** Every stored blob's key. */
const blobPaths = async () => new Set(await blobFiles(srv.dataDir));

async function fileIdAt(filePath: string): Promise<string | undefined> {
  return (await queryDb<{ id: string }>(srv.dataDir, 'select id from files where file_path = ?', filePath))[0]?.id;
}

async function details(fileId: string): Promise<Json> {
  const r = await api(srv, 'GET', `/v1/files/${fileId}/details`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function versions(fileId: string): Promise<Json[]> {
  const r = await api(srv, 'GET', `/v1/files/${fileId}/versions`);
  assert.equal(r.status, 200, r.text);
  assert.ok(Array.isArray(r.body));
  return (r.body as Json[]).sort((a, b) => a.versionInfo.name.localeCompare(b.versionInfo.name, 'en', { numeric: true }));
}

/** Shape checks every FileDetails body must pass. */
function assertDetailsShape(d: Json): void {
  for (const k of Object.keys(d)) assert.ok(FILE_DETAILS_KEYS.has(k), `unexpected FileDetails key ${k}`);
  assert.match(d.fileId, HEX24);
  assert.ok(d.type === 'file' || d.type === 'file-version');
  assert.equal(typeof d.name, 'string');
  assert.equal(typeof d.filePath, 'string');
  assert.ok(d.filePath.startsWith('/') && d.filePath.endsWith(`/${d.name}`));
  assert.ok(d.tags === null || (Array.isArray(d.tags) && d.tags.every((t: unknown) => typeof t === 'string')));
  assert.ok(d.AITags === null || Array.isArray(d.AITags));
  assert.match(d.versionInfo.id, HEX24);
  assert.match(d.versionInfo.name, /^Version \d+$/);
  assert.equal(typeof d.isPrivateFile, 'boolean');
  assert.equal(typeof d.isPublished, 'boolean');
  assert.ok(d.customCoordinates === null || typeof d.customCoordinates === 'string');
  assert.equal(typeof d.url, 'string');
  assert.doesNotThrow(() => new URL(d.url));
  if (d.thumbnail !== undefined) assert.doesNotThrow(() => new URL(d.thumbnail));
  assert.ok(d.fileType === 'image' || d.fileType === 'non-image');
  assert.equal(typeof d.mime, 'string');
  for (const k of ['width', 'height', 'size', 'bitRate', 'duration']) {
    if (k in d) assert.equal(typeof d[k], 'number', `${k} should be a number, got ${JSON.stringify(d[k])}`);
  }
  assert.equal(typeof d.size, 'number');
  assert.equal(typeof d.hasAlpha, 'boolean');
  assert.ok(d.customMetadata !== null && typeof d.customMetadata === 'object' && !Array.isArray(d.customMetadata));
  if ('description' in d) assert.equal(typeof d.description, 'string');
  assert.match(d.createdAt, ISO_MS_Z);
  assert.match(d.updatedAt, ISO_MS_Z);
  // The url's updatedAt is the record's updatedAt in epoch milliseconds.
  assert.equal(new URL(d.url).searchParams.get('updatedAt'), String(Date.parse(d.updatedAt)));
}

before(async () => {
  srv = await startTestServer();
  // Custom metadata values are only accepted for fields that exist (ImageKit: create the field first).
  const fields = { brand: 'Text', price: 'Number', keep: 'Text', drop: 'Number', added: 'Boolean', n: 'Number', k: 'Text' };
  for (const [name, type] of Object.entries(fields)) {
    const res = await api(srv, 'POST', '/v1/customMetadataFields', { name, label: name, schema: { type } });
    assert.equal(res.status, 201, res.text);
  }
});

after(async () => {
  await srv?.stop();
});

describe('get file details', () => {
  test('every field of an uploaded JPEG, with its value and type', async () => {
    const t0 = Date.now();
    const bytes = await jpeg(64, 48);
    const up = await uploadFile(srv, bytes, 'detail photo.jpg', {
      folder: 'details/sub',
      useUniqueFileName: 'false',
      tags: 'red,sample',
      customCoordinates: '1,2,30,20',
      customMetadata: JSON.stringify({ brand: 'Acme', price: 10 }),
      description: 'A red box',
    });
    const d = await details(up.fileId);
    assertDetailsShape(d);
    assert.equal(d.fileId, up.fileId);
    assert.equal(d.type, 'file');
    assert.equal(d.name, 'detail_photo.jpg');
    assert.equal(d.filePath, '/details/sub/detail_photo.jpg');
    assert.deepEqual(d.tags, ['red', 'sample']);
    assert.equal(d.AITags, null);
    assert.deepEqual(d.versionInfo, { id: up.versionInfo.id, name: 'Version 1' });
    assert.equal(d.isPrivateFile, false);
    assert.equal(d.isPublished, true);
    assert.equal(d.customCoordinates, '1,2,30,20');
    assert.ok(d.url.startsWith(`${srv.urlEndpoint}/details/sub/detail_photo.jpg?`), d.url);
    assert.equal(new URL(d.url).searchParams.get('ik-obj-version'), null);
    assert.equal(d.url, up.url);
    assert.equal(typeof d.thumbnail, 'string');
    assert.ok(d.thumbnail.startsWith(`${srv.urlEndpoint}/details/sub/detail_photo.jpg?`), d.thumbnail);
    assert.equal(d.fileType, 'image');
    assert.equal(d.mime, 'image/jpeg');
    assert.equal(d.width, 64);
    assert.equal(d.height, 48);
    assert.equal(d.size, bytes.length);
    assert.equal(d.hasAlpha, false);
    assert.deepEqual(d.customMetadata, { brand: 'Acme', price: 10 });
    assert.equal(d.description, 'A red box');
    for (const k of ['bitRate', 'duration', 'audioCodec', 'videoCodec']) assert.ok(!(k in d) || d[k] === undefined, `${k} on an image`);
    const created = Date.parse(d.createdAt);
    assert.ok(created >= t0 - 2000 && created <= Date.now() + 2000, `createdAt ${d.createdAt} is not now`);
    assert.ok(Date.parse(d.updatedAt) >= created);
    await assertServes(d.url, bytes);
  });

  test('a PNG with alpha and a non-image file', async () => {
    const png = await solidImage(10, 12, { r: 1, g: 2, b: 3, alpha: 0.5 });
    const p = await details((await uploadFile(srv, png, 'alpha.png')).fileId);
    assertDetailsShape(p);
    assert.equal(p.mime, 'image/png');
    assert.equal(p.hasAlpha, true);
    assert.equal(p.width, 10);
    assert.equal(p.height, 12);
    assert.equal(p.tags, null);
    assert.equal(p.customCoordinates, null);
    assert.deepEqual(p.customMetadata, {});
    assert.ok(p.name.startsWith('alpha_') && p.name.endsWith('.png'), `unique name expected, got ${p.name}`);

    const txt = Buffer.from('plain words\n');
    const t = await details((await uploadFile(srv, txt, 'notes.txt', { useUniqueFileName: 'false' })).fileId);
    assertDetailsShape(t);
    assert.equal(t.fileType, 'non-image');
    assert.equal(t.size, txt.length);
    assert.equal(t.hasAlpha, false);
    assert.equal(t.filePath, '/notes.txt');
    assert.ok(t.width === undefined && t.height === undefined, 'a text file has no dimensions');
  });

  test('unknown fileId → 404; malformed → 400', async () => {
    assertApiError(await api(srv, 'GET', '/v1/files/0123456789abcdef01234567/details'), 404);
    const bad = await api(srv, 'GET', '/v1/files/not-an-id/details');
    assertApiError(bad, 400);
    assert.equal(bad.body.message, 'Your request contains invalid fileId parameter.');
  });
});

describe('update file details', () => {
  let fileId: string;
  let lastUpdatedAt: string;

  before(async () => {
    const up = await uploadFile(srv, await jpeg(), 'upd.jpg', {
      folder: 'upd',
      useUniqueFileName: 'false',
      customMetadata: JSON.stringify({ keep: 'yes', drop: 1 }),
    });
    fileId = up.fileId;
    lastUpdatedAt = (await details(fileId)).updatedAt;
  });

  async function patch(body: unknown): Promise<Json> {
    const r = await api(srv, 'PATCH', `/v1/files/${fileId}/details`, body);
    assert.equal(r.status, 200, r.text);
    assertDetailsShape(r.body);
    assert.ok(Date.parse(r.body.updatedAt) >= Date.parse(lastUpdatedAt), 'updatedAt went backwards');
    lastUpdatedAt = r.body.updatedAt;
    // The response is what a later GET shows.
    const { extensionStatus: _ignored, ...shown } = r.body;
    assert.deepEqual(await details(fileId), shown);
    return r.body;
  }

  test('tags: set, replace, then null unsets', async () => {
    assert.deepEqual((await patch({ tags: ['a', 'b'] })).tags, ['a', 'b']);
    assert.deepEqual((await patch({ tags: ['c'] })).tags, ['c']);
    assert.equal((await patch({ tags: null })).tags, null);
  });

  test('customCoordinates: set, then null unsets', async () => {
    assert.equal((await patch({ customCoordinates: '10,10,20,20' })).customCoordinates, '10,10,20,20');
    assert.equal((await patch({ customCoordinates: null })).customCoordinates, null);
  });

  test('customMetadata merges; null unsets a key', async () => {
    const d = await patch({ customMetadata: { drop: null, added: true, keep: 'still' } });
    assert.deepEqual(d.customMetadata, { keep: 'still', added: true });
    const d2 = await patch({ customMetadata: { n: 5 } });
    assert.deepEqual(d2.customMetadata, { keep: 'still', added: true, n: 5 });
  });

  test('description', async () => {
    assert.equal((await patch({ description: 'first words' })).description, 'first words');
    assert.equal((await patch({ description: 'second words' })).description, 'second words');
  });

  test('several fields in one request, and the current version shows them', async () => {
    const d = await patch({ tags: ['x', 'y'], customCoordinates: '0,0,5,5', description: 'both' });
    assert.deepEqual(d.tags, ['x', 'y']);
    assert.equal(d.customCoordinates, '0,0,5,5');
    assert.equal(d.description, 'both');
    const v = await api(srv, 'GET', `/v1/files/${fileId}/versions/${d.versionInfo.id}`);
    assert.equal(v.status, 200, v.text);
    assert.deepEqual(v.body.tags, ['x', 'y']);
    assert.equal(v.body.customCoordinates, '0,0,5,5');
  });

  test('removeAITags: named ones, then "all"', async () => {
    await seedAITags(srv.dataDir, fileId, [
      { name: 'Shirt', confidence: 90.12, source: 'google-auto-tagging' },
      { name: 'T-shirt', confidence: 80.12, source: 'aws-auto-tagging' },
      { name: 'Cotton', confidence: 70, source: 'aws-auto-tagging' },
    ]);
    assert.equal((await details(fileId)).AITags.length, 3);
    const d = await patch({ removeAITags: ['Shirt', 'Cotton', 'not-there'] });
    assert.deepEqual(d.AITags, [{ name: 'T-shirt', confidence: 80.12, source: 'aws-auto-tagging' }]);
    assert.equal((await patch({ removeAITags: 'all' })).AITags, null);
    // Nothing left to remove is not an error.
    assert.equal((await patch({ removeAITags: ['Shirt'] })).AITags, null);
  });

  test('publish: without and with includeFileVersions', async () => {
    const [v1, v2] = await uploadVersions('pub', 'p.jpg', [await jpeg(), await jpeg()]);
    const id = v1.fileId;
    const published = async () => Object.fromEntries((await versions(id)).map((v) => [v.versionInfo.id, v.isPublished]));

    const off = await api(srv, 'PATCH', `/v1/files/${id}/details`, { publish: { isPublished: false } });
    assert.equal(off.status, 200, off.text);
    assertDetailsShape(off.body);
    assert.equal(off.body.isPublished, false);
    assert.equal((await details(id)).isPublished, false);
    assert.deepEqual(await published(), { [v1.versionInfo.id]: true, [v2.versionInfo.id]: false });

    const allOff = await api(srv, 'PATCH', `/v1/files/${id}/details`, { publish: { isPublished: false, includeFileVersions: true } });
    assert.equal(allOff.status, 200, allOff.text);
    assert.deepEqual(await published(), { [v1.versionInfo.id]: false, [v2.versionInfo.id]: false });

    const onCurrent = await api(srv, 'PATCH', `/v1/files/${id}/details`, { publish: { isPublished: true, includeFileVersions: false } });
    assert.equal(onCurrent.status, 200, onCurrent.text);
    assert.equal(onCurrent.body.isPublished, true);
    assert.deepEqual(await published(), { [v1.versionInfo.id]: false, [v2.versionInfo.id]: true });

    const allOn = await api(srv, 'PATCH', `/v1/files/${id}/details`, { publish: { isPublished: true, includeFileVersions: true } });
    assert.equal(allOn.status, 200, allOn.text);
    assert.deepEqual(await published(), { [v1.versionInfo.id]: true, [v2.versionInfo.id]: true });
  });

  test('publish combined with other keys → 400 and nothing changes', async () => {
    const before = await details(fileId);
    assertApiError(await api(srv, 'PATCH', `/v1/files/${fileId}/details`, { publish: { isPublished: false }, tags: ['zzz'] }), 400);
    assertApiError(await api(srv, 'PATCH', `/v1/files/${fileId}/details`, { description: 'nope', publish: { isPublished: false } }), 400);
    const afterwards = await details(fileId);
    assert.deepEqual(afterwards, before);
  });

  test('unknown keys → 400', async () => {
    assertApiError(await api(srv, 'PATCH', `/v1/files/${fileId}/details`, { colour: 'red' }), 400);
    assertApiError(await api(srv, 'PATCH', `/v1/files/${fileId}/details`, { tags: ['ok'], isPrivateFile: true }), 400);
    assert.notDeepEqual((await details(fileId)).tags, ['ok']);
  });

  test('bad types → 400 and nothing changes', async () => {
    const before = await details(fileId);
    const bad: unknown[] = [
      { tags: 'a,b' },
      { tags: [1, 2] },
      { tags: ['has%percent'] },
      { tags: ['x'.repeat(501)] },
      { customCoordinates: 5 },
      { customCoordinates: 'a,b,c,d' },
      { customCoordinates: '1,2,3' },
      { customMetadata: ['a'] },
      { customMetadata: 'brand' },
      { description: 5 },
      { removeAITags: 'some' },
      { removeAITags: [1] },
      { publish: true },
      { publish: {} },
      { publish: { isPublished: 'yes' } },
      { publish: { isPublished: true, includeFileVersions: 'yes' } },
      { webhookUrl: 'not a url' },
      { extensions: 'remove-bg' },
      [],
      'null',
    ];
    for (const body of bad) {
      const r = await api(srv, 'PATCH', `/v1/files/${fileId}/details`, body);
      assertApiError(r, 400);
    }
    const broken = await api(srv, 'PATCH', `/v1/files/${fileId}/details`, undefined, { rawBody: '{"tags": [' });
    assertApiError(broken, 400);
    assert.deepEqual(await details(fileId), before);
  });

  test('unknown or malformed fileId', async () => {
    assertApiError(await api(srv, 'PATCH', '/v1/files/0123456789abcdef01234567/details', { tags: ['a'] }), 404);
    assertApiError(await api(srv, 'PATCH', '/v1/files/xyz/details', { tags: ['a'] }), 400);
  });
});

describe('delete file', () => {
  test('removes the file, every version and their bytes; url then 404; second delete 404', async () => {
    const before = await blobPaths();
    const [v1, v2] = await uploadVersions('del', 'gone.jpg', [await jpeg(), await jpeg()]);
    const added = [...(await blobPaths())].filter((p) => !before.has(p));
    assert.equal(added.length, 2, 'one blob per version');
    const list = await versions(v1.fileId);
    const oldVersionUrl = list.find((v) => v.type === 'file-version').url;
    await assertServes(oldVersionUrl, (await fetchBytes(oldVersionUrl)).bytes);

    const r = await api(srv, 'DELETE', `/v1/files/${v1.fileId}`);
    assert.equal(r.status, 204, r.text);
    assert.equal(r.text, '');

    const left = await blobPaths();
    for (const p of added) assert.ok(!left.has(p), `blob ${p} is still stored`);
    assertApiError(await api(srv, 'GET', `/v1/files/${v1.fileId}/details`), 404);
    assertApiError(await api(srv, 'GET', `/v1/files/${v1.fileId}/versions`), 404);
    assertApiError(await api(srv, 'GET', `/v1/files/${v1.fileId}/versions/${v1.versionInfo.id}`), 404);
    await assertDeliveryError(v2.url, 404);
    await assertDeliveryError(oldVersionUrl, 404);

    assertApiError(await api(srv, 'DELETE', `/v1/files/${v1.fileId}`), 404);
  });

  test('malformed id → 400; other files untouched', async () => {
    const keep = await uploadFile(srv, await jpeg(), 'keep.jpg');
    assertApiError(await api(srv, 'DELETE', '/v1/files/abc'), 400);
    assertApiError(await api(srv, 'DELETE', '/v1/files/0123456789abcdef01234567'), 404);
    assert.equal((await details(keep.fileId)).fileId, keep.fileId);
  });
});

describe('copy file', () => {
  test('to a new folder: only the current version by default; bytes are independent of the source', async () => {
    const s1 = await jpeg();
    const s2 = await jpeg(50, 20);
    const [src] = await uploadVersions('cp/a', 'pic.jpg', [s1, s2], { tags: 'orig', customMetadata: '{"k":"v"}' });
    const r = await api(srv, 'POST', '/v1/files/copy', { sourceFilePath: '/cp/a/pic.jpg', destinationPath: '/cp/b/' });
    assert.equal(r.status, 204, r.text);
    assert.equal(r.text, '');

    const destId = await fileIdAt('/cp/b/pic.jpg');
    assert.ok(destId, 'the copy exists');
    assert.match(destId, HEX24);
    assert.notEqual(destId, src.fileId);
    const d = await details(destId);
    assertDetailsShape(d);
    assert.equal(d.filePath, '/cp/b/pic.jpg');
    assert.equal(d.name, 'pic.jpg');
    assert.equal(d.width, 50);
    assert.equal(d.size, s2.length);
    assert.deepEqual(d.tags, ['orig']);
    assert.deepEqual(d.customMetadata, { k: 'v' });
    assert.notEqual(d.versionInfo.id, src.versionInfo.id);
    const dv = await versions(destId);
    assert.equal(dv.length, 1);
    assert.equal(dv[0].type, 'file');
    assert.equal(dv[0].versionInfo.name, 'Version 1');
    await assertServes(d.url, s2);

    // The source is untouched.
    assert.equal((await versions(src.fileId)).length, 2);
    assert.equal((await details(src.fileId)).filePath, '/cp/a/pic.jpg');

    // Deleting the source leaves the copy whole.
    assert.equal((await api(srv, 'DELETE', `/v1/files/${src.fileId}`)).status, 204);
    await assertServes(d.url, s2);
  });

  test('includeFileVersions true copies every version; false copies only the current', async () => {
    const s1 = await jpeg(21, 21);
    const s2 = await jpeg(22, 22);
    await uploadVersions('cp/c', 'v.jpg', [s1, s2]);

    assert.equal((await api(srv, 'POST', '/v1/files/copy', { sourceFilePath: '/cp/c/v.jpg', destinationPath: '/cp/all', includeFileVersions: true })).status, 204);
    const allId = (await fileIdAt('/cp/all/v.jpg'))!;
    const all = await versions(allId);
    assert.deepEqual(all.map((v) => v.versionInfo.name), ['Version 1', 'Version 2']);
    assert.deepEqual(all.map((v) => v.type), ['file-version', 'file']);
    assert.deepEqual(all.map((v) => v.width), [21, 22]);
    for (const v of all) assert.equal(v.fileId, allId);
    await assertServes(all[0].url, s1);
    await assertServes(all[1].url, s2);
    await assertServes((await details(allId)).url, s2);

    assert.equal((await api(srv, 'POST', '/v1/files/copy', { sourceFilePath: '/cp/c/v.jpg', destinationPath: '/cp/one/', includeFileVersions: false })).status, 204);
    const one = await versions((await fileIdAt('/cp/one/v.jpg'))!);
    assert.equal(one.length, 1);
    assert.equal(one[0].width, 22);

    // The copy's versions have their own bytes: deleting one leaves the source's intact.
    const before = await blobPaths();
    assert.equal((await api(srv, 'DELETE', `/v1/files/${allId}/versions/${all[0].versionInfo.id}`)).status, 204);
    assert.equal((await blobPaths()).size, before.size - 1);
    const src = await versions((await fileIdAt('/cp/c/v.jpg'))!);
    await assertServes(src[0].url, s1);
  });

  test('onto an existing file of the same name: appended to its version history', async () => {
    const d1 = await jpeg(31, 31);
    const [dest] = await uploadVersions('cp/dst', 'same.jpg', [d1]);
    const s1 = await jpeg(32, 32);
    const s2 = await jpeg(33, 33);
    await uploadVersions('cp/src', 'same.jpg', [s1, s2]);

    const r = await api(srv, 'POST', '/v1/files/copy', { sourceFilePath: '/cp/src/same.jpg', destinationPath: '/cp/dst/', includeFileVersions: true });
    assert.equal(r.status, 204, r.text);
    assert.equal(await fileIdAt('/cp/dst/same.jpg'), dest.fileId, 'the destination keeps its fileId');
    const list = await versions(dest.fileId);
    assert.deepEqual(list.map((v) => v.versionInfo.name), ['Version 1', 'Version 2', 'Version 3']);
    assert.deepEqual(list.map((v) => v.width), [31, 32, 33]);
    assert.deepEqual(list.map((v) => v.type), ['file-version', 'file-version', 'file']);
    assert.equal(list[0].versionInfo.id, dest.versionInfo.id);
    const d = await details(dest.fileId);
    assert.equal(d.versionInfo.name, 'Version 3');
    assert.equal(d.width, 33);
    await assertServes(d.url, s2);
    await assertServes(list[0].url, d1);
    await assertServes(list[1].url, s1);

    // Without includeFileVersions only the source's current version is appended.
    assert.equal((await api(srv, 'POST', '/v1/files/copy', { sourceFilePath: '/cp/src/same.jpg', destinationPath: '/cp/dst/' })).status, 204);
    const list2 = await versions(dest.fileId);
    assert.equal(list2.length, 4);
    assert.equal(list2[3].versionInfo.name, 'Version 4');
    assert.equal(list2[3].type, 'file');
    // The source still has its own two versions.
    assert.equal((await versions((await fileIdAt('/cp/src/same.jpg'))!)).length, 2);
  });

  test('same folder → 400 SAME_SOURCE_AND_DESTINATION; missing source → 404 SOURCE_FILE_MISSING; bad input → 400', async () => {
    await uploadFile(srv, await jpeg(), 'here.jpg', { folder: 'cp/same', useUniqueFileName: 'false' });
    assertReason(await api(srv, 'POST', '/v1/files/copy', { sourceFilePath: '/cp/same/here.jpg', destinationPath: '/cp/same/' }), 400, 'SAME_SOURCE_AND_DESTINATION');
    assertReason(await api(srv, 'POST', '/v1/files/copy', { sourceFilePath: '/cp/same/here.jpg', destinationPath: 'cp/same' }), 400, 'SAME_SOURCE_AND_DESTINATION');
    const missing = await api(srv, 'POST', '/v1/files/copy', { sourceFilePath: '/cp/nowhere/none.jpg', destinationPath: '/cp/x/' });
    assertReason(missing, 404, 'SOURCE_FILE_MISSING');
    assert.equal(await fileIdAt('/cp/x/none.jpg'), undefined);
    assertReason(await api(srv, 'POST', '/v1/files/copy', {}), 400, 'MISSING_PARAMETER');
    assertReason(await api(srv, 'POST', '/v1/files/copy', { sourceFilePath: '/cp/same/here.jpg' }), 400, 'MISSING_PARAMETER');
    assertReason(await api(srv, 'POST', '/v1/files/copy', { destinationPath: '/cp/y/' }), 400, 'MISSING_PARAMETER');
    assertApiError(await api(srv, 'POST', '/v1/files/copy', { sourceFilePath: '/cp/same/here.jpg', destinationPath: '/cp/y/', includeFileVersions: 'yes' }), 400);
    assertApiError(await api(srv, 'POST', '/v1/files/copy', { sourceFilePath: '/cp/same/here.jpg', destinationPath: '/cp/../etc/' }), 400);
    assertApiError(await api(srv, 'POST', '/v1/files/copy', undefined, { rawBody: '[1,2]' }), 400);
    assert.equal(await fileIdAt('/cp/y/here.jpg'), undefined);
  });
});

describe('move file', () => {
  test('to a new folder keeps the fileId and every version; old url 404', async () => {
    const s1 = await jpeg(41, 41);
    const s2 = await jpeg(42, 42);
    const [src, cur] = await uploadVersions('mv/a', 'pic.jpg', [s1, s2]);
    const r = await api(srv, 'POST', '/v1/files/move', { sourceFilePath: '/mv/a/pic.jpg', destinationPath: '/mv/b/' });
    assert.equal(r.status, 204, r.text);
    assert.equal(r.text, '');

    assert.equal(await fileIdAt('/mv/a/pic.jpg'), undefined);
    assert.equal(await fileIdAt('/mv/b/pic.jpg'), src.fileId);
    const d = await details(src.fileId);
    assertDetailsShape(d);
    assert.equal(d.filePath, '/mv/b/pic.jpg');
    assert.equal(d.versionInfo.id, cur.versionInfo.id);
    assert.ok(d.url.startsWith(`${srv.urlEndpoint}/mv/b/pic.jpg?`), d.url);
    await assertServes(d.url, s2);
    await assertDeliveryError(cur.url, 404);

    const list = await versions(src.fileId);
    assert.equal(list.length, 2);
    for (const v of list) assert.equal(v.filePath, '/mv/b/pic.jpg');
    assert.deepEqual(list.map((v) => v.versionInfo.id), [src.versionInfo.id, cur.versionInfo.id]);
    await assertServes(list[0].url, s1);
  });

  test('onto an existing file of the same name: the source and its versions are appended', async () => {
    const d1 = await jpeg(51, 51);
    const [dest] = await uploadVersions('mv/dst', 'same.jpg', [d1]);
    const s1 = await jpeg(52, 52);
    const s2 = await jpeg(53, 53);
    const [src] = await uploadVersions('mv/src', 'same.jpg', [s1, s2]);

    const r = await api(srv, 'POST', '/v1/files/move', { sourceFilePath: '/mv/src/same.jpg', destinationPath: 'mv/dst' });
    assert.equal(r.status, 204, r.text);
    assertApiError(await api(srv, 'GET', `/v1/files/${src.fileId}/details`), 404);
    assert.equal(await fileIdAt('/mv/src/same.jpg'), undefined);
    assert.equal(await fileIdAt('/mv/dst/same.jpg'), dest.fileId);

    const list = await versions(dest.fileId);
    assert.deepEqual(list.map((v) => v.versionInfo.name), ['Version 1', 'Version 2', 'Version 3']);
    assert.deepEqual(list.map((v) => v.width), [51, 52, 53]);
    assert.deepEqual(list.map((v) => v.type), ['file-version', 'file-version', 'file']);
    for (const v of list) assert.equal(v.filePath, '/mv/dst/same.jpg');
    const d = await details(dest.fileId);
    assert.equal(d.width, 53);
    await assertServes(d.url, s2);
    await assertServes(list[0].url, d1);
    await assertServes(list[1].url, s1);

    // Every byte of the merged history belongs to the destination now: deleting it leaves none behind.
    const before = await blobPaths();
    assert.equal((await api(srv, 'DELETE', `/v1/files/${dest.fileId}`)).status, 204);
    assert.equal((await blobPaths()).size, before.size - 3);
  });

  test('same folder → 400; missing source → 404 SOURCE_FILE_MISSING; bad input → 400', async () => {
    await uploadFile(srv, await jpeg(), 'stay.jpg', { folder: 'mv/same', useUniqueFileName: 'false' });
    assertReason(await api(srv, 'POST', '/v1/files/move', { sourceFilePath: '/mv/same/stay.jpg', destinationPath: '/mv/same/' }), 400, 'SAME_SOURCE_AND_DESTINATION');
    assertReason(await api(srv, 'POST', '/v1/files/move', { sourceFilePath: '/mv/none/x.jpg', destinationPath: '/mv/z/' }), 404, 'SOURCE_FILE_MISSING');
    assertReason(await api(srv, 'POST', '/v1/files/move', {}), 400, 'MISSING_PARAMETER');
    assertReason(await api(srv, 'POST', '/v1/files/move', { sourceFilePath: '/mv/same/stay.jpg' }), 400, 'MISSING_PARAMETER');
    assertApiError(await api(srv, 'POST', '/v1/files/move', { sourceFilePath: 5, destinationPath: '/mv/z/' }), 400);
    assert.ok(await fileIdAt('/mv/same/stay.jpg'));
  });
});

describe('rename file', () => {
  test('name and url change, every version is renamed, old url 404; purgeCache false → {}', async () => {
    const s1 = await jpeg(61, 61);
    const s2 = await jpeg(62, 62);
    const [first, cur] = await uploadVersions('rn', 'old.jpg', [s1, s2]);
    const r = await api(srv, 'PUT', '/v1/files/rename', { filePath: '/rn/old.jpg', newFileName: 'new.jpg', purgeCache: false });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, {});

    const d = await details(first.fileId);
    assertDetailsShape(d);
    assert.equal(d.name, 'new.jpg');
    assert.equal(d.filePath, '/rn/new.jpg');
    assert.ok(d.url.startsWith(`${srv.urlEndpoint}/rn/new.jpg?`), d.url);
    await assertServes(d.url, s2);
    await assertDeliveryError(cur.url, 404);

    const list = await versions(first.fileId);
    assert.equal(list.length, 2);
    for (const v of list) {
      assert.equal(v.name, 'new.jpg');
      assert.equal(v.filePath, '/rn/new.jpg');
      assert.ok(v.url.includes('/rn/new.jpg?'), v.url);
    }
    await assertServes(list[0].url, s1);

    // Without purgeCache at all: also an empty object.
    const r2 = await api(srv, 'PUT', '/v1/files/rename', { filePath: '/rn/new.jpg', newFileName: 'newer name.jpg' });
    assert.equal(r2.status, 200, r2.text);
    assert.deepEqual(r2.body, {});
    assert.equal((await details(first.fileId)).name, 'newer_name.jpg');
  });

  test('purgeCache true → purgeRequestId whose status can be read', async () => {
    const up = await uploadFile(srv, await jpeg(), 'purge.jpg', { folder: 'rn', useUniqueFileName: 'false' });
    const r = await api(srv, 'PUT', '/v1/files/rename', { filePath: '/rn/purge.jpg', newFileName: 'purged.jpg', purgeCache: true });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body), ['purgeRequestId']);
    assert.equal(typeof r.body.purgeRequestId, 'string');
    assert.ok(r.body.purgeRequestId.length > 0);
    const s = await api(srv, 'GET', `/v1/files/purge/${encodeURIComponent(r.body.purgeRequestId)}`);
    assert.equal(s.status, 200, s.text);
    assert.ok(['Pending', 'Completed'].includes(s.body.status), s.text);
    assert.equal((await details(up.fileId)).name, 'purged.jpg');
    // The spec answers an unknown purge request id with a 400.
    assertApiError(await api(srv, 'GET', '/v1/files/purge/0123456789abcdef01234567'), 400);
  });

  test('409 FILE_ALREADY_EXISTS; 400 SAME_OLD_AND_NEW_NAME; 404 FILE_MISSING; bad input 400', async () => {
    const a = await uploadFile(srv, await jpeg(), 'a.jpg', { folder: 'rn2', useUniqueFileName: 'false' });
    await uploadFile(srv, await jpeg(), 'b.jpg', { folder: 'rn2', useUniqueFileName: 'false' });
    assertReason(await api(srv, 'PUT', '/v1/files/rename', { filePath: '/rn2/a.jpg', newFileName: 'b.jpg' }), 409, 'FILE_ALREADY_EXISTS');
    assertReason(await api(srv, 'PUT', '/v1/files/rename', { filePath: '/rn2/a.jpg', newFileName: 'a.jpg' }), 400, 'SAME_OLD_AND_NEW_NAME');
    assertReason(await api(srv, 'PUT', '/v1/files/rename', { filePath: '/rn2/zzz.jpg', newFileName: 'c.jpg' }), 404, 'FILE_MISSING');
    assertReason(await api(srv, 'PUT', '/v1/files/rename', { filePath: '/rn2/a.jpg' }), 400, 'MISSING_PARAMETER');
    assertReason(await api(srv, 'PUT', '/v1/files/rename', { newFileName: 'c.jpg' }), 400, 'MISSING_PARAMETER');
    assertApiError(await api(srv, 'PUT', '/v1/files/rename', { filePath: '/rn2/a.jpg', newFileName: 'c.jpg', purgeCache: 'yes' }), 400);
    assertApiError(await api(srv, 'PUT', '/v1/files/rename', { filePath: '/rn2/a.jpg', newFileName: '../c.jpg' }), 400);
    const d = await details(a.fileId);
    assert.equal(d.filePath, '/rn2/a.jpg');
    await assertServes(d.url, (await fetchBytes(a.url)).bytes);
  });
});

describe('auth on the management API', () => {
  test('no key and a wrong key are 401 with the error body', async () => {
    const wrong = `Basic ${Buffer.from('private_wrong_key:').toString('base64')}`;
    for (const headers of [{}, { authorization: wrong }] as Array<Record<string, string>>) {
      assertApiError(await readResponse(await fetch(`${srv.baseUrl}/v1/files/0123456789abcdef01234567/details`, { headers })), 401);
    }
  });
});
