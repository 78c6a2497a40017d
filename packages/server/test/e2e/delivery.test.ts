/**
 * The delivery path end to end: transformed variants (checked with sharp on the bytes), path and
 * query transformations, chains, Accept negotiation, the variant cache (x-tessera-cache: HIT /
 * MISS / COALESCED), single-flight, purges (official SDK, validated against the spec), new
 * versions, signed URLs built by the official `@imagekit/nodejs` helper, custom URL endpoints
 * with WEB_FOLDER / WEB_PROXY origins on a local HTTP server and an S3_COMPATIBLE origin on a
 * local s3rver, URL rewriters, limits (decompression bombs, bad transformations, the transform
 * cap) and getFromUrl for transformed URLs.
 *
 * The main server runs with TESSERA_ALLOW_PRIVATE_URLS=true so its origins may be on loopback.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import ImageKit from '@imagekit/nodejs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { startTestServer, type TestServer } from '../support/server.js';
import { SPEC_MISSING_MESSAGE, assertErrorBody, assertMatchesSchema, responseSchemaFor, specAvailable } from '../support/spec.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies are checked field by field
type Json = any;

interface Got {
  status: number;
  headers: Headers;
  bytes: Buffer;
}

async function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Got> {
  const r = await fetch(url, { method, headers });
  return { status: r.status, headers: r.headers, bytes: Buffer.from(await r.arrayBuffer()) };
}

function ok(g: Got, what = ''): void {
  assert.equal(g.status, 200, `${what} → ${g.status}: ${g.bytes.toString('utf8').slice(0, 300)}`);
}

function assertError(g: Got, status: number): Json {
  assert.equal(g.status, status, `expected ${status}, got ${g.status}: ${g.bytes.toString('utf8').slice(0, 300)}`);
  assert.match(g.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(g.bytes.toString('utf8')) as Json;
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0);
  assert.equal(typeof body.help, 'string');
  return body;
}

async function info(bytes: Buffer): Promise<{ width: number; height: number; format: string }> {
  const m = await sharp(bytes).metadata();
  return { width: m.width ?? 0, height: m.height ?? 0, format: m.format ?? '' };
}

/** Four coloured quadrants: red TL, green TR, blue BL, white BR. */
async function quadrants(width: number, height: number, format: 'jpeg' | 'png' = 'jpeg'): Promise<Buffer> {
  const w = Math.floor(width / 2);
  const h = Math.floor(height / 2);
  const tile = (r: number, g: number, b: number, ww: number, hh: number) =>
    sharp({ create: { width: ww, height: hh, channels: 3, background: { r, g, b } } }).png().toBuffer();
  const img = sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } }).composite([
    { input: await tile(255, 0, 0, w, h), left: 0, top: 0 },
    { input: await tile(0, 255, 0, width - w, h), left: w, top: 0 },
    { input: await tile(0, 0, 255, w, height - h), left: 0, top: h },
  ]);
  return format === 'jpeg' ? img.jpeg({ quality: 90 }).toBuffer() : img.png().toBuffer();
}

async function solid(width: number, height: number, rgb: [number, number, number], format: 'jpeg' | 'png' = 'jpeg'): Promise<Buffer> {
  const s = sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
  return format === 'jpeg' ? s.jpeg().toBuffer() : s.png().toBuffer();
}

/** A noisy image: slow to blur, so a transform holds its slot for a while. */
async function noisy(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let x = 12345;
  for (let i = 0; i < raw.length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    raw[i] = x >> 16;
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

/** A PNG whose header claims `size`×`size` pixels (a decompression bomb's promise) with a tiny body. */
function bombPng(size: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  // Scanlines of zeros compress ~1000:1; a few rows are enough to look like a real stream.
  const idat = deflateSync(Buffer.alloc((size + 1) * 64));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

let srv: TestServer;
let auth: string;
let client: ImageKit;

async function upload(bytes: Buffer, fileName: string, fields: Record<string, string> = {}): Promise<Json> {
  const fd = new FormData();
  fd.append('file', new Blob([new Uint8Array(bytes)]), fileName);
  fd.append('fileName', fileName);
  fd.append('useUniqueFileName', 'false');
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  const r = await fetch(`${srv.baseUrl}/api/v1/files/upload`, { method: 'POST', headers: { authorization: auth }, body: fd });
  const text = await r.text();
  assert.equal(r.status, 200, `upload failed: ${text}`);
  return JSON.parse(text);
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const r = await fetch(`${srv.baseUrl}${path}`, {
    method,
    headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  return { status: r.status, body: text === '' ? {} : JSON.parse(text) };
}

async function purge(url: string): Promise<string> {
  const r = await api('POST', '/v1/files/purge', { url });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.match(r.body.requestId, /^[0-9a-f]{24}$/);
  return r.body.requestId as string;
}

// --- a local web server for WEB_FOLDER / WEB_PROXY origins ------------------------------------

let web: Server;
let webBase: string;
const webFiles = new Map<string, { bytes: Buffer; type: string; private?: boolean }>();
const webHits = new Map<string, number>();

// --- a local S3-compatible server ---------------------------------------------------------------

let s3: S3rver;
let s3Dir: string;
let s3Endpoint: string;

before(async () => {
  web = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    webHits.set(path, (webHits.get(path) ?? 0) + 1);
    const f = webFiles.get(path);
    if (!f) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
      return;
    }
    const headers: Record<string, string> = { 'content-type': f.type, 'content-length': String(f.bytes.length) };
    if (f.private) headers['is-private-file'] = 'true';
    res.writeHead(200, headers).end(f.bytes);
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  webBase = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;

  s3Dir = mkdtempSync(join(tmpdir(), 'tessera-s3rver-'));
  s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3Dir, configureBuckets: [{ name: 'media', configs: [] }] });
  const addr = (await s3.run()) as AddressInfo;
  s3Endpoint = `http://127.0.0.1:${addr.port}`;

  srv = await startTestServer({
    env: {
      TESSERA_ALLOW_PRIVATE_URLS: 'true',
      TESSERA_NAMED_TRANSFORMATIONS: JSON.stringify({ small_square: 'w-64,h-64' }),
      TESSERA_MAX_INPUT_PIXELS: '50000000',
    },
  });
  auth = `Basic ${Buffer.from(`${srv.privateKey}:`).toString('base64')}`;
  client = new ImageKit({ privateKey: srv.privateKey, baseURL: srv.baseUrl, maxRetries: 0 });
});

after(async () => {
  await srv?.stop();
  await new Promise<void>((r) => (web ? web.close(() => r()) : r()));
  await s3?.close();
  if (s3Dir) rmSync(s3Dir, { recursive: true, force: true });
});

describe('transformed variants', () => {
  before(async () => {
    await upload(await quadrants(400, 300), 'quad.jpg', { folder: '/tr' });
    await upload(await quadrants(200, 200, 'png'), 'quad.png', { folder: '/tr' });
  });

  test('w and h resize; the bytes are the requested size', async () => {
    const g = await get(`${srv.urlEndpoint}/tr:w-200,h-100/tr/quad.jpg`);
    ok(g);
    const m = await info(g.bytes);
    assert.equal(m.width, 200);
    assert.equal(m.height, 100);
    assert.equal(g.headers.get('content-type'), 'image/jpeg');
    assert.equal(Number(g.headers.get('content-length')), g.bytes.length);
    assert.match(g.headers.get('cache-control') ?? '', /public/);
  });

  test('path and query transformations are the same variant (one render, then hits)', async () => {
    const a = await get(`${srv.urlEndpoint}/tr:w-120/tr/quad.jpg`);
    const b = await get(`${srv.urlEndpoint}/tr/quad.jpg?tr=w-120`);
    ok(a);
    ok(b);
    assert.equal(a.headers.get('x-tessera-cache'), 'MISS');
    assert.equal(b.headers.get('x-tessera-cache'), 'HIT');
    assert.equal(a.headers.get('etag'), b.headers.get('etag'));
    assert.deepEqual(a.bytes, b.bytes);
    assert.equal((await info(b.bytes)).width, 120);
  });

  test('parameters in another order or spelling share the cache entry', async () => {
    const a = await get(`${srv.urlEndpoint}/tr:w-90,h-60/tr/quad.jpg`);
    const b = await get(`${srv.urlEndpoint}/tr:h-60,w-90/tr/quad.jpg`);
    ok(a);
    ok(b);
    assert.equal(b.headers.get('x-tessera-cache'), 'HIT');
    assert.equal(a.headers.get('etag'), b.headers.get('etag'));
  });

  test('chained steps run in order (resize, then rotate)', async () => {
    const g = await get(`${srv.urlEndpoint}/tr:w-200:rt-90/tr/quad.jpg`);
    ok(g);
    const m = await info(g.bytes);
    assert.deepEqual([m.width, m.height], [150, 200]);
    // Path and query chain: path first, then query.
    const q = await get(`${srv.urlEndpoint}/tr:w-200/tr/quad.jpg?tr=rt-90`);
    ok(q);
    assert.deepEqual([(await info(q.bytes)).width, (await info(q.bytes)).height], [150, 200]);
  });

  test('crop position: fo-left keeps the red/blue half', async () => {
    const g = await get(`${srv.urlEndpoint}/tr:w-100,h-300,fo-left,f-png/tr/quad.jpg`);
    ok(g);
    const { data, info: i } = await sharp(g.bytes).raw().toBuffer({ resolveWithObject: true });
    const px = (x: number, y: number) => [...data.subarray((y * i.width + x) * i.channels, (y * i.width + x) * i.channels + 3)];
    const [r1, g1] = px(50, 50) as [number, number];
    const [r2, , b2] = px(50, 250) as [number, number, number];
    assert.ok(r1 > 200 && g1 < 60, `top of the left half is red, got ${px(50, 50)}`);
    assert.ok(b2 > 200 && r2 < 60, `bottom of the left half is blue, got ${px(50, 250)}`);
  });

  test('f-png and f-webp convert; Accept does not matter for a fixed format (no Vary)', async () => {
    const p = await get(`${srv.urlEndpoint}/tr:w-50,f-png/tr/quad.jpg`, { accept: 'image/webp' });
    ok(p);
    assert.equal((await info(p.bytes)).format, 'png');
    assert.equal(p.headers.get('content-type'), 'image/png');
    assert.equal(p.headers.get('vary'), null);
    const w = await get(`${srv.urlEndpoint}/tr:w-50,f-webp/tr/quad.jpg`);
    assert.equal((await info(w.bytes)).format, 'webp');
  });

  test('automatic format: WebP for clients that accept it, the original format otherwise, with Vary: Accept', async () => {
    const webp = await get(`${srv.urlEndpoint}/tr:w-80/tr/quad.jpg`, { accept: 'image/avif,image/webp,image/*,*/*;q=0.8' });
    const jpeg = await get(`${srv.urlEndpoint}/tr:w-80/tr/quad.jpg`, { accept: 'image/jpeg,*/*' });
    const none = await get(`${srv.urlEndpoint}/tr:w-80/tr/quad.jpg`);
    ok(webp);
    ok(jpeg);
    assert.equal((await info(webp.bytes)).format, 'webp');
    assert.equal(webp.headers.get('content-type'), 'image/webp');
    assert.equal((await info(jpeg.bytes)).format, 'jpeg');
    assert.equal((await info(none.bytes)).format, 'jpeg');
    for (const g of [webp, jpeg, none]) assert.match(g.headers.get('vary') ?? '', /Accept/);
    assert.notEqual(webp.headers.get('etag'), jpeg.headers.get('etag'));
    // The same Accept class is one cache entry.
    assert.equal(none.headers.get('x-tessera-cache'), 'HIT');
    assert.equal(none.headers.get('etag'), jpeg.headers.get('etag'));
    // q=0 refuses WebP.
    const refused = await get(`${srv.urlEndpoint}/tr:w-80/tr/quad.jpg`, { accept: 'image/webp;q=0,*/*' });
    assert.equal((await info(refused.bytes)).format, 'jpeg');
  });

  test('PNG with transparency keeps PNG by default', async () => {
    const g = await get(`${srv.urlEndpoint}/tr:w-50/tr/quad.png`);
    ok(g);
    assert.equal((await info(g.bytes)).format, 'png');
  });

  test('named transformations from config and the built-in ik_ml_thumbnail', async () => {
    const n = await get(`${srv.urlEndpoint}/tr:n-small_square/tr/quad.jpg`);
    ok(n);
    assert.deepEqual([(await info(n.bytes)).width, (await info(n.bytes)).height], [64, 64]);
    const t = await get(`${srv.urlEndpoint}/tr/quad.jpg?tr=n-ik_ml_thumbnail`);
    ok(t);
    assert.ok((await info(t.bytes)).width <= 300);
    assertError(await get(`${srv.urlEndpoint}/tr:n-nope/tr/quad.jpg`), 400);
  });

  test('ETag / If-None-Match → 304; HEAD has the headers and no body; Range gives a slice', async () => {
    const url = `${srv.urlEndpoint}/tr:w-70/tr/quad.jpg`;
    const full = await get(url);
    ok(full);
    const etag = full.headers.get('etag') as string;
    assert.match(etag, /^"[A-Za-z0-9_-]+"$/);
    const nm = await get(url, { 'if-none-match': etag });
    assert.equal(nm.status, 304);
    assert.equal(nm.bytes.length, 0);
    const other = await get(url, { 'if-none-match': '"nope"' });
    assert.equal(other.status, 200);
    const head = await get(url, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.bytes.length, 0);
    assert.equal(Number(head.headers.get('content-length')), full.bytes.length);
    assert.equal(head.headers.get('etag'), etag);
    const part = await get(url, { range: 'bytes=0-9' });
    assert.equal(part.status, 206);
    assert.deepEqual(part.bytes, full.bytes.subarray(0, 10));
    assert.equal(part.headers.get('content-range'), `bytes 0-9/${full.bytes.length}`);
  });

  test('?updatedAt= and other query parameters are accepted', async () => {
    const up = await get(`${srv.urlEndpoint}/tr:w-40/tr/quad.jpg?updatedAt=12345`);
    ok(up);
    assert.equal((await info(up.bytes)).width, 40);
  });

  test('single-flight: concurrent first requests for a variant render it once', async () => {
    const url = `${srv.urlEndpoint}/tr:w-333,h-222,bl-3/tr/quad.jpg`;
    const all = await Promise.all(Array.from({ length: 8 }, () => get(url)));
    for (const g of all) ok(g);
    const states = all.map((g) => g.headers.get('x-tessera-cache'));
    assert.equal(states.filter((s) => s === 'MISS').length, 1, `one render, got ${states.join(',')}`);
    assert.ok(states.every((s) => s === 'MISS' || s === 'COALESCED' || s === 'HIT'), states.join(','));
    assert.equal(new Set(all.map((g) => g.headers.get('etag'))).size, 1);
  });

  test('bad transformations are 400 {message, help}, never 500', async () => {
    for (const tr of ['w-abc', 'zz-1', 'w-100,w-200', 'f-gif', 'l-image,i-missing.png', 'w-100000', 'rt-45x']) {
      const g = await get(`${srv.urlEndpoint}/tr:${tr}/tr/quad.jpg`);
      const body = assertError(g, 400);
      assert.ok(body.message.length > 10, tr);
    }
    assertError(await get(`${srv.urlEndpoint}/tr/quad.jpg?tr=w-`), 400);
  });

  test('a transformation on a non-image is a 400; unknown paths are 404', async () => {
    await upload(Buffer.from('just text\n'), 'notes.txt', { folder: '/tr' });
    assertError(await get(`${srv.urlEndpoint}/tr:w-100/tr/notes.txt`), 400);
    assertError(await get(`${srv.urlEndpoint}/tr:w-100/tr/nope.jpg`), 404);
  });
});

describe('limits', () => {
  test('a decompression bomb (header promises 40000×40000) is refused with 400 before decoding', async () => {
    webFiles.set('/assets/bomb.png', { bytes: bombPng(40_000), type: 'image/png' });
    const origin = await client.accounts.origins.create({ type: 'WEB_FOLDER', name: 'bomb web', baseUrl: `${webBase}/assets` });
    await client.accounts.urlEndpoints.create({ description: 'bombs', urlPrefix: 'bombs', origins: [origin.id] });
    const g = await get(`${srv.urlEndpoint}/bombs/tr:w-100/bomb.png`);
    const body = assertError(g, 400);
    assert.match(body.message, /larger than this server transforms|pixels/);
  });
});

describe('the transform cap', () => {
  let capped: TestServer;
  before(async () => {
    capped = await startTestServer({ env: { TESSERA_MAX_CONCURRENT_TRANSFORMS: '1', TESSERA_TRANSFORM_QUEUE: '0' } });
    const fd = new FormData();
    fd.append('file', new Blob([new Uint8Array(await noisy(2000, 2000))]), 'slow.jpg');
    fd.append('fileName', 'slow.jpg');
    fd.append('useUniqueFileName', 'false');
    const r = await fetch(`${capped.baseUrl}/api/v1/files/upload`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${capped.privateKey}:`).toString('base64')}` },
      body: fd,
    });
    assert.equal(r.status, 200, await r.text());
  });
  after(async () => capped?.stop());

  test('past the cap a transform is refused with 503 and Retry-After; it succeeds later', async () => {
    let done = false;
    const slow = get(`${capped.urlEndpoint}/tr:bl-90,e-sharpen-10/slow.jpg`).finally(() => (done = true));
    let refused: Got | undefined;
    for (let i = 0; i < 60 && !done && !refused; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const g = await get(`${capped.urlEndpoint}/tr:w-${100 + i}/slow.jpg`);
      if (g.status === 503) refused = g;
    }
    const first = await slow;
    ok(first, 'the slow transform');
    assert.ok(refused, 'a second transform was refused while the first held the only slot');
    assertError(refused, 503);
    assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/);
    ok(await get(`${capped.urlEndpoint}/tr:w-100/slow.jpg`), 'after the slot is free');
  });
});

describe('purges', () => {
  before(async () => {
    await upload(await quadrants(300, 200), 'p.jpg', { folder: '/purge' });
    await upload(await quadrants(300, 200), 'a.jpg', { folder: '/wild/sub' });
    await upload(await quadrants(300, 200), 'b.jpg', { folder: '/wild/sub' });
    await upload(await quadrants(300, 200), 'c.jpg', { folder: '/tame' });
  });

  const state = async (url: string) => {
    const g = await get(url);
    ok(g, url);
    return g.headers.get('x-tessera-cache');
  };

  test('the official SDK purges an exact URL: the original and every variant go, the next request is a MISS', async (t) => {
    if (!specAvailable) return t.skip(SPEC_MISSING_MESSAGE);
    const a = `${srv.urlEndpoint}/tr:w-100/purge/p.jpg`;
    const b = `${srv.urlEndpoint}/purge/p.jpg?tr=h-50`;
    await state(a);
    await state(b);
    assert.equal(await state(a), 'HIT');
    assert.equal(await state(b), 'HIT');
    const { data, response } = await client.cache.invalidation.create({ url: `${srv.urlEndpoint}/purge/p.jpg` }).withResponse();
    assert.equal(response.status, 201);
    assertMatchesSchema(data, responseSchemaFor('/v1/files/purge', 'post', 201) as string);
    const status = await client.cache.invalidation.get(data.requestId as string);
    assertMatchesSchema(status, responseSchemaFor('/v1/files/purge/{requestId}', 'get', 200) as string);
    assert.equal(status.status, 'Completed');
    assert.equal(await state(a), 'MISS');
    assert.equal(await state(b), 'MISS');
  });

  test('a URL with a transformation purges only that transformation', async () => {
    const a = `${srv.urlEndpoint}/tr:w-110/purge/p.jpg`;
    const b = `${srv.urlEndpoint}/tr:w-111/purge/p.jpg`;
    await state(a);
    await state(b);
    await purge(`${srv.urlEndpoint}/purge/p.jpg?tr=w-110`);
    assert.equal(await state(a), 'MISS');
    assert.equal(await state(b), 'HIT');
  });

  test('a prefix wildcard purges everything under it, and nothing else', async () => {
    const urls = [`${srv.urlEndpoint}/tr:w-60/wild/sub/a.jpg`, `${srv.urlEndpoint}/wild/sub/b.jpg?tr=w-61`];
    const outside = `${srv.urlEndpoint}/tr:w-60/tame/c.jpg`;
    for (const u of [...urls, outside]) await state(u);
    for (const u of [...urls, outside]) assert.equal(await state(u), 'HIT');
    await purge(`${srv.urlEndpoint}/wild/sub/*`);
    for (const u of urls) assert.equal(await state(u), 'MISS', u);
    assert.equal(await state(outside), 'HIT');
  });

  test('invalid purge requests are 400 with the spec’s error shape; an unknown requestId is 400', async (t) => {
    if (!specAvailable) return t.skip(SPEC_MISSING_MESSAGE);
    for (const url of ['not a url', `${srv.urlEndpoint}/a/*/b.jpg`, `${srv.baseUrl}/other-account/x.jpg`, '']) {
      const r = await api('POST', '/v1/files/purge', { url });
      assert.equal(r.status, 400, `${url}: ${JSON.stringify(r.body)}`);
      assertErrorBody(r.body, '/v1/files/purge', 'post', 400);
    }
    const s = await api('GET', '/v1/files/purge/0123456789abcdef01234567');
    assert.equal(s.status, 400);
    assertErrorBody(s.body, '/v1/files/purge/{requestId}', 'get', 400);
  });

  test('rename with purgeCache records a completed purge of the old URL', async () => {
    await upload(await solid(50, 50, [1, 2, 3]), 'old.jpg', { folder: '/ren' });
    const r = await api('PUT', '/v1/files/rename', { filePath: '/ren/old.jpg', newFileName: 'new.jpg', purgeCache: true });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(r.body.purgeRequestId, /^[0-9a-f]{24}$/);
    const s = await api('GET', `/v1/files/purge/${r.body.purgeRequestId}`);
    assert.deepEqual(s.body, { status: 'Completed' });
  });

  test('a new version serves new bytes at the same URL (the cache key follows the version)', async () => {
    const url = `${srv.urlEndpoint}/tr:w-100/ver/v.jpg`;
    await upload(await solid(400, 200, [255, 0, 0]), 'v.jpg', { folder: '/ver' });
    const first = await get(url);
    ok(first);
    assert.equal((await info(first.bytes)).height, 50);
    assert.equal((await get(url)).headers.get('x-tessera-cache'), 'HIT');
    await upload(await solid(200, 200, [0, 0, 255]), 'v.jpg', { folder: '/ver' });
    const second = await get(url);
    ok(second);
    assert.equal(second.headers.get('x-tessera-cache'), 'MISS');
    assert.equal((await info(second.bytes)).height, 100);
    assert.notEqual(second.headers.get('etag'), first.headers.get('etag'));
  });
});

describe('private and unpublished files', () => {
  let privatePath: string;
  let unpublishedPath: string;
  before(async () => {
    privatePath = new URL((await upload(await quadrants(200, 100), 'secret.jpg', { folder: '/priv', isPrivateFile: 'true' })).url).pathname.replace(`/${srv.imagekitId}`, '');
    unpublishedPath = new URL((await upload(await quadrants(200, 100), 'draft.jpg', { folder: '/priv', isPublished: 'false' })).url).pathname.replace(`/${srv.imagekitId}`, '');
  });

  test('unsigned → 401, original and transformed', async () => {
    assertError(await get(`${srv.urlEndpoint}${privatePath}`), 401);
    assertError(await get(`${srv.urlEndpoint}/tr:w-50${privatePath}`), 401);
    assertError(await get(`${srv.urlEndpoint}${unpublishedPath}?tr=w-50`), 401);
  });

  test('URLs signed by the official helper are served (query and path transformations, with and without expiry)', async () => {
    const variants = [
      client.helper.buildSrc({ urlEndpoint: srv.urlEndpoint, src: privatePath, transformation: [{ width: 50 }], signed: true, expiresIn: 300 }),
      client.helper.buildSrc({ urlEndpoint: srv.urlEndpoint, src: privatePath, transformation: [{ width: 40, height: 20 }], transformationPosition: 'path', signed: true, expiresIn: 300 }),
      client.helper.buildSrc({ urlEndpoint: srv.urlEndpoint, src: privatePath, signed: true }),
      client.helper.buildSrc({ urlEndpoint: srv.urlEndpoint, src: unpublishedPath, transformation: [{ width: 30 }], queryParameters: { v: '2' }, signed: true, expiresIn: 60 }),
    ];
    assert.match(variants[0] as string, /ik-t=\d+&ik-s=[0-9a-f]{40}$/);
    assert.match(variants[2] as string, /\?ik-s=[0-9a-f]{40}$/);
    const widths = [50, 40, 200, 30];
    for (const [i, url] of variants.entries()) {
      const g = await get(url);
      ok(g, url);
      assert.equal((await info(g.bytes)).width, widths[i], url);
      assert.match(g.headers.get('cache-control') ?? '', /^private/);
    }
  });

  test('tampered, expired or half-signed URLs → 401', async () => {
    const signed = client.helper.buildSrc({ urlEndpoint: srv.urlEndpoint, src: privatePath, transformation: [{ width: 50 }], signed: true, expiresIn: 300 });
    assertError(await get(signed.replace('w-50', 'w-51')), 401);
    assertError(await get(signed.replace(/ik-s=([0-9a-f])/, (_m, c: string) => `ik-s=${c === 'a' ? 'b' : 'a'}`)), 401);
    assertError(await get(signed.replace(/ik-t=(\d+)/, (_m, t: string) => `ik-t=${Number(t) + 1}`)), 401);
    assertError(await get(signed.replace(/&ik-s=[0-9a-f]+/, '')), 401);
    // Expired: signed correctly, but for a moment in the past.
    const past = Math.floor(Date.now() / 1000) - 10;
    const rel = `${privatePath.slice(1)}?tr=w-50`;
    const sig = createHmac('sha1', srv.privateKey).update(rel + past).digest('hex');
    assertError(await get(`${srv.urlEndpoint}/${rel}&ik-t=${past}&ik-s=${sig}`), 401);
    // Another key.
    const other = new ImageKit({ privateKey: 'private_someone_else', baseURL: srv.baseUrl });
    assertError(await get(other.helper.buildSrc({ urlEndpoint: srv.urlEndpoint, src: privatePath, signed: true })), 401);
  });

  test('a public file with a broken signature is refused too; a valid one is served', async () => {
    await upload(await solid(60, 60, [9, 9, 9]), 'pub.jpg', { folder: '/priv' });
    const signed = client.helper.buildSrc({ urlEndpoint: srv.urlEndpoint, src: '/priv/pub.jpg', transformation: [{ width: 20 }], signed: true });
    ok(await get(signed));
    assertError(await get(signed.replace('w-20', 'w-21')), 401);
  });

  test('named transformations of a private file are served unsigned (as ImageKit documents); not for unpublished files', async () => {
    const g = await get(`${srv.urlEndpoint}/tr:n-small_square${privatePath}`);
    ok(g);
    assert.equal((await info(g.bytes)).width, 64);
    assertError(await get(`${srv.urlEndpoint}/tr:n-small_square,w-65${privatePath}`), 401);
    assertError(await get(`${srv.urlEndpoint}/tr:n-small_square${unpublishedPath}`), 401);
  });
});

describe('origins behind custom URL endpoints', () => {
  let photo: Buffer;
  before(async () => {
    photo = await quadrants(120, 80, 'png');
    webFiles.set('/assets/photo.png', { bytes: photo, type: 'image/png' });
    webFiles.set('/assets/secret.png', { bytes: photo, type: 'image/png', private: true });
    webFiles.set('/second/only-here.png', { bytes: await solid(90, 30, [0, 200, 0], 'png'), type: 'image/png' });
    webFiles.set('/assets/doc.txt', { bytes: Buffer.from('plain text from the origin\n'), type: 'text/plain' });
    const folder = await client.accounts.origins.create({ type: 'WEB_FOLDER', name: 'local web', baseUrl: `${webBase}/assets` });
    const second = await client.accounts.origins.create({ type: 'WEB_FOLDER', name: 'second web', baseUrl: `${webBase}/second/` });
    const proxy = await client.accounts.origins.create({ type: 'WEB_PROXY', name: 'local proxy' });
    await client.accounts.urlEndpoints.create({ description: 'web folders', urlPrefix: 'web', origins: [folder.id, second.id] });
    await client.accounts.urlEndpoints.create({ description: 'web proxy', urlPrefix: 'proxy', origins: [proxy.id] });
  });

  test('WEB_FOLDER: the original is fetched once, cached, and served byte for byte', async () => {
    const before = webHits.get('/assets/photo.png') ?? 0;
    const a = await get(`${srv.urlEndpoint}/web/photo.png`);
    ok(a);
    assert.deepEqual(a.bytes, photo);
    assert.equal(a.headers.get('content-type'), 'image/png');
    assert.equal(a.headers.get('x-tessera-cache'), 'MISS');
    const b = await get(`${srv.urlEndpoint}/web/photo.png`);
    assert.equal(b.headers.get('x-tessera-cache'), 'HIT');
    assert.equal(webHits.get('/assets/photo.png'), before + 1);
    const nm = await get(`${srv.urlEndpoint}/web/photo.png`, { 'if-none-match': a.headers.get('etag') as string });
    assert.equal(nm.status, 304);
  });

  test('WEB_FOLDER: origin files are transformable like library files', async () => {
    const g = await get(`${srv.urlEndpoint}/web/tr:w-60,f-jpg/photo.png`);
    ok(g);
    const m = await info(g.bytes);
    assert.deepEqual([m.width, m.height, m.format], [60, 40, 'jpeg']);
    assert.equal((await get(`${srv.urlEndpoint}/web/photo.png?tr=w-60,f-jpg`)).headers.get('x-tessera-cache'), 'HIT');
  });

  test('origins are tried in order; a path none has is 404', async () => {
    const g = await get(`${srv.urlEndpoint}/web/tr:w-45/only-here.png`);
    ok(g);
    assert.deepEqual([(await info(g.bytes)).width, (await info(g.bytes)).height], [45, 15]);
    assertError(await get(`${srv.urlEndpoint}/web/missing.png`), 404);
    assertError(await get(`${srv.urlEndpoint}/web/tr:w-10/missing.png`), 404);
  });

  test('non-image origin files are served as they are; transforming them is a 400', async () => {
    const g = await get(`${srv.urlEndpoint}/web/doc.txt`);
    ok(g);
    assert.equal(g.bytes.toString(), 'plain text from the origin\n');
    assert.match(g.headers.get('content-type') ?? '', /^text\/plain/);
    assertError(await get(`${srv.urlEndpoint}/web/tr:w-10/doc.txt`), 400);
  });

  test('a file the origin marks private (Is-Private-File) needs a signed URL', async () => {
    assertError(await get(`${srv.urlEndpoint}/web/secret.png`), 401);
    assertError(await get(`${srv.urlEndpoint}/web/tr:w-30/secret.png`), 401);
    const signed = client.helper.buildSrc({ urlEndpoint: `${srv.urlEndpoint}/web`, src: '/secret.png', transformation: [{ width: 30 }], signed: true, expiresIn: 120 });
    const g = await get(signed);
    ok(g, signed);
    assert.equal((await info(g.bytes)).width, 30);
  });

  test('purging an origin URL evicts the cached original: the origin is asked again', async () => {
    await get(`${srv.urlEndpoint}/web/photo.png`);
    const before = webHits.get('/assets/photo.png') ?? 0;
    await purge(`${srv.urlEndpoint}/web/photo.png`);
    const g = await get(`${srv.urlEndpoint}/web/photo.png`);
    assert.equal(g.headers.get('x-tessera-cache'), 'MISS');
    assert.equal(webHits.get('/assets/photo.png'), before + 1);
  });

  test('library files are found first on every endpoint', async () => {
    await upload(await solid(80, 40, [5, 5, 5]), 'lib-first.jpg');
    const g = await get(`${srv.urlEndpoint}/web/tr:w-20/lib-first.jpg`);
    ok(g);
    assert.equal((await info(g.bytes)).width, 20);
  });

  test('WEB_PROXY: the path is an absolute URL, fetched through the same address rules', async () => {
    const g = await get(`${srv.urlEndpoint}/proxy/tr:w-30/${webBase}/assets/photo.png`);
    ok(g);
    assert.deepEqual([(await info(g.bytes)).width, (await info(g.bytes)).height], [30, 20]);
    const enc = await get(`${srv.urlEndpoint}/proxy/${encodeURIComponent(`${webBase}/assets/photo.png`)}?tr=w-31`);
    ok(enc);
    assert.equal((await info(enc.bytes)).width, 31);
    assertError(await get(`${srv.urlEndpoint}/proxy/${webBase}/assets/nothing.png`), 404);
  });

  test('S3_COMPATIBLE origin (local s3rver): objects under the prefix are served and transformed; isprivatefile metadata needs a signature', async () => {
    const s3c = new S3Client({
      region: 'us-east-1',
      endpoint: s3Endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const shoe = await quadrants(200, 100);
    await s3c.send(new PutObjectCommand({ Bucket: 'media', Key: 'products/shoe.jpg', Body: shoe, ContentType: 'image/jpeg' }));
    await s3c.send(
      new PutObjectCommand({ Bucket: 'media', Key: 'products/hidden.jpg', Body: shoe, ContentType: 'image/jpeg', Metadata: { isprivatefile: 'true' } }),
    );
    s3c.destroy();
    const origin = await client.accounts.origins.create({
      type: 'S3_COMPATIBLE',
      name: 'local s3',
      bucket: 'media',
      prefix: 'products',
      accessKey: 'S3RVER',
      secretKey: 'S3RVER',
      endpoint: s3Endpoint,
      s3ForcePathStyle: true,
    });
    await client.accounts.urlEndpoints.create({ description: 's3', urlPrefix: 's3', origins: [origin.id] });
    const orig = await get(`${srv.urlEndpoint}/s3/shoe.jpg`);
    ok(orig);
    assert.deepEqual(orig.bytes, shoe);
    assert.equal(orig.headers.get('content-type'), 'image/jpeg');
    const t = await get(`${srv.urlEndpoint}/s3/tr:w-50/shoe.jpg`);
    ok(t);
    assert.deepEqual([(await info(t.bytes)).width, (await info(t.bytes)).height], [50, 25]);
    assertError(await get(`${srv.urlEndpoint}/s3/nope.jpg`), 404);
    assertError(await get(`${srv.urlEndpoint}/s3/hidden.jpg`), 401);
    ok(await get(client.helper.buildSrc({ urlEndpoint: `${srv.urlEndpoint}/s3`, src: '/hidden.jpg', signed: true })));
  });
});

describe('URL rewriters', () => {
  before(async () => {
    await upload(await quadrants(400, 200), 'rw.jpg', { folder: '/rw' });
    await client.accounts.urlEndpoints.create({ description: 'cloudinary', urlPrefix: 'cl', urlRewriter: { type: 'CLOUDINARY' } });
    await client.accounts.urlEndpoints.create({ description: 'imgix', urlPrefix: 'ix', urlRewriter: { type: 'IMGIX' } });
    await client.accounts.urlEndpoints.create({ description: 'akamai', urlPrefix: 'ak', urlRewriter: { type: 'AKAMAI' } });
  });

  test('Cloudinary: transformation segments (chained), image/upload and a version segment', async () => {
    const g = await get(`${srv.urlEndpoint}/cl/image/upload/w_100,h_50,c_scale/a_90/v1612345678/rw/rw.jpg`);
    ok(g);
    assert.deepEqual([(await info(g.bytes)).width, (await info(g.bytes)).height], [50, 100]);
  });

  test('Imgix and Akamai: query parameters', async () => {
    const ix = await get(`${srv.urlEndpoint}/ix/rw/rw.jpg?w=120&fm=png`);
    ok(ix);
    assert.deepEqual([(await info(ix.bytes)).width, (await info(ix.bytes)).format], [120, 'png']);
    const ak = await get(`${srv.urlEndpoint}/ak/rw/rw.jpg?imwidth=80`);
    ok(ak);
    assert.equal((await info(ak.bytes)).width, 80);
  });
});

describe('getFromUrl for transformed URLs', () => {
  test('the official SDK gets the transformed image’s metadata', async (t) => {
    if (!specAvailable) return t.skip(SPEC_MISSING_MESSAGE);
    await upload(await quadrants(400, 300), 'meta.jpg', { folder: '/meta' });
    const { data, response } = await client.files.metadata.getFromURL({ url: `${srv.urlEndpoint}/tr:w-100,f-png/meta/meta.jpg` }).withResponse();
    assert.equal(response.status, 200);
    assertMatchesSchema(data, responseSchemaFor('/v1/metadata', 'get', 200) as string);
    assert.equal(data.width, 100);
    assert.equal(data.height, 75);
    assert.equal(data.format, 'png');
    const original = await client.files.metadata.getFromURL({ url: `${srv.urlEndpoint}/meta/meta.jpg` });
    assert.equal(original.width, 400);
  });
});
