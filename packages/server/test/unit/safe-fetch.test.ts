/**
 * safe-fetch against real node:http servers on 127.0.0.1. Nothing here may send traffic off the
 * machine: "public" names come from injected lookups, and refusal tests go through the socket
 * factory seam, which records (and would fail) any attempt to connect.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { ApiError } from '../../src/errors/index.js';
import {
  fetchUrlToFile,
  fetchUrlToFileWithSocketFactory,
  forbiddenAddressReason,
  type SafeFetchOptions,
  type SocketFactory,
} from '../../src/adapters/net/safe-fetch.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
process.on('unhandledRejection', onUnhandled);

const dir = mkdtempSync(join(tmpdir(), 'safe-fetch-'));
let fileCounter = 0;
const dest = (): string => join(dir, `out-${++fileCounter}.bin`);

interface LocalServer {
  port: number;
  base: string;
  paths: string[];
  hosts: string[];
  connections: () => number;
  close: () => Promise<void>;
}

async function startServer(handler: http.RequestListener): Promise<LocalServer> {
  const paths: string[] = [];
  const hosts: string[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    hosts.push(req.headers.host ?? '');
    handler(req, res);
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    paths,
    hosts,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// Self-signed test-only key pair for "tessera-tls.test" (not trusted by any CA, by design).
const TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQguJLODaSPCLqiJeMl
IVPo89HVEpbZV8WZFrlc2a4xFRyhRANCAAQXTQt5vomdCUehXyCfvFtlToVsWKJ7
UJ1BxtQfnVk8vJz+Obr0xxBnldaOVr4RYQpMuV6+pFkX/OTGkDhmYL6T
-----END PRIVATE KEY-----`;
const TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBqjCCAVCgAwIBAgIUEjwHqtDL+DsvBBvCjU7lOV8xRwwwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQdGVzc2VyYS10bHMudGVzdDAgFw0yNjExMjcxMTM0MTRaGA8y
MTI2MTEwMzExMzQxNFowGzEZMBcGA1UEAwwQdGVzc2VyYS10bHMudGVzdDBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABBdNC3m+iZ0JR6FfIJ+8W2VOhWxYontQnUHG
1B+dWTy8nP45uvTHEGeV1o5WvhFhCky5Xr6kWRf85MaQOGZgvpOjcDBuMB0GA1Ud
DgQWBBTnu8hOf+h5saaIuTrWasUxshS2KzAfBgNVHSMEGDAWgBTnu8hOf+h5saaI
uTrWasUxshS2KzAPBgNVHRMBAf8EBTADAQH/MBsGA1UdEQQUMBKCEHRlc3NlcmEt
dGxzLnRlc3QwCgYIKoZIzj0EAwIDSAAwRQIgaTyhOJgbiTq9l+t4hKpDgXcQi1Xi
Z2EirKuGj63ydsICIQDMmWPdaK2u8sSHiTh8T9lDUhUB1hk872uK/6/1YeNdgg==
-----END CERTIFICATE-----`;

const BODY = randomBytes(100_000);
const TEXT = Buffer.from('hello tessera '.repeat(5000));

function opts(extra: Partial<SafeFetchOptions> = {}): SafeFetchOptions {
  return { allowPrivate: true, headerTimeoutMs: 2000, maxBytes: 1_000_000, ...extra };
}

async function expectApiError(p: Promise<unknown>, status: number, message?: RegExp): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
    assert.equal(err.status, status, err.message);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail('expected the fetch to fail');
}

/** Injected DNS: a fixed table; records every query; unknown names fail like NXDOMAIN. */
function fakeDns(table: Record<string, string[]>): {
  lookup: NonNullable<SafeFetchOptions['lookup']>;
  queries: string[];
} {
  const queries: string[] = [];
  return {
    queries,
    lookup: async (hostname) => {
      queries.push(hostname);
      const answers = table[hostname];
      if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return answers.map((address) => ({ address, family: net.isIP(address) === 6 ? 6 : 4 }));
    },
  };
}

/**
 * Socket factory that sends every connection to the local server, recording which host the
 * request targeted and which address the pinned lookup handed out for it.
 */
function loopbackFactory(port: number): { factory: SocketFactory; pinned: string[] } {
  const pinned: string[] = [];
  const factory: SocketFactory = (options) => {
    const host = String(options.host);
    if (net.isIP(host) !== 0) pinned.push(`${host}->${host}`);
    else options.lookup?.(host, {}, (_err, address) => pinned.push(`${host}->${String(address)}`));
    return net.connect({ host: '127.0.0.1', port });
  };
  return { factory, pinned };
}

/** Socket factory for refusal tests: any call is a test failure (and connects nowhere). */
function forbiddenFactory(): { factory: SocketFactory; attempts: string[] } {
  const attempts: string[] = [];
  const factory: SocketFactory = (options) => {
    attempts.push(String(options.host));
    throw new Error(`connection attempted to ${String(options.host)}`);
  };
  return { factory, attempts };
}

let srv: LocalServer;

before(async () => {
  srv = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    if (p === '/photo.png') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': BODY.length });
      res.end(BODY);
    } else if (p === '/exact') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(BODY.subarray(0, 1000));
    } else if (p === '/dispo') {
      res.writeHead(200, {
        'content-disposition': `attachment; filename*=UTF-8''na%C3%AFve%20pic.jpg; filename="fallback.jpg"`,
      });
      res.end('x');
    } else if (p === '/dispo-evil') {
      res.writeHead(200, { 'content-disposition': 'attachment; filename="../../etc/pa\\"ss"' });
      res.end('x');
    } else if (p === '/r1') {
      res.writeHead(302, { location: '/r2?step=2' });
      res.end();
    } else if (p === '/r2') {
      res.writeHead(301, { location: `http://127.0.0.1:${srv.port}/dir/r3` });
      res.end();
    } else if (p === '/dir/r3') {
      res.writeHead(307, { location: '../photo.png' });
      res.end();
    } else if (p === '/loop-a') {
      res.writeHead(302, { location: '/loop-b' });
      res.end();
    } else if (p === '/loop-b') {
      res.writeHead(302, { location: '/loop-a' });
      res.end();
    } else if (p.startsWith('/chain/')) {
      const n = Number(p.slice('/chain/'.length));
      if (n === 0) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('end of chain');
      } else {
        res.writeHead(302, { location: `/chain/${n - 1}` });
        res.end();
      }
    } else if (p === '/to-ftp') {
      res.writeHead(302, { location: 'ftp://127.0.0.1/file' });
      res.end();
    } else if (p === '/to-creds') {
      res.writeHead(302, { location: `http://u:p@127.0.0.1:${srv.port}/photo.png` });
      res.end();
    } else if (p === '/to-loopback') {
      res.writeHead(302, { location: `http://127.0.0.1:${srv.port}/secret` });
      res.end();
    } else if (p === '/to-internal') {
      res.writeHead(302, { location: 'http://internal.test/secret' });
      res.end();
    } else if (p === '/to-public2') {
      res.writeHead(302, { location: '//public2.test/photo.png' });
      res.end();
    } else if (p === '/redirect-no-location') {
      res.writeHead(302);
      res.end();
    } else if (p === '/error500') {
      res.writeHead(500);
      res.end('boom');
    } else if (p === '/hang') {
      // never answers
    } else if (p === '/big-declared') {
      res.writeHead(200, { 'content-length': 5000 });
      res.end(Buffer.alloc(5000));
    } else if (p === '/big-chunked') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let sent = 0;
      const tick = (): void => {
        if (sent >= 50_000 || res.destroyed) {
          res.end();
          return;
        }
        sent += 1000;
        res.write(Buffer.alloc(1000), () => setImmediate(tick));
      };
      tick();
    } else if (p === '/gzip') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync(TEXT));
    } else if (p === '/deflate') {
      res.writeHead(200, { 'content-encoding': 'deflate' });
      res.end(zlib.deflateSync(TEXT));
    } else if (p === '/deflate-raw') {
      res.writeHead(200, { 'content-encoding': 'deflate' });
      res.end(zlib.deflateRawSync(TEXT));
    } else if (p === '/br') {
      res.writeHead(200, { 'content-encoding': 'br' });
      res.end(zlib.brotliCompressSync(TEXT));
    } else if (p === '/gzip-br') {
      res.writeHead(200, { 'content-encoding': 'gzip, br' });
      res.end(zlib.brotliCompressSync(zlib.gzipSync(TEXT)));
    } else if (p === '/gzip-bomb') {
      const packed = zlib.gzipSync(Buffer.alloc(5_000_000));
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': packed.length });
      res.end(packed);
    } else if (p === '/gzip-corrupt') {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end(Buffer.from('this is not gzip at all'));
    } else if (p === '/compress') {
      res.writeHead(200, { 'content-encoding': 'compress' });
      res.end('x');
    } else if (p === '/stall') {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.write(Buffer.alloc(100));
      // then nothing
    } else if (p === '/drop') {
      res.writeHead(200, { 'content-length': 1000 });
      res.write(Buffer.alloc(10), () => setTimeout(() => req.socket.destroy(), 20));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
});

after(async () => {
  await srv.close();
  rmSync(dir, { recursive: true, force: true });
  process.off('unhandledRejection', onUnhandled);
});

describe('successful fetches (allowPrivate: true, loopback server)', () => {
  it('streams a 200 body to the file with size, type, final URL and name hint', async () => {
    const out = dest();
    const r = await fetchUrlToFile(`${srv.base}/photo.png`, out, opts());
    assert.equal(r.bytes, BODY.length);
    assert.equal(r.contentType, 'image/png');
    assert.equal(r.finalUrl, `${srv.base}/photo.png`);
    assert.equal(r.fileNameHint, 'photo.png');
    assert.deepEqual(readFileSync(out), BODY);
  });

  it('accepts a body of exactly maxBytes', async () => {
    const out = dest();
    const r = await fetchUrlToFile(`${srv.base}/exact`, out, opts({ maxBytes: 1000 }));
    assert.equal(r.bytes, 1000);
    assert.equal(readFileSync(out).length, 1000);
  });

  it('truncates an existing destination file', async () => {
    const out = dest();
    await fetchUrlToFile(`${srv.base}/photo.png`, out, opts());
    await fetchUrlToFile(`${srv.base}/exact`, out, opts());
    assert.equal(readFileSync(out).length, 1000);
  });

  it('prefers the Content-Disposition filename* and reduces hints to a base name', async () => {
    const r1 = await fetchUrlToFile(`${srv.base}/dispo`, dest(), opts());
    assert.equal(r1.fileNameHint, 'naïve pic.jpg');
    const r2 = await fetchUrlToFile(`${srv.base}/dispo-evil`, dest(), opts());
    assert.equal(r2.fileNameHint, 'pa"ss');
    const r3 = await fetchUrlToFile(`${srv.base}/exact`, dest(), opts());
    assert.equal(r3.fileNameHint, 'exact');
    assert.equal(r3.contentType, 'application/octet-stream');
  });

  it('pins the connection to the looked-up address while keeping the hostname in Host', async () => {
    const dns = fakeDns({ 'tessera-pinned.invalid': ['127.0.0.1'] });
    const r = await fetchUrlToFile(`http://tessera-pinned.invalid:${srv.port}/photo.png`, dest(), opts({ lookup: dns.lookup }));
    assert.equal(r.bytes, BODY.length);
    assert.deepEqual(dns.queries, ['tessera-pinned.invalid']);
    assert.equal(srv.hosts.at(-1), `tessera-pinned.invalid:${srv.port}`);
  });
});

describe('redirects', () => {
  it('follows relative and absolute Locations', async () => {
    const out = dest();
    const r = await fetchUrlToFile(`${srv.base}/r1`, out, opts());
    assert.equal(r.finalUrl, `${srv.base}/photo.png`);
    assert.equal(r.bytes, BODY.length);
    assert.deepEqual(readFileSync(out), BODY);
  });

  it('refuses a redirect loop', async () => {
    await expectApiError(fetchUrlToFile(`${srv.base}/loop-a`, dest(), opts()), 400, /loop/);
  });

  it('allows exactly maxRedirects hops and refuses one more', async () => {
    const r = await fetchUrlToFile(`${srv.base}/chain/2`, dest(), opts({ maxRedirects: 2 }));
    assert.equal(r.finalUrl, `${srv.base}/chain/0`);
    await expectApiError(fetchUrlToFile(`${srv.base}/chain/3`, dest(), opts({ maxRedirects: 2 })), 400, /more than 2/);
    await expectApiError(fetchUrlToFile(`${srv.base}/chain/6`, dest(), opts()), 400, /more than 5/);
  });

  it('refuses redirects to non-http schemes and to URLs with credentials', async () => {
    await expectApiError(fetchUrlToFile(`${srv.base}/to-ftp`, dest(), opts()), 400, /ftp:/);
    await expectApiError(fetchUrlToFile(`${srv.base}/to-creds`, dest(), opts()), 400, /credentials/);
  });

  it('treats a 3xx without Location as a failed status', async () => {
    await expectApiError(fetchUrlToFile(`${srv.base}/redirect-no-location`, dest(), opts()), 400, /status 302/);
  });
});

describe('status, timeouts and connection failures', () => {
  it('maps 404 and 500 to 400 naming the status, and leaves no file', async () => {
    const out = dest();
    await expectApiError(fetchUrlToFile(`${srv.base}/missing.jpg`, out, opts()), 400, /status 404/);
    await expectApiError(fetchUrlToFile(`${srv.base}/error500`, out, opts()), 400, /status 500/);
    assert.equal(existsSync(out), false);
  });

  it('gives up when headers do not arrive within headerTimeoutMs', async () => {
    const out = dest();
    const t0 = Date.now();
    await expectApiError(
      fetchUrlToFile(`${srv.base}/hang`, out, opts({ headerTimeoutMs: 300 })),
      400,
      /did not send response headers within 0\.3 seconds/,
    );
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 280 && elapsed < 1500, `took ${elapsed} ms`);
    assert.equal(existsSync(out), false);
  });

  it('aborts a body that stalls longer than idleTimeoutMs and removes the partial file', async () => {
    const out = dest();
    const t0 = Date.now();
    await expectApiError(fetchUrlToFile(`${srv.base}/stall`, out, opts({ idleTimeoutMs: 200 })), 400, /stopped sending/);
    assert.ok(Date.now() - t0 < 1500);
    assert.equal(existsSync(out), false);
  });

  it('reports a connection dropped mid-body and removes the partial file', async () => {
    const out = dest();
    await expectApiError(fetchUrlToFile(`${srv.base}/drop`, out, opts()), 400, /dropped|closed/);
    assert.equal(existsSync(out), false);
  });

  it('reports a refused connection as 400', async () => {
    const dead = await startServer(() => undefined);
    await dead.close();
    await expectApiError(fetchUrlToFile(`${dead.base}/x`, dest(), opts()), 400, /connection refused/);
  });

  it('speaks TLS to the pinned address with the hostname as SNI, and maps certificate errors to 400', async () => {
    const sni: string[] = [];
    const context = tls.createSecureContext({ key: TLS_KEY, cert: TLS_CERT });
    const server = https.createServer(
      {
        key: TLS_KEY,
        cert: TLS_CERT,
        // Runs on the ClientHello, before the client gets to reject the certificate.
        SNICallback: (name, cb) => {
          sni.push(name);
          cb(null, context);
        },
      },
      (_req, res) => res.end('secret'),
    );
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const dns = fakeDns({ 'tessera-tls.test': ['127.0.0.1'] });
    const out = dest();
    try {
      await expectApiError(
        fetchUrlToFile(`https://tessera-tls.test:${port}/a.jpg`, out, opts({ lookup: dns.lookup })),
        400,
        /TLS connection to "tessera-tls\.test" failed/,
      );
      assert.deepEqual(dns.queries, ['tessera-tls.test']);
      assert.equal(existsSync(out), false);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    assert.deepEqual(sni, ['tessera-tls.test']);
  });

  it('reports DNS failures, empty answers and slow DNS as 400', async () => {
    const dns = fakeDns({ 'empty.test': [] });
    await expectApiError(fetchUrlToFile('http://nx.test/a.jpg', dest(), opts({ lookup: dns.lookup })), 400, /resolve.*ENOTFOUND/);
    await expectApiError(fetchUrlToFile('http://empty.test/a.jpg', dest(), opts({ lookup: dns.lookup })), 400, /no addresses/);
    const slow = (): Promise<Array<{ address: string; family: 4 | 6 }>> => new Promise(() => undefined);
    const t0 = Date.now();
    await expectApiError(
      fetchUrlToFile('http://slow.test/a.jpg', dest(), opts({ lookup: slow, headerTimeoutMs: 200 })),
      400,
      /resolve/,
    );
    assert.ok(Date.now() - t0 < 1500);
  });

  it('rejects with the signal reason when aborted, before headers and mid-body', async () => {
    const ac1 = new AbortController();
    const reason1 = new Error('client went away');
    setTimeout(() => ac1.abort(reason1), 100);
    await assert.rejects(fetchUrlToFile(`${srv.base}/hang`, dest(), opts({ signal: ac1.signal })), (e) => e === reason1);

    const ac2 = new AbortController();
    const reason2 = new Error('shutting down');
    const out = dest();
    setTimeout(() => ac2.abort(reason2), 100);
    await assert.rejects(fetchUrlToFile(`${srv.base}/stall`, out, opts({ signal: ac2.signal })), (e) => e === reason2);
    assert.equal(existsSync(out), false);

    const ac3 = new AbortController();
    ac3.abort(new Error('already'));
    await assert.rejects(fetchUrlToFile(`${srv.base}/photo.png`, dest(), opts({ signal: ac3.signal })), /already/);
  });
});

describe('size limits', () => {
  it('refuses a Content-Length over maxBytes with 413 and leaves no file', async () => {
    const out = dest();
    await expectApiError(fetchUrlToFile(`${srv.base}/big-declared`, out, opts({ maxBytes: 1000 })), 413, /maximum allowed size/);
    assert.equal(existsSync(out), false);
  });

  it('aborts a chunked body once it passes maxBytes with 413 and leaves no file', async () => {
    const out = dest();
    await expectApiError(fetchUrlToFile(`${srv.base}/big-chunked`, out, opts({ maxBytes: 10_000 })), 413);
    assert.equal(existsSync(out), false);
  });
});

describe('content encodings', () => {
  for (const p of ['/gzip', '/deflate', '/deflate-raw', '/br', '/gzip-br']) {
    it(`decodes ${p.slice(1)} bodies`, async () => {
      const out = dest();
      const r = await fetchUrlToFile(`${srv.base}${p}`, out, opts());
      assert.equal(r.bytes, TEXT.length);
      assert.deepEqual(readFileSync(out), TEXT);
    });
  }

  it('applies maxBytes to the decoded size (gzip bomb) with 413 and no file', async () => {
    const out = dest();
    await expectApiError(fetchUrlToFile(`${srv.base}/gzip-bomb`, out, opts({ maxBytes: 100_000 })), 413);
    assert.equal(existsSync(out), false);
  });

  it('refuses corrupt and unsupported encodings with 400', async () => {
    const out = dest();
    await expectApiError(fetchUrlToFile(`${srv.base}/gzip-corrupt`, out, opts()), 400, /corrupt/);
    assert.equal(existsSync(out), false);
    await expectApiError(fetchUrlToFile(`${srv.base}/compress`, dest(), opts()), 400, /unsupported content encoding "compress"/);
  });
});

describe('URL validation', () => {
  for (const bad of [
    'ftp://example.com/a.jpg',
    'file:///etc/passwd',
    'data:image/png;base64,AAAA',
    'javascript:alert(1)',
    'gopher://127.0.0.1:25/',
    'not a url',
    '/relative/path.jpg',
    'http://user:pass@example.com/a.jpg',
    'http://user@example.com/a.jpg',
  ]) {
    it(`refuses ${JSON.stringify(bad)} without DNS or connecting`, async () => {
      const dns = fakeDns({});
      const sock = forbiddenFactory();
      await expectApiError(
        fetchUrlToFileWithSocketFactory(bad, dest(), opts({ allowPrivate: false, lookup: dns.lookup }), sock.factory),
        400,
      );
      assert.deepEqual(dns.queries, []);
      assert.deepEqual(sock.attempts, []);
    });
  }
});

describe('SSRF refusals (allowPrivate: false)', () => {
  const literals = [
    'http://127.0.0.1/',
    'http://127.0.0.1:8080/x',
    'https://127.0.0.1/',
    'http://[::1]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/',
    'http://192.168.1.1/',
    'http://172.16.0.1/',
    'http://100.64.0.1/',
    'http://100.100.100.200/',
    'http://168.63.129.16/',
    'http://0.0.0.0/',
    'http://0/',
    'http://[::]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[::ffff:169.254.169.254]/',
    'http://[::ffff:0:7f00:1]/',
    'http://[::127.0.0.1]/',
    'http://[64:ff9b::127.0.0.1]/',
    'http://[64:ff9b:1::1]/',
    'http://[2002:7f00:1::]/',
    'http://[2001:0:1234::1]/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://017700000001/',
    'http://127.1/',
    'http://[fd00:ec2::254]/',
    'http://[fe80::1]/',
    'http://[ff02::1]/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://198.18.0.1/',
    'http://240.0.0.1/',
    'http://[2001:db8::1]/',
  ];
  for (const u of literals) {
    it(`refuses ${u} before DNS or connecting`, async () => {
      const dns = fakeDns({});
      const sock = forbiddenFactory();
      await expectApiError(
        fetchUrlToFileWithSocketFactory(u, dest(), opts({ allowPrivate: false, lookup: dns.lookup }), sock.factory),
        400,
        /non-public address/,
      );
      assert.deepEqual(dns.queries, []);
      assert.deepEqual(sock.attempts, []);
    });
  }

  for (const name of ['localhost', 'LOCALHOST.', 'app.localhost', 'metadata.google.internal', 'metadata.goog']) {
    it(`refuses the name ${name} without even resolving it`, async () => {
      const dns = fakeDns({ localhost: ['127.0.0.1'] });
      const sock = forbiddenFactory();
      await expectApiError(
        fetchUrlToFileWithSocketFactory(`http://${name}/`, dest(), opts({ allowPrivate: false, lookup: dns.lookup }), sock.factory),
        400,
        /not allowed/,
      );
      assert.deepEqual(dns.queries, []);
      assert.deepEqual(sock.attempts, []);
    });
  }

  const resolving: Record<string, string[]> = {
    'private.test': ['10.0.0.5'],
    'mixed.test': ['93.184.216.34', '127.0.0.1'],
    'ula.test': ['fd12:3456::1'],
    'mapped.test': ['::ffff:169.254.169.254'],
    'meta.test': ['169.254.169.254'],
    'garbage.test': ['not-an-ip'],
  };
  for (const [name, answers] of Object.entries(resolving)) {
    it(`refuses ${name} resolving to ${answers.join(', ')} without connecting`, async () => {
      const dns = fakeDns(resolving);
      const sock = forbiddenFactory();
      await expectApiError(
        fetchUrlToFileWithSocketFactory(`http://${name}/a.jpg`, dest(), opts({ allowPrivate: false, lookup: dns.lookup }), sock.factory),
        400,
      );
      assert.deepEqual(dns.queries, [name]);
      assert.deepEqual(sock.attempts, []);
    });
  }

  it('refuses loopback through the real socket path: the local server sees no connection', async () => {
    const local = await startServer((_req, res) => res.end('should not be reached'));
    try {
      await expectApiError(fetchUrlToFile(`${local.base}/`, dest(), opts({ allowPrivate: false })), 400);
      // Real system resolver for "localhost", but refused by name before resolution.
      await expectApiError(fetchUrlToFile(`http://localhost:${local.port}/`, dest(), opts({ allowPrivate: false })), 400);
      const dns = fakeDns({ 'sneaky.test': ['127.0.0.1'] });
      await expectApiError(
        fetchUrlToFile(`http://sneaky.test:${local.port}/`, dest(), opts({ allowPrivate: false, lookup: dns.lookup })),
        400,
      );
      assert.equal(local.connections(), 0);
    } finally {
      await local.close();
    }
  });
});

describe('public names and redirect re-checks (socket factory stands in for the internet)', () => {
  // public*.test resolve to public addresses; the factory routes their sockets to the local
  // server, so allowPrivate: false lets the first hop through and only the check decides the rest.
  const table = {
    'public.test': ['93.184.216.34'],
    'public2.test': ['93.184.216.35'],
    'internal.test': ['10.0.0.5'],
  };

  it('control: a public name is fetched, pinned to its checked address', async () => {
    const dns = fakeDns(table);
    const sock = loopbackFactory(srv.port);
    const r = await fetchUrlToFileWithSocketFactory(
      'http://public.test/photo.png',
      dest(),
      opts({ allowPrivate: false, lookup: dns.lookup }),
      sock.factory,
    );
    assert.equal(r.bytes, BODY.length);
    assert.equal(r.finalUrl, 'http://public.test/photo.png');
    assert.deepEqual(sock.pinned, ['public.test->93.184.216.34']);
    assert.equal(srv.hosts.at(-1), 'public.test');
  });

  it('control: a redirect to another public name is followed and re-resolved', async () => {
    const dns = fakeDns(table);
    const sock = loopbackFactory(srv.port);
    const r = await fetchUrlToFileWithSocketFactory(
      'http://public.test/to-public2',
      dest(),
      opts({ allowPrivate: false, lookup: dns.lookup }),
      sock.factory,
    );
    assert.equal(r.finalUrl, 'http://public2.test/photo.png');
    assert.deepEqual(dns.queries, ['public.test', 'public2.test']);
    assert.deepEqual(sock.pinned, ['public.test->93.184.216.34', 'public2.test->93.184.216.35']);
  });

  it('refuses a public URL that redirects to 127.0.0.1, without connecting to the target', async () => {
    const dns = fakeDns(table);
    const sock = loopbackFactory(srv.port);
    const before = srv.paths.length;
    await expectApiError(
      fetchUrlToFileWithSocketFactory('http://public.test/to-loopback', dest(), opts({ allowPrivate: false, lookup: dns.lookup }), sock.factory),
      400,
      /non-public address \(loopback\)/,
    );
    assert.deepEqual(sock.pinned, ['public.test->93.184.216.34']);
    assert.deepEqual(srv.paths.slice(before), ['/to-loopback']);
  });

  it('refuses a public URL that redirects to a name resolving to a private address', async () => {
    const dns = fakeDns(table);
    const sock = loopbackFactory(srv.port);
    const before = srv.paths.length;
    await expectApiError(
      fetchUrlToFileWithSocketFactory('http://public.test/to-internal', dest(), opts({ allowPrivate: false, lookup: dns.lookup }), sock.factory),
      400,
      /internal\.test.*non-public address \(private\)/,
    );
    assert.deepEqual(dns.queries, ['public.test', 'internal.test']);
    assert.deepEqual(sock.pinned, ['public.test->93.184.216.34']);
    assert.deepEqual(srv.paths.slice(before), ['/to-internal']);
  });

  it('resolves once per hop, so a rebinding second DNS answer is never used', async () => {
    let calls = 0;
    const rebinding: NonNullable<SafeFetchOptions['lookup']> = async () => {
      calls += 1;
      return [{ address: calls === 1 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
    };
    const sock = loopbackFactory(srv.port);
    const r = await fetchUrlToFileWithSocketFactory(
      'http://rebind.test/photo.png',
      dest(),
      opts({ allowPrivate: false, lookup: rebinding }),
      sock.factory,
    );
    assert.equal(r.bytes, BODY.length);
    assert.equal(calls, 1);
    // The pinned lookup keeps answering with the checked address, however often it is asked.
    assert.deepEqual(sock.pinned, ['rebind.test->93.184.216.34']);
  });
});

describe('forbiddenAddressReason', () => {
  for (const ok of ['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2002:808:808::1', '64:ff9b::808:808']) {
    it(`allows ${ok}`, () => assert.equal(forbiddenAddressReason(ok), null));
  }
  const refused: Array<[string, string]> = [
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['169.254.169.254', 'cloud metadata'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['::1', 'loopback'],
    ['fc00::1', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['::ffff:10.0.0.1', 'private'],
    ['::7f00:1', 'not global unicast'],
    ['2002:a00:1::', 'private'],
    ['64:ff9b::a9fe:a9fe', 'cloud metadata'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['localhost', 'not an IP address'],
  ];
  for (const [addr, reason] of refused) {
    it(`refuses ${addr} (${reason})`, () => assert.equal(forbiddenAddressReason(addr), reason));
  }
});

describe('process health', () => {
  it('left no unhandled rejections behind', async () => {
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(unhandled, []);
  });
});
