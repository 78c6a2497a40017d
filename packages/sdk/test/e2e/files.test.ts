/**
 * End to end: ImageKitClient against a real Tessera server (started per suite by the server's own
 * test harness), with real images made by sharp. Covers what the server implements so far: upload
 * V1/V2 (private key, client-side signature, JWT), files get/update/delete/copy/move/rename,
 * versions, bulk operations. Bodies the SDK returns are also checked against the OpenAPI schemas.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import sharp from 'sharp';
import {
  BadRequestError,
  ForbiddenError,
  ImageKitClient,
  NotFoundError,
  UnauthorizedError,
  type ImageKit,
} from '../../src/index.js';
import { startTestServer, type TestServer } from '../../../server/test/support/server.js';
import { assertMatchesSchema, specAvailable, SPEC_MISSING_MESSAGE } from '../../../server/test/support/spec.js';

const ID = /^[0-9a-f]{24}$/;

let server: TestServer;
let client: ImageKitClient;
let origin: Server;
let originUrl: string;
let dir: string;
let png: Buffer;
let jpeg: Buffer;

async function makePng(width: number, height: number, rgb: [number, number, number] = [10, 120, 200]): Promise<Buffer> {
  const [r, g, b] = rgb;
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } }).png().toBuffer();
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Validates against the spec when it is present (it always is in CI). */
function conforms(value: unknown, schema: string): void {
  if (specAvailable) assertMatchesSchema(value, schema);
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url} → ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** A unique folder per test keeps tests independent on one shared server. */
const folder = (): string => `/e2e-${randomUUID().slice(0, 8)}/`;

before(async () => {
  if (!specAvailable) console.warn(`\n!!! ${SPEC_MISSING_MESSAGE} (schema checks in this file are skipped) !!!\n`);
  [png, jpeg] = await Promise.all([
    makePng(40, 30),
    sharp({ create: { width: 120, height: 80, channels: 3, background: { r: 250, g: 200, b: 0 } } }).jpeg().toBuffer(),
  ]);
  dir = mkdtempSync(join(tmpdir(), 'tessera-sdk-e2e-'));
  origin = createServer((req, res) => {
    if (req.url === '/remote.png') res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  server = await startTestServer({ env: { TESSERA_ALLOW_PRIVATE_URLS: 'true' } });
  client = new ImageKitClient({ privateKey: server.privateKey, baseUrl: server.baseUrl });
});

after(async () => {
  await server?.stop();
  await new Promise<void>((r) => (origin ? origin.close(() => r()) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('files.upload (V1, private key)', () => {
  test('a Buffer, with tags, folder and custom coordinates', async () => {
    const f = folder();
    const { data, rawResponse } = await client.files
      .upload({
        file: png,
        fileName: 'buffer.png',
        folder: f,
        tags: ['alpha', 'beta'],
        customCoordinates: '1,2,10,10',
        useUniqueFileName: false,
        // ImageKit only echoes these in the upload response when asked.
        responseFields: ['tags', 'customCoordinates'],
      })
      .withRawResponse();
    assert.equal(rawResponse.status, 200);
    conforms(data, '#/components/schemas/Upload');
    assert.match(data.fileId ?? '', ID);
    assert.equal(data.name, 'buffer.png');
    assert.equal(data.filePath, `${f}buffer.png`);
    assert.equal(data.size, png.length);
    assert.equal(data.width, 40);
    assert.equal(data.height, 30);
    assert.equal(data.fileType, 'image');
    assert.deepEqual(data.tags, ['alpha', 'beta']);
    assert.equal(data.customCoordinates, '1,2,10,10');
    assert.equal(data.versionInfo?.name, 'Version 1');
    assert.equal(sha(await download(data.url!)), sha(png));
  });

  test('a ReadStream: streamed, fileName taken from its path, bytes intact', async () => {
    const path = join(dir, 'from-disk.jpg');
    writeFileSync(path, jpeg);
    const up = await client.files.upload({ file: createReadStream(path), folder: folder(), useUniqueFileName: false });
    conforms(up, '#/components/schemas/Upload');
    assert.equal(up.name, 'from-disk.jpg');
    assert.equal(up.width, 120);
    assert.equal(up.height, 80);
    assert.equal(sha(await download(up.url!)), sha(jpeg));
  });

  test('a File (name from the File), a base64 string, and an http URL', async () => {
    const f = folder();
    const fromFile = await client.files.upload({
      file: new File([new Uint8Array(png)], 'as-file.png', { type: 'image/png' }),
      folder: f,
      useUniqueFileName: false,
    });
    assert.equal(fromFile.filePath, `${f}as-file.png`);
    const fromBase64 = await client.files.upload({ file: png.toString('base64'), fileName: 'b64.png', folder: f });
    assert.equal(fromBase64.width, 40);
    assert.equal(sha(await download(fromBase64.url!)), sha(png));
    const fromUrl = await client.files.upload({ file: `${originUrl}/remote.png`, fileName: 'remote.png', folder: f });
    assert.equal(fromUrl.height, 30);
    assert.equal(sha(await download(fromUrl.url!)), sha(png));
  });

  test('server errors arrive as typed errors with the server message', async () => {
    const f = folder();
    await client.files.upload({ file: png, fileName: 'dup.png', folder: f, useUniqueFileName: false });
    const err = await client.files
      .upload({ file: png, fileName: 'dup.png', folder: f, useUniqueFileName: false, overwriteFile: false })
      .catch((e: unknown) => e);
    assert.ok(err instanceof BadRequestError, String(err));
    assert.match(err.message, /already exists/);
    assert.equal(err.statusCode, 400);

    const wrongKey = new ImageKitClient({ privateKey: 'not-the-key', baseUrl: server.baseUrl, maxRetries: 0 });
    await assert.rejects(wrongKey.files.upload({ file: png, fileName: 'x.png' }), UnauthorizedError);
  });
});

describe('client-side uploads (no private key in the client)', () => {
  const browserLike = (): ImageKitClient => new ImageKitClient({ baseUrl: server.baseUrl, headers: { Authorization: null } });

  test('V1 with publicKey + signature + expire + token', async () => {
    const token = randomUUID();
    const expire = Math.floor(Date.now() / 1000) + 600;
    const signature = createHmac('sha1', server.privateKey).update(token + String(expire)).digest('hex');
    const up = await browserLike().files.upload({
      file: png,
      fileName: 'client-v1.png',
      publicKey: server.publicKey,
      signature,
      expire,
      token,
    });
    conforms(up, '#/components/schemas/Upload');
    assert.match(up.fileId ?? '', ID);

    // The token is single-use, and a bad signature is refused.
    await assert.rejects(
      browserLike().files.upload({ file: png, fileName: 'again.png', publicKey: server.publicKey, signature, expire, token }),
      (e: unknown) => e instanceof BadRequestError || e instanceof ForbiddenError,
    );
    await assert.rejects(
      browserLike().files.upload({
        file: png,
        fileName: 'bad.png',
        publicKey: server.publicKey,
        signature: '0'.repeat(40),
        expire,
        token: randomUUID(),
      }),
      ForbiddenError,
    );
  });

  test('V2 with a JWT pinning the payload', async () => {
    const f = folder();
    const payload = { fileName: 'client-v2.png', folder: f, tags: 'x,y', useUniqueFileName: 'false', responseFields: 'tags' };
    const jwt = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: server.publicKey })
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(server.privateKey));
    const up = await browserLike().beta.v2.files.upload({
      file: png,
      fileName: 'client-v2.png',
      folder: f,
      tags: ['x', 'y'],
      useUniqueFileName: false,
      responseFields: ['tags'],
      token: jwt,
    });
    conforms(up, '#/components/schemas/Upload');
    assert.equal(up.filePath, `${f}client-v2.png`);
    assert.deepEqual(up.tags, ['x', 'y']);

    // A payload that differs from what was signed is refused.
    const jwt2 = await new SignJWT({ fileName: 'a.png' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: server.publicKey })
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(server.privateKey));
    const err = await browserLike()
      .beta.v2.files.upload({ file: png, fileName: 'a.png', tags: ['extra'], token: jwt2 })
      .catch((e: unknown) => e);
    assert.ok(err instanceof BadRequestError, String(err));
    assert.match(err.message, /payload/);
  });

  test('V2 server-side with the private key', async () => {
    const up = await client.beta.v2.files.upload({ file: png, fileName: 'server-v2.png', isPrivateFile: false });
    conforms(up, '#/components/schemas/Upload');
    assert.equal(up.width, 40);
  });
});

describe('files: get, update, delete, copy, move, rename', () => {
  test('get returns the details; unknown ids are NotFoundError', async () => {
    const up = await client.files.upload({ file: png, fileName: 'get.png', folder: folder(), tags: ['t1'] });
    const file = await client.files.get(up.fileId!);
    conforms(file, '#/components/schemas/FileDetails');
    assert.equal(file.fileId, up.fileId);
    assert.equal(file.type, 'file');
    assert.equal(file.filePath, up.filePath);
    assert.deepEqual(file.tags, ['t1']);
    assert.equal(file.mime, 'image/png');
    assert.equal(file.width, 40);
    assert.match(file.createdAt ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const err = await client.files.get('0123456789abcdef01234567').catch((e: unknown) => e);
    assert.ok(err instanceof NotFoundError, String(err));
    assert.ok(err.message.length > 4);
  });

  test('update: tags, custom coordinates, then publication status', async () => {
    const up = await client.files.upload({ file: png, fileName: 'upd.png', folder: folder() });
    const updated = await client.files.update(up.fileId!, { tags: ['new', 'tags'], customCoordinates: '5,5,20,20' });
    conforms(updated, '#/paths/~1v1~1files~1{fileId}~1details/patch/responses/200/content/application~1json/schema');
    assert.deepEqual(updated.tags, ['new', 'tags']);
    assert.equal(updated.customCoordinates, '5,5,20,20');
    const cleared = await client.files.update(up.fileId!, { tags: null, customCoordinates: null });
    assert.ok(cleared.tags === null || (Array.isArray(cleared.tags) && cleared.tags.length === 0));
    assert.equal(cleared.customCoordinates ?? null, null);

    const unpublished = await client.files.update(up.fileId!, { publish: { isPublished: false } });
    assert.equal(unpublished.isPublished, false);
    assert.equal((await client.files.get(up.fileId!)).isPublished, false);
  });

  test('delete resolves to undefined; the file is gone', async () => {
    const up = await client.files.upload({ file: png, fileName: 'del.png', folder: folder() });
    const { data, rawResponse } = await client.files.delete(up.fileId!).withRawResponse();
    assert.equal(data, undefined);
    assert.equal(rawResponse.status, 204);
    await assert.rejects(client.files.get(up.fileId!), NotFoundError);
  });

  test('copy: the copy is served at the destination; the source stays', async () => {
    const src = folder();
    const dest = folder();
    const up = await client.files.upload({ file: png, fileName: 'copy.png', folder: src, useUniqueFileName: false });
    const res = await client.files.copy({ sourceFilePath: up.filePath!, destinationPath: dest });
    assert.deepEqual(res, {});
    assert.equal(sha(await download(`${server.urlEndpoint}${dest}copy.png`)), sha(png));
    assert.equal((await client.files.get(up.fileId!)).filePath, `${src}copy.png`);
    await assert.rejects(
      client.files.copy({ sourceFilePath: `${src}missing.png`, destinationPath: dest }),
      NotFoundError,
    );
  });

  test('move: same file id, new path', async () => {
    const dest = folder();
    const up = await client.files.upload({ file: png, fileName: 'move.png', folder: folder(), useUniqueFileName: false });
    assert.deepEqual(await client.files.move({ sourceFilePath: up.filePath!, destinationPath: dest }), {});
    const moved = await client.files.get(up.fileId!);
    assert.equal(moved.filePath, `${dest}move.png`);
  });

  test('rename: new name kept by the same file id; purgeCache gives a purge request id', async () => {
    const f = folder();
    const up = await client.files.upload({ file: png, fileName: 'old.png', folder: f, useUniqueFileName: false });
    const res = await client.files.rename({ filePath: up.filePath!, newFileName: 'new.png' });
    conforms(res, '#/paths/~1v1~1files~1rename/put/responses/200/content/application~1json/schema');
    const renamed = await client.files.get(up.fileId!);
    assert.equal(renamed.name, 'new.png');
    assert.equal(renamed.filePath, `${f}new.png`);

    const purged = await client.files.rename({ filePath: `${f}new.png`, newFileName: 'newer.png', purgeCache: true });
    assert.equal(typeof purged.purgeRequestId, 'string');
    await assert.rejects(client.files.rename({ filePath: `${f}nope.png`, newFileName: 'x.png' }), NotFoundError);
  });
});

describe('files.versions', () => {
  test('list, get, restore and delete versions', async () => {
    const f = folder();
    const v1 = await client.files.upload({ file: png, fileName: 'v.png', folder: f, useUniqueFileName: false });
    const png2 = await makePng(64, 48, [200, 10, 10]);
    const v2 = await client.files.upload({
      file: png2,
      fileName: 'v.png',
      folder: f,
      useUniqueFileName: false,
      overwriteFile: true,
    });
    assert.equal(v2.fileId, v1.fileId, 'overwriting keeps the file id');
    assert.notEqual(v2.versionInfo?.id, v1.versionInfo?.id);

    const versions = await client.files.versions.list(v1.fileId!);
    if (specAvailable) for (const v of versions) assertMatchesSchema(v, '#/components/schemas/FileDetails');
    assert.equal(versions.length, 2);
    assert.deepEqual(new Set(versions.map((v) => v.versionInfo?.id)), new Set([v1.versionInfo?.id, v2.versionInfo?.id]));

    const old = await client.files.versions.get(v1.fileId!, v1.versionInfo!.id!);
    conforms(old, '#/components/schemas/FileDetails');
    assert.equal(old.versionInfo?.id, v1.versionInfo?.id);
    assert.equal(old.width, 40);

    const restored = await client.files.versions.restore(v1.fileId!, v1.versionInfo!.id!);
    conforms(restored, '#/components/schemas/FileDetails');
    assert.equal(restored.width, 40);
    assert.equal((await client.files.get(v1.fileId!)).width, 40);

    // The current version cannot be deleted; a non-current one can.
    const current = (await client.files.get(v1.fileId!)).versionInfo!.id!;
    await assert.rejects(client.files.versions.delete(v1.fileId!, current), BadRequestError);
    const nonCurrent = (await client.files.versions.list(v1.fileId!)).find((v) => v.versionInfo?.id !== current)!;
    assert.deepEqual(await client.files.versions.delete(v1.fileId!, nonCurrent.versionInfo!.id!), {});
    const left = await client.files.versions.list(v1.fileId!);
    assert.ok(!left.some((v) => v.versionInfo?.id === nonCurrent.versionInfo?.id));
    await assert.rejects(client.files.versions.get(v1.fileId!, nonCurrent.versionInfo!.id!), NotFoundError);
  });
});

describe('files.bulk', () => {
  async function three(): Promise<ImageKit.Upload[]> {
    const f = folder();
    return Promise.all(['a', 'b', 'c'].map((n) => client.files.upload({ file: png, fileName: `${n}.png`, folder: f, tags: ['keep'] })));
  }

  test('addTags and removeTags', async () => {
    const ups = await three();
    const ids = ups.map((u) => u.fileId!);
    const added = await client.files.bulk.addTags({ fileIds: ids, tags: ['sale', 'summer'] });
    conforms(added, '#/paths/~1v1~1files~1addTags/post/responses/200/content/application~1json/schema');
    assert.deepEqual(new Set(added.successfullyUpdatedFileIds), new Set(ids));
    assert.deepEqual(new Set((await client.files.get(ids[0]!)).tags), new Set(['keep', 'sale', 'summer']));

    const removed = await client.files.bulk.removeTags({ fileIds: ids, tags: ['sale', 'keep'] });
    assert.deepEqual(new Set(removed.successfullyUpdatedFileIds), new Set(ids));
    assert.deepEqual((await client.files.get(ids[1]!)).tags, ['summer']);
  });

  test('removeAiTags succeeds for files without AI tags', async () => {
    const ups = await three();
    const res = await client.files.bulk.removeAiTags({ fileIds: ups.map((u) => u.fileId!), AITags: ['Shirt'] });
    conforms(res, '#/paths/~1v1~1files~1removeAITags/post/responses/200/content/application~1json/schema');
    assert.equal(res.successfullyUpdatedFileIds?.length, 3);
  });

  test('delete removes every file; unknown ids are a NotFoundError naming them', async () => {
    const ups = await three();
    const ids = ups.map((u) => u.fileId!);
    const res = await client.files.bulk.delete({ fileIds: ids });
    conforms(res, '#/paths/~1v1~1files~1batch~1deleteByFileIds/post/responses/200/content/application~1json/schema');
    assert.deepEqual(new Set(res.successfullyDeletedFileIds), new Set(ids));
    for (const id of ids) await assert.rejects(client.files.get(id), NotFoundError);

    const missing = 'abcdefabcdefabcdefabcdef';
    const err = await client.files.bulk.delete({ fileIds: [missing] }).catch((e: unknown) => e);
    assert.ok(err instanceof NotFoundError, String(err));
    assert.deepEqual((err.body as { missingFileIds?: string[] }).missingFileIds, [missing]);
  });
});
