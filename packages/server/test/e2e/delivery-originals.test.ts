/**
 * Serving stored originals at the `url` the API returns: exact bytes and content-type, HEAD,
 * ETag / If-None-Match, byte ranges, private and unpublished files, unknown paths.
 * No auth is sent on delivery requests: URLs are public.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import { api, assertJsonError, basicAuth, fetchBytes, solidImage, uploadFile } from '../support/e2e-helpers.js';

let srv: TestServer;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies are checked field by field
type Json = any;

const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n' +
    'trailer\n<< /Root 1 0 R >>\n%%EOF\n',
);
const TEXT = Buffer.from('Tessera delivery test.\nSecond line: äöü ✓\n');

const samples: Record<string, { bytes: Buffer; name: string; mime: RegExp; up?: Json }> = {};

before(async () => {
  srv = await startTestServer();
  const base = (format: 'jpeg' | 'png' | 'webp') => solidImage(37, 23, { r: 200, g: 100, b: 50 }, format);
  samples.jpg = { bytes: await base('jpeg'), name: 'photo.jpg', mime: /^image\/jpeg$/ };
  samples.png = { bytes: await base('png'), name: 'pic.png', mime: /^image\/png$/ };
  samples.webp = { bytes: await base('webp'), name: 'pic.webp', mime: /^image\/webp$/ };
  samples.pdf = { bytes: PDF, name: 'doc.pdf', mime: /^application\/pdf$/ };
  samples.txt = { bytes: TEXT, name: 'notes.txt', mime: /^text\/plain(;|$)/ };
  for (const s of Object.values(samples)) s.up = await uploadFile(srv, s.bytes, s.name, { folder: 'deliver' });
});

after(async () => {
  await srv?.stop();
});

describe('originals at the returned url', () => {
  test('byte-identical with the right content-type and length (jpg, png, webp, pdf, txt)', async () => {
    for (const [kind, s] of Object.entries(samples)) {
      assert.ok(s.up.url.startsWith(`${srv.urlEndpoint}/deliver/`), s.up.url);
      const g = await fetchBytes(s.up.url);
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
    const g = await fetchBytes(s.up.url);
    const h = await fetchBytes(s.up.url, {}, 'HEAD');
    assert.equal(h.status, 200);
    assert.equal(h.bytes.length, 0);
    assert.equal(h.headers.get('content-type'), 'image/png');
    assert.equal(h.headers.get('content-length'), String(s.bytes.length));
    assert.equal(h.headers.get('etag'), g.headers.get('etag'));
    assert.equal(h.headers.get('last-modified'), g.headers.get('last-modified'));
  });

  test('ETag and If-None-Match → 304; another tag → 200', async () => {
    const s = samples.jpg!;
    const etag = (await fetchBytes(s.up.url)).headers.get('etag')!;
    assert.match(etag, /^(W\/)?"[^"]+"$/);
    const nm = await fetchBytes(s.up.url, { 'if-none-match': etag });
    assert.equal(nm.status, 304);
    assert.equal(nm.bytes.length, 0);
    assert.equal(nm.headers.get('etag'), etag);
    assert.equal((await fetchBytes(s.up.url, { 'if-none-match': `"nope", ${etag}` })).status, 304);
    assert.equal((await fetchBytes(s.up.url, { 'if-none-match': etag }, 'HEAD')).status, 304);
    const other = await fetchBytes(s.up.url, { 'if-none-match': '"something-else"' });
    assert.equal(other.status, 200);
    assert.ok(other.bytes.equals(s.bytes));
    // Different bytes have a different ETag.
    assert.notEqual((await fetchBytes(samples.png!.up.url)).headers.get('etag'), etag);
  });

  test('Range: first bytes, suffix, open-ended, clamped end, unsatisfiable, ignored when malformed', async () => {
    const s = samples.webp!;
    const size = s.bytes.length;
    const first = await fetchBytes(s.up.url, { range: 'bytes=0-9' });
    assert.equal(first.status, 206);
    assert.equal(first.headers.get('content-range'), `bytes 0-9/${size}`);
    assert.equal(first.headers.get('content-length'), '10');
    assert.equal(first.headers.get('content-type'), 'image/webp');
    assert.ok(first.bytes.equals(s.bytes.subarray(0, 10)));

    const suffix = await fetchBytes(s.up.url, { range: 'bytes=-5' });
    assert.equal(suffix.status, 206);
    assert.equal(suffix.headers.get('content-range'), `bytes ${size - 5}-${size - 1}/${size}`);
    assert.ok(suffix.bytes.equals(s.bytes.subarray(size - 5)));

    const open = await fetchBytes(s.up.url, { range: 'bytes=10-' });
    assert.equal(open.status, 206);
    assert.equal(open.headers.get('content-range'), `bytes 10-${size - 1}/${size}`);
    assert.ok(open.bytes.equals(s.bytes.subarray(10)));

    const clamped = await fetchBytes(s.up.url, { range: `bytes=${size - 3}-${size + 1000}` });
    assert.equal(clamped.status, 206);
    assert.equal(clamped.headers.get('content-range'), `bytes ${size - 3}-${size - 1}/${size}`);
    assert.ok(clamped.bytes.equals(s.bytes.subarray(size - 3)));

    const headRange = await fetchBytes(s.up.url, { range: 'bytes=0-9' }, 'HEAD');
    assert.equal(headRange.status, 206);
    assert.equal(headRange.bytes.length, 0);
    assert.equal(headRange.headers.get('content-length'), '10');
    assert.equal(headRange.headers.get('content-range'), `bytes 0-9/${size}`);

    for (const range of [`bytes=${size}-`, `bytes=${size + 10}-${size + 20}`, 'bytes=-0']) {
      const bad = await fetchBytes(s.up.url, { range });
      assertJsonError(bad, 416);
      assert.equal(bad.headers.get('content-range'), `bytes */${size}`, range);
    }

    for (const range of ['bytes=abc', 'pages=0-1', 'bytes=']) {
      const ignored = await fetchBytes(s.up.url, { range });
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
      const g = await fetchBytes(u.toString());
      assert.equal(g.status, 200, u.toString());
      assert.ok(g.bytes.equals(s.bytes));
    }
  });

  test('names with spaces and non-ASCII letters in nested folders', async () => {
    const bytes = await solidImage(5, 5, '#123456');
    const up = await uploadFile(srv, bytes, 'café au lait.png', { folder: 'a b/ünï', useUniqueFileName: 'false' });
    assert.equal(up.filePath, '/a_b/ünï/café_au_lait.png');
    const g = await fetchBytes(up.url);
    assert.equal(g.status, 200);
    assert.ok(g.bytes.equals(bytes));
  });

  test('a long path (well over 100 characters) is served', async () => {
    const bytes = await solidImage(4, 4, '#abcdef');
    const folder = `${'f'.repeat(80)}/${'g'.repeat(80)}`;
    const up = await uploadFile(srv, bytes, `${'n'.repeat(120)}.png`, { folder, useUniqueFileName: 'false' });
    assert.ok(up.filePath.length > 280);
    const g = await fetchBytes(up.url);
    assert.equal(g.status, 200);
    assert.ok(g.bytes.equals(bytes));
    assert.equal((await fetchBytes(up.url, {}, 'HEAD')).headers.get('content-length'), String(bytes.length));
  });
});

describe('refusals', () => {
  test('a private file is refused (401) until signed URLs exist', async () => {
    const bytes = await solidImage(6, 6, '#ff0000', 'jpeg');
    const up = await uploadFile(srv, bytes, 'secret.jpg', { isPrivateFile: 'true' });
    assertJsonError(await fetchBytes(up.url), 401);
    const head = await fetchBytes(up.url, {}, 'HEAD');
    assert.equal(head.status, 401);
    assert.equal(head.bytes.length, 0);
    // Even a range or a matching conditional does not get past the refusal.
    assert.equal((await fetchBytes(up.url, { range: 'bytes=0-1' })).status, 401);
  });

  test('an unpublished file is refused (401); published again it is served', async () => {
    const bytes = await solidImage(7, 7, '#00ff00', 'jpeg');
    const up = await uploadFile(srv, bytes, 'draft.jpg', { isPublished: 'false' });
    assertJsonError(await fetchBytes(up.url), 401);
    const r = await api(srv, 'PATCH', `/v1/files/${up.fileId}/details`, { publish: { isPublished: true } });
    assert.equal(r.status, 200, r.text);
    const d = r.body;
    const g = await fetchBytes(d.url);
    assert.equal(g.status, 200);
    assert.ok(g.bytes.equals(bytes));
  });

  test('unknown paths → 404 JSON', async () => {
    assertJsonError(await fetchBytes(`${srv.urlEndpoint}/deliver/missing.jpg`), 404);
    assertJsonError(await fetchBytes(`${srv.urlEndpoint}/no/such/folder/x.png?updatedAt=1`), 404);
    assertJsonError(await fetchBytes(`${srv.urlEndpoint}/`), 404);
    assertJsonError(await fetchBytes(`${srv.urlEndpoint}/deliver`), 404);
    assertJsonError(await fetchBytes(`${srv.baseUrl}/not-the-endpoint/deliver/photo.jpg`), 404);
    // The path is case-sensitive: a different case is a different file.
    const upper = samples.jpg!.up.filePath.toUpperCase();
    assertJsonError(await fetchBytes(`${srv.urlEndpoint}${upper}`), 404);
    const head = await fetchBytes(`${srv.urlEndpoint}/deliver/missing.jpg`, {}, 'HEAD');
    assert.equal(head.status, 404);
  });

  test('malformed percent-encoding → 4xx JSON, never 500', async () => {
    const g = await fetchBytes(`${srv.urlEndpoint}/deliver/%E0%A4%A.jpg`);
    assert.ok(g.status >= 400 && g.status < 500, `got ${g.status}`);
    assertJsonError(g, g.status);
    // The same on the management API, and for a path parameter longer than the router allows.
    for (const path of ['/v1/files/%E0%A4%A/details', `/v1/files/${'a'.repeat(300)}/details`]) {
      const m = await fetchBytes(`${srv.baseUrl}${path}`, { authorization: basicAuth(srv.privateKey) });
      assert.ok(m.status >= 400 && m.status < 500, `${path}: got ${m.status}`);
      assertJsonError(m, m.status);
    }
  });
});
