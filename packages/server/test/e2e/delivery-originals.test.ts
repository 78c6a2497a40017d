/**
 * Serving stored originals at the `url` the API returns: exact bytes and content-type, HEAD,
 * ETag / If-None-Match, byte ranges, private and unpublished files, unknown paths.
 * No auth is sent on delivery requests: URLs are public.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;
let auth: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies are checked field by field
type Json = any;

async function upload(bytes: Buffer, fileName: string, fields: Record<string, string> = {}): Promise<Json> {
  const fd = new FormData();
  fd.append('file', new Blob([new Uint8Array(bytes)]), fileName);
  fd.append('fileName', fileName);
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  const r = await fetch(`${srv.baseUrl}/api/v1/files/upload`, { method: 'POST', headers: { authorization: auth }, body: fd });
  const text = await r.text();
  assert.equal(r.status, 200, `upload failed: ${text}`);
  return JSON.parse(text);
}

interface Got {
  status: number;
  headers: Headers;
  bytes: Buffer;
}

async function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Got> {
  const r = await fetch(url, { method, headers });
  return { status: r.status, headers: r.headers, bytes: Buffer.from(await r.arrayBuffer()) };
}

/** A 4xx whose body is the spec's {message, help}. */
function assertErrorBody(g: Got, status: number): void {
  assert.equal(g.status, status, `expected ${status}, got ${g.status}: ${g.bytes.toString('utf8').slice(0, 300)}`);
  assert.match(g.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(g.bytes.toString('utf8')) as Json;
  assert.equal(typeof body.message, 'string');
  assert.equal(typeof body.help, 'string');
  assert.ok(body.message.length > 0);
}

const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n' +
    'trailer\n<< /Root 1 0 R >>\n%%EOF\n',
);
const TEXT = Buffer.from('Tessera delivery test.\nSecond line: äöü ✓\n');

const samples: Record<string, { bytes: Buffer; name: string; mime: RegExp; up?: Json }> = {};

before(async () => {
  srv = await startTestServer();
  auth = `Basic ${Buffer.from(`${srv.privateKey}:`).toString('base64')}`;
  const base = () => sharp({ create: { width: 37, height: 23, channels: 3, background: { r: 200, g: 100, b: 50 } } });
  samples.jpg = { bytes: await base().jpeg().toBuffer(), name: 'photo.jpg', mime: /^image\/jpeg$/ };
  samples.png = { bytes: await base().png().toBuffer(), name: 'pic.png', mime: /^image\/png$/ };
  samples.webp = { bytes: await base().webp().toBuffer(), name: 'pic.webp', mime: /^image\/webp$/ };
  samples.pdf = { bytes: PDF, name: 'doc.pdf', mime: /^application\/pdf$/ };
  samples.txt = { bytes: TEXT, name: 'notes.txt', mime: /^text\/plain(;|$)/ };
  for (const s of Object.values(samples)) s.up = await upload(s.bytes, s.name, { folder: 'deliver' });
});

after(async () => {
  await srv?.stop();
});

describe('originals at the returned url', () => {
  test('byte-identical with the right content-type and length (jpg, png, webp, pdf, txt)', async () => {
    for (const [kind, s] of Object.entries(samples)) {
      assert.ok(s.up.url.startsWith(`${srv.urlEndpoint}/deliver/`), s.up.url);
      const g = await get(s.up.url);
      assert.equal(g.status, 200, `${kind}: ${g.bytes.toString('utf8').slice(0, 200)}`);
      assert.match(g.headers.get('content-type') ?? '', s.mime, `${kind} content-type`);
      assert.equal(g.headers.get('content-length'), String(s.bytes.length), `${kind} content-length`);
      assert.ok(g.bytes.equals(s.bytes), `${kind}: bytes differ`);
      assert.equal(g.headers.get('accept-ranges'), 'bytes');
      assert.ok(g.headers.get('etag'), `${kind}: no ETag`);
    }
  });

  test('HEAD: the same headers and no body', async () => {
    const s = samples.png!;
    const g = await get(s.up.url);
    const h = await get(s.up.url, {}, 'HEAD');
    assert.equal(h.status, 200);
    assert.equal(h.bytes.length, 0);
    assert.equal(h.headers.get('content-type'), 'image/png');
    assert.equal(h.headers.get('content-length'), String(s.bytes.length));
    assert.equal(h.headers.get('etag'), g.headers.get('etag'));
    assert.equal(h.headers.get('last-modified'), g.headers.get('last-modified'));
  });

  test('ETag and If-None-Match → 304; another tag → 200', async () => {
    const s = samples.jpg!;
    const etag = (await get(s.up.url)).headers.get('etag')!;
    assert.match(etag, /^(W\/)?"[^"]+"$/);
    const nm = await get(s.up.url, { 'if-none-match': etag });
    assert.equal(nm.status, 304);
    assert.equal(nm.bytes.length, 0);
    assert.equal(nm.headers.get('etag'), etag);
    assert.equal((await get(s.up.url, { 'if-none-match': `"nope", ${etag}` })).status, 304);
    assert.equal((await get(s.up.url, { 'if-none-match': etag }, 'HEAD')).status, 304);
    const other = await get(s.up.url, { 'if-none-match': '"something-else"' });
    assert.equal(other.status, 200);
    assert.ok(other.bytes.equals(s.bytes));
    // Different bytes have a different ETag.
    assert.notEqual((await get(samples.png!.up.url)).headers.get('etag'), etag);
  });

  test('Range: first bytes, suffix, open-ended, clamped end, unsatisfiable, ignored when malformed', async () => {
    const s = samples.webp!;
    const size = s.bytes.length;
    const first = await get(s.up.url, { range: 'bytes=0-9' });
    assert.equal(first.status, 206);
    assert.equal(first.headers.get('content-range'), `bytes 0-9/${size}`);
    assert.equal(first.headers.get('content-length'), '10');
    assert.equal(first.headers.get('content-type'), 'image/webp');
    assert.ok(first.bytes.equals(s.bytes.subarray(0, 10)));

    const suffix = await get(s.up.url, { range: 'bytes=-5' });
    assert.equal(suffix.status, 206);
    assert.equal(suffix.headers.get('content-range'), `bytes ${size - 5}-${size - 1}/${size}`);
    assert.ok(suffix.bytes.equals(s.bytes.subarray(size - 5)));

    const open = await get(s.up.url, { range: 'bytes=10-' });
    assert.equal(open.status, 206);
    assert.equal(open.headers.get('content-range'), `bytes 10-${size - 1}/${size}`);
    assert.ok(open.bytes.equals(s.bytes.subarray(10)));

    const clamped = await get(s.up.url, { range: `bytes=${size - 3}-${size + 1000}` });
    assert.equal(clamped.status, 206);
    assert.equal(clamped.headers.get('content-range'), `bytes ${size - 3}-${size - 1}/${size}`);
    assert.ok(clamped.bytes.equals(s.bytes.subarray(size - 3)));

    const headRange = await get(s.up.url, { range: 'bytes=0-9' }, 'HEAD');
    assert.equal(headRange.status, 206);
    assert.equal(headRange.bytes.length, 0);
    assert.equal(headRange.headers.get('content-length'), '10');
    assert.equal(headRange.headers.get('content-range'), `bytes 0-9/${size}`);

    for (const range of [`bytes=${size}-`, `bytes=${size + 10}-${size + 20}`, 'bytes=-0']) {
      const bad = await get(s.up.url, { range });
      assertErrorBody(bad, 416);
      assert.equal(bad.headers.get('content-range'), `bytes */${size}`, range);
    }

    for (const range of ['bytes=abc', 'pages=0-1', 'bytes=']) {
      const ignored = await get(s.up.url, { range });
      assert.equal(ignored.status, 200, range);
      assert.ok(ignored.bytes.equals(s.bytes), range);
    }
  });

  test('?updatedAt= is accepted with any value, and the url works without it', async () => {
    const s = samples.pdf!;
    const u = new URL(s.up.url);
    assert.match(u.searchParams.get('updatedAt') ?? '', /^\d+$/);
    for (const v of [null, '0', '1700000000000']) {
      if (v === null) u.searchParams.delete('updatedAt');
      else u.searchParams.set('updatedAt', v);
      const g = await get(u.toString());
      assert.equal(g.status, 200, u.toString());
      assert.ok(g.bytes.equals(s.bytes));
    }
  });

  test('names with spaces and non-ASCII letters in nested folders', async () => {
    const bytes = await sharp({ create: { width: 5, height: 5, channels: 3, background: '#123456' } }).png().toBuffer();
    const up = await upload(bytes, 'café au lait.png', { folder: 'a b/ünï', useUniqueFileName: 'false' });
    assert.equal(up.filePath, '/a_b/ünï/café_au_lait.png');
    const g = await get(up.url);
    assert.equal(g.status, 200);
    assert.ok(g.bytes.equals(bytes));
  });

  test('a long path (well over 100 characters) is served', async () => {
    const bytes = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#abcdef' } }).png().toBuffer();
    const folder = `${'f'.repeat(80)}/${'g'.repeat(80)}`;
    const up = await upload(bytes, `${'n'.repeat(120)}.png`, { folder, useUniqueFileName: 'false' });
    assert.ok(up.filePath.length > 280);
    const g = await get(up.url);
    assert.equal(g.status, 200);
    assert.ok(g.bytes.equals(bytes));
    assert.equal((await get(up.url, {}, 'HEAD')).headers.get('content-length'), String(bytes.length));
  });
});

describe('refusals', () => {
  test('a private file is refused (401) until signed URLs exist', async () => {
    const bytes = await sharp({ create: { width: 6, height: 6, channels: 3, background: '#ff0000' } }).jpeg().toBuffer();
    const up = await upload(bytes, 'secret.jpg', { isPrivateFile: 'true' });
    assertErrorBody(await get(up.url), 401);
    const head = await get(up.url, {}, 'HEAD');
    assert.equal(head.status, 401);
    assert.equal(head.bytes.length, 0);
    // Even a range or a matching conditional does not get past the refusal.
    assert.equal((await get(up.url, { range: 'bytes=0-1' })).status, 401);
  });

  test('an unpublished file is refused (401); published again it is served', async () => {
    const bytes = await sharp({ create: { width: 7, height: 7, channels: 3, background: '#00ff00' } }).jpeg().toBuffer();
    const up = await upload(bytes, 'draft.jpg', { isPublished: 'false' });
    assertErrorBody(await get(up.url), 401);
    const r = await fetch(`${srv.baseUrl}/v1/files/${up.fileId}/details`, {
      method: 'PATCH',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ publish: { isPublished: true } }),
    });
    const d = (await r.json()) as Json;
    assert.equal(r.status, 200, JSON.stringify(d));
    const g = await get(d.url);
    assert.equal(g.status, 200);
    assert.ok(g.bytes.equals(bytes));
  });

  test('unknown paths → 404 JSON', async () => {
    assertErrorBody(await get(`${srv.urlEndpoint}/deliver/missing.jpg`), 404);
    assertErrorBody(await get(`${srv.urlEndpoint}/no/such/folder/x.png?updatedAt=1`), 404);
    assertErrorBody(await get(`${srv.urlEndpoint}/`), 404);
    assertErrorBody(await get(`${srv.urlEndpoint}/deliver`), 404);
    assertErrorBody(await get(`${srv.baseUrl}/not-the-endpoint/deliver/photo.jpg`), 404);
    // The path is case-sensitive: a different case is a different file.
    const upper = samples.jpg!.up.filePath.toUpperCase();
    assertErrorBody(await get(`${srv.urlEndpoint}${upper}`), 404);
    const head = await get(`${srv.urlEndpoint}/deliver/missing.jpg`, {}, 'HEAD');
    assert.equal(head.status, 404);
  });

  test('malformed percent-encoding → 4xx JSON, never 500', async () => {
    const g = await get(`${srv.urlEndpoint}/deliver/%E0%A4%A.jpg`);
    assert.ok(g.status >= 400 && g.status < 500, `got ${g.status}`);
    assertErrorBody(g, g.status);
    // The same on the management API, and for a path parameter longer than the router allows.
    for (const path of ['/v1/files/%E0%A4%A/details', `/v1/files/${'a'.repeat(300)}/details`]) {
      const m = await get(`${srv.baseUrl}${path}`, { authorization: auth });
      assert.ok(m.status >= 400 && m.status < 500, `${path}: got ${m.status}`);
      assertErrorBody(m, m.status);
    }
  });
});
