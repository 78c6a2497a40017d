/**
 * End to end: files.metadata.get and files.metadata.getFromUrl through ImageKitClient against a
 * real Tessera server, on images made by sharp with known dimensions, quality and EXIF.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { BadRequestError, ImageKitClient, NotFoundError, type ImageKit } from '../../src/index.js';
import { startTestServer, type TestServer } from '../../../server/test/support/server.js';
import { conforms, conformsResponse, unique, warnIfSpecMissing } from '../support/e2e.js';

let server: TestServer;
let client: ImageKitClient;
let jpeg: Buffer;
let jpegUpload: ImageKit.Upload;
let pngUpload: ImageKit.Upload;

before(async () => {
  warnIfSpecMissing();
  server = await startTestServer();
  client = new ImageKitClient({ privateKey: server.privateKey, baseUrl: server.baseUrl });
  jpeg = await sharp({ create: { width: 80, height: 60, channels: 3, background: { r: 250, g: 100, b: 0 } } })
    .withExif({ IFD0: { Make: 'Tessera', Model: 'SDK e2e', Copyright: 'CC0' } })
    .jpeg({ quality: 77 })
    .toBuffer();
  const png = await sharp({ create: { width: 32, height: 24, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.5 } } })
    .png()
    .toBuffer();
  const folder = `${unique('/meta')}/`;
  jpegUpload = await client.files.upload({ file: jpeg, fileName: 'camera.jpg', folder, useUniqueFileName: false });
  pngUpload = await client.files.upload({ file: png, fileName: 'alpha.png', folder, useUniqueFileName: false });
});

after(async () => {
  await server?.stop();
});

describe('files.metadata.get', () => {
  test('a JPEG: dimensions, size, format, quality, pHash and EXIF', async () => {
    const { data: meta, rawResponse } = await client.files.metadata.get(jpegUpload.fileId!).withRawResponse();
    assert.equal(rawResponse.status, 200);
    conforms(meta, '#/components/schemas/Metadata');
    assert.equal(meta.width, 80);
    assert.equal(meta.height, 60);
    assert.equal(meta.size, jpeg.length);
    assert.equal(meta.format, 'jpg');
    assert.equal(meta.quality, 77);
    assert.equal(meta.hasTransparency, false);
    assert.match(meta.pHash ?? '', /^[0-9a-f]{16}$/);
    assert.equal(meta.exif?.image?.Make, 'Tessera');
    assert.equal(meta.exif?.image?.Model, 'SDK e2e');
    assert.equal(meta.exif?.image?.Copyright, 'CC0');
    assert.equal(meta.exif?.exif?.ExifImageWidth, 80);
  });

  test('a PNG with alpha has transparency', async () => {
    const meta = await client.files.metadata.get(pngUpload.fileId!);
    conforms(meta, '#/components/schemas/Metadata');
    assert.deepEqual([meta.width, meta.height, meta.format, meta.hasTransparency], [32, 24, 'png', true]);
  });

  test('an unknown file is NotFoundError', async () => {
    await assert.rejects(client.files.metadata.get('0123456789abcdef01234567'), NotFoundError);
  });
});

describe('files.metadata.getFromUrl', () => {
  test('the URL of a file gives the same metadata as its id', async () => {
    const byId = await client.files.metadata.get(jpegUpload.fileId!);
    // The URL the upload returned, with its ?updatedAt=…, and the bare one.
    for (const url of [jpegUpload.url!, `${server.urlEndpoint}${jpegUpload.filePath}`]) {
      const byUrl = await client.files.metadata.getFromUrl({ url });
      conformsResponse(byUrl, '/v1/metadata', 'get', 200);
      assert.deepEqual(byUrl, byId, url);
    }
  });

  test('a transformed URL describes the transformed image', async () => {
    const inPath = await client.files.metadata.getFromUrl({ url: `${server.urlEndpoint}/tr:w-40,f-png${jpegUpload.filePath}` });
    assert.deepEqual([inPath.width, inPath.height, inPath.format], [40, 30, 'png']);
    const inQuery = await client.files.metadata.getFromUrl({ url: `${server.urlEndpoint}${jpegUpload.filePath}?tr=h-15` });
    assert.deepEqual([inQuery.width, inQuery.height, inQuery.format], [20, 15, 'jpg']);
  });

  test('a URL of another host is BadRequestError; a missing path is NotFoundError', async () => {
    await assert.rejects(client.files.metadata.getFromUrl({ url: 'https://example.com/photo.jpg' }), BadRequestError);
    await assert.rejects(
      client.files.metadata.getFromUrl({ url: `${server.urlEndpoint}/no/such/file.jpg` }),
      NotFoundError,
    );
  });
});
