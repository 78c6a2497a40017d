/**
 * File metadata end to end: a real server, the official `@imagekit/nodejs` SDK as the client
 * (`files.upload` with responseFields, `files.metadata.get`, `files.metadata.getFromURL`), every
 * JSON body validated against imagekit-openapi.yaml. Sample files are made by the tests (see
 * ../support/media-fixtures.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import ImageKit, { toFile, type APIError } from '@imagekit/nodejs';
import { blobBytes, blobFiles, removeBlob } from '../support/e2e-helpers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { SPEC_MISSING_MESSAGE, assertErrorBody, assertMatchesSchema, responseSchemaFor, specAvailable } from '../support/spec.js';
import { GPS, jpegWithExif, jpegWithIptcAndXmp, mp3, mp4, pngWithAlpha } from '../support/media-fixtures.js';

type Json = Record<string, any>;

const P = {
  byId: '/v1/files/{fileId}/metadata',
  byUrl: '/v1/metadata',
  details: '/v1/files/{fileId}/details',
  upload: '/api/v1/files/upload',
};

describe('file metadata (official SDK)', { skip: specAvailable ? false : SPEC_MISSING_MESSAGE }, () => {
  let server: TestServer;
  let client: ImageKit;

  before(async () => {
    server = await startTestServer();
    client = new ImageKit({ privateKey: server.privateKey, baseURL: server.baseUrl, maxRetries: 0 });
  });
  after(async () => {
    await server?.stop();
  });

  async function upload(bytes: Buffer, fileName: string, extra: Json = {}): Promise<Json> {
    const res = (await client.files.upload({
      file: await toFile(bytes, fileName),
      fileName,
      useUniqueFileName: false,
      responseFields: ['metadata', 'embeddedMetadata'],
      ...extra,
    })) as Json;
    assertMatchesSchema(res, responseSchemaFor(P.upload, 'post', 200)!);
    return res;
  }

  async function metadataById(fileId: string): Promise<Json> {
    const m = (await client.files.metadata.get(fileId)) as Json;
    assertMatchesSchema(m, responseSchemaFor(P.byId, 'get', 200)!);
    return m;
  }

  async function metadataByUrl(url: string): Promise<Json> {
    const m = (await client.files.metadata.getFromURL({ url })) as Json;
    assertMatchesSchema(m, responseSchemaFor(P.byUrl, 'get', 200)!);
    return m;
  }

  async function apiError(p: Promise<unknown>): Promise<{ status: number; body: Json }> {
    try {
      await p;
    } catch (e) {
      const err = e as APIError;
      return { status: err.status as number, body: err.error as Json };
    }
    throw new Error('expected the request to fail');
  }

  describe('a JPEG with EXIF and GPS', () => {
    let bytes: Buffer;
    let up: Json;

    before(async () => {
      bytes = await jpegWithExif(75);
      up = await upload(bytes, 'exif.jpg', { folder: '/meta' });
    });

    test('upload responseFields: metadata and embeddedMetadata', () => {
      const m = up.metadata as Json;
      assert.equal(m.width, 320);
      assert.equal(m.height, 240);
      assert.equal(m.size, bytes.length);
      assert.equal(m.format, 'jpg');
      assert.ok(Math.abs(m.quality - 75) <= 2, `quality ${m.quality}`);
      assert.equal(m.hasTransparency, false);
      assert.equal(m.hasColorProfile, false);
      assert.match(m.pHash, /^[0-9a-f]{16}$/);
      assert.equal(m.exif.image.Make, 'Tessera');
      assert.deepEqual(m.exif.gps.GPSLatitude, [51, 30, 0]);
      assert.equal(m.exif.exif.DateTimeOriginal, '2021:03:04 05:06:07');
      const e = up.embeddedMetadata as Json;
      assert.equal(e.Make, 'Tessera');
      assert.equal(e.DateTimeOriginal, '2021-03-04T05:06:07.000Z');
      assert.ok(Math.abs(e.GPSLatitude - GPS.lat) < 1e-6);
      assert.ok(Math.abs(e.GPSLongitude - GPS.lon) < 1e-6);
    });

    test('GET /v1/files/{fileId}/metadata returns the object the upload returned', async () => {
      assert.deepEqual(await metadataById(up.fileId), up.metadata);
    });

    test('GET /v1/metadata?url= for this server\'s URL, plain and with the updatedAt the server adds', async () => {
      assert.deepEqual(await metadataByUrl(`${server.urlEndpoint}/meta/exif.jpg`), up.metadata);
      assert.deepEqual(await metadataByUrl(up.url), up.metadata);
    });

    test('a transformed URL gives the metadata of the transformed image (ImageKit: tr in path or query)', async () => {
      for (const url of [`${server.urlEndpoint}/tr:w-100/meta/exif.jpg`, `${server.urlEndpoint}/meta/exif.jpg?tr=w-100`]) {
        const m = await metadataByUrl(url);
        assert.equal(m.width, 100, url);
        assert.equal(m.height, 75, url);
        assert.match(m.pHash, /^[0-9a-f]{16}$/);
      }
    });

    test('the older GET /v1/files/metadata?url= answers the same', async () => {
      const res = await fetch(`${server.baseUrl}/v1/files/metadata?url=${encodeURIComponent(up.url)}`, {
        headers: { authorization: `Basic ${Buffer.from(`${server.privateKey}:`).toString('base64')}` },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), up.metadata);
    });

    test('FileDetails carries the embedded metadata', async () => {
      const d = (await client.files.get(up.fileId)) as Json;
      assertMatchesSchema(d, responseSchemaFor(P.details, 'get', 200)!);
      assert.deepEqual(d.embeddedMetadata, up.embeddedMetadata);
    });

    test('embedded metadata is searchable as embeddedMetadata.<field>', async () => {
      const hits = (await client.assets.list({ searchQuery: 'embeddedMetadata.Make = "Tessera"' })) as Json[];
      assert.ok(hits.some((h) => h.fileId === up.fileId), JSON.stringify(hits.map((h) => h.name)));
      const none = (await client.assets.list({ searchQuery: 'embeddedMetadata.Make = "Nikon"' })) as Json[];
      assert.ok(!none.some((h) => h.fileId === up.fileId));
    });
  });

  test('IPTC and XMP arrive in embeddedMetadata', async () => {
    const up = await upload(await jpegWithIptcAndXmp(), 'iptc.jpg');
    const e = up.embeddedMetadata as Json;
    assert.deepEqual(e.Keywords, ['kw-one', 'kw-two']);
    assert.equal(e.Byline, 'IPTC Byline');
    assert.equal(e.CaptionAbstract, 'A caption');
    assert.equal(e.Title, 'The Title');
    assert.deepEqual(e.Subject, ['alpha', 'beta']);
    assert.equal(e.CreatorCity, 'Porto');
  });

  test('a PNG with alpha', async () => {
    const bytes = await pngWithAlpha();
    const up = await upload(bytes, 'alpha.png');
    const m = await metadataById(up.fileId);
    assert.equal(m.format, 'png');
    assert.equal(m.hasTransparency, true);
    assert.equal(m.quality, 0);
    assert.equal(m.size, bytes.length);
  });

  test('an MP4: non-image, mime from the bytes, video fields on Upload, FileDetails and Metadata', async () => {
    const bytes = await mp4();
    const up = await upload(bytes, 'clip.bin');
    assert.equal(up.fileType, 'non-image');
    assert.equal(up.width, 320);
    assert.equal(up.height, 240);
    assert.equal(up.duration, 2);
    assert.equal(up.videoCodec, 'h264');
    assert.equal(up.audioCodec, 'aac');
    assert.equal(typeof up.bitRate, 'number');
    const d = (await client.files.get(up.fileId)) as Json;
    assertMatchesSchema(d, responseSchemaFor(P.details, 'get', 200)!);
    assert.equal(d.mime, 'video/mp4');
    assert.deepEqual(
      { width: d.width, height: d.height, duration: d.duration, bitRate: d.bitRate, videoCodec: d.videoCodec, audioCodec: d.audioCodec },
      { width: 320, height: 240, duration: 2, bitRate: up.bitRate, videoCodec: 'h264', audioCodec: 'aac' },
    );
    const m = await metadataById(up.fileId);
    assert.deepEqual(m, up.metadata);
    assert.deepEqual(m, { height: 240, width: 320, bitRate: up.bitRate, duration: 2, audioCodec: 'aac', videoCodec: 'h264', size: bytes.length, format: 'mp4' });
  });

  test('an MP3: audio codec, duration and bit rate', async () => {
    const up = await upload(await mp3(), 'tone.mp3');
    const d = (await client.files.get(up.fileId)) as Json;
    assert.equal(d.mime, 'audio/mpeg');
    assert.equal(d.fileType, 'non-image');
    const m = await metadataById(up.fileId);
    assert.equal(m.duration, 3);
    assert.equal(m.audioCodec, 'mp3');
    assert.ok(Math.abs(m.bitRate - 128_000) < 6_400, String(m.bitRate));
    assert.equal(up.embeddedMetadata.Title, 'Test Tone');
  });

  test('versions: ?ik-obj-version= gives that version\'s metadata', async () => {
    const v1 = await upload(await jpegWithExif(60), 'versioned.jpg');
    const v2 = await upload(await pngWithAlpha(), 'versioned.jpg', { overwriteFile: true });
    assert.equal(v1.fileId, v2.fileId);
    const url = `${server.urlEndpoint}/versioned.jpg`;
    assert.deepEqual(await metadataByUrl(url), v2.metadata);
    const old = await metadataByUrl(`${url}?ik-obj-version=${v1.versionInfo.id}`);
    assert.deepEqual(old, v1.metadata);
    assert.ok(Math.abs(old.quality - 60) <= 2);
    const missing = await apiError(client.files.metadata.getFromURL({ url: `${url}?ik-obj-version=${'0'.repeat(24)}` }));
    assert.equal(missing.status, 404);
    assertErrorBody(missing.body, P.byUrl, 'get', 404);
  });

  test('stored once: the endpoints answer with the bytes gone from storage', async () => {
    const bytes = await jpegWithExif(90);
    const up = await upload(bytes, 'gone.jpg');
    const digest = createHash('sha256').update(bytes).digest('hex');
    let removed = 0;
    for (const key of await blobFiles(server.dataDir)) {
      if (createHash('sha256').update(await blobBytes(server.dataDir, key)).digest('hex') === digest) {
        await removeBlob(server.dataDir, key);
        removed++;
      }
    }
    assert.equal(removed, 1);
    assert.deepEqual(await metadataById(up.fileId), up.metadata);
    assert.deepEqual(await metadataByUrl(up.url), up.metadata);
  });

  describe('errors as the spec lists them', () => {
    test('unknown fileId: 404; malformed fileId: 400', async () => {
      const nf = await apiError(client.files.metadata.get('0123456789abcdef01234567'));
      assert.equal(nf.status, 404);
      assertErrorBody(nf.body, P.byId, 'get', 404);
      const bad = await apiError(client.files.metadata.get('not-an-id'));
      assert.equal(bad.status, 400);
      assertErrorBody(bad.body, P.byId, 'get', 400);
    });

    test('URL of another host, unknown path, invalid transformation, missing url', async () => {
      const other = await apiError(client.files.metadata.getFromURL({ url: 'https://ik.imagekit.io/demo/default-image.jpg' }));
      assert.equal(other.status, 400);
      assertErrorBody(other.body, P.byUrl, 'get', 400);

      const otherId = await apiError(client.files.metadata.getFromURL({ url: `${server.baseUrl}/someone-else/exif.jpg` }));
      assert.equal(otherId.status, 400);

      const unknown = await apiError(client.files.metadata.getFromURL({ url: `${server.urlEndpoint}/no/such/file.jpg` }));
      assert.equal(unknown.status, 404);
      assertErrorBody(unknown.body, P.byUrl, 'get', 404);

      const badTr = await apiError(client.files.metadata.getFromURL({ url: `${server.urlEndpoint}/tr:w-nonsense/meta/exif.jpg` }));
      assert.equal(badTr.status, 400);
      assertErrorBody(badTr.body, P.byUrl, 'get', 400);

      const res = await fetch(`${server.baseUrl}/v1/metadata`, {
        headers: { authorization: `Basic ${Buffer.from(`${server.privateKey}:`).toString('base64')}` },
      });
      assert.equal(res.status, 400);
      assertErrorBody(await res.json(), P.byUrl, 'get', 400);
    });

    test('without the private key: 401', async () => {
      const res = await fetch(`${server.baseUrl}/v1/files/0123456789abcdef01234567/metadata`);
      assert.equal(res.status, 401);
      assertErrorBody(await res.json(), P.byId, 'get', 401);
    });
  });
});
