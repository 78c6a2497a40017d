// Transport behaviour against a local HTTP server that misbehaves on purpose (no mocked fetch).
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  ImageKitAbortError,
  ImageKitAPIError,
  ImageKitClient,
  ImageKitConnectionError,
  ImageKitError,
  ImageKitTimeoutError,
  InternalServerError,
  LockedError,
  NotFoundError,
  TooManyRequestsError,
  UnauthorizedError,
  UnprocessableEntityError,
} from '../src/index.js';
import { json, startLocalServer, type LocalServer } from './support/local-server.js';

const servers: LocalServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(...args: Parameters<typeof startLocalServer>): Promise<LocalServer> {
  const s = await startLocalServer(...args);
  servers.push(s);
  return s;
}

function clientFor(server: LocalServer, extra: ConstructorParameters<typeof ImageKitClient>[0] = {}): ImageKitClient {
  return new ImageKitClient({ privateKey: 'private_key_123', baseUrl: server.url, ...extra });
}

const FILE = { fileId: 'abc', name: 'a.jpg' };

describe('requests', () => {
  test('sends Basic auth with the private key, Accept JSON, and parses the body; withRawResponse gives status and headers', async () => {
    const server = await serve((req, res) => json(res, 200, FILE, { 'x-request-id': 'req-1' }));
    const client = clientFor(server);
    const { data, rawResponse } = await client.files.get('abc').withRawResponse();
    assert.deepEqual(data, FILE);
    assert.equal(rawResponse.status, 200);
    assert.equal(rawResponse.headers.get('x-request-id'), 'req-1');
    const req = server.requests[0]!;
    assert.equal(req.method, 'GET');
    assert.equal(req.path, '/v1/files/abc/details');
    assert.equal(req.headers.authorization, `Basic ${Buffer.from('private_key_123:').toString('base64')}`);
    assert.equal(req.headers.accept, 'application/json');
    assert.match(String(req.headers['user-agent']), /^tessera-sdk\//);
  });

  test('username/password form of basic auth', async () => {
    const server = await serve((req, res) => json(res, 200, FILE));
    await new ImageKitClient({ username: 'user', password: 'pä55', baseUrl: server.url }).files.get('abc');
    assert.equal(server.requests[0]!.headers.authorization, `Basic ${Buffer.from('user:pä55').toString('base64')}`);
  });

  test('per-request headers and queryParams merge over the client and the method', async () => {
    const server = await serve((req, res) => json(res, 200, []));
    const client = clientFor(server, { headers: { 'X-Team': 'a', 'X-Client-Only': '1' } });
    await client.assets.list(
      { limit: 5, type: 'file' },
      { headers: { 'x-team': 'b', 'X-Extra': 'yes' }, queryParams: { limit: 7, debug: true, tag: ['x', 'y'] } },
    );
    const req = server.requests[0]!;
    assert.equal(req.headers['x-team'], 'b');
    assert.equal(req.headers['x-client-only'], '1');
    assert.equal(req.headers['x-extra'], 'yes');
    assert.equal(req.query.get('limit'), '7');
    assert.equal(req.query.get('type'), 'file');
    assert.equal(req.query.get('debug'), 'true');
    assert.deepEqual(req.query.getAll('tag'), ['x', 'y']);
  });

  test('a null header removes a default one', async () => {
    const server = await serve((req, res) => json(res, 200, FILE));
    await clientFor(server).files.get('abc', { headers: { Authorization: null } });
    assert.equal(server.requests[0]!.headers.authorization, undefined);
  });

  test('no private key: no Authorization header', async () => {
    const saved = process.env.IMAGEKIT_PRIVATE_KEY;
    delete process.env.IMAGEKIT_PRIVATE_KEY;
    try {
      const server = await serve((req, res) => json(res, 200, FILE));
      await new ImageKitClient({ baseUrl: server.url }).files.get('abc');
      assert.equal(server.requests[0]!.headers.authorization, undefined);
    } finally {
      if (saved !== undefined) process.env.IMAGEKIT_PRIVATE_KEY = saved;
    }
  });

  test('a custom fetch is used', async () => {
    const server = await serve((req, res) => json(res, 200, FILE));
    const seen: string[] = [];
    const client = clientFor(server, {
      fetch: (url, init) => {
        seen.push(`${init.method} ${url}`);
        return fetch(url, init);
      },
    });
    await client.files.get('abc');
    assert.deepEqual(seen, [`GET ${server.url}/v1/files/abc/details`]);
  });

  test('a baseUrl with a path prefix keeps the prefix', async () => {
    const server = await serve((req, res) => json(res, 200, FILE));
    await new ImageKitClient({ privateKey: 'k', baseUrl: `${server.url}/tenant-a/` }).files.get('abc');
    assert.equal(server.requests[0]!.path, '/tenant-a/v1/files/abc/details');
  });

  test('empty success bodies: void methods resolve undefined, Record methods resolve {}', async () => {
    const server = await serve((req, res) => {
      res.writeHead(204).end();
    });
    const client = clientFor(server);
    assert.equal(await client.files.delete('abc'), undefined);
    assert.deepEqual(await client.files.copy({ sourceFilePath: '/a.jpg', destinationPath: '/b/' }), {});
    assert.deepEqual(await client.files.versions.delete('abc', 'v1'), {});
  });

  test('an unparseable 200 body is an ImageKitError carrying the text', async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{nope');
    });
    const err = await clientFor(server).files.get('abc').catch((e: unknown) => e);
    assert.ok(err instanceof ImageKitError);
    assert.equal(err.body, '{nope');
    assert.equal(err.statusCode, 200);
  });
});

describe('path parameters', () => {
  test('are encoded so they cannot leave their segment', async () => {
    const server = await serve((req, res) => json(res, 200, FILE));
    const client = clientFor(server);
    await client.files.get('a/b?c=1#d%2F');
    await client.files.versions.get('x y', '../v');
    assert.equal(server.requests[0]!.url, '/v1/files/a%2Fb%3Fc%3D1%23d%252F/details');
    assert.equal(server.requests[1]!.url, '/v1/files/x%20y/versions/..%2Fv');
  });

  test('dot segments and empty ids are refused without a request (fetch would collapse them)', async () => {
    const server = await serve((req, res) => json(res, 200, FILE));
    const client = clientFor(server);
    for (const bad of ['..', '.', '']) {
      await assert.rejects(
        client.files.get(bad),
        (e: unknown) =>
          e instanceof ImageKitError && /Path parameter 1 of \/v1\/files\/{…}\/details must not be/.test(e.message),
      );
      await assert.rejects(client.files.versions.restore('abc', bad), ImageKitError);
    }
    assert.equal(server.requests.length, 0);
  });
});

describe('errors', () => {
  const cases: Array<[number, new (...a: never[]) => ImageKitAPIError]> = [
    [400, BadRequestError],
    [401, UnauthorizedError],
    [403, ForbiddenError],
    [404, NotFoundError],
    [409, ConflictError],
    [422, UnprocessableEntityError],
    [423, LockedError],
    [429, TooManyRequestsError],
    [500, InternalServerError],
    [502, InternalServerError],
  ];
  for (const [status, Klass] of cases) {
    test(`${status} → ${Klass.name} with the server's message, body and raw response`, async () => {
      const body = { message: `Server says ${status}.`, help: 'For support kindly contact us.' };
      const server = await serve((req, res) => json(res, status, body, { 'x-status': String(status) }));
      const err = await clientFor(server, { maxRetries: 0 }).files.get('abc').catch((e: unknown) => e);
      assert.ok(err instanceof Klass, `expected ${Klass.name}, got ${String(err)}`);
      assert.ok(err instanceof ImageKitAPIError && err instanceof ImageKitError);
      assert.equal(err.name, Klass.name);
      assert.equal(err.statusCode, status);
      assert.deepEqual(err.body, body);
      assert.equal(err.help, body.help);
      assert.match(err.message, new RegExp(`^${status}.*Server says ${status}\\.`));
      assert.equal(err.rawResponse.status, status);
      assert.equal(err.rawResponse.headers.get('x-status'), String(status));
    });
  }

  test('a non-JSON error body becomes the message', async () => {
    const server = await serve((req, res) => {
      res.writeHead(418, { 'content-type': 'text/plain' }).end('short and stout');
    });
    const err = await clientFor(server).files.get('abc').catch((e: unknown) => e);
    assert.ok(err instanceof ImageKitAPIError);
    assert.equal(err.statusCode, 418);
    assert.equal(err.body, 'short and stout');
    assert.match(err.message, /418.*short and stout/);
  });
});

describe('retries', () => {
  test('503 then 200: retried with backoff, resolves', async () => {
    const server = await serve((req, res, i) => (i === 0 ? json(res, 503, { message: 'busy' }) : json(res, 200, FILE)));
    const started = Date.now();
    assert.deepEqual(await clientFor(server).files.get('abc'), FILE);
    const elapsed = Date.now() - started;
    assert.equal(server.requests.length, 2);
    // Default backoff for the first retry is 375–500 ms (500 ms minus up to 25 % jitter).
    assert.ok(elapsed >= 350 && elapsed < 5000, `elapsed ${elapsed}`);
  });

  test('429 with Retry-After: waits that long, then succeeds', async () => {
    const server = await serve((req, res, i) =>
      i === 0 ? json(res, 429, { message: 'slow down' }, { 'retry-after': '1' }) : json(res, 200, FILE),
    );
    const started = Date.now();
    assert.deepEqual(await clientFor(server).files.get('abc'), FILE);
    const elapsed = Date.now() - started;
    assert.equal(server.requests.length, 2);
    assert.ok(elapsed >= 950, `waited only ${elapsed} ms`);
  });

  test("429 with ImageKit's X-RateLimit-Reset (ms): waits that long", async () => {
    const server = await serve((req, res, i) =>
      i === 0
        ? json(res, 429, { message: 'slow down' }, { 'x-ratelimit-reset': '300', 'x-ratelimit-limit': '10' })
        : json(res, 200, FILE),
    );
    const started = Date.now();
    await clientFor(server).files.get('abc');
    const elapsed = Date.now() - started;
    assert.equal(server.requests.length, 2);
    assert.ok(elapsed >= 290 && elapsed < 5000, `elapsed ${elapsed}`);
  });

  test('429 until retries run out: TooManyRequestsError exposes the rate-limit headers', async () => {
    const server = await serve((req, res) =>
      json(
        res,
        429,
        { message: 'Rate limit exceeded.' },
        { 'x-ratelimit-limit': '100', 'x-ratelimit-reset': '5', 'x-ratelimit-interval': '60000', 'retry-after': '0' },
      ),
    );
    const err = await clientFor(server, { maxRetries: 2 }).files.get('abc').catch((e: unknown) => e);
    assert.ok(err instanceof TooManyRequestsError);
    assert.equal(server.requests.length, 3);
    assert.deepEqual(err.rateLimit, { limit: 100, reset: 5, interval: 60000, retryAfter: 0 });
    assert.match(err.message, /Rate limit exceeded/);
  });

  test('a Retry-After beyond a minute is not waited for', async () => {
    const server = await serve((req, res) => json(res, 429, { message: 'come back later' }, { 'retry-after': '3600' }));
    const started = Date.now();
    await assert.rejects(clientFor(server).files.get('abc'), TooManyRequestsError);
    assert.equal(server.requests.length, 1);
    assert.ok(Date.now() - started < 5000);
  });

  test('408 is retried', async () => {
    const server = await serve((req, res, i) => (i === 0 ? json(res, 408, {}, { 'retry-after': '0' }) : json(res, 200, FILE)));
    await clientFor(server).files.get('abc');
    assert.equal(server.requests.length, 2);
  });

  test('400 (and other 4xx) are never retried', async () => {
    const server = await serve((req, res) => json(res, 400, { message: 'Your request contains invalid fileId parameter.' }));
    const err = await clientFor(server, { maxRetries: 5 }).files.get('abc').catch((e: unknown) => e);
    assert.ok(err instanceof BadRequestError);
    assert.match(err.message, /invalid fileId parameter/);
    assert.equal(server.requests.length, 1);
    const s404 = await serve((req, res) => json(res, 404, { message: 'nope' }, { 'retry-after': '0' }));
    await assert.rejects(clientFor(s404, { maxRetries: 5 }).files.get('abc'), NotFoundError);
    assert.equal(s404.requests.length, 1);
  });

  test('connection reset: retried, then succeeds', async () => {
    const server = await serve((req, res, i) => {
      if (i === 0) res.socket?.destroy();
      else json(res, 200, FILE);
    });
    assert.deepEqual(await clientFor(server).files.get('abc'), FILE);
    assert.equal(server.requests.length, 2);
  });

  test('connection reset every time: ImageKitConnectionError after maxRetries', async () => {
    const server = await serve((req, res) => {
      res.socket?.destroy();
    });
    const err = await clientFor(server, { maxRetries: 1 }).files.get('abc').catch((e: unknown) => e);
    assert.ok(err instanceof ImageKitConnectionError, String(err));
    assert.ok(err.cause !== undefined);
    assert.equal(server.requests.length, 2);
  });

  test('a reset in the middle of the response body is retried too', async () => {
    const server = await serve((req, res, i) => {
      if (i === 0) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"fileId":');
        setTimeout(() => res.socket?.destroy(), 20);
      } else json(res, 200, FILE);
    });
    assert.deepEqual(await clientFor(server).files.get('abc'), FILE);
    assert.equal(server.requests.length, 2);
  });

  test('maxRetries: 0 per request disables retries', async () => {
    const server = await serve((req, res) => json(res, 503, { message: 'down' }));
    await assert.rejects(clientFor(server).files.get('abc', { maxRetries: 0 }), InternalServerError);
    assert.equal(server.requests.length, 1);
  });

  test('an upload from a Buffer is retried (its body can be sent again)', async () => {
    const server = await serve((req, res, i) =>
      i === 0 ? json(res, 503, { message: 'busy' }, { 'retry-after': '0' }) : json(res, 200, { fileId: 'up1' }),
    );
    const r = await clientFor(server).files.upload({ file: Buffer.from('hello'), fileName: 'h.txt' });
    assert.equal(r.fileId, 'up1');
    assert.equal(server.requests.length, 2);
    assert.deepEqual(server.requests[0]!.body, server.requests[1]!.body);
  });

  test('an upload from a one-shot stream is not retried', async () => {
    const server = await serve((req, res) => json(res, 503, { message: 'busy' }, { 'retry-after': '0' }));
    const stream = Readable.from([Buffer.from('chunk-1'), Buffer.from('chunk-2')]);
    const err = await clientFor(server, { maxRetries: 3 })
      .files.upload({ file: stream, fileName: 's.bin' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof InternalServerError, String(err));
    assert.equal(server.requests.length, 1);
    assert.ok(server.requests[0]!.body.includes('chunk-1chunk-2'));
  });

  test('a stream upload hit by a connection reset is not retried either', async () => {
    const server = await serve((req, res) => {
      res.socket?.destroy();
    });
    const stream = Readable.from([Buffer.from('x')]);
    const err = await clientFor(server, { maxRetries: 3 })
      .beta.v2.files.upload({ file: stream, fileName: 's.bin' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof ImageKitConnectionError, String(err));
    assert.equal(server.requests.length, 1);
  });
});

describe('timeouts and abort', () => {
  test('slow headers: the attempt is aborted and ImageKitTimeoutError raised (not retried)', async () => {
    const server = await serve((req, res) => {
      setTimeout(() => json(res, 200, FILE), 5000).unref();
    });
    const started = Date.now();
    const err = await clientFor(server, { timeoutInSeconds: 0.3 }).files.get('abc').catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    assert.ok(err instanceof ImageKitTimeoutError, String(err));
    assert.match(err.message, /timed out after 0\.3s/);
    assert.ok(elapsed >= 280 && elapsed < 4000, `elapsed ${elapsed}`);
    assert.equal(server.requests.length, 1);
  });

  test('per-request timeoutInSeconds overrides the client', async () => {
    const server = await serve((req, res) => {
      setTimeout(() => json(res, 200, FILE), 400).unref();
    });
    const client = clientFor(server, { timeoutInSeconds: 0.1 });
    assert.deepEqual(await client.files.get('abc', { timeoutInSeconds: 5 }), FILE);
    await assert.rejects(client.files.get('abc'), ImageKitTimeoutError);
  });

  test('slow body: the timeout covers reading the response too', async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"fileId":');
      setTimeout(() => res.end('"abc"}'), 5000).unref();
    });
    await assert.rejects(clientFor(server, { timeoutInSeconds: 0.3 }).files.get('abc'), ImageKitTimeoutError);
  });

  test('abortSignal cancels an in-flight request', async () => {
    let arrived!: () => void;
    const arrival = new Promise<void>((r) => (arrived = r));
    const server = await serve((req, res) => {
      arrived();
      setTimeout(() => json(res, 200, FILE), 5000).unref();
    });
    const controller = new AbortController();
    // Abort once the server holds the request, so the test does not race the connection.
    void arrival.then(() => controller.abort(new Error('user gave up')));
    const started = Date.now();
    const err = await clientFor(server).files.get('abc', { abortSignal: controller.signal }).catch((e: unknown) => e);
    assert.ok(err instanceof ImageKitAbortError, String(err));
    assert.equal((err.cause as Error).message, 'user gave up');
    assert.ok(Date.now() - started < 4000);
    assert.equal(server.requests.length, 1);
  });

  test('abortSignal also cuts a wait between retries short', async () => {
    let arrived!: () => void;
    const arrival = new Promise<void>((r) => (arrived = r));
    const server = await serve((req, res) => {
      json(res, 503, { message: 'busy' }, { 'retry-after': '30' });
      arrived();
    });
    const controller = new AbortController();
    void arrival.then(() => setTimeout(() => controller.abort(), 100));
    const started = Date.now();
    await assert.rejects(clientFor(server).files.get('abc', { abortSignal: controller.signal }), ImageKitAbortError);
    assert.ok(Date.now() - started < 5000, 'the 30 s Retry-After wait was not cut short');
    assert.equal(server.requests.length, 1);
  });

  test('an already-aborted signal sends nothing', async () => {
    const server = await serve((req, res) => json(res, 200, FILE));
    await assert.rejects(clientFor(server).files.get('abc', { abortSignal: AbortSignal.abort() }), ImageKitAbortError);
    assert.equal(server.requests.length, 0);
  });
});

describe('hosts', () => {
  test('defaults to the ImageKit cloud: api.imagekit.io, uploads to upload.imagekit.io', () => {
    const client = new ImageKitClient({ privateKey: 'k' });
    assert.equal(client.baseUrl, 'https://api.imagekit.io');
    assert.equal(client.uploadBaseUrl, 'https://upload.imagekit.io');
  });

  test('a baseUrl override sends uploads there too', async () => {
    const server = await serve((req, res) => json(res, 200, { fileId: 'u' }));
    const client = clientFor(server);
    assert.equal(client.uploadBaseUrl, server.url);
    await client.files.upload({ file: 'aGVsbG8=', fileName: 'h.txt' });
    assert.equal(server.requests[0]!.path, '/api/v1/files/upload');
  });

  test('an explicit uploadBaseUrl wins for uploads only', async () => {
    const api = await serve((req, res) => json(res, 200, FILE));
    const up = await serve((req, res) => json(res, 200, { fileId: 'u' }));
    const client = clientFor(api, { uploadBaseUrl: up.url });
    await client.files.upload({ file: 'aGVsbG8=', fileName: 'h.txt' });
    await client.beta.v2.files.upload({ file: 'aGVsbG8=', fileName: 'h.txt' });
    await client.files.get('abc');
    assert.deepEqual(up.requests.map((r) => r.path), ['/api/v1/files/upload', '/api/v2/files/upload']);
    assert.deepEqual(api.requests.map((r) => r.path), ['/v1/files/abc/details']);
  });

  test('an environment string serves both', () => {
    const client = new ImageKitClient({ privateKey: 'k', environment: 'http://localhost:9999/' });
    assert.equal(client.baseUrl, 'http://localhost:9999');
    assert.equal(client.uploadBaseUrl, 'http://localhost:9999');
  });

  test('bad options are refused at construction', () => {
    assert.throws(() => new ImageKitClient({ baseUrl: 'ftp://x' }), ImageKitError);
    assert.throws(() => new ImageKitClient({ maxRetries: -1 }), ImageKitError);
    assert.throws(() => new ImageKitClient({ timeoutInSeconds: 0 }), ImageKitError);
  });
});
