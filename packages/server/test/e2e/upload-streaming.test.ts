/**
 * The streaming upload path over real HTTP, at sizes where the spool issues background fdatasyncs
 * (every 32 MiB by default) while the bytes are still arriving: the stored bytes stay exact, and a
 * client that goes away mid-stream leaves no spool file, blob or row behind.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  assertNothingStored,
  download,
  getDetails,
  openRawUpload,
  sha256,
  sleep,
  snapshot,
  tmpFiles,
} from '../support/e2e-helpers.js';

const MiB = 1024 * 1024;
let server: TestServer;

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server?.stop();
});

/** A raw upload to `server` whose body the test writes piece by piece. */
function openUpload(fileName: string, size: number) {
  return openRawUpload(server, { fileName, useUniqueFileName: 'false' }, size);
}

async function send(req: ReturnType<typeof httpRequest>, chunk: Buffer): Promise<void> {
  if (!req.write(chunk)) await once(req, 'drain');
}

const spooledBytes = () =>
  tmpFiles(server.dataDir).reduce((n, f) => {
    try {
      return n + statSync(join(server.dataDir, 'tmp', f)).size;
    } catch {
      return n;
    }
  }, 0);

describe('large multipart uploads', () => {
  test('70 MiB in uneven pieces is stored byte-identical across background syncs', async () => {
    // Not a multiple of any chunk or page size, so the last partial write and sync are exercised too.
    const payload = randomBytes(70 * MiB + 4097);
    const { req, head, tail, response } = openUpload('streamed.bin', payload.length);
    await send(req, head);
    for (let at = 0; at < payload.length; ) {
      const n = Math.min(payload.length - at, 1 + Math.floor(Math.random() * 3 * MiB));
      await send(req, payload.subarray(at, at + n));
      at += n;
    }
    req.end(tail);
    const res = await response;
    assert.equal(res.status, 200, res.body);
    const body = JSON.parse(res.body) as { fileId: string; size: number };
    assert.equal(body.size, payload.length);

    const details = await getDetails(server, body.fileId);
    assert.equal(details.status, 200, details.text);
    const got = await download(details.body.url);
    assert.equal(got.status, 200);
    assert.equal(got.bytes.length, payload.length);
    assert.equal(sha256(got.bytes), sha256(payload));
    assert.deepEqual(tmpFiles(server.dataDir), [], 'the spool file became the blob');
  });

  test('a client that goes away after 40 MiB leaves no spool file, blob or row', async () => {
    const before = await snapshot(server.dataDir);
    const size = 200 * MiB;
    const { req, head, response } = openUpload('abandoned.bin', size);
    response.catch(() => undefined); // the connection is cut on purpose
    await send(req, head);
    const chunk = randomBytes(MiB);
    // Past the first background sync (32 MiB) so one has run or is in flight when the client goes.
    for (let sent = 0; sent < 48 * MiB; sent += chunk.length) await send(req, chunk);
    for (let i = 0; i < 400 && spooledBytes() < 40 * MiB; i++) await sleep(25);
    assert.ok(spooledBytes() >= 40 * MiB, `the server spooled ${spooledBytes()} bytes`);
    req.destroy();
    await assertNothingStored(server.dataDir, before, 'after the client went away mid-stream');
    assert.equal((await fetch(`${server.baseUrl}/healthz`)).status, 200);
  });
});
