/**
 * The server with its bytes in S3 (TESSERA_S3_* pointing at this file's s3rver, under a key
 * prefix; rows in SQLite on the embedded pass, in PostgreSQL on the scale-out pass): nothing of a
 * file lands in <data dir>/blobs, and every path that reads bytes — the
 * original (whole and ranged), a transformed variant, copy, versions and restore, delete — works
 * from the bucket. Also: a bucket that does not answer stops the server at start with one line.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import S3rver from 's3rver';
import sharp from 'sharp';
import { S3BlobStore } from '../../src/adapters/blob/s3/index.js';
import { api, fetchBytes, filesUnder, sha256, uploadFile, type Json } from '../support/e2e-helpers.js';
import { scene } from '../support/media-fixtures.js';
import { s3rverBlobs } from '../support/scaleout.js';
import { startTestServer, type TestServer } from '../support/server.js';

const BUCKET = 'tessera-e2e';
const PREFIX = 'node-a/';

let s3: S3rver;
let s3Dir: string;
let endpoint: string;
let srv: TestServer;
let bucketView: S3BlobStore;

function s3Env(bucket = BUCKET): Record<string, string> {
  return {
    TESSERA_S3_BUCKET: bucket,
    TESSERA_S3_ENDPOINT: endpoint,
    TESSERA_S3_REGION: 'us-east-1',
    TESSERA_S3_ACCESS_KEY_ID: 'S3RVER',
    TESSERA_S3_SECRET_ACCESS_KEY: 'S3RVER',
    TESSERA_S3_FORCE_PATH_STYLE: 'true',
    TESSERA_S3_PREFIX: PREFIX,
  };
}

/** Blob keys the server holds in the bucket (under its prefix). */
async function bucketKeys(): Promise<string[]> {
  const out: string[] = [];
  for await (const k of bucketView.keys()) out.push(k);
  return out.sort();
}

before(async () => {
  s3Dir = mkdtempSync(join(tmpdir(), 'tessera-b-s3e2e-'));
  s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3Dir, configureBuckets: [{ name: BUCKET, configs: [] }] });
  endpoint = `http://127.0.0.1:${((await s3.run()) as AddressInfo).port}`;
  srv = await startTestServer({ env: s3Env() });
  bucketView = await S3BlobStore.open(s3rverBlobs(endpoint, BUCKET, PREFIX));
});

after(async () => {
  bucketView?.close();
  await srv?.stop();
  await s3?.close();
  rmSync(s3Dir, { recursive: true, force: true });
});

describe('a server whose blobs are in S3', () => {
  let original: Buffer;
  let v2bytes: Buffer;
  let up: Json;

  test('upload: the bytes go to the bucket, none to the data dir', async () => {
    original = await scene(1).resize(400, 300).jpeg({ quality: 85 }).toBuffer();
    up = await uploadFile(srv, original, 'photo.jpg', { folder: 's3', useUniqueFileName: 'false' });
    assert.equal(up.size, original.length);
    assert.deepEqual(filesUnder(join(srv.dataDir, 'blobs')), [], 'nothing under <data dir>/blobs');
    const keys = await bucketKeys();
    assert.equal(keys.length, 1);
    assert.equal(await bucketView.size(keys[0]!), original.length);
  });

  test('the original is served from the bucket, whole and by range', async () => {
    const whole = await fetchBytes(up.url);
    assert.equal(whole.status, 200);
    assert.equal(sha256(whole.bytes), sha256(original));
    const ranged = await fetchBytes(up.url, { range: 'bytes=10-99' });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get('content-range'), `bytes 10-99/${original.length}`);
    assert.ok(ranged.bytes.equals(original.subarray(10, 100)));
    const first = await fetchBytes(up.url, { range: 'bytes=0-0' });
    assert.equal(first.status, 206);
    assert.ok(first.bytes.equals(original.subarray(0, 1)), 'a one-byte range is one byte');
    const suffix = await fetchBytes(up.url, { range: 'bytes=-7' });
    assert.equal(suffix.status, 206);
    assert.ok(suffix.bytes.equals(original.subarray(original.length - 7)));
  });

  test('a transformation renders from the bucket', async () => {
    const res = await fetchBytes(`${srv.urlEndpoint}/s3/photo.jpg?tr=w-100,f-png`);
    assert.equal(res.status, 200, res.bytes.toString('utf8').slice(0, 200));
    const meta = await sharp(res.bytes).metadata();
    assert.equal(meta.format, 'png');
    assert.equal(meta.width, 100);
    assert.equal(meta.height, 75);
    // The download for sharp went to a temp file that is gone again.
    assert.deepEqual(filesUnder(join(srv.dataDir, 'tmp')), []);
    assert.deepEqual(
      filesUnder(join(srv.dataDir, 'cache')).filter((f) => f.includes('tmp')),
      [],
      'no temp download left in the cache dir',
    );
  });

  test('copy: a second object in the bucket with the same bytes', async () => {
    const r = await api(srv, 'POST', '/v1/files/copy', { sourceFilePath: '/s3/photo.jpg', destinationPath: '/s3copy/' });
    assert.equal(r.status, 204, r.text);
    assert.equal((await bucketKeys()).length, 2);
    const copied = await fetchBytes(`${srv.urlEndpoint}/s3copy/photo.jpg`);
    assert.equal(copied.status, 200);
    assert.equal(sha256(copied.bytes), sha256(original));
  });

  test('a new version, then restoring the first: each URL serves the right bytes', async () => {
    v2bytes = await scene(2).resize(200, 100).jpeg().toBuffer();
    const up2 = await uploadFile(srv, v2bytes, 'photo.jpg', { folder: 's3', useUniqueFileName: 'false' });
    assert.equal(up2.fileId, up.fileId);
    const now = await fetchBytes(`${srv.urlEndpoint}/s3/photo.jpg?v=2`);
    assert.equal(sha256(now.bytes), sha256(v2bytes), 'the current version is the new upload');
    const small = await fetchBytes(`${srv.urlEndpoint}/s3/photo.jpg?tr=w-50`);
    assert.equal((await sharp(small.bytes).metadata()).height, 25, 'the variant is of version 2 (200x100)');

    const restored = await api(srv, 'PUT', `/v1/files/${up.fileId}/versions/${up.versionInfo.id}/restore`);
    assert.equal(restored.status, 200, restored.text);
    const back = await fetchBytes(`${srv.urlEndpoint}/s3/photo.jpg?v=3`);
    assert.equal(sha256(back.bytes), sha256(original), 'the restored version serves the first bytes');
    const small2 = await fetchBytes(`${srv.urlEndpoint}/s3/photo.jpg?tr=w-50&v=3`);
    assert.equal((await sharp(small2.bytes).metadata()).height, 38, 'the variant is of the restored version (400x300)');
  });

  test('delete: the file’s objects leave the bucket, the copy’s stay until it goes too', async () => {
    const before = await bucketKeys();
    assert.equal(before.length, 3, 'v1, v2 and the copy');
    const del = await api(srv, 'DELETE', `/v1/files/${up.fileId}`);
    assert.equal(del.status, 204, del.text);
    assert.equal((await bucketKeys()).length, 1);
    assert.equal((await fetchBytes(up.url)).status, 404);
    const copy = await api(srv, 'GET', '/v1/files?path=/s3copy/');
    assert.equal(copy.status, 200, copy.text);
    const copyId = (copy.body as unknown as Json[])[0]!.fileId as string;
    assert.equal((await api(srv, 'DELETE', `/v1/files/${copyId}`)).status, 204);
    assert.deepEqual(await bucketKeys(), []);
  });

  test('a file above the multipart threshold (17 MiB) goes up in parts and reads back intact', async () => {
    const big = randomBytes(17 * 1024 * 1024 + 5);
    const res = await uploadFile(srv, big, 'big.bin', { folder: 's3big', useUniqueFileName: 'false' });
    const whole = await fetchBytes(res.url);
    assert.equal(whole.status, 200);
    assert.equal(sha256(whole.bytes), sha256(big));
    const tail = await fetchBytes(res.url, { range: `bytes=${big.length - 100}-` });
    assert.equal(tail.status, 206);
    assert.ok(tail.bytes.equals(big.subarray(big.length - 100)));
    assert.equal((await api(srv, 'DELETE', `/v1/files/${res.fileId}`)).status, 204);
    assert.deepEqual(filesUnder(join(srv.dataDir, 'tmp')), [], 'the spooled upload was handed over and removed');
  });
});

describe('a bucket that does not answer', () => {
  test('the server refuses to start, with one line naming the bucket', async () => {
    await assert.rejects(startTestServer({ env: s3Env('no-such-bucket') }), (e: Error) => {
      assert.match(e.message, /tessera: S3 bucket "no-such-bucket" at http:\/\/127\.0\.0\.1:\d+ is not usable: no such bucket/);
      assert.doesNotMatch(e.message, /\n\s+at /, 'no stack trace');
      return true;
    });
  });

  test('the same with TESSERA_WORKERS=2: the primary, which prepares the data dir, refuses', async () => {
    await assert.rejects(startTestServer({ env: { ...s3Env('no-such-bucket'), TESSERA_WORKERS: '2' } }), (e: Error) => {
      assert.match(e.message, /tessera: S3 bucket "no-such-bucket" at http:\/\/127\.0\.0\.1:\d+ is not usable: no such bucket/);
      assert.doesNotMatch(e.message, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(e.message, /worker/, 'no worker was started');
      return true;
    });
  });
});
