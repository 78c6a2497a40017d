/**
 * Compatibility suite: the official `@imagekit/nodejs` SDK drives a real Tessera server across
 * every endpoint of the server foundation, and every JSON body — success and error — is
 * validated against `imagekit-openapi.yaml` (see ../support/spec.ts).
 *
 * Routing: the SDK sends uploads to `defaultBaseURL: https://upload.imagekit.io` only while its
 * `baseURL` is left at the default; once `baseURL` is overridden, every request (uploads
 * included) goes to it. So `new ImageKit({ privateKey, baseURL: server.baseUrl })` is all it
 * takes — no fetch rewriting. A recording `fetch` (passed through the SDK's `fetch` option, which
 * only observes) proves it: each test that matters asserts the request went to our host.
 *
 * Raw bodies: the SDK's `.withResponse()` gives the `Response` with the parsed JSON exactly as
 * received (it does not reshape bodies), and API errors carry the parsed body in `err.error`.
 * Retries are disabled (maxRetries: 0) so a retried 409/5xx can never hide a failure.
 *
 * The server runs with TESSERA_ALLOW_PRIVATE_URLS=true so the URL-upload test can fetch from a
 * local HTTP server started here (the default refuses loopback addresses, tested elsewhere).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { SignJWT } from 'jose';
import ImageKit, { toFile } from '@imagekit/nodejs';
import { startTestServer, type TestServer } from '../support/server.js';
import { fetchBytes, sha256 } from '../support/e2e-helpers.js';
import {
  SPEC_MISSING_MESSAGE,
  assertErrorBody,
  assertMatchesSchema,
  expectSdkError as fails,
  expectSdkOk as ok,
  responseSchemaFor,
  specAvailable,
} from '../support/spec.js';

// ------------------------------------------------------------------------------------------
// Fixtures: real images made with sharp.

interface Img {
  bytes: Buffer;
  width: number;
  height: number;
  mime: string;
  hasAlpha: boolean;
}

async function image(width: number, height: number, format: 'jpeg' | 'png' | 'webp', seed = 0): Promise<Img> {
  const alpha = format !== 'jpeg';
  // A gradient-ish pattern (not a flat colour) so different seeds give different bytes.
  const channels = alpha ? 4 : 3;
  const raw = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      raw[i] = (x * 7 + seed * 31) & 255;
      raw[i + 1] = (y * 5 + seed * 17) & 255;
      raw[i + 2] = (x * y + seed) & 255;
      if (alpha) raw[i + 3] = 128 + ((x + y) & 127);
    }
  }
  const s = sharp(raw, { raw: { width, height, channels } });
  const bytes =
    format === 'jpeg' ? await s.jpeg({ quality: 85 }).toBuffer() : format === 'png' ? await s.png().toBuffer() : await s.webp().toBuffer();
  const meta = await sharp(bytes).metadata();
  assert.equal(meta.width, width);
  assert.equal(meta.height, height);
  return { bytes, width, height, mime: `image/${format}`, hasAlpha: Boolean(meta.hasAlpha) };
}


// ------------------------------------------------------------------------------------------
// Recording fetch: observes what the SDK sends (URL, method, headers); never alters it.

interface Sent {
  url: string;
  method: string;
  headers: Headers;
}
const sent: Sent[] = [];
const recordingFetch: typeof fetch = async (input, init) => {
  const req = new Request(input, init);
  sent.push({ url: req.url, method: req.method, headers: new Headers(init?.headers ?? req.headers) });
  return fetch(input, init);
};
const lastSent = (): Sent => {
  const s = sent.at(-1);
  assert.ok(s, 'the SDK sent no request');
  return s;
};

// ------------------------------------------------------------------------------------------
// Spec path templates.
const P = {
  uploadV1: '/api/v1/files/upload',
  uploadV2: '/api/v2/files/upload',
  details: '/v1/files/{fileId}/details',
  file: '/v1/files/{fileId}',
  copy: '/v1/files/copy',
  move: '/v1/files/move',
  rename: '/v1/files/rename',
  versions: '/v1/files/{fileId}/versions',
  version: '/v1/files/{fileId}/versions/{versionId}',
  restore: '/v1/files/{fileId}/versions/{versionId}/restore',
  bulkDelete: '/v1/files/batch/deleteByFileIds',
  addTags: '/v1/files/addTags',
  removeTags: '/v1/files/removeTags',
  removeAITags: '/v1/files/removeAITags',
} as const;

const MISSING_ID = 'ffffffffffffffffffffffff';

// ------------------------------------------------------------------------------------------

describe('compatibility: official @imagekit/nodejs SDK against Tessera', { skip: specAvailable ? false : SPEC_MISSING_MESSAGE }, () => {
  let server: TestServer;
  let client: ImageKit;
  /** Sends no Authorization header at all: what a browser doing client-side upload looks like. */
  let anonymous: ImageKit;
  let origin: Server;
  let originUrl: string;
  let jpeg: Img;
  let png: Img;
  let webp: Img;

  before(async () => {
    [jpeg, png, webp] = await Promise.all([image(120, 80, 'jpeg', 1), image(64, 48, 'png', 2), image(50, 70, 'webp', 3)]);
    server = await startTestServer({ env: { TESSERA_ALLOW_PRIVATE_URLS: 'true' } });
    client = new ImageKit({ privateKey: server.privateKey, baseURL: server.baseUrl, maxRetries: 0, fetch: recordingFetch });
    // privateKey '' makes the SDK add no auth header; its header check then needs the
    // Authorization header explicitly nulled, which also guarantees none is sent.
    anonymous = new ImageKit({
      privateKey: '',
      baseURL: server.baseUrl,
      maxRetries: 0,
      fetch: recordingFetch,
      defaultHeaders: { Authorization: null },
    });
    origin = createServer((req, res) => {
      if (req.url === '/pic.webp') {
        res.writeHead(200, { 'content-type': 'image/webp', 'content-length': String(webp.bytes.length) });
        res.end(webp.bytes);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    // Custom metadata values are only accepted for fields that exist (ImageKit: create the field first).
    for (const [name, type] of [['brand', 'Text'], ['size', 'Number'], ['colour', 'Text']] as const) {
      await client.customMetadataFields.create({ name, label: name, schema: { type } });
    }
  });

  after(async () => {
    await new Promise<void>((r) => (origin ? origin.close(() => r()) : r()));
    if (server) await server.stop();
  });

  /** Server-side upload of a fresh file; returns the Upload body (already spec-validated). */
  async function upload(img: Img, fileName: string, extra: Partial<ImageKit.FileUploadParams> = {}) {
    return ok(client.files.upload({ file: await toFile(img.bytes, fileName), fileName, ...extra }), P.uploadV1, 'post');
  }

  async function getDetails(fileId: string) {
    return ok(client.files.get(fileId), P.details, 'get');
  }

  // ---------------------------------------------------------------------------------------
  describe('upload v1 (POST /api/v1/files/upload)', () => {
    test('binary multipart: routed to our server, values from the real bytes, responseFields honoured', async () => {
      const up = await upload(jpeg, 'hero shot.jpg', {
        folder: '/compat/upload',
        useUniqueFileName: false,
        tags: ['summer', 'sale'],
        customCoordinates: '10,10,40,20',
        isPrivateFile: false,
        description: 'a compat test image',
        responseFields: ['tags', 'customCoordinates', 'isPrivateFile', 'isPublished', 'customMetadata', 'metadata'],
      });
      const req = lastSent();
      assert.equal(new URL(req.url).origin, server.baseUrl, 'upload went to our server, not upload.imagekit.io');
      assert.equal(new URL(req.url).pathname, '/api/v1/files/upload');
      assert.match(req.headers.get('authorization') ?? '', /^Basic /);

      assert.match(up.fileId!, /^[0-9a-f]{24}$/);
      assert.equal(up.name, 'hero_shot.jpg', 'space sanitised to _');
      assert.equal(up.filePath, '/compat/upload/hero_shot.jpg');
      assert.equal(up.width, jpeg.width);
      assert.equal(up.height, jpeg.height);
      assert.equal(up.size, jpeg.bytes.length);
      assert.equal(up.fileType, 'image');
      assert.deepEqual(up.tags, ['summer', 'sale']);
      assert.equal(up.customCoordinates, '10,10,40,20');
      assert.equal(up.isPrivateFile, false);
      assert.equal(up.isPublished, true);
      assert.equal(up.description, 'a compat test image');
      assert.match(up.versionInfo!.id!, /^[0-9a-f]{24}$/);
      assert.equal(up.versionInfo?.name, 'Version 1');
      assert.equal(up.metadata?.width, jpeg.width);
      assert.equal(up.metadata?.height, jpeg.height);
      assert.equal(up.metadata?.hasTransparency, false);
      assert.ok(up.url!.startsWith(`${server.urlEndpoint}/compat/upload/hero_shot.jpg`), up.url);
      assert.ok(up.thumbnailUrl, 'images get a thumbnailUrl');
    });

    test('customMetadata is stored and returned (responseFields) and in details', async () => {
      const up = await upload(png, 'meta.png', {
        customMetadata: { brand: 'Nike', size: 42 },
        responseFields: ['customMetadata'],
      });
      assert.deepEqual(up.customMetadata, { brand: 'Nike', size: 42 });
      assert.deepEqual((await getDetails(up.fileId!)).customMetadata, { brand: 'Nike', size: 42 });
    });

    test('without responseFields the optional fields are left out', async () => {
      const up = await upload(png, 'plain.png', { tags: ['x'] });
      assert.equal(up.tags, undefined);
      assert.equal(up.isPrivateFile, undefined);
      assert.match(up.name!, /^plain_[A-Za-z0-9]+\.png$/, 'useUniqueFileName defaults to true');
    });

    test('file as base64: plain and data URI', async () => {
      const plain = await ok(
        client.files.upload({ file: png.bytes.toString('base64'), fileName: 'b64.png', useUniqueFileName: false, folder: '/compat/b64' }),
        P.uploadV1,
        'post',
      );
      assert.equal(plain.width, png.width);
      assert.equal(plain.height, png.height);
      assert.equal(plain.size, png.bytes.length);
      const dataUri = await ok(
        client.files.upload({
          file: `data:image/jpeg;base64,${jpeg.bytes.toString('base64')}`,
          fileName: 'b64.jpg',
          useUniqueFileName: false,
          folder: '/compat/b64',
        }),
        P.uploadV1,
        'post',
      );
      assert.equal(dataUri.width, jpeg.width);
      assert.equal(dataUri.size, jpeg.bytes.length);
      const served = await fetchBytes(dataUri.url!);
      assert.equal(sha256(served.bytes), sha256(jpeg.bytes));
    });

    test('file as URL: the server fetches it', async () => {
      const up = await ok(
        client.files.upload({ file: `${originUrl}/pic.webp`, fileName: 'remote.webp', useUniqueFileName: false, folder: '/compat/url' }),
        P.uploadV1,
        'post',
      );
      assert.equal(up.width, webp.width);
      assert.equal(up.height, webp.height);
      assert.equal(up.size, webp.bytes.length);
      const d = await getDetails(up.fileId!);
      assert.equal(d.mime, 'image/webp');
      assert.equal(sha256((await fetchBytes(up.url!)).bytes), sha256(webp.bytes));
    });

    test('the url serves the uploaded bytes (GET byte-identical, HEAD headers only)', async () => {
      const up = await upload(png, 'served.png', { folder: '/compat/serve', useUniqueFileName: false });
      const got = await fetchBytes(up.url!);
      assert.equal(got.status, 200);
      assert.equal(got.headers.get('content-type'), 'image/png');
      assert.ok(got.bytes.equals(png.bytes), 'byte-identical');

      const head = await fetch(up.url!, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-type'), 'image/png');
      assert.equal(head.headers.get('content-length'), String(png.bytes.length));
      assert.equal((await head.arrayBuffer()).byteLength, 0);

      // The thumbnail is a transformation; only the original is served at this stage.
      const plainPath = await fetchBytes(`${server.urlEndpoint}/compat/serve/served.png`);
      assert.ok(plainPath.bytes.equals(png.bytes), 'the bare path serves it too');
    });

    test('bad input: missing file → 400, wrong private key → 401, spec error bodies', async () => {
      const e400 = await fails(
        client.files.upload({ fileName: 'nothing.jpg' } as ImageKit.FileUploadParams),
        ImageKit.BadRequestError,
        400,
        P.uploadV1,
        'post',
      );
      assert.match(String(e400.error.message), /missing file/i);

      const wrong = new ImageKit({ privateKey: 'private_wrong', baseURL: server.baseUrl, maxRetries: 0 });
      await fails(wrong.files.upload({ file: await toFile(jpeg.bytes, 'x.jpg'), fileName: 'x.jpg' }), ImageKit.AuthenticationError, 401, P.uploadV1, 'post');

      // overwriteFile=false with useUniqueFileName=false on an existing path.
      await upload(jpeg, 'taken.jpg', { folder: '/compat/upload', useUniqueFileName: false });
      const taken = await fails(
        client.files.upload({
          file: await toFile(jpeg.bytes, 'taken.jpg'),
          fileName: 'taken.jpg',
          folder: '/compat/upload',
          useUniqueFileName: false,
          overwriteFile: false,
        }),
        ImageKit.BadRequestError,
        400,
        P.uploadV1,
        'post',
      );
      assert.match(String(taken.error.message), /already exists/i);

      // A failing `checks` expression rejects the upload.
      const checks = await fails(
        client.files.upload({ file: await toFile(jpeg.bytes, 'big.jpg'), fileName: 'big.jpg', checks: '"file.size" < "100"' }),
        ImageKit.BadRequestError,
        400,
        P.uploadV1,
        'post',
      );
      assert.match(String(checks.error.message), /checks/i);

      // No credentials of any kind.
      await fails(
        anonymous.files.upload({ file: await toFile(jpeg.bytes, 'x.jpg'), fileName: 'x.jpg' }),
        ImageKit.AuthenticationError,
        401,
        P.uploadV1,
        'post',
      );
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('client-side upload v1 (publicKey + signature + expire + token)', () => {
    test('official getAuthenticationParameters → upload without the private key; replay refused', async () => {
      const auth = client.helper.getAuthenticationParameters();
      assert.equal(typeof auth.token, 'string');
      assert.equal(typeof auth.signature, 'string');
      const params = {
        file: await toFile(jpeg.bytes, 'client.jpg'),
        fileName: 'client.jpg',
        folder: '/compat/client',
        useUniqueFileName: false,
        publicKey: server.publicKey,
        signature: auth.signature,
        expire: auth.expire,
        token: auth.token,
      };
      const up = await ok(anonymous.files.upload(params), P.uploadV1, 'post');
      assert.equal(lastSent().headers.get('authorization'), null, 'no Authorization header was sent');
      assert.equal(new URL(lastSent().url).origin, server.baseUrl);
      assert.equal(up.filePath, '/compat/client/client.jpg');
      assert.equal(up.width, jpeg.width);

      const replay = await fails(
        anonymous.files.upload({ ...params, file: await toFile(jpeg.bytes, 'client.jpg') }),
        ImageKit.BadRequestError,
        400,
        P.uploadV1,
        'post',
      );
      assert.match(String(replay.error.message), /token/i);
    });

    test('a tampered signature is refused (403) and an expire over one hour is refused (400)', async () => {
      const auth = client.helper.getAuthenticationParameters();
      await fails(
        anonymous.files.upload({
          file: await toFile(jpeg.bytes, 'bad.jpg'),
          fileName: 'bad.jpg',
          publicKey: server.publicKey,
          signature: auth.signature.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')),
          expire: auth.expire,
          token: auth.token,
        }),
        ImageKit.PermissionDeniedError,
        403,
        P.uploadV1,
        'post',
      );
      const far = client.helper.getAuthenticationParameters(undefined, Math.floor(Date.now() / 1000) + 2 * 3600);
      const e = await fails(
        anonymous.files.upload({
          file: await toFile(jpeg.bytes, 'far.jpg'),
          fileName: 'far.jpg',
          publicKey: server.publicKey,
          signature: far.signature,
          expire: far.expire,
          token: far.token,
        }),
        ImageKit.BadRequestError,
        400,
        P.uploadV1,
        'post',
      );
      assert.match(String(e.error.message), /expire/i);
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('upload v2 (POST /api/v2/files/upload, client.beta.v2.files.upload)', () => {
    /** A V2 token as ImageKit documents it: HS256 with the private key, kid = public key, params as strings. */
    async function v2Token(payload: Record<string, string>, expiresInS = 600): Promise<string> {
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: server.publicKey })
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInS)
        .sign(new TextEncoder().encode(server.privateKey));
    }

    test('JWT client-side upload; the payload pins the params; replay and tampering refused', async () => {
      const fields = { fileName: 'jwt.png', folder: '/compat/v2', tags: 'alpha,beta', useUniqueFileName: 'false' };
      const token = await v2Token(fields);
      const params = {
        file: await toFile(png.bytes, 'jwt.png'),
        token,
        fileName: 'jwt.png',
        folder: '/compat/v2',
        tags: ['alpha', 'beta'],
        useUniqueFileName: false,
      };
      const up = await ok(anonymous.beta.v2.files.upload(params), P.uploadV2, 'post');
      assert.equal(new URL(lastSent().url).pathname, '/api/v2/files/upload');
      assert.equal(lastSent().headers.get('authorization'), null);
      assert.equal(up.filePath, '/compat/v2/jwt.png');
      assert.equal(up.width, png.width);
      assert.equal(up.height, png.height);
      const d = await getDetails(up.fileId!);
      assert.deepEqual(d.tags, ['alpha', 'beta']);
      assert.equal(d.hasAlpha, true);

      const replay = await fails(
        anonymous.beta.v2.files.upload({ ...params, file: await toFile(png.bytes, 'jwt.png') }),
        ImageKit.BadRequestError,
        400,
        P.uploadV2,
        'post',
      );
      assert.match(String(replay.error.message), /token/i);

      const fresh = await v2Token(fields);
      const tampered = await fails(
        anonymous.beta.v2.files.upload({ ...params, file: await toFile(png.bytes, 'jwt.png'), token: fresh, folder: '/elsewhere' }),
        ImageKit.BadRequestError,
        400,
        P.uploadV2,
        'post',
      );
      assert.match(String(tampered.error.message), /payload/i);

      const forged = await new SignJWT(fields)
        .setProtectedHeader({ alg: 'HS256', kid: server.publicKey })
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode('not-the-private-key'));
      await fails(
        anonymous.beta.v2.files.upload({ ...params, file: await toFile(png.bytes, 'jwt.png'), token: forged }),
        ImageKit.BadRequestError,
        400,
        P.uploadV2,
        'post',
      );
    });

    test('server-side v2 upload with the private key', async () => {
      const up = await ok(
        client.beta.v2.files.upload({
          file: await toFile(webp.bytes, 'server-v2.webp'),
          fileName: 'server-v2.webp',
          folder: '/compat/v2',
          useUniqueFileName: false,
          responseFields: ['tags', 'isPrivateFile'],
          tags: ['v2'],
        }),
        P.uploadV2,
        'post',
      );
      assert.equal(new URL(lastSent().url).origin, server.baseUrl);
      assert.equal(up.width, webp.width);
      assert.equal(up.size, webp.bytes.length);
      assert.deepEqual(up.tags, ['v2']);
      assert.equal(up.isPrivateFile, false);
    });

    test('a v2 request with neither key nor token → 400 missing token', async () => {
      const e = await fails(
        anonymous.beta.v2.files.upload({ file: await toFile(png.bytes, 'n.png'), fileName: 'n.png' }),
        ImageKit.BadRequestError,
        400,
        P.uploadV2,
        'post',
      );
      assert.match(String(e.error.message), /token/i);
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('file details (GET / PATCH /v1/files/{fileId}/details)', () => {
    test('GET: values from the real bytes, types as the spec says', async () => {
      const up = await upload(png, 'details.png', { folder: '/compat/details', useUniqueFileName: false, tags: ['one'] });
      const d = await getDetails(up.fileId!);
      assert.equal(d.fileId, up.fileId);
      assert.equal(d.type, 'file');
      assert.equal(d.name, 'details.png');
      assert.equal(d.filePath, '/compat/details/details.png');
      assert.equal(d.width, png.width);
      assert.equal(d.height, png.height);
      assert.equal(d.size, png.bytes.length);
      assert.equal(d.mime, 'image/png');
      assert.equal(d.fileType, 'image');
      assert.equal(d.hasAlpha, true);
      assert.deepEqual(d.tags, ['one']);
      assert.equal(d.AITags, null);
      assert.equal(d.customCoordinates, null);
      assert.equal(d.isPrivateFile, false);
      assert.equal(d.isPublished, true);
      assert.deepEqual(d.versionInfo, up.versionInfo);
      assert.match(d.createdAt!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(d.url, up.url);

      const j = await getDetails((await upload(jpeg, 'details.jpg')).fileId!);
      assert.equal(j.hasAlpha, false);
      assert.equal(j.mime, 'image/jpeg');
    });

    test('GET: unknown id → 404, malformed id → 400, no key → 401', async () => {
      await fails(client.files.get(MISSING_ID), ImageKit.NotFoundError, 404, P.details, 'get');
      await fails(client.files.get('not-an-id'), ImageKit.BadRequestError, 400, P.details, 'get');
      await fails(anonymous.files.get(MISSING_ID), ImageKit.AuthenticationError, 401, P.details, 'get');
      const wrong = new ImageKit({ privateKey: 'private_wrong', baseURL: server.baseUrl, maxRetries: 0 });
      await fails(wrong.files.get(MISSING_ID), ImageKit.AuthenticationError, 401, P.details, 'get');
    });

    test("the spec's bare-key form `Authorization: Basic <privateKey>` is accepted too", async () => {
      const bare = new ImageKit({
        privateKey: server.privateKey,
        baseURL: server.baseUrl,
        maxRetries: 0,
        fetch: recordingFetch,
        defaultHeaders: { Authorization: `Basic ${server.privateKey}` },
      });
      const up = await upload(png, 'bare.png');
      const d = await ok(bare.files.get(up.fileId!), P.details, 'get');
      assert.equal(lastSent().headers.get('authorization'), `Basic ${server.privateKey}`);
      assert.equal(d.fileId, up.fileId);
    });

    test('isPrivateFile round-trips; a private file is not served from its public url', async () => {
      const up = await upload(jpeg, 'secret.jpg', { isPrivateFile: true, responseFields: ['isPrivateFile'] });
      assert.equal(up.isPrivateFile, true);
      assert.equal((await getDetails(up.fileId!)).isPrivateFile, true);
      assert.notEqual((await fetchBytes(up.url!)).status, 200);
    });

    test('PATCH: tags, customCoordinates, description round-trip; publish toggles; removeAITags', async () => {
      const up = await upload(jpeg, 'patch.jpg', { folder: '/compat/patch', useUniqueFileName: false, tags: ['old'] });
      const updated = await ok(
        client.files.update(up.fileId!, {
          tags: ['new', 'fresh'],
          customCoordinates: '1,2,3,4',
          description: 'patched',
          removeAITags: 'all',
        }),
        P.details,
        'patch',
      );
      assert.deepEqual(updated.tags, ['new', 'fresh']);
      assert.equal(updated.customCoordinates, '1,2,3,4');
      assert.equal(updated.description, 'patched');
      assert.equal(updated.width, jpeg.width, 'media fields untouched');

      const d = await getDetails(up.fileId!);
      assert.deepEqual(d.tags, ['new', 'fresh']);
      assert.equal(d.customCoordinates, '1,2,3,4');
      assert.equal(d.description, 'patched');

      const meta = await ok(client.files.update(up.fileId!, { customMetadata: { colour: 'red' } }), P.details, 'patch');
      assert.equal(meta.customMetadata?.colour, 'red');
      assert.equal((await getDetails(up.fileId!)).customMetadata?.colour, 'red');

      const unpub = await ok(client.files.update(up.fileId!, { publish: { isPublished: false } }), P.details, 'patch');
      assert.equal(unpub.isPublished, false);
      assert.equal((await getDetails(up.fileId!)).isPublished, false);
      const repub = await ok(client.files.update(up.fileId!, { publish: { isPublished: true } }), P.details, 'patch');
      assert.equal(repub.isPublished, true);

      const cleared = await ok(client.files.update(up.fileId!, { tags: null, customCoordinates: null }), P.details, 'patch');
      assert.equal(cleared.tags, null);
      assert.equal(cleared.customCoordinates, null);
    });

    test('PATCH: unknown id → 404, bad input → 400', async () => {
      await fails(client.files.update(MISSING_ID, { tags: ['x'] }), ImageKit.NotFoundError, 404, P.details, 'patch');
      const up = await upload(jpeg, 'patch-bad.jpg');
      await fails(
        client.files.update(up.fileId!, { tags: 'not-an-array' } as unknown as ImageKit.FileUpdateParams),
        ImageKit.BadRequestError,
        400,
        P.details,
        'patch',
      );
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('delete (DELETE /v1/files/{fileId})', () => {
    test('204, then details 404 and the url stops serving', async () => {
      const up = await upload(png, 'doomed.png', { folder: '/compat/delete', useUniqueFileName: false });
      assert.equal((await fetchBytes(up.url!)).status, 200);
      const r = await client.files.delete(up.fileId!).asResponse();
      assert.equal(r.status, 204);
      assert.equal((await r.arrayBuffer()).byteLength, 0);
      await fails(client.files.get(up.fileId!), ImageKit.NotFoundError, 404, P.details, 'get');
      assert.equal((await fetchBytes(up.url!)).status, 404);
      await fails(client.files.delete(up.fileId!), ImageKit.NotFoundError, 404, P.file, 'delete');
      await fails(client.files.delete('xyz'), ImageKit.BadRequestError, 400, P.file, 'delete');
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('versions (list / get / delete / restore)', () => {
    test('re-uploading a path makes versions; each version serves its own bytes; delete and restore', async () => {
      const imgs = [await image(30, 20, 'png', 10), await image(40, 25, 'png', 11), await image(50, 30, 'png', 12)];
      const ups: Awaited<ReturnType<typeof upload>>[] = [];
      for (const img of imgs) ups.push(await upload(img, 'v.png', { folder: '/compat/versions', useUniqueFileName: false }));
      const fileId = ups[0]!.fileId!;
      assert.ok(ups.every((u) => u.fileId === fileId), 'same path → same fileId');
      assert.deepEqual(
        ups.map((u) => u.versionInfo?.name),
        ['Version 1', 'Version 2', 'Version 3'],
      );

      const list = await ok(client.files.versions.list(fileId), P.versions, 'get');
      assert.equal(list.length, 3);
      assert.deepEqual(list.map((v) => v.type).sort(), ['file', 'file-version', 'file-version']);
      const current = list.find((v) => v.type === 'file')!;
      assert.equal(current.versionInfo?.id, ups[2]!.versionInfo?.id);
      assert.equal(current.width, 50);

      // Each version's url serves that version's bytes.
      for (const [i, up] of ups.entries()) {
        const v = list.find((x) => x.versionInfo?.id === up.versionInfo?.id);
        assert.ok(v, `version ${i + 1} listed`);
        assert.equal(v.width, imgs[i]!.width);
        assert.ok((await fetchBytes(v.url!)).bytes.equals(imgs[i]!.bytes), `version ${i + 1} bytes`);
      }

      const v1 = await ok(client.files.versions.get(ups[0]!.versionInfo!.id!, { fileId }), P.version, 'get');
      assert.equal(v1.type, 'file-version');
      assert.equal(v1.width, 30);
      assert.equal(v1.height, 20);
      assert.equal(v1.fileId, fileId);

      // The current version cannot be deleted.
      const cur = await fails(
        client.files.versions.delete(ups[2]!.versionInfo!.id!, { fileId }),
        ImageKit.BadRequestError,
        400,
        P.version,
        'delete',
      );
      assert.match(String(cur.error.message), /current version/i);

      // Delete version 2.
      const del = await client.files.versions.delete(ups[1]!.versionInfo!.id!, { fileId }).asResponse();
      assert.equal(del.status, 204);
      const after2 = await ok(client.files.versions.list(fileId), P.versions, 'get');
      assert.equal(after2.length, 2);
      assert.ok(!after2.some((v) => v.versionInfo?.id === ups[1]!.versionInfo?.id));
      await fails(client.files.versions.get(ups[1]!.versionInfo!.id!, { fileId }), ImageKit.NotFoundError, 404, P.version, 'get');

      // Restore version 1: current dimensions and bytes become version 1's.
      const restored = await ok(client.files.versions.restore(ups[0]!.versionInfo!.id!, { fileId }), P.restore, 'put');
      assert.equal(restored.type, 'file');
      assert.equal(restored.width, 30);
      assert.equal(restored.height, 20);
      const d = await getDetails(fileId);
      assert.equal(d.width, 30);
      assert.equal(d.size, imgs[0]!.bytes.length);
      assert.ok((await fetchBytes(d.url!)).bytes.equals(imgs[0]!.bytes), 'current url serves restored bytes');
      const afterRestore = await ok(client.files.versions.list(fileId), P.versions, 'get');
      assert.equal(afterRestore.filter((v) => v.type === 'file').length, 1);
    });

    test('missing file or version → 404; malformed ids → 400', async () => {
      await fails(client.files.versions.list(MISSING_ID), ImageKit.NotFoundError, 404, P.versions, 'get');
      const up = await upload(jpeg, 'vmissing.jpg');
      await fails(client.files.versions.get(MISSING_ID, { fileId: up.fileId! }), ImageKit.NotFoundError, 404, P.version, 'get');
      await fails(client.files.versions.delete(MISSING_ID, { fileId: up.fileId! }), ImageKit.NotFoundError, 404, P.version, 'delete');
      await fails(client.files.versions.restore(MISSING_ID, { fileId: up.fileId! }), ImageKit.NotFoundError, 404, P.restore, 'put');
      await fails(client.files.versions.get('bad', { fileId: up.fileId! }), ImageKit.BadRequestError, 400, P.version, 'get');
      await fails(client.files.versions.list('bad'), ImageKit.BadRequestError, 400, P.versions, 'get');
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('copy / move / rename', () => {
    test('copy: 204; both paths serve; includeFileVersions controls the copied history', async () => {
      const a = await image(20, 20, 'jpeg', 20);
      const b = await image(22, 22, 'jpeg', 21);
      await upload(a, 'c.jpg', { folder: '/compat/copy/src', useUniqueFileName: false });
      const srcUp = await upload(b, 'c.jpg', { folder: '/compat/copy/src', useUniqueFileName: false });

      const r = await client.files.copy({ sourceFilePath: '/compat/copy/src/c.jpg', destinationPath: '/compat/copy/dst' }).asResponse();
      assert.equal(r.status, 204);
      const dst = await fetchBytes(`${server.urlEndpoint}/compat/copy/dst/c.jpg`);
      assert.equal(dst.status, 200);
      assert.ok(dst.bytes.equals(b.bytes), 'the copy holds the current version');
      assert.ok((await fetchBytes(srcUp.url!)).bytes.equals(b.bytes), 'source still served');
      assert.equal((await ok(client.files.versions.list(srcUp.fileId!), P.versions, 'get')).length, 2, 'source keeps its versions');

      // Find the copy's fileId by adding a version to it; its history shows what was copied.
      const c = await image(24, 24, 'jpeg', 22);
      const onlyCurrent = await upload(c, 'c.jpg', { folder: '/compat/copy/dst', useUniqueFileName: false });
      assert.notEqual(onlyCurrent.fileId, srcUp.fileId);
      assert.equal((await ok(client.files.versions.list(onlyCurrent.fileId!), P.versions, 'get')).length, 2, '1 copied + 1 new');

      await ok(
        client.files.copy({ sourceFilePath: '/compat/copy/src/c.jpg', destinationPath: '/compat/copy/all/', includeFileVersions: true }),
        P.copy,
        'post',
        204,
      );
      const withAll = await upload(c, 'c.jpg', { folder: '/compat/copy/all', useUniqueFileName: false });
      const allList = await ok(client.files.versions.list(withAll.fileId!), P.versions, 'get');
      assert.equal(allList.length, 3, '2 copied + 1 new');
      assert.deepEqual(
        allList.map((v) => v.width).sort((x, y) => x! - y!),
        [20, 22, 24],
      );
    });

    test('copy: missing source → 404; missing parameters → 400', async () => {
      const e = await fails(
        client.files.copy({ sourceFilePath: '/compat/nope.jpg', destinationPath: '/compat/x/' }),
        ImageKit.NotFoundError,
        404,
        P.copy,
        'post',
      );
      assert.equal(e.error.reason, 'SOURCE_FILE_MISSING');
      await fails(
        client.files.copy({ destinationPath: '/x/' } as ImageKit.FileCopyParams),
        ImageKit.BadRequestError,
        400,
        P.copy,
        'post',
      );
    });

    test('move: 204; same fileId now at the new path; old path 404', async () => {
      const up = await upload(png, 'm.png', { folder: '/compat/move/from', useUniqueFileName: false });
      await ok(client.files.move({ sourceFilePath: '/compat/move/from/m.png', destinationPath: '/compat/move/to/' }), P.move, 'post', 204);
      const d = await getDetails(up.fileId!);
      assert.equal(d.filePath, '/compat/move/to/m.png');
      assert.equal(d.width, png.width);
      assert.equal((await fetchBytes(`${server.urlEndpoint}/compat/move/from/m.png`)).status, 404);
      assert.ok((await fetchBytes(d.url!)).bytes.equals(png.bytes));
      assert.equal((await ok(client.files.versions.list(up.fileId!), P.versions, 'get'))[0]!.filePath, '/compat/move/to/m.png');

      await fails(
        client.files.move({ sourceFilePath: '/compat/move/from/m.png', destinationPath: '/compat/move/to/' }),
        ImageKit.NotFoundError,
        404,
        P.move,
        'post',
      );
    });

    test('rename: {} or purgeRequestId; details and url follow; conflict 409; missing 404; same name 400', async () => {
      const up = await upload(jpeg, 'r.jpg', { folder: '/compat/rename', useUniqueFileName: false });
      await upload(png, 'taken.png', { folder: '/compat/rename', useUniqueFileName: false });

      const plain = await ok(client.files.rename({ filePath: '/compat/rename/r.jpg', newFileName: 'r2.jpg' }), P.rename, 'put');
      assert.deepEqual(plain, {});
      const d = await getDetails(up.fileId!);
      assert.equal(d.name, 'r2.jpg');
      assert.equal(d.filePath, '/compat/rename/r2.jpg');
      assert.ok((await fetchBytes(d.url!)).bytes.equals(jpeg.bytes));
      assert.equal((await fetchBytes(`${server.urlEndpoint}/compat/rename/r.jpg`)).status, 404);

      const purged = await ok(
        client.files.rename({ filePath: '/compat/rename/r2.jpg', newFileName: 'r3.jpg', purgeCache: true }),
        P.rename,
        'put',
      );
      assert.equal(typeof purged.purgeRequestId, 'string');
      assert.ok(purged.purgeRequestId!.length > 0);

      const conflict = await fails(
        client.files.rename({ filePath: '/compat/rename/r3.jpg', newFileName: 'taken.png' }),
        ImageKit.ConflictError,
        409,
        P.rename,
        'put',
      );
      assert.equal(conflict.error.reason, 'FILE_ALREADY_EXISTS');
      const missing = await fails(
        client.files.rename({ filePath: '/compat/rename/none.jpg', newFileName: 'x.jpg' }),
        ImageKit.NotFoundError,
        404,
        P.rename,
        'put',
      );
      assert.equal(missing.error.reason, 'FILE_MISSING');
      await fails(
        client.files.rename({ filePath: '/compat/rename/r3.jpg', newFileName: 'r3.jpg' }),
        ImageKit.BadRequestError,
        400,
        P.rename,
        'put',
      );
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('bulk', () => {
    test('deleteByFileIds: all present → 200; one missing → 404 with missingFileIds and nothing deleted', async () => {
      const a = await upload(jpeg, 'bulk-a.jpg');
      const b = await upload(png, 'bulk-b.png');
      const c = await upload(webp, 'bulk-c.webp');

      const partial = await fails(
        client.files.bulk.delete({ fileIds: [a.fileId!, MISSING_ID] }),
        ImageKit.NotFoundError,
        404,
        P.bulkDelete,
        'post',
      );
      assert.deepEqual(partial.error.missingFileIds, [MISSING_ID]);
      await getDetails(a.fileId!); // still there

      const res = await ok(client.files.bulk.delete({ fileIds: [a.fileId!, b.fileId!] }), P.bulkDelete, 'post');
      assert.deepEqual([...res.successfullyDeletedFileIds!].sort(), [a.fileId!, b.fileId!].sort());
      await fails(client.files.get(a.fileId!), ImageKit.NotFoundError, 404, P.details, 'get');
      await fails(client.files.get(b.fileId!), ImageKit.NotFoundError, 404, P.details, 'get');
      await getDetails(c.fileId!);

      await fails(client.files.bulk.delete({ fileIds: [] }), ImageKit.BadRequestError, 400, P.bulkDelete, 'post');
    });

    test('addTags / removeTags round-trip through details; partial missing → 404 missingFileIds', async () => {
      const a = await upload(jpeg, 'tags-a.jpg', { tags: ['keep'] });
      const b = await upload(png, 'tags-b.png');

      const added = await ok(client.files.bulk.addTags({ fileIds: [a.fileId!, b.fileId!], tags: ['red', 'blue'] }), P.addTags, 'post');
      assert.deepEqual([...added.successfullyUpdatedFileIds!].sort(), [a.fileId!, b.fileId!].sort());
      assert.deepEqual((await getDetails(a.fileId!)).tags, ['keep', 'red', 'blue']);
      assert.deepEqual((await getDetails(b.fileId!)).tags, ['red', 'blue']);

      const removed = await ok(client.files.bulk.removeTags({ fileIds: [a.fileId!, b.fileId!], tags: ['red', 'keep'] }), P.removeTags, 'post');
      assert.deepEqual([...removed.successfullyUpdatedFileIds!].sort(), [a.fileId!, b.fileId!].sort());
      assert.deepEqual((await getDetails(a.fileId!)).tags, ['blue']);
      assert.deepEqual((await getDetails(b.fileId!)).tags, ['blue']);

      const partial = await fails(
        client.files.bulk.addTags({ fileIds: [a.fileId!, MISSING_ID], tags: ['never'] }),
        ImageKit.NotFoundError,
        404,
        P.addTags,
        'post',
      );
      assert.deepEqual(partial.error.missingFileIds, [MISSING_ID]);
      assert.deepEqual((await getDetails(a.fileId!)).tags, ['blue'], 'nothing applied');
      const partialRemove = await fails(
        client.files.bulk.removeTags({ fileIds: [MISSING_ID], tags: ['blue'] }),
        ImageKit.NotFoundError,
        404,
        P.removeTags,
        'post',
      );
      assert.deepEqual(partialRemove.error.missingFileIds, [MISSING_ID]);

      await fails(client.files.bulk.addTags({ fileIds: [a.fileId!], tags: [] }), ImageKit.BadRequestError, 400, P.addTags, 'post');
    });

    test('removeAITags: 200 for present files; AITags stay null; missing → 404', async () => {
      const a = await upload(jpeg, 'ai-a.jpg');
      const res = await ok(client.files.bulk.removeAITags({ fileIds: [a.fileId!], AITags: ['Shirt'] }), P.removeAITags, 'post');
      assert.deepEqual(res.successfullyUpdatedFileIds, [a.fileId]);
      assert.equal((await getDetails(a.fileId!)).AITags, null);
      // The spec declares missingFileIds on the 404 of deleteByFileIds, addTags and removeTags but
      // not on removeAITags; Tessera sends it on all four, consistently. It is the one extra allowed.
      const missing = await fails(
        client.files.bulk.removeAITags({ fileIds: [a.fileId!, MISSING_ID], AITags: ['Shirt'] }),
        ImageKit.NotFoundError,
        404,
        P.removeAITags,
        'post',
        { allowUndeclared: ['missingFileIds'] },
      );
      assert.deepEqual(missing.error.missingFileIds, [MISSING_ID]);
      await fails(
        client.files.bulk.removeAITags({ fileIds: [a.fileId!], AITags: [] }),
        ImageKit.BadRequestError,
        400,
        P.removeAITags,
        'post',
      );
    });
  });

  // ---------------------------------------------------------------------------------------
  test('the oracle bites: corrupted copies of real responses fail validation', async () => {
    const up = await upload(jpeg, 'oracle.jpg');
    const d = await getDetails(up.fileId!);
    const detailsRef = responseSchemaFor(P.details, 'get', 200)!;
    const uploadRef = responseSchemaFor(P.uploadV1, 'post', 200)!;
    assertMatchesSchema(d, detailsRef);
    const corrupt: Array<[string, unknown, string]> = [
      ['width as a string', { ...d, width: String(d.width) }, detailsRef],
      ['misspelt field', { ...d, fileID: d.fileId }, detailsRef],
      ['tags not an array', { ...d, tags: 'a,b' }, detailsRef],
      ['bad type enum', { ...d, type: 'folder' }, detailsRef],
      ['createdAt not date-time', { ...d, createdAt: 'yesterday' }, detailsRef],
      ['versionInfo.id a number', { ...d, versionInfo: { ...d.versionInfo, id: 1 } }, detailsRef],
      ['Upload.size a string', { ...up, size: '1' }, uploadRef],
      ['Upload.AITags an object', { ...up, AITags: {} }, uploadRef],
    ];
    for (const [what, value, ref] of corrupt) {
      assert.throws(() => assertMatchesSchema(value, ref), /does not match/, `${what} should fail`);
    }
    assert.throws(() => assertErrorBody({ message: 1, help: 'h' }, P.details, 'get', 404), /does not match/);
    assert.throws(() => assertErrorBody({ message: 'no help' }, P.details, 'get', 404), /message: string, help: string/);
    assert.throws(() => responseSchemaFor(P.details, 'get', 418), /lists no 418/);
  });

  test('GET /healthz answers 200', async () => {
    const res = await fetch(`${server.baseUrl}/healthz`);
    assert.equal(res.status, 200);
  });
});
