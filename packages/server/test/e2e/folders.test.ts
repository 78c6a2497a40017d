/**
 * Folders against the real server: create, delete (rows, versions and bytes), and copy / move /
 * rename as bulk jobs with their status — including a kill -9 in the middle of a copy of a few
 * thousand files, after which the restarted server finishes the job with every file copied
 * exactly once and no orphan bytes. Then the official SDK drives the same endpoints, every body
 * validated against the spec.
 *
 * State the API cannot show yet (folder rows, version counts per path) is read straight from the
 * SQLite file, read-only, beside the running server.
 */
import assert from 'node:assert/strict';
import { linkSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import ImageKit, { type APIPromise } from '@imagekit/nodejs';
import type { FileRecord, VersionRecord } from '../../src/ports/metadata-store.js';
import { Library, SHARED_JOURNAL_GRACE_MS } from '../../src/services/library.js';
import { newId } from '../../src/util/ids.js';
import {
  api,
  assertApiError,
  blobFiles,
  download,
  execSql,
  makeJpeg,
  makePng,
  filesIn,
  queryDb,
  sha256,
  sleep,
  storeCounts,
  upload,
  type ApiResponse,
  jsonValue,
  openBlobsFor,
  openStoreFor,
} from '../support/e2e-helpers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { SPEC_MISSING_MESSAGE, assertMatchesSchema, expectSdkError, responseSchemaFor, specAvailable } from '../support/spec.js';

const cleanup: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function start(env: Record<string, string> = {}, dataDir?: string): Promise<TestServer> {
  const s = await startTestServer({ env, ...(dataDir ? { dataDir } : {}) });
  cleanup.push(() => s.stop());
  return s;
}

/** One server for the API suites (each works under its own top folder); the crash test has its own. */
let shared: Promise<TestServer> | undefined;
const sharedServer = () => (shared ??= start());

// ---- reading the store beside the server ----

/** Folder paths in a subtree (the folder included), sorted. */
async function folderPaths(dataDir: string, prefix: string): Promise<string[]> {
  return (await queryDb<{ path: string }>(dataDir, 'select path from folders where substr(path, 1, ?) = ? order by path', prefix.length, prefix)).map(
    (r) => r.path,
  );
}

/** Blob keys referenced by version rows (every version owns its bytes). */
async function referencedBlobs(dataDir: string): Promise<number> {
  return (await queryDb<{ n: number }>(dataDir, 'select count(distinct blob_key) as n from file_versions'))[0]!.n;
}

async function jobRow(dataDir: string, id: string): Promise<{ status: string; attempts: number; progress: Record<string, unknown> }> {
  const r = (await queryDb<{ status: string; attempts: number; progress: string }>(dataDir, 'select status, attempts, progress from jobs where id = ?', id))[0]!;
  return { status: r.status, attempts: r.attempts, progress: jsonValue<Record<string, unknown>>(r.progress) };
}

// ---- the API ----

async function put(s: TestServer, folder: string, fileName: string, bytes: Buffer): Promise<ApiResponse> {
  const r = await upload(s, { fileName, folder, useUniqueFileName: 'false' }, { bytes, name: fileName });
  assert.equal(r.status, 200, r.text);
  return r;
}

async function waitJob(s: TestServer, jobId: string, timeoutMs = 30_000): Promise<ApiResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A wedged server must fail the test, not hang it.
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      api(s, 'GET', `/v1/bulkJobs/${jobId}`),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`GET /v1/bulkJobs/${jobId} did not answer`)), Math.max(1000, deadline - Date.now()));
      }),
    ]).finally(() => clearTimeout(timer));
    assert.equal(r.status, 200, r.text);
    if (r.body.status !== 'Pending') return r;
    if (Date.now() > deadline) assert.fail(`job ${jobId} still Pending after ${timeoutMs} ms`);
    await sleep(25);
  }
}

async function runJob(s: TestServer, op: 'copyFolder' | 'moveFolder' | 'renameFolder', body: unknown, expectStatus = op === 'renameFolder' ? 202 : 200) {
  const r = await api(s, 'POST', `/v1/bulkJobs/${op}`, body);
  assert.equal(r.status, expectStatus, r.text);
  assert.match(r.body.jobId, /^[0-9a-f]{24}$/);
  assert.deepEqual(Object.keys(r.body), ['jobId']);
  const done = await waitJob(s, r.body.jobId);
  assert.equal(done.body.status, 'Completed', done.text);
  return done.body as { jobId: string; type: string; status: string; purgeRequestId?: string };
}

async function served(s: TestServer, filePath: string): Promise<{ status: number; sha: string }> {
  const got = await download(`${s.urlEndpoint}${filePath}`);
  return { status: got.status, sha: sha256(got.bytes) };
}

// ------------------------------------------------------------------------------------------

describe('create folder', { timeout: 120_000 }, () => {
  let s: TestServer;
  before(async () => {
    s = await sharedServer();
  });

  test('201 with {}; missing parents are created; the name is sanitised; creating again is a no-op', async () => {
    const r = await api(s, 'POST', '/v1/folder', { folderName: 'summer sale!', parentFolderPath: 'product/images' });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.body, {});
    assert.deepEqual(await folderPaths(s.dataDir, '/product/'), ['/product/', '/product/images/', '/product/images/summer_sale_/']);
    const again = await api(s, 'POST', '/v1/folder/', { folderName: 'summer sale!', parentFolderPath: '/product/images/' });
    assert.equal(again.status, 201, again.text);
    assert.equal((await folderPaths(s.dataDir, '/product/')).length, 3);
    const root = await api(s, 'POST', '/v1/folder', { folderName: 'top-level_1', parentFolderPath: '/' });
    assert.equal(root.status, 201);
    assert.deepEqual(await folderPaths(s.dataDir, '/top-level_1/'), ['/top-level_1/']);
  });

  test('bad requests: 400 with reason; no auth: 401', async () => {
    for (const [body, reason] of [
      [{ parentFolderPath: '/' }, 'MISSING_PARAMETER'],
      [{ folderName: '', parentFolderPath: '/' }, 'MISSING_PARAMETER'],
      [{ folderName: 'x' }, 'MISSING_PARAMETER'],
      [{ folderName: 42, parentFolderPath: '/' }, 'MISSING_PARAMETER'],
      [{ folderName: '..', parentFolderPath: '/' }, 'INVALID_FOLDER_PATH'],
      [{ folderName: '.', parentFolderPath: '/' }, 'INVALID_FOLDER_PATH'],
      [{ folderName: 'x', parentFolderPath: '/a/../b' }, 'INVALID_FOLDER_PATH'],
      [{ folderName: 'x'.repeat(300), parentFolderPath: '/' }, 'INVALID_PARAMETER'],
    ] as const) {
      const r = await api(s, 'POST', '/v1/folder', body);
      assertApiError(r, 400);
      assert.equal(r.body.reason, reason, `${JSON.stringify(body)}: ${r.text}`);
    }
    assertApiError(await api(s, 'POST', '/v1/folder', undefined, { rawBody: '[1]' }), 400);
    assertApiError(await api(s, 'POST', '/v1/folder', { folderName: 'x', parentFolderPath: '/' }, { auth: null }), 401);
    assert.deepEqual(await folderPaths(s.dataDir, '/x/'), []);
  });
});

describe('delete folder', { timeout: 120_000 }, () => {
  let s: TestServer;
  before(async () => {
    s = await sharedServer();
  });

  test('204; files, every version, their bytes and nested folders are gone; a sibling sharing the prefix is untouched', async () => {
    const blobsBefore = (await blobFiles(s.dataDir)).length;
    const a = await makePng(20, 10);
    const b = await makePng(21, 10);
    await put(s, '/del/', 'one.png', a);
    await put(s, '/del/', 'one.png', b); // a second version
    await put(s, '/del/deep/er/', 'two.png', a);
    await api(s, 'POST', '/v1/folder', { folderName: 'empty', parentFolderPath: '/del/deep/' });
    const keep = await put(s, '/del-keep/', 'kept.png', b);
    await put(s, '/delx/', 'kept.png', a);
    await put(s, '/del0/', 'kept.png', a); // '0' is the character right after '/'
    assert.equal((await blobFiles(s.dataDir)).length, blobsBefore + 6);

    const r = await api(s, 'DELETE', '/v1/folder', { folderPath: '/del' });
    assert.equal(r.status, 204, r.text);
    assert.equal(r.text, '');
    assert.deepEqual(await folderPaths(s.dataDir, '/del/'), []);
    assert.equal((await filesIn(s.dataDir, '/del/')).size, 0);
    assert.equal((await blobFiles(s.dataDir)).length, blobsBefore + 3, 'the bytes of all three versions are removed');
    assert.equal(await referencedBlobs(s.dataDir), (await blobFiles(s.dataDir)).length);
    assert.equal((await storeCounts(s.dataDir)).journal, 0);
    assert.equal((await served(s, '/del/one.png')).status, 404);
    // Neighbours whose paths merely start with the same letters survive.
    assert.deepEqual(await folderPaths(s.dataDir, '/del-keep/'), ['/del-keep/']);
    assert.equal((await filesIn(s.dataDir, '/delx/')).size, 1);
    assert.equal((await filesIn(s.dataDir, '/del0/')).size, 1);
    assert.equal((await served(s, keep.body.filePath)).sha, sha256(b));
  });

  test('a missing folder is 404 FOLDER_NOT_FOUND; root and bad paths are 400', async () => {
    const r = await api(s, 'DELETE', '/v1/folder', { folderPath: '/no/such/folder/' });
    assertApiError(r, 404, 'No folder found with folderPath /no/such/folder/.');
    assert.equal(r.body.reason, 'FOLDER_NOT_FOUND');
    assertApiError(await api(s, 'DELETE', '/v1/folder', { folderPath: '/' }), 400);
    assertApiError(await api(s, 'DELETE', '/v1/folder', {}), 400);
    assertApiError(await api(s, 'DELETE', '/v1/folder', { folderPath: '/a/../b' }), 400);
    assertApiError(await api(s, 'DELETE', '/v1/folder', { folderPath: '/x' }, { auth: null }), 401);
  });

  test('an empty folder is deleted too', async () => {
    await api(s, 'POST', '/v1/folder', { folderName: 'hollow', parentFolderPath: '/shell' });
    assert.equal((await api(s, 'DELETE', '/v1/folder/', { folderPath: 'shell/hollow' })).status, 204);
    assert.deepEqual(await folderPaths(s.dataDir, '/shell/'), ['/shell/']);
  });
});

describe('copy, move and rename folder (bulk jobs)', { timeout: 300_000 }, () => {
  let s: TestServer;
  let v1: Buffer;
  let v2: Buffer;
  let other: Buffer;
  before(async () => {
    s = await sharedServer();
    [v1, v2, other] = await Promise.all([makePng(30, 20), makeJpeg(31, 20), makePng(40, 40, true)]);
  });

  /** /<root>/src/a.png (2 versions), /<root>/src/sub/b.jpg, and an empty /<root>/src/sub/empty/. */
  async function seed(root: string): Promise<void> {
    await put(s, `${root}src/`, 'a.png', v1);
    await put(s, `${root}src/`, 'a.png', v2);
    await put(s, `${root}src/sub/`, 'b.jpg', other);
    assert.equal((await api(s, 'POST', '/v1/folder', { folderName: 'empty', parentFolderPath: `${root}src/sub/` })).status, 201);
  }

  test('copy: the subtree lands inside the destination; only current versions by default; the source is untouched', async () => {
    await seed('/c1/');
    const blobs = (await blobFiles(s.dataDir)).length;
    const job = await runJob(s, 'copyFolder', { sourceFolderPath: '/c1/src', destinationPath: '/c1/dest' });
    assert.equal(job.type, 'COPY_FOLDER');
    assert.deepEqual(Object.keys(job).sort(), ['jobId', 'status', 'type']);
    assert.deepEqual(await folderPaths(s.dataDir, '/c1/dest/'), ['/c1/dest/', '/c1/dest/src/', '/c1/dest/src/sub/', '/c1/dest/src/sub/empty/']);
    const copied = await filesIn(s.dataDir, '/c1/dest/');
    assert.deepEqual([...copied.keys()], ['/c1/dest/src/a.png', '/c1/dest/src/sub/b.jpg']);
    assert.equal(copied.get('/c1/dest/src/a.png')!.versions, 1, 'only the current version');
    assert.equal((await served(s, '/c1/dest/src/a.png')).sha, sha256(v2));
    assert.equal((await served(s, '/c1/dest/src/sub/b.jpg')).sha, sha256(other));
    const src = await filesIn(s.dataDir, '/c1/src/');
    assert.equal(src.get('/c1/src/a.png')!.versions, 2);
    assert.notEqual(src.get('/c1/src/a.png')!.id, copied.get('/c1/dest/src/a.png')!.id, 'a copy is a new file');
    assert.equal((await blobFiles(s.dataDir)).length, blobs + 2, 'the copies own their bytes');
    assert.equal((await storeCounts(s.dataDir)).journal, 0);
  });

  test('copy with includeVersions: every version, the current one still current', async () => {
    await seed('/c2/');
    await runJob(s, 'copyFolder', { sourceFolderPath: '/c2/src/', destinationPath: '/c2/dest/', includeVersions: true });
    const a = (await filesIn(s.dataDir, '/c2/dest/')).get('/c2/dest/src/a.png')!;
    assert.equal(a.versions, 2);
    const versions = await api(s, 'GET', `/v1/files/${a.id}/versions`);
    assert.equal(versions.status, 200);
    const shas = await Promise.all(
      versions.body.map(async (v: { url: string }) => sha256((await download(v.url)).bytes)),
    );
    assert.deepEqual(new Set(shas), new Set([sha256(v1), sha256(v2)]));
    assert.equal((await served(s, '/c2/dest/src/a.png')).sha, sha256(v2));
    // The name ImageKit's older docs use works too.
    await seed('/c3/');
    await runJob(s, 'copyFolder', { sourceFolderPath: '/c3/src/', destinationPath: '/c3/dest/', includeFileVersions: true });
    assert.equal((await filesIn(s.dataDir, '/c3/dest/')).get('/c3/dest/src/a.png')!.versions, 2);
  });

  test('copy onto namesakes: the source and its versions are appended to the destination file’s history', async () => {
    await seed('/c4/');
    const existing = await put(s, '/c4/dest/src/', 'a.png', other);
    await runJob(s, 'copyFolder', { sourceFolderPath: '/c4/src/', destinationPath: '/c4/dest/', includeVersions: true });
    const a = (await filesIn(s.dataDir, '/c4/dest/')).get('/c4/dest/src/a.png')!;
    assert.equal(a.id, existing.body.fileId, 'the destination file keeps its id');
    assert.equal(a.versions, 3, 'its own version + the two copied');
    assert.equal((await served(s, '/c4/dest/src/a.png')).sha, sha256(v2), 'the source’s current version is now current');
    const details = await api(s, 'GET', `/v1/files/${a.id}/details`);
    assert.equal(details.body.versionInfo.name, 'Version 3');
  });

  test('move: everything lands at the destination with its ids; nothing is left at the source', async () => {
    await seed('/m1/');
    const before = await filesIn(s.dataDir, '/m1/src/');
    const blobs = (await blobFiles(s.dataDir)).length;
    const job = await runJob(s, 'moveFolder', { sourceFolderPath: '/m1/src', destinationPath: '/m1/dest' });
    assert.equal(job.type, 'MOVE_FOLDER');
    assert.deepEqual(await folderPaths(s.dataDir, '/m1/src/'), []);
    assert.equal((await filesIn(s.dataDir, '/m1/src/')).size, 0);
    assert.deepEqual(await folderPaths(s.dataDir, '/m1/dest/'), ['/m1/dest/', '/m1/dest/src/', '/m1/dest/src/sub/', '/m1/dest/src/sub/empty/']);
    const after = await filesIn(s.dataDir, '/m1/dest/');
    assert.equal(after.get('/m1/dest/src/a.png')!.id, before.get('/m1/src/a.png')!.id);
    assert.equal(after.get('/m1/dest/src/a.png')!.versions, 2);
    assert.equal(after.get('/m1/dest/src/sub/b.jpg')!.id, before.get('/m1/src/sub/b.jpg')!.id);
    assert.equal((await served(s, '/m1/src/a.png')).status, 404);
    assert.equal((await served(s, '/m1/dest/src/a.png')).sha, sha256(v2));
    assert.equal((await blobFiles(s.dataDir)).length, blobs, 'a move copies no bytes');
  });

  test('move onto namesakes appends to their history; merged folders are removed from the source', async () => {
    await seed('/m2/');
    const existing = await put(s, '/m2/dest/src/', 'a.png', other);
    await runJob(s, 'moveFolder', { sourceFolderPath: '/m2/src/', destinationPath: '/m2/dest/' });
    const a = (await filesIn(s.dataDir, '/m2/dest/')).get('/m2/dest/src/a.png')!;
    assert.equal(a.id, existing.body.fileId);
    assert.equal(a.versions, 3);
    assert.equal((await served(s, '/m2/dest/src/a.png')).sha, sha256(v2));
    assert.equal((await filesIn(s.dataDir, '/m2/src/')).size, 0);
    assert.deepEqual(await folderPaths(s.dataDir, '/m2/src/'), []);
    assert.equal(await referencedBlobs(s.dataDir), (await blobFiles(s.dataDir)).length, 'no bytes lost or orphaned');
  });

  test('rename: same ids under the new name; purgeCache gives the job a purgeRequestId', async () => {
    await seed('/r1/');
    const before = await filesIn(s.dataDir, '/r1/src/');
    const job = await runJob(s, 'renameFolder', { folderPath: '/r1/src', newFolderName: 'new name' });
    assert.equal(job.type, 'RENAME_FOLDER');
    assert.equal(job.purgeRequestId, undefined);
    assert.deepEqual(await folderPaths(s.dataDir, '/r1/'), ['/r1/', '/r1/new_name/', '/r1/new_name/sub/', '/r1/new_name/sub/empty/']);
    const after = await filesIn(s.dataDir, '/r1/new_name/');
    assert.equal(after.get('/r1/new_name/a.png')!.id, before.get('/r1/src/a.png')!.id);
    assert.equal(after.get('/r1/new_name/sub/b.jpg')!.id, before.get('/r1/src/sub/b.jpg')!.id);
    const details = await api(s, 'GET', `/v1/files/${after.get('/r1/new_name/a.png')!.id}/details`);
    assert.equal(details.body.filePath, '/r1/new_name/a.png');
    assert.equal((await served(s, '/r1/src/a.png')).status, 404);

    const purged = await runJob(s, 'renameFolder', { folderPath: '/r1/new_name/', newFolderName: 'third', purgeCache: true });
    assert.match(purged.purgeRequestId ?? '', /^[0-9a-f]{24}$/);
    const purge = await api(s, 'GET', `/v1/files/purge/${purged.purgeRequestId}`);
    assert.equal(purge.status, 200, purge.text);
    assert.equal(purge.body.status, 'Completed');
    assert.deepEqual([...(await filesIn(s.dataDir, '/r1/third/')).keys()], ['/r1/third/a.png', '/r1/third/sub/b.jpg']);
  });

  test('rename refusals: 404 missing, 409 taken, 400 root / missing name / bad purgeCache', async () => {
    await seed('/r2/');
    await api(s, 'POST', '/v1/folder', { folderName: 'taken', parentFolderPath: '/r2/' });
    const missing = await api(s, 'POST', '/v1/bulkJobs/renameFolder', { folderPath: '/r2/nope', newFolderName: 'x' });
    assertApiError(missing, 404);
    const taken = await api(s, 'POST', '/v1/bulkJobs/renameFolder', { folderPath: '/r2/src', newFolderName: 'taken' });
    assertApiError(taken, 409, 'Folder with name taken already exists at the same location.');
    assertApiError(await api(s, 'POST', '/v1/bulkJobs/renameFolder', { folderPath: '/r2/src', newFolderName: 'src' }), 409);
    assertApiError(await api(s, 'POST', '/v1/bulkJobs/renameFolder', { folderPath: '/', newFolderName: 'x' }), 400, 'folderPath cannot be root.');
    assertApiError(await api(s, 'POST', '/v1/bulkJobs/renameFolder', { newFolderName: 'x' }), 400, 'folderPath parameter is missing.');
    assertApiError(await api(s, 'POST', '/v1/bulkJobs/renameFolder', { folderPath: '/r2/src' }), 400);
    assertApiError(await api(s, 'POST', '/v1/bulkJobs/renameFolder', { folderPath: '/r2/src', newFolderName: '..' }), 400);
    assertApiError(await api(s, 'POST', '/v1/bulkJobs/renameFolder', { folderPath: '/r2/src', newFolderName: 'y', purgeCache: 'yes' }), 400);
    assert.equal((await filesIn(s.dataDir, '/r2/src/')).size, 2, 'nothing moved');
  });

  test('copy / move refusals, each with the spec’s reason', async () => {
    await seed('/e1/');
    for (const op of ['copyFolder', 'moveFolder'] as const) {
      const cases: Array<[unknown, number, string]> = [
        [{ destinationPath: '/x/' }, 400, 'MISSING_PARAMETER'],
        [{ sourceFolderPath: '/e1/src' }, 400, 'MISSING_PARAMETER'],
        [{ sourceFolderPath: '/', destinationPath: '/x/' }, 400, 'SOURCE_IS_ROOT'],
        [{ sourceFolderPath: '/e1/src', destinationPath: '/e1/src/' }, 400, 'SAME_SOURCE_AND_DESTINATION'],
        [{ sourceFolderPath: '/e1/src', destinationPath: '/e1/' }, 400, 'SAME_SOURCE_AND_DESTINATION'],
        [{ sourceFolderPath: '/e1/src', destinationPath: '/e1/src/sub' }, 400, 'INVALID_DESTINATION_PATH'],
        [{ sourceFolderPath: '/e1/src', destinationPath: '/x/../y' }, 400, 'INVALID_FOLDER_PATH'],
        [{ sourceFolderPath: '/e1/none', destinationPath: '/x/' }, 404, 'NO_FILES_FOLDER'],
      ];
      for (const [body, status, reason] of cases) {
        const r = await api(s, 'POST', `/v1/bulkJobs/${op}`, body);
        assertApiError(r, status);
        assert.equal(r.body.reason, reason, `${op} ${JSON.stringify(body)}: ${r.text}`);
      }
    }
    const bad = await api(s, 'POST', '/v1/bulkJobs/copyFolder', { sourceFolderPath: '/e1/src', destinationPath: '/x/', includeVersions: 'yes' });
    assertApiError(bad, 400);
    assert.equal(bad.body.reason, 'INVALID_PARAMETER');
    assertApiError(await api(s, 'POST', '/v1/bulkJobs/copyFolder', { sourceFolderPath: '/e1/src', destinationPath: '/x/' }, { auth: null }), 401);
    assert.equal((await filesIn(s.dataDir, '/x/')).size, 0);
  });

  test('job status: an unknown or malformed jobId is 404', async () => {
    assertApiError(await api(s, 'GET', '/v1/bulkJobs/ffffffffffffffffffffffff'), 404);
    assertApiError(await api(s, 'GET', '/v1/bulkJobs/not-a-job'), 404);
    assertApiError(await api(s, 'GET', '/v1/bulkJobs/ffffffffffffffffffffffff', undefined, { auth: null }), 401);
  });
});

// ------------------------------------------------------------------------------------------

/**
 * Rows for `count` more files under /big/, cloned from the uploaded ones: every 10th with two
 * versions, each version with its own bytes (hard links, as the blob store itself copies).
 */
async function seedBig(dataDir: string, count: number): Promise<void> {
  const store = await openStoreFor(dataDir);
  const blobs = await openBlobsFor(dataDir);
  const lib = new Library({ store, blobs });
  try {
    const templates = await store.repo.listFilesUnder('/big/', null, 10);
    assert.ok(templates.length >= 2);
    const tv = await Promise.all(templates.map((t) => store.repo.getVersion(t.id, t.currentVersionId)));
    const linkBlob = async (from: string): Promise<string> => {
      const key = lib.newBlobKey();
      const dest = blobs.localPath(key);
      const src = blobs.localPath(from);
      if (dest === undefined || src === undefined) {
        await blobs.copy(from, key);
        return key;
      }
      mkdirSync(dirname(dest), { recursive: true });
      linkSync(src, dest);
      return key;
    };
    const now = new Date().toISOString();
    for (let start = 0; start < count; start += 500) {
      // The bytes first, several at a time (each S3 copy is a round trip), then the rows in one transaction.
      const versionCount = (i: number) => (i % 10 === 0 ? 2 : 1);
      const copies: Array<{ from: string; key?: string }> = [];
      for (let i = start; i < Math.min(count, start + 500); i++) {
        for (let n = 1; n <= versionCount(i); n++) copies.push({ from: tv[i % tv.length]!.blobKey });
      }
      let nextCopy = 0;
      const copier = async () => {
        while (nextCopy < copies.length) {
          const c = copies[nextCopy++]!;
          c.key = await linkBlob(c.from);
        }
      };
      await Promise.all(Array.from({ length: 16 }, copier));
      const keys = copies.map((c) => c.key!);
      await store.transaction(async (tx) => {
        let k = 0;
        for (let i = start; i < Math.min(count, start + 500); i++) {
          const folderPath = `/big/s${String(i % 25).padStart(2, '0')}/${i % 3 === 0 ? 'deep/' : ''}`;
          await lib.ensureFolders(tx, folderPath, now);
          const t = tv[i % tv.length]!;
          const name = `f${String(i).padStart(5, '0')}.${t.format}`;
          const fileId = newId();
          const nVersions = versionCount(i);
          let last!: VersionRecord;
          for (let n = 1; n <= nVersions; n++) {
            last = { ...t, id: newId(), fileId, name, folderPath, filePath: folderPath + name, blobKey: keys[k++]!, versionNumber: n, createdAt: now, updatedAt: now };
            await tx.insertVersion(last);
          }
          const { fileId: _f, id: versionId, ...state } = last;
          const file: FileRecord = { ...state, id: fileId, currentVersionId: versionId };
          await tx.insertFile(file);
        }
      });
    }
  } finally {
    await store.close();
  }
}

describe('kill -9 in the middle of a folder copy', { timeout: 600_000 }, () => {
  test('after a restart the job completes: every file copied exactly once, no orphan bytes, Completed', async () => {
    const N = 3000;
    const env = { TESSERA_JOB_BATCH_SIZE: '100', TESSERA_JOB_LEASE_MS: '1500', TESSERA_JOB_POLL_MS: '100' };
    let s = await start(env);
    const dataDir = s.dataDir;
    const t0 = Date.now();
    await put(s, '/big/', 'seed-a.png', await makePng(16, 16));
    await put(s, '/big/', 'seed-b.jpg', await makeJpeg(17, 16));
    await put(s, '/big/', 'seed-b.jpg', await makeJpeg(18, 16));
    await s.stop({ keepData: true });
    await seedBig(dataDir, N);
    const source = await filesIn(dataDir, '/big/');
    assert.equal(source.size, N + 2);
    const sourceVersions = [...source.values()].reduce((n, f) => n + f.versions, 0);
    const seededIn = Date.now() - t0;

    s = await start(env, dataDir);
    const blobsBefore = (await blobFiles(dataDir)).length;
    assert.equal(blobsBefore, await referencedBlobs(dataDir));
    const submitted = await api(s, 'POST', '/v1/bulkJobs/copyFolder', { sourceFolderPath: '/big', destinationPath: '/copy', includeVersions: true });
    assert.equal(submitted.status, 200, submitted.text);
    const jobId = submitted.body.jobId as string;

    // Let a few batches commit, then check the running job is reported Pending and locks its folders.
    const deadline = Date.now() + 60_000;
    while ((((await jobRow(dataDir, jobId)).progress.files as number) ?? 0) < 500) {
      assert.ok(Date.now() < deadline, 'the job made no progress');
      await sleep(5);
    }
    const pending = await api(s, 'GET', `/v1/bulkJobs/${jobId}`);
    assert.deepEqual(pending.body, { jobId, type: 'COPY_FOLDER', status: 'Pending' });
    const lockedSource = await api(s, 'POST', '/v1/bulkJobs/moveFolder', { sourceFolderPath: '/big/s01', destinationPath: '/elsewhere' });
    assertApiError(lockedSource, 423, 'A bulk job is running on given folder path, please try after sometime.');
    const lockedDest = await api(s, 'POST', '/v1/bulkJobs/copyFolder', { sourceFolderPath: '/big/s02', destinationPath: '/copy/big/s03' });
    assertApiError(lockedDest, 423);

    // Kill while a batch's bytes are placed but its rows are not committed (journal non-empty),
    // the window the start-up sweep exists for; any other moment is fine too.
    for (const until = Date.now() + 5000; (await storeCounts(dataDir)).journal === 0 && Date.now() < until; ) await sleep(1);
    await s.kill('SIGKILL');
    const journalAtKill = (await storeCounts(dataDir)).journal;
    const atKill = await jobRow(dataDir, jobId);
    const copiedAtKill = await filesIn(dataDir, '/copy/');
    assert.equal(atKill.status, 'running', 'killed while the job was running');
    assert.ok((atKill.progress.files as number) < N, `killed mid-job (${String(atKill.progress.files)} of ${N + 2} done)`);
    assert.equal(copiedAtKill.size, atKill.progress.files, 'committed rows match the committed cursor');

    // A shared (PostgreSQL) journal is settled at start only past a grace period (a young entry may
    // be another node's write in flight); age the killed batch's entries as if that time had passed.
    // (The embedded journal is settled whatever its age.)
    await execSql(dataDir, 'update blob_journal set created_at = ?', [new Date(Date.now() - 2 * SHARED_JOURNAL_GRACE_MS).toISOString()]);
    s = await start(env, dataDir);
    const resumedAt = Date.now();
    const done = await waitJob(s, jobId, 120_000);
    assert.deepEqual(done.body, { jobId, type: 'COPY_FOLDER', status: 'Completed' });
    const resumeMs = Date.now() - resumedAt;

    const copied = await filesIn(dataDir, '/copy/big/');
    assert.equal(copied.size, source.size, 'every file is there');
    for (const [path, src] of source) {
      const dst = copied.get(`/copy${path}`);
      assert.ok(dst, `missing copy of ${path}`);
      assert.equal(dst.versions, src.versions, `${path}: copied exactly once (versions ${dst.versions} vs ${src.versions})`);
      assert.equal(dst.checksum, src.checksum);
    }
    const final = await jobRow(dataDir, jobId);
    assert.equal(final.status, 'completed');
    assert.equal(final.attempts, 2, 'one attempt killed, one finished');
    assert.equal(final.progress.files, N + 2);
    assert.equal(final.progress.versions, sourceVersions);

    // No orphans: every blob on disk is a version's, and each version owns exactly one.
    assert.equal((await storeCounts(dataDir)).journal, 0);
    assert.equal(await referencedBlobs(dataDir), blobsBefore + sourceVersions);
    assert.equal((await blobFiles(dataDir)).length, blobsBefore + sourceVersions);
    assert.deepEqual((await folderPaths(dataDir, '/copy/big/')).length, (await folderPaths(dataDir, '/big/')).length);
    // Spot checks through delivery: the copies serve the source's bytes.
    const sample = [...source.keys()].filter((_, i) => i % 997 === 0 || i === 1);
    for (const p of sample) {
      const [a, b] = await Promise.all([served(s, p), served(s, `/copy${p}`)]);
      assert.equal(b.status, 200, p);
      assert.equal(b.sha, a.sha, p);
    }
    console.log(
      `# restart mid-copy: ${N + 2} files / ${sourceVersions} versions seeded in ${seededIn} ms; ` +
        `killed at ${String(atKill.progress.files)} files with ${journalAtKill} journaled blobs; resumed job finished ${resumeMs} ms after restart (lease 1.5 s)`,
    );
  });
});

// ------------------------------------------------------------------------------------------

describe('official SDK: folders and bulk jobs', { timeout: 180_000, skip: specAvailable ? false : SPEC_MISSING_MESSAGE }, () => {
  let s: TestServer;
  let client: ImageKit;
  before(async () => {
    s = await sharedServer();
    client = new ImageKit({ privateKey: s.privateKey, baseURL: s.baseUrl, maxRetries: 0 });
    await put(s, '/sdk/src/', 'a.png', await makePng(12, 12));
    await put(s, '/sdk/src/', 'a.png', await makePng(13, 12));
    await put(s, '/sdk/src/in/', 'b.png', await makePng(14, 12));
  });

  async function ok<T>(call: APIPromise<T>, path: string, method: string, status: number): Promise<T> {
    const { data, response } = await call.withResponse();
    assert.equal(response.status, status, `${method} ${path}`);
    const ref = responseSchemaFor(path, method, status);
    if (status === 204) {
      assert.ok(data === null || data === undefined || (typeof data === 'object' && Object.keys(data as object).length === 0));
      return data;
    }
    assert.ok(ref, `${method} ${path} ${status} has a JSON body`);
    assertMatchesSchema(data, ref);
    return data;
  }

  async function fails(call: Promise<unknown>, status: number, path: string, method: string): Promise<Record<string, unknown>> {
    return (await expectSdkError(call, ImageKit.APIError, status, path, method)).error;
  }

  async function jobDone(jobId: string, type: string) {
    for (let i = 0; i < 400; i++) {
      const st = await ok(client.folders.job.get(jobId), '/v1/bulkJobs/{jobId}', 'get', 200);
      assert.equal(st.jobId, jobId);
      assert.equal(st.type, type);
      if (st.status === 'Completed') return st;
      assert.equal(st.status, 'Pending');
      await sleep(25);
    }
    assert.fail('job never completed');
  }

  test('folders.create and folders.delete', async () => {
    const created = await ok(client.folders.create({ folderName: 'made', parentFolderPath: '/sdk/new/' }), '/v1/folder', 'post', 201);
    assert.deepEqual(created, {});
    assert.deepEqual(await folderPaths(s.dataDir, '/sdk/new/'), ['/sdk/new/', '/sdk/new/made/']);
    await ok(client.folders.delete({ folderPath: '/sdk/new/' }), '/v1/folder', 'delete', 204);
    assert.deepEqual(await folderPaths(s.dataDir, '/sdk/new/'), []);
    const body = await fails(client.folders.delete({ folderPath: '/sdk/new/' }), 404, '/v1/folder', 'delete');
    assert.equal(body.reason, 'FOLDER_NOT_FOUND');
    const bad = await fails(client.folders.create({ folderName: '..', parentFolderPath: '/' }), 400, '/v1/folder', 'post');
    assert.equal(bad.reason, 'INVALID_FOLDER_PATH');
  });

  test('folders.copy, folders.move, folders.rename and folders.job.get', async () => {
    const copy = await ok(
      client.folders.copy({ sourceFolderPath: '/sdk/src', destinationPath: '/sdk/copy', includeVersions: true }),
      '/v1/bulkJobs/copyFolder',
      'post',
      200,
    );
    await jobDone(copy.jobId, 'COPY_FOLDER');
    assert.equal((await filesIn(s.dataDir, '/sdk/copy/')).get('/sdk/copy/src/a.png')?.versions, 2);

    const move = await ok(client.folders.move({ sourceFolderPath: '/sdk/copy/src', destinationPath: '/sdk/moved' }), '/v1/bulkJobs/moveFolder', 'post', 200);
    await jobDone(move.jobId, 'MOVE_FOLDER');
    assert.equal((await filesIn(s.dataDir, '/sdk/copy/')).size, 0);
    assert.equal((await filesIn(s.dataDir, '/sdk/moved/src/')).size, 2);

    const rename = await ok(
      client.folders.rename({ folderPath: '/sdk/moved/src', newFolderName: 'renamed', purgeCache: true }),
      '/v1/bulkJobs/renameFolder',
      'post',
      202,
    );
    const st = await jobDone(rename.jobId, 'RENAME_FOLDER');
    assert.match(st.purgeRequestId ?? '', /^[0-9a-f]{24}$/);
    assert.deepEqual([...(await filesIn(s.dataDir, '/sdk/moved/renamed/')).keys()], ['/sdk/moved/renamed/a.png', '/sdk/moved/renamed/in/b.png']);

    await fails(client.folders.copy({ sourceFolderPath: '/sdk/none', destinationPath: '/x' }), 404, '/v1/bulkJobs/copyFolder', 'post');
    await fails(client.folders.copy({ sourceFolderPath: '/', destinationPath: '/x' }), 400, '/v1/bulkJobs/copyFolder', 'post');
    await fails(client.folders.move({ sourceFolderPath: '/sdk/src', destinationPath: '/sdk/src/in' }), 400, '/v1/bulkJobs/moveFolder', 'post');
    await fails(client.folders.rename({ folderPath: '/sdk/none', newFolderName: 'x' }), 404, '/v1/bulkJobs/renameFolder', 'post');
    await fails(client.folders.rename({ folderPath: '/sdk/src', newFolderName: 'copy' }), 409, '/v1/bulkJobs/renameFolder', 'post');
    await fails(client.folders.rename({ folderPath: '/', newFolderName: 'x' }), 400, '/v1/bulkJobs/renameFolder', 'post');
  });
});
