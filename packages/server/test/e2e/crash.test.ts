/**
 * Crash safety: a kill -9 in the middle of a large upload leaves nothing behind after a restart;
 * bytes placed in the blob store whose row never committed are swept at start; a completed
 * upload survives kill -9 byte for byte.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { FileRecord, VersionRecord } from '../../src/ports/metadata-store.js';
import { Library, SHARED_JOURNAL_GRACE_MS } from '../../src/services/library.js';
import { newId } from '../../src/util/ids.js';
import { assetState } from '../support/records.js';
import { recordedBackend } from '../support/scaleout.js';
import { prepareTestBackend, startTestServer, type TestServer } from '../support/server.js';
import {
  basicAuth,
  blobFiles,
  download,
  execSql,
  getDetails,
  makePng,
  multipartEnds,
  openBlobsFor,
  openStoreFor,
  sha256,
  storeCounts,
  tmpFiles,
  upload,
} from '../support/e2e-helpers.js';

const cleanup: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tessera-crash-'));
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function tmpBytes(dataDir: string): number {
  return tmpFiles(dataDir).reduce((n, f) => {
    try {
      return n + statSync(join(dataDir, 'tmp', f)).size;
    } catch {
      return n;
    }
  }, 0);
}

describe('kill -9 during a large upload', () => {
  test('after a restart the library holds nothing of it and no orphan bytes remain', async () => {
    const dataDir = tempDir();
    let server: TestServer = await startTestServer({ dataDir });

    const SIZE = 300 * 1024 * 1024;
    const CHUNK = randomBytes(1024 * 1024);
    const boundary = 'tessera-crash-boundary-7f3a';
    const { head, tail } = multipartEnds(boundary, { fileName: 'big.bin', useUniqueFileName: 'false' }, 'big.bin');

    const req = httpRequest(`${server.baseUrl}/api/v1/files/upload`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(server.privateKey),
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + SIZE + tail.length),
      },
    });
    let failed = false;
    const outcome = new Promise<string>((resolve) => {
      req.on('response', (res) => {
        res.resume();
        resolve(`response ${res.statusCode}`);
      });
      req.on('error', (e) => {
        failed = true;
        resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`);
      });
    });

    // Stream from a generator; once the server has tens of MB on disk, kill it.
    async function* body() {
      yield head;
      for (let sent = 0; sent < SIZE; sent += CHUNK.length) yield CHUNK;
      yield tail;
    }
    let killed = false;
    let spooledAtKill = 0;
    for await (const chunk of body()) {
      if (failed) break;
      if (!req.write(chunk)) await Promise.race([once(req, 'drain'), outcome]);
      if (!killed && tmpBytes(dataDir) >= 40 * 1024 * 1024) {
        spooledAtKill = tmpBytes(dataDir);
        await server.kill('SIGKILL');
        killed = true;
      }
    }
    if (!failed) req.end();
    const how = await outcome;
    assert.ok(killed, `the server was never killed (${how}); it spooled too slowly?`);
    assert.match(how, /^error /, `the client must see the connection die, got ${how}`);
    assert.ok(spooledAtKill >= 40 * 1024 * 1024);
    assert.ok(spooledAtKill < SIZE, 'killed mid-upload');
    // The kill left the partial spool file behind: that is what the restart must clean up.
    assert.ok(tmpFiles(dataDir).length >= 1, 'expected a partial spool file after the kill');

    server = await startTestServer({ dataDir });
    cleanup.push(() => server.stop());

    assert.deepEqual(tmpFiles(dataDir), [], 'tmp/ is emptied at start');
    assert.deepEqual(await blobFiles(dataDir), [], 'no orphan bytes in blobs/');
    const counts = await storeCounts(dataDir);
    assert.equal(counts.files, 0);
    assert.equal(counts.versions, 0);
    assert.equal(counts.journal, 0);

    // The same path is free: uploading it again makes Version 1 of a new file.
    const r = await upload(server, { fileName: 'big.bin', useUniqueFileName: 'false' }, { bytes: randomBytes(1000) });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.versionInfo.name, 'Version 1');
  });
});

/** Minimal rows for a file whose only version points at blobKey. */
function rowsFor(blobKey: string, size: number, checksum: string): { file: FileRecord; version: VersionRecord } {
  const now = new Date().toISOString();
  const fileId = newId();
  const versionId = newId();
  const state = assetState({ name: 'swept.bin', filePath: '/swept.bin', size, blobKey, checksum, createdAt: now, updatedAt: now });
  return {
    file: { ...state, id: fileId, currentVersionId: versionId },
    version: { ...state, id: versionId, fileId },
  };
}

/**
 * Reproduces "killed after the bytes were placed but before the row committed" (and its twin,
 * "killed after the row committed but before the journal entry was cleared"), by driving the
 * store and blob classes directly, the way UploadService does.
 */
async function placeJournaledBlobs(dataDir: string) {
  await prepareTestBackend(dataDir);
  const store = await openStoreFor(dataDir);
  const blobs = await openBlobsFor(dataDir);
  const lib = new Library({ store, blobs });

  const orphanBytes = randomBytes(4096);
  const keptBytes = randomBytes(5000);
  const orphanKey = lib.newBlobKey();
  const keptKey = lib.newBlobKey();
  for (const [key, bytes] of [
    [orphanKey, orphanBytes],
    [keptKey, keptBytes],
  ] as const) {
    // putFile renames this into blobs/, as the upload path does with its spool file.
    const src = join(dataDir, `${key}.src`);
    writeFileSync(src, bytes);
    await lib.journalAndPlace([key], () => blobs.putFile(key, src));
  }
  // The kept blob's row commits; its journal entry is (as after a crash) never cleared.
  const { file, version } = rowsFor(keptKey, keptBytes.length, sha256(keptBytes));
  await store.transaction(async (tx) => {
    await tx.insertFile(file);
    await tx.insertVersion(version);
  });
  return { store, blobs, lib, orphanKey, keptKey, keptBytes, fileId: file.id };
}

describe('the start-up sweep of the blob journal', () => {
  test('Library.sweepJournal removes a journaled blob with no row and keeps one a version uses', async () => {
    const dataDir = tempDir();
    const { store, blobs, lib, orphanKey, keptKey, keptBytes } = await placeJournaledBlobs(dataDir);
    try {
      assert.ok((await blobs.size(orphanKey)) !== undefined);
      assert.ok((await blobs.size(keptKey)) !== undefined);
      assert.deepEqual((await store.repo.journaledBlobs(10)).sort(), [orphanKey, keptKey].sort());

      // sharedGraceMs 0: on a shared (PostgreSQL) journal too, settle entries however young.
      const result = await lib.sweepJournal({ sharedGraceMs: 0 });
      assert.deepEqual(result, { removed: 1, kept: 1 });
      assert.equal(await blobs.size(orphanKey), undefined, 'the orphan is removed');
      assert.equal(await blobs.size(keptKey), keptBytes.length, 'the used blob is kept');
      assert.equal(await blobs.size(keptKey), keptBytes.length);
      assert.deepEqual(await store.repo.journaledBlobs(10), [], 'the journal is settled');

      // A second sweep has nothing to do.
      assert.deepEqual(await lib.sweepJournal({ sharedGraceMs: 0 }), { removed: 0, kept: 0 });
    } finally {
      await store.close();
    }
  });

  test('the real server runs the sweep at start', async () => {
    const dataDir = tempDir();
    const { store, blobs, orphanKey, keptKey, keptBytes, fileId } = await placeJournaledBlobs(dataDir);
    await store.close();
    // A shared (PostgreSQL) journal is settled only past a grace period (a young entry may be
    // another node's write in flight): these entries are made old enough.
    if (recordedBackend(dataDir)) await execSql(dataDir, 'update blob_journal set created_at = ?', [new Date(Date.now() - 2 * SHARED_JOURNAL_GRACE_MS).toISOString()]);

    const server = await startTestServer({ dataDir });
    cleanup.push(() => server.stop());
    assert.equal(await blobs.size(orphanKey), undefined, 'the orphan is gone after start');
    assert.equal(await blobs.size(keptKey), keptBytes.length);
    assert.equal((await storeCounts(dataDir)).journal, 0);

    const d = await getDetails(server, fileId);
    assert.equal(d.status, 200, d.text);
    const got = await download(d.body.url);
    assert.equal(got.status, 200);
    assert.equal(sha256(got.bytes), sha256(keptBytes));
  });
});

describe('kill -9 after a completed upload', () => {
  test('the file survives, byte-identical', async () => {
    const dataDir = tempDir();
    let server = await startTestServer({ dataDir });
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const png = await makePng(33, 21, true);
    const a = await upload(server, { fileName: 'survivor.bin', useUniqueFileName: 'false' }, { bytes: big });
    const b = await upload(server, { fileName: 'survivor.png', useUniqueFileName: 'false' }, png.toString('base64'));
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    // No grace period: the 200 means it is durable.
    await server.kill('SIGKILL');

    server = await startTestServer({ dataDir });
    cleanup.push(() => server.stop());
    for (const [r, bytes] of [
      [a, big],
      [b, png],
    ] as const) {
      const d = await getDetails(server, r.body.fileId);
      assert.equal(d.status, 200, d.text);
      assert.equal(d.body.size, bytes.length);
      const got = await download(d.body.url);
      assert.equal(got.status, 200);
      assert.equal(got.bytes.length, bytes.length);
      assert.equal(sha256(got.bytes), sha256(bytes));
    }
    const pd = await getDetails(server, b.body.fileId);
    assert.equal(pd.body.width, 33);
    assert.equal(pd.body.hasAlpha, true);
    assert.equal((await blobFiles(dataDir)).length, 2);
    assert.deepEqual(tmpFiles(dataDir), []);
    assert.equal((await storeCounts(dataDir)).journal, 0);
  });
});
