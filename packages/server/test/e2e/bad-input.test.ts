/**
 * Bad input, tried as a user would. Every attempt gets a 4xx with an ImageKit `{message, help}`
 * body (never a 500), and leaves nothing half-stored: no new rows, no new blobs, no temp files.
 */
import assert from 'node:assert/strict';
import { request as httpRequest, createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  api,
  assertApiError,
  assertClientError,
  assertNothingStored,
  basicAuth,
  download,
  getDetails,
  makePng,
  openRawUpload,
  postUploadForm,
  sha256,
  snapshot,
  upload,
  type ApiResponse,
  type Json,
} from '../support/e2e-helpers.js';

let server: TestServer;
let png: Buffer;
let known: Json;

before(async () => {
  png = await makePng(16, 16);
  server = await startTestServer();
  const r = await upload(server, { fileName: 'known.png', useUniqueFileName: 'false', tags: 'keep' }, { bytes: png });
  assert.equal(r.status, 200, r.text);
  known = r.body;
});

after(async () => {
  await server?.stop();
});

/** Sends exactly the bytes given, so malformed requests reach the server as written. */
function raw(
  target: TestServer,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | string },
): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    const req = httpRequest(
      `${target.baseUrl}${opts.path}`,
      {
        method: opts.method ?? 'POST',
        headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Json = {};
          try {
            parsed = JSON.parse(text) as Json;
          } catch {
            /* not JSON: the assertions say so */
          }
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          resolve({ status: res.statusCode ?? 0, headers, body: parsed, text });
        });
      },
    );
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

/** Runs one bad request and checks the answer and that nothing was stored. */
async function refused(attempt: () => Promise<ApiResponse>, allowed: number[], message?: RegExp | string): Promise<ApiResponse> {
  const before = await snapshot(server.dataDir);
  const res = await attempt();
  assertClientError(res, allowed);
  if (message !== undefined) assertApiError(res, res.status, message);
  await assertNothingStored(server.dataDir, before);
  return res;
}

const MULTIPART_CRLF = '\r\n';
function multipartBody(boundary: string, parts: Array<{ name: string; value: string; filename?: string }>, close = true): string {
  let s = '';
  for (const p of parts) {
    s += `--${boundary}${MULTIPART_CRLF}`;
    s += `Content-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}${MULTIPART_CRLF}`;
    if (p.filename) s += `Content-Type: application/octet-stream${MULTIPART_CRLF}`;
    s += MULTIPART_CRLF + p.value + MULTIPART_CRLF;
  }
  if (close) s += `--${boundary}--${MULTIPART_CRLF}`;
  return s;
}

describe('authentication', () => {
  test('no credentials on upload → 401', async () => {
    await refused(() => upload(server, { fileName: 'a.png' }, { bytes: png }, { auth: null }), [401]);
  });

  test('no credentials on the management API → 401', async () => {
    await refused(() => api(server, 'GET', `/v1/files/${known.fileId}/details`, undefined, { auth: null }), [401]);
    await refused(() => api(server, 'DELETE', `/v1/files/${known.fileId}`, undefined, { auth: null }), [401]);
    await refused(() => api(server, 'POST', '/v1/files/batch/deleteByFileIds', { fileIds: [known.fileId] }, { auth: null }), [401]);
  });

  test('a wrong key → 401 (upload and management)', async () => {
    const wrong = basicAuth('private_wrong_key');
    await refused(() => upload(server, { fileName: 'a.png' }, { bytes: png }, { auth: wrong }), [401]);
    await refused(() => api(server, 'GET', `/v1/files/${known.fileId}/details`, undefined, { auth: wrong }), [401]);
    await refused(() => api(server, 'DELETE', `/v1/files/${known.fileId}`, undefined, { auth: wrong }), [401]);
    // The public key is not a private key.
    await refused(() => api(server, 'GET', `/v1/files/${known.fileId}/details`, undefined, { auth: basicAuth(server.publicKey) }), [401]);
  });

  test('a malformed Authorization header → 401', async () => {
    for (const auth of [
      'Bearer abc.def.ghi',
      'Basic',
      'Basic !!!***',
      `Basic ${Buffer.from(':').toString('base64')}`,
      `Basic ${Buffer.from(`${server.privateKey}x:`).toString('base64')}`,
      'Digest username="x"',
      `${server.privateKey}`,
    ]) {
      await refused(() => api(server, 'GET', `/v1/files/${known.fileId}/details`, undefined, { auth }), [401]);
      await refused(() => upload(server, { fileName: 'a.png' }, { bytes: png }, { auth }), [401]);
    }
  });

  test('the bare-key form of basic auth is accepted (control)', async () => {
    const r = await api(server, 'GET', `/v1/files/${known.fileId}/details`, undefined, { auth: `Basic ${server.privateKey}` });
    assert.equal(r.status, 200, r.text);
  });
});

describe('the file field', () => {
  test('bad base64 → 400', async () => {
    for (const file of ['!!!not base64###', 'data:image/png;base64,@@@@', 'data:text/plain,hello', 'YWJj$ZGVm', 'A']) {
      await refused(() => upload(server, { fileName: 'b64.png' }, file), [400]);
    }
  });

  test('an empty file → 400', async () => {
    await refused(() => upload(server, { fileName: 'empty.png' }, { bytes: new Uint8Array(0) }), [400]);
    await refused(() => upload(server, { fileName: 'empty.png' }, ''), [400]);
    await refused(() => upload(server, { fileName: 'empty.png' }, '   '), [400]);
    await refused(() => upload(server, { fileName: 'empty.png' }, 'data:image/png;base64,'), [400]);
  });

  test('no file at all → 400', async () => {
    await refused(() => upload(server, { fileName: 'nothing.png' }), [400], 'Your request is missing file parameter.');
  });

  test('a non-URL string as file → 400', async () => {
    for (const file of ['ftp://example.com/a.png', 'file:///etc/passwd', 'www.example.com/a.png', 'javascript:alert(1)', 'http://', 'https://']) {
      await refused(() => upload(server, { fileName: 'nonurl.png' }, file), [400]);
    }
  });

  test('two files, or bytes under another field name → 400', async () => {
    const two = new FormData();
    two.append('file', new Blob([new Uint8Array(png)]), 'a.png');
    two.append('file', new Blob([new Uint8Array(png)]), 'b.png');
    two.append('fileName', 'two.png');
    await refused(() => postUploadForm(server, two), [400, 413]);
    const misnamed = new FormData();
    misnamed.append('image', new Blob([new Uint8Array(png)]), 'a.png');
    misnamed.append('fileName', 'other.png');
    await refused(() => postUploadForm(server, misnamed), [400]);
  });
});

describe('names and paths', () => {
  test('a missing fileName → 400', async () => {
    await refused(() => upload(server, {}, { bytes: png }), [400], /fileName/);
    await refused(() => upload(server, { fileName: '   ' }, { bytes: png }), [400], /fileName/);
  });

  test('a 1,000-character fileName → 400', async () => {
    await refused(() => upload(server, { fileName: `${'n'.repeat(996)}.png` }, { bytes: png }), [400], /fileName/);
  });

  test('"../" in folder → 400', async () => {
    for (const folder of ['../etc', 'a/../../b', '/..', 'a/./b', '../../../../tmp']) {
      await refused(() => upload(server, { fileName: 'trav.png', folder }, { bytes: png }), [400], /folder/);
    }
  });

  test('backslashes in folder are not separators: the name is neutralised, never escapes', async () => {
    const r = await upload(server, { fileName: 'bs.png', folder: '..\\..\\etc', useUniqueFileName: 'false' }, { bytes: png });
    assert.equal(r.status, 200, r.text);
    assert.doesNotMatch(r.body.filePath, /\.\.|\\/);
    assert.match(r.body.filePath, /^\/[\w-]+\/bs\.png$/);
    assert.equal((await api(server, 'DELETE', `/v1/files/${r.body.fileId}`)).status, 204);
  });

  test('"../" or a slash in fileName → 400', async () => {
    for (const fileName of ['../x.png', '../../etc/passwd', 'a/b.png', '..\\x.png', '..', '.']) {
      await refused(() => upload(server, { fileName }, { bytes: png }), [400], /fileName/);
    }
  });

  test('unknown upload parameters → 400', async () => {
    await refused(() => upload(server, { fileName: 'x.png', notAField: '1' }, { bytes: png }), [400]);
  });
});

describe('malformed bodies', () => {
  test('malformed JSON on a JSON endpoint → 400', async () => {
    const paths: Array<[string, string]> = [
      ['POST', '/v1/files/copy'],
      ['POST', '/v1/files/move'],
      ['PUT', '/v1/files/rename'],
      ['PATCH', `/v1/files/${known.fileId}/details`],
      ['POST', '/v1/files/batch/deleteByFileIds'],
      ['POST', '/v1/files/addTags'],
    ];
    for (const [method, path] of paths) {
      for (const rawBody of ['{bad', '{"tags": [', '"unterminated', '{"a":1}}']) {
        await refused(() => api(server, method, path, undefined, { rawBody }), [400]);
      }
      // Valid JSON of the wrong shape is also a 400.
      await refused(() => api(server, method, path, undefined, { rawBody: '[1,2,3]' }), [400]);
      await refused(() => api(server, method, path, undefined, { rawBody: 'null' }), [400]);
    }
    // A JSON content type with an empty body.
    await refused(() => api(server, 'POST', '/v1/files/copy', undefined, { rawBody: '' }), [400]);
    // An unsupported content type.
    await refused(() => api(server, 'POST', '/v1/files/copy', undefined, { rawBody: 'a=b', contentType: 'text/plain' }), [400, 415]);
  });

  test('upload that is not multipart → 400', async () => {
    await refused(
      () =>
        raw(server, {
          path: '/api/v1/files/upload',
          headers: { authorization: basicAuth(server.privateKey), 'content-type': 'application/json' },
          body: JSON.stringify({ file: png.toString('base64'), fileName: 'json.png' }),
        }),
      [400, 415],
    );
    await refused(
      () =>
        raw(server, {
          path: '/api/v1/files/upload',
          headers: { authorization: basicAuth(server.privateKey), 'content-type': 'application/x-www-form-urlencoded' },
          body: `fileName=x.png&file=${encodeURIComponent(png.toString('base64'))}`,
        }),
      [400, 415],
    );
  });

  test('multipart without a boundary → 400', async () => {
    await refused(
      () =>
        raw(server, {
          path: '/api/v1/files/upload',
          headers: { authorization: basicAuth(server.privateKey), 'content-type': 'multipart/form-data' },
          body: multipartBody('xyz', [{ name: 'fileName', value: 'a.png' }]),
        }),
      [400],
    );
  });

  test('multipart whose body uses another boundary → 400', async () => {
    await refused(
      () =>
        raw(server, {
          path: '/api/v1/files/upload',
          headers: { authorization: basicAuth(server.privateKey), 'content-type': 'multipart/form-data; boundary=expected' },
          body: multipartBody('actual', [
            { name: 'fileName', value: 'a.png' },
            { name: 'file', value: 'abcd', filename: 'a.png' },
          ]),
        }),
      [400],
    );
  });

  test('a truncated multipart body → 400, and the partial file is not kept', async () => {
    const full = multipartBody('tessera', [
      { name: 'fileName', value: 'trunc.bin' },
      { name: 'file', value: 'x'.repeat(200_000), filename: 'trunc.bin' },
    ]);
    // Cut in the middle of the file part: the closing boundary never arrives.
    const truncated = full.slice(0, 120_000);
    await refused(
      () =>
        raw(server, {
          path: '/api/v1/files/upload',
          headers: { authorization: basicAuth(server.privateKey), 'content-type': 'multipart/form-data; boundary=tessera' },
          body: truncated,
        }),
      [400],
    );
    // Cut inside a part header.
    await refused(
      () =>
        raw(server, {
          path: '/api/v1/files/upload',
          headers: { authorization: basicAuth(server.privateKey), 'content-type': 'multipart/form-data; boundary=tessera' },
          body: '--tessera\r\nContent-Disposition: form-da',
        }),
      [400],
    );
  });

  test('a client that disconnects mid-upload leaves no partial file behind', async () => {
    const before = await snapshot(server.dataDir);
    const { req, head } = openRawUpload(server, { fileName: 'gone.bin' }, 10 * 1024 * 1024);
    req.write(head);
    req.write(Buffer.alloc(1024 * 1024, 7));
    for (let i = 0; i < 400 && (await snapshot(server.dataDir)).tmp.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal((await snapshot(server.dataDir)).tmp.length, 1, 'the upload was being spooled');
    req.destroy();
    await assertNothingStored(server.dataDir, before, 'after the client went away');
    assert.equal((await fetch(`${server.baseUrl}/healthz`)).status, 200);
  });

  test('garbage after a valid content type → 400', async () => {
    await refused(
      () =>
        raw(server, {
          path: '/api/v1/files/upload',
          headers: { authorization: basicAuth(server.privateKey), 'content-type': 'multipart/form-data; boundary=zzz' },
          body: Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 45, 45]),
        }),
      [400],
    );
  });
});

describe('routes and ids', () => {
  test('an unknown route → JSON 404', async () => {
    for (const [method, path] of [
      ['GET', '/v1/nope'],
      ['POST', '/api/v3/files/upload'],
      ['GET', '/'],
      ['DELETE', '/v1/files'],
    ] as const) {
      const r = await refused(() => api(server, method, path), [404]);
      assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    }
  });

  test('invalid ids → 400, unknown ids → 404', async () => {
    const unknown = 'aaaaaaaaaaaaaaaaaaaaaaaa';
    const fid = known.fileId as string;
    const vid = known.versionInfo.id as string;
    const cases: Array<[string, string, number]> = [
      ['GET', '/v1/files/not-an-id/details', 400],
      ['GET', `/v1/files/${unknown}/details`, 404],
      ['GET', `/v1/files/${fid.toUpperCase()}/details`, 400],
      ['GET', `/v1/files/${fid}x/details`, 400],
      ['PATCH', '/v1/files/not-an-id/details', 400],
      ['PATCH', `/v1/files/${unknown}/details`, 404],
      ['DELETE', '/v1/files/not-an-id', 400],
      ['DELETE', `/v1/files/${unknown}`, 404],
      ['GET', '/v1/files/not-an-id/versions', 400],
      ['GET', `/v1/files/${unknown}/versions`, 404],
      ['GET', `/v1/files/${fid}/versions/not-an-id`, 400],
      ['GET', `/v1/files/${fid}/versions/${unknown}`, 404],
      ['GET', `/v1/files/${unknown}/versions/${vid}`, 404],
      ['DELETE', `/v1/files/${fid}/versions/not-an-id`, 400],
      ['DELETE', `/v1/files/${fid}/versions/${unknown}`, 404],
      ['PUT', `/v1/files/${fid}/versions/not-an-id/restore`, 400],
      ['PUT', `/v1/files/${fid}/versions/${unknown}/restore`, 404],
    ];
    for (const [method, path, status] of cases) {
      const body = method === 'PATCH' ? { tags: ['x'] } : undefined;
      const r = await refused(() => api(server, method, path, body), [status]);
      assert.equal(r.status, status, `${method} ${path}`);
    }
  });
});

describe('URL uploads with the default (public-only) settings', () => {
  test('loopback, link-local and cloud-metadata addresses are refused', async () => {
    for (const url of [
      `http://127.0.0.1:${server.port}/healthz`,
      'http://127.0.0.1/',
      'http://localhost/',
      'http://[::1]/',
      'http://0.0.0.0/',
      'http://2130706433/',
      'http://169.254.169.254/latest/meta-data/',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://10.0.0.1/',
      'http://192.168.1.1/',
    ]) {
      const r = await refused(() => upload(server, { fileName: 'ssrf.png' }, url), [400]);
      assert.ok(r.body.message.length > 0, url);
    }
  });
});

describe('URL uploads whose origin never answers', () => {
  let slow: TestServer;
  let silent: Server;
  let silentUrl: string;
  const sockets = new Set<Socket>();

  before(async () => {
    silent = createServer(() => {
      /* accept the request, never send headers */
    });
    silent.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/never.png`;
    slow = await startTestServer({ env: { TESSERA_URL_FETCH_HEADER_TIMEOUT_MS: '500', TESSERA_ALLOW_PRIVATE_URLS: 'true' } });
  });
  after(async () => {
    await slow?.stop();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => (silent ? silent.close(() => r()) : r()));
  });

  test('no headers within the timeout → 400, quickly, and nothing stored', async () => {
    const before = await snapshot(slow.dataDir);
    const t0 = Date.now();
    const r = await upload(slow, { fileName: 'silent.png' }, silentUrl);
    const took = Date.now() - t0;
    assertApiError(r, 400);
    assert.ok(took < 10_000, `took ${took} ms`);
    await assertNothingStored(slow.dataDir, before);
  });
});

describe('after all of the above', () => {
  test('the known file is untouched and the server is healthy', async () => {
    const d = await getDetails(server, known.fileId);
    assert.equal(d.status, 200, d.text);
    assert.equal(d.body.name, 'known.png');
    assert.deepEqual(d.body.tags, ['keep']);
    assert.equal(d.body.versionInfo.name, 'Version 1');
    const got = await download(d.body.url);
    assert.equal(sha256(got.bytes), sha256(png));
    assert.equal((await fetch(`${server.baseUrl}/healthz`)).status, 200);
    assert.doesNotMatch(server.output(), /"level":50[^\n]*unhandled error/, 'no 500s were logged');
  });
});
