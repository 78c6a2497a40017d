/**
 * File versions against the real server over HTTP: uploads to one path make versions; list, get,
 * per-version delivery, delete (bytes gone), the current-version guard, restore, bad ids.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  api,
  assertApiError,
  assertServes,
  blobBytes,
  blobFiles,
  readResponse,
  sha256,
  solidImage,
  upload,
  uploadFile,
} from '../support/e2e-helpers.js';

let srv: TestServer;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies are checked field by field
type Json = any;

const HEX24 = /^[0-9a-f]{24}$/;
const ISO_MS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function jpeg(width: number, height: number, r: number): Promise<Buffer> {
  return solidImage(width, height, { r, g: 128, b: 255 - r }, 'jpeg');
}

/** sha256 of every blob on disk. */
async function blobHashes(): Promise<Set<string>> {
  const keys = await blobFiles(srv.dataDir);
  return new Set(await Promise.all(keys.map(async (k) => sha256(await blobBytes(srv.dataDir, k)))));
}

async function listVersions(fileId: string): Promise<Json[]> {
  const r = await api(srv, 'GET', `/v1/files/${fileId}/versions`);
  assert.equal(r.status, 200, r.text);
  assert.ok(Array.isArray(r.body), r.text);
  return r.body as Json[];
}

const byName = (list: Json[], n: number) => {
  const v = list.find((x) => x.versionInfo.name === `Version ${n}`);
  assert.ok(v, `Version ${n} is not in the list`);
  return v;
};

before(async () => {
  srv = await startTestServer();
});

after(async () => {
  await srv?.stop();
});

describe('file versions', () => {
  const bytes: Buffer[] = [];
  const dims = [
    [30, 20],
    [40, 30],
    [50, 40],
  ] as const;
  const ups: Json[] = [];
  let fileId: string;

  before(async () => {
    for (let i = 0; i < 3; i++) bytes.push(await jpeg(dims[i]![0], dims[i]![1], 40 + i * 80));
    for (let i = 0; i < 3; i++) {
      ups.push(await uploadFile(srv, bytes[i]!, 'ver.jpg', { folder: 'versions', useUniqueFileName: 'false', tags: `t${i + 1}` }));
    }
    fileId = ups[0].fileId;
  });

  test('three uploads to one path make one file with versions 1..3', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal(ups[i].fileId, fileId);
      assert.equal(ups[i].filePath, '/versions/ver.jpg');
      assert.equal(ups[i].versionInfo.name, `Version ${i + 1}`);
      assert.match(ups[i].versionInfo.id, HEX24);
      assert.equal(ups[i].width, dims[i]![0]);
    }
    assert.equal(new Set(ups.map((u) => u.versionInfo.id)).size, 3);

    const list = await listVersions(fileId);
    assert.equal(list.length, 3);
    const current = list.filter((v) => v.type === 'file');
    assert.equal(current.length, 1, 'exactly one current version');
    assert.equal(current[0].versionInfo.id, ups[2].versionInfo.id);
    assert.equal(list.filter((v) => v.type === 'file-version').length, 2);
    assert.deepEqual(list.map((v) => v.versionInfo.name).sort(), ['Version 1', 'Version 2', 'Version 3']);
    for (let i = 0; i < 3; i++) {
      const v = byName(list, i + 1);
      assert.equal(v.fileId, fileId);
      assert.equal(v.versionInfo.id, ups[i].versionInfo.id);
      assert.equal(v.name, 'ver.jpg');
      assert.equal(v.filePath, '/versions/ver.jpg');
      assert.equal(v.width, dims[i]![0]);
      assert.equal(v.height, dims[i]![1]);
      assert.equal(v.size, bytes[i]!.length);
      assert.equal(v.mime, 'image/jpeg');
      assert.deepEqual(v.tags, [`t${i + 1}`]);
      assert.match(v.createdAt, ISO_MS_Z);
      assert.match(v.updatedAt, ISO_MS_Z);
      const u = new URL(v.url);
      assert.equal(u.pathname, `/${srv.imagekitId}/versions/ver.jpg`);
      if (i < 2) assert.equal(u.searchParams.get('ik-obj-version'), v.versionInfo.id);
      else assert.equal(u.searchParams.get('ik-obj-version'), null, 'the current version has the plain url');
    }

    const d = await api(srv, 'GET', `/v1/files/${fileId}/details`);
    assert.equal(d.status, 200);
    assert.deepEqual(d.body.versionInfo, { id: ups[2].versionInfo.id, name: 'Version 3' });
    assert.equal(d.body.width, 50);
  });

  test('get one version', async () => {
    const r = await api(srv, 'GET', `/v1/files/${fileId}/versions/${ups[0].versionInfo.id}`);
    assert.equal(r.status, 200, r.text);
    const v = r.body;
    assert.equal(v.type, 'file-version');
    assert.equal(v.fileId, fileId);
    assert.deepEqual(v.versionInfo, { id: ups[0].versionInfo.id, name: 'Version 1' });
    assert.equal(v.width, 30);
    assert.equal(v.height, 20);
    assert.equal(v.size, bytes[0]!.length);
    assert.deepEqual(v.tags, ['t1']);

    const cur = await api(srv, 'GET', `/v1/files/${fileId}/versions/${ups[2].versionInfo.id}`);
    assert.equal(cur.status, 200, cur.text);
    assert.equal(cur.body.type, 'file');
    assert.equal(cur.body.versionInfo.name, 'Version 3');
  });

  test('each version url serves that version\'s bytes; the plain url the current one', async () => {
    const list = await listVersions(fileId);
    for (let i = 0; i < 3; i++) await assertServes(byName(list, i + 1).url, bytes[i]!, 'image/jpeg');
    const plain = new URL(ups[2].url);
    plain.search = '';
    await assertServes(plain.toString(), bytes[2]!, 'image/jpeg');
    // A version url also works without the updatedAt cache-buster.
    const bare = new URL(byName(list, 1).url);
    bare.searchParams.delete('updatedAt');
    await assertServes(bare.toString(), bytes[0]!, 'image/jpeg');
  });

  test('delete a non-current version: gone from the list, its url and its bytes', async () => {
    const v2 = ups[1].versionInfo.id;
    const list = await listVersions(fileId);
    const v2url = byName(list, 2).url;
    assert.ok((await blobHashes()).has(sha256(bytes[1]!)));

    const r = await api(srv, 'DELETE', `/v1/files/${fileId}/versions/${v2}`);
    assert.equal(r.status, 204, r.text);
    assert.equal(r.text, '');

    const after = await listVersions(fileId);
    assert.deepEqual(after.map((v) => v.versionInfo.name).sort(), ['Version 1', 'Version 3']);
    assertApiError(await api(srv, 'GET', `/v1/files/${fileId}/versions/${v2}`), 404);
    assertApiError(await readResponse(await fetch(v2url)), 404);
    const hashes = await blobHashes();
    assert.ok(!hashes.has(sha256(bytes[1]!)), 'the deleted version\'s bytes are still on disk');
    assert.ok(hashes.has(sha256(bytes[0]!)) && hashes.has(sha256(bytes[2]!)), 'other versions\' bytes must stay');
    // Deleting it again: the version no longer exists.
    assertApiError(await api(srv, 'DELETE', `/v1/files/${fileId}/versions/${v2}`), 404, 'The requested asset does not exist.');
  });

  test('deleting the current version → 400', async () => {
    const r = await api(srv, 'DELETE', `/v1/files/${fileId}/versions/${ups[2].versionInfo.id}`);
    assertApiError(r, 400, 'You cannot delete current version of a file.');
    assert.equal((await listVersions(fileId)).length, 2);
  });

  test('restore an old version: it becomes current and the plain url serves its bytes', async () => {
    const v1 = ups[0].versionInfo.id;
    const r = await api(srv, 'PUT', `/v1/files/${fileId}/versions/${v1}/restore`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.fileId, fileId);
    assert.equal(r.body.type, 'file');
    assert.deepEqual(r.body.versionInfo, { id: v1, name: 'Version 1' });
    assert.equal(r.body.width, 30);
    assert.equal(r.body.height, 20);
    assert.equal(r.body.size, bytes[0]!.length);
    assert.equal(r.body.filePath, '/versions/ver.jpg');
    assert.match(r.body.updatedAt, ISO_MS_Z);

    const d = await api(srv, 'GET', `/v1/files/${fileId}/details`);
    assert.equal(d.status, 200);
    assert.deepEqual(d.body.versionInfo, { id: v1, name: 'Version 1' });
    assert.equal(d.body.width, 30);
    assert.equal(d.body.height, 20);
    assert.equal(d.body.size, bytes[0]!.length);
    assert.deepEqual(d.body.tags, ['t1']);
    assert.equal(new URL(d.body.url).searchParams.get('ik-obj-version'), null);
    await assertServes(d.body.url, bytes[0]!, 'image/jpeg');

    const list = await listVersions(fileId);
    assert.equal(list.length, 2);
    assert.equal(byName(list, 1).type, 'file');
    assert.equal(byName(list, 3).type, 'file-version');
    await assertServes(byName(list, 3).url, bytes[2]!, 'image/jpeg');

    // Version 3 is no longer current, so it can be deleted; Version 1 now cannot.
    assertApiError(await api(srv, 'DELETE', `/v1/files/${fileId}/versions/${v1}`), 400, 'You cannot delete current version of a file.');
  });

  test('a later upload gets the next version number; numbers of deleted versions are not reused', async () => {
    const b4 = await jpeg(60, 10, 7);
    const u = await uploadFile(srv, b4, 'ver.jpg', { folder: 'versions', useUniqueFileName: 'false' });
    assert.equal(u.fileId, fileId);
    assert.equal(u.versionInfo.name, 'Version 4');
    const list = await listVersions(fileId);
    assert.deepEqual(list.map((v) => v.versionInfo.name).sort(), ['Version 1', 'Version 3', 'Version 4']);
    assert.equal(byName(list, 4).type, 'file');
    assert.equal(byName(list, 1).type, 'file-version');
    await assertServes(u.url, b4, 'image/jpeg');
  });

  test('unknown ids → 404', async () => {
    const unknown = '0123456789abcdef01234567';
    assertApiError(await api(srv, 'GET', `/v1/files/${unknown}/versions`), 404);
    assertApiError(await api(srv, 'GET', `/v1/files/${fileId}/versions/${unknown}`), 404, 'The requested file version does not exist.');
    assertApiError(await api(srv, 'GET', `/v1/files/${unknown}/versions/${ups[0].versionInfo.id}`), 404);
    assertApiError(await api(srv, 'DELETE', `/v1/files/${fileId}/versions/${unknown}`), 404, 'The requested asset does not exist.');
    assertApiError(await api(srv, 'PUT', `/v1/files/${fileId}/versions/${unknown}/restore`), 404, 'The requested file version does not exist.');
    // A version of another file is not a version of this one.
    const other = await uploadFile(srv, await jpeg(8, 8, 9), 'other.jpg');
    assertApiError(await api(srv, 'GET', `/v1/files/${other.fileId}/versions/${ups[0].versionInfo.id}`), 404);
    assertApiError(await api(srv, 'PUT', `/v1/files/${other.fileId}/versions/${ups[0].versionInfo.id}/restore`), 404);
    assertApiError(await api(srv, 'DELETE', `/v1/files/${other.fileId}/versions/${ups[0].versionInfo.id}`), 404);
    assert.equal((await listVersions(fileId)).length, 3);
    // An unknown ik-obj-version on a delivery url.
    const u = new URL(ups[0].url);
    u.searchParams.set('ik-obj-version', unknown);
    assertApiError(await readResponse(await fetch(u)), 404);
  });

  test('malformed ids → 400', async () => {
    const v = ups[0].versionInfo.id;
    const badFile = 'Your request contains invalid fileId parameter.';
    const badVersion = 'Your request contains invalid versionId parameter.';
    assertApiError(await api(srv, 'GET', '/v1/files/nope/versions'), 400, badFile);
    assertApiError(await api(srv, 'GET', `/v1/files/nope/versions/${v}`), 400, badFile);
    assertApiError(await api(srv, 'GET', `/v1/files/${fileId}/versions/nope`), 400, badVersion);
    assertApiError(await api(srv, 'GET', `/v1/files/${fileId}/versions/${v.toUpperCase()}`), 400, badVersion);
    assertApiError(await api(srv, 'DELETE', `/v1/files/${fileId}/versions/nope`), 400, badVersion);
    assertApiError(await api(srv, 'DELETE', `/v1/files/nope/versions/${v}`), 400, badFile);
    assertApiError(await api(srv, 'PUT', `/v1/files/${fileId}/versions/nope/restore`), 400, badVersion);
    assertApiError(await api(srv, 'PUT', `/v1/files/nope/versions/${v}/restore`), 400, badFile);
    assertApiError(await api(srv, 'PUT', `/v1/files/${fileId}/versions/${'a'.repeat(25)}/restore`), 400, badVersion);
    const u = new URL(ups[0].url);
    u.searchParams.set('ik-obj-version', '../../etc');
    const r = await fetch(u);
    assert.ok(r.status >= 400 && r.status < 500, `malformed ik-obj-version gave ${r.status}`);
    const body = (await r.json()) as Json;
    assert.equal(typeof body.message, 'string');
    assert.equal(typeof body.help, 'string');
  });
});

describe('version limits and concurrency', () => {
  test('concurrent uploads to one path make one file with distinct, gapless version numbers', async () => {
    const imgs = await Promise.all(Array.from({ length: 6 }, (_, i) => jpeg(10 + i, 10, i * 30)));
    const ups = await Promise.all(imgs.map((b) => uploadFile(srv, b, 'race.jpg', { folder: 'race', useUniqueFileName: 'false' })));
    assert.equal(new Set(ups.map((u) => u.fileId)).size, 1, 'one file');
    const list = await listVersions(ups[0]!.fileId);
    assert.equal(list.length, 6);
    assert.deepEqual(
      list.map((v) => Number(v.versionInfo.name.replace('Version ', ''))).sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6],
    );
    assert.equal(list.filter((v) => v.type === 'file').length, 1);
  });

  test('at most 100 versions: the 101st upload, and a copy or move onto a full file, are refused', async () => {
    const png = (i: number) => solidImage(3, 3, { r: i, g: 0, b: 0 });
    let fileId = '';
    for (let batch = 0; batch < 10; batch++) {
      const bufs = await Promise.all(Array.from({ length: 10 }, (_, i) => png(batch * 10 + i)));
      for (const u of await Promise.all(bufs.map((b) => uploadFile(srv, b, 'full.png', { folder: 'full', useUniqueFileName: 'false' })))) {
        fileId ||= u.fileId;
        assert.equal(u.fileId, fileId);
      }
    }
    assert.equal((await listVersions(fileId)).length, 100);

    const r = await upload(srv, { fileName: 'full.png', folder: 'full', useUniqueFileName: 'false' }, { bytes: await png(200), name: 'full.png' });
    assertApiError(r, 400);
    assert.equal((await listVersions(fileId)).length, 100);

    await uploadFile(srv, await png(201), 'full.png', { folder: 'other', useUniqueFileName: 'false' });
    const copy = await api(srv, 'POST', '/v1/files/copy', { sourceFilePath: '/other/full.png', destinationPath: '/full/' });
    assertApiError(copy, 400);
    assert.equal(copy.body.reason, 'VERSION_LIMIT_EXCEEDED');
    const move = await api(srv, 'POST', '/v1/files/move', { sourceFilePath: '/other/full.png', destinationPath: '/full/' });
    assertApiError(move, 400);
    assert.equal(move.body.reason, 'VERSION_LIMIT_EXCEEDED');
    assert.equal((await listVersions(fileId)).length, 100);
    // The refused move left the source where it was.
    const still = await fetch(`${srv.urlEndpoint}/other/full.png`);
    assert.equal(still.status, 200);
    await still.body?.cancel();
  });
});
