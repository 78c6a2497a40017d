/**
 * Contract suite for the BlobStore port, run against every adapter: LocalBlobStore on a temp dir
 * and S3BlobStore on s3rver (a real S3-compatible server on a random port).
 *
 * What every adapter must do: putFile takes ownership of the local file; get streams the bytes,
 * whole or any inclusive range; size, copy and delete (a missing key is no error) work by key;
 * keys() lists what the store holds and nothing of a store beside it (S3: another prefix); a
 * missing key is a rejection, not an empty stream; large files (multipart on S3) survive intact.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import S3rver from 's3rver';
import { LocalBlobStore } from '../../src/adapters/blob/local/index.js';
import { S3BlobStore, type S3BlobsConfig } from '../../src/adapters/blob/s3/index.js';
import { ConfigError } from '../../src/config/index.js';
import type { BlobStore } from '../../src/ports/blob-store.js';
import { s3rverBlobs } from '../support/scaleout.js';

const MiB = 1024 * 1024;
const BUCKET = 'tessera-blobs';

let s3: S3rver;
let s3Dir: string;
let s3Endpoint: string;
const dirs: string[] = [];

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

function s3Config(prefix: string, endpoint = s3Endpoint): S3BlobsConfig {
  return s3rverBlobs(endpoint, BUCKET, prefix);
}

before(async () => {
  s3Dir = tempDir('tessera-blob-s3rver-');
  s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3Dir, configureBuckets: [{ name: BUCKET, configs: [] }] });
  const addr = (await s3.run()) as AddressInfo;
  s3Endpoint = `http://127.0.0.1:${addr.port}`;
});

after(async () => {
  await s3?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Adapter {
  name: string;
  /** Two stores that must not see each other's keys (S3: two prefixes of one bucket; local: two roots). */
  open(): Promise<{ store: BlobStore; neighbour: BlobStore; close(): void }>;
}

let prefixes = 0;
const ADAPTERS: Adapter[] = [
  {
    name: 'LocalBlobStore',
    async open() {
      const a = new LocalBlobStore(join(tempDir('tessera-blob-local-'), 'blobs'));
      const b = new LocalBlobStore(join(tempDir('tessera-blob-local-'), 'blobs'));
      await a.init();
      await b.init();
      return { store: a, neighbour: b, close() {} };
    },
  },
  {
    name: 'S3BlobStore (s3rver)',
    async open() {
      const n = ++prefixes;
      // The smallest part S3 allows, so a 12 MiB file goes up in three parts.
      const opts = { partSize: 5 * MiB, multipartThreshold: 5 * MiB, partConcurrency: 2 };
      const a = await S3BlobStore.open(s3Config(`suite${n}/a/`), opts);
      const b = await S3BlobStore.open(s3Config(`suite${n}/`), opts);
      return {
        store: a,
        neighbour: b,
        close() {
          a.close();
          b.close();
        },
      };
    },
  },
];

let keyCounter = 0;
function newKey(): string {
  return randomBytes(16).toString('hex') + (keyCounter++).toString(16).padStart(4, '0');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function spoolFile(dir: string, bytes: Buffer): string {
  const p = join(dir, `${randomBytes(6).toString('hex')}.part`);
  writeFileSync(p, bytes);
  return p;
}

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const k of it) out.push(k);
  return out.sort();
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

for (const adapter of ADAPTERS) {
  describe(`BlobStore contract: ${adapter.name}`, () => {
    let store: BlobStore;
    let neighbour: BlobStore;
    let close: () => void;
    let spool: string;

    before(async () => {
      ({ store, neighbour, close } = await adapter.open());
      spool = tempDir('tessera-blob-spool-');
    });
    after(() => close());

    test('putFile stores the bytes and removes the local file', async () => {
      const bytes = randomBytes(70_001);
      const key = newKey();
      const file = spoolFile(spool, bytes);
      await store.putFile(key, file);
      assert.equal(existsSync(file), false, 'the local file is gone after putFile');
      assert.equal(sha(await readAll(await store.get(key))), sha(bytes));
      assert.equal(await store.size(key), bytes.length);
    });

    test('ranged reads: first byte, last byte, middle, suffix, whole', async () => {
      const bytes = randomBytes(10_000);
      const key = newKey();
      await store.putFile(key, spoolFile(spool, bytes));
      const read = async (start: number, end: number) => readAll(await store.get(key, { start, end }));
      assert.deepEqual(await read(0, 0), bytes.subarray(0, 1));
      assert.deepEqual(await read(9_999, 9_999), bytes.subarray(9_999));
      assert.deepEqual(await read(1234, 5678), bytes.subarray(1234, 5679));
      assert.deepEqual(await read(10_000 - 500, 9_999), bytes.subarray(9_500), 'the last 500 bytes');
      assert.deepEqual(await read(0, 9_999), bytes);
    });

    test('an empty file round-trips', async () => {
      const key = newKey();
      await store.putFile(key, spoolFile(spool, Buffer.alloc(0)));
      assert.equal(await store.size(key), 0);
      assert.equal((await readAll(await store.get(key))).length, 0);
    });

    test('a missing key: get rejects, size is undefined, delete is no error', async () => {
      const key = newKey();
      await assert.rejects(store.get(key));
      await assert.rejects(store.get(key, { start: 0, end: 10 }));
      assert.equal(await store.size(key), undefined);
      await store.delete(key);
      await assert.rejects(store.copy(key, newKey()), 'copying a missing key fails');
    });

    test('copy makes an independent key with the same bytes', async () => {
      const bytes = randomBytes(33_333);
      const from = newKey();
      const to = newKey();
      await store.putFile(from, spoolFile(spool, bytes));
      await store.copy(from, to);
      await store.delete(from);
      assert.equal(await store.size(from), undefined);
      assert.equal(sha(await readAll(await store.get(to))), sha(bytes), 'the copy outlives its source');
    });

    test('delete removes the bytes, and deleting twice is fine', async () => {
      const key = newKey();
      await store.putFile(key, spoolFile(spool, randomBytes(100)));
      await store.delete(key);
      await store.delete(key);
      assert.equal(await store.size(key), undefined);
      await assert.rejects(store.get(key));
    });

    test('keys() lists what the store holds and nothing of its neighbour', async () => {
      const mine = [newKey(), newKey(), newKey()];
      const theirs = [newKey(), newKey()];
      for (const k of mine) await store.putFile(k, spoolFile(spool, randomBytes(10)));
      for (const k of theirs) await neighbour.putFile(k, spoolFile(spool, randomBytes(10)));
      const listed = await collect(store.keys());
      for (const k of mine) assert.ok(listed.includes(k), `keys() lists ${k}`);
      for (const k of theirs) assert.ok(!listed.includes(k), `keys() does not list the neighbour's ${k}`);
      const theirListing = await collect(neighbour.keys());
      for (const k of mine) assert.ok(!theirListing.includes(k), 'the neighbour does not list this store’s keys');
      for (const k of theirs) assert.ok(theirListing.includes(k));
      await assert.rejects(store.get(theirs[0]!), 'a neighbour key is not readable through this store');
      assert.equal(await store.size(theirs[0]!), undefined);
      await store.delete(theirs[0]!);
      assert.equal(await neighbour.size(theirs[0]!), 10, "deleting through this store leaves the neighbour's key");
    });

    test('invalid keys are refused before any I/O', async () => {
      await assert.rejects(store.get('../etc/passwd'));
      await assert.rejects(store.putFile('a/b', spoolFile(spool, randomBytes(1))));
    });

    test('a file larger than the multipart threshold survives intact (12 MiB)', async () => {
      const bytes = randomBytes(12 * MiB + 17);
      const key = newKey();
      const file = spoolFile(spool, bytes);
      await store.putFile(key, file);
      assert.equal(existsSync(file), false);
      assert.equal(await store.size(key), bytes.length);
      assert.equal(sha(await readAll(await store.get(key))), sha(bytes));
      // A range across the boundary of the first and second part.
      const start = 5 * MiB - 3;
      assert.deepEqual(await readAll(await store.get(key, { start, end: start + 9 })), bytes.subarray(start, start + 10));
      const copied = newKey();
      await store.copy(key, copied);
      assert.equal(sha(await readAll(await store.get(copied))), sha(bytes));
      await store.delete(key);
      await store.delete(copied);
    });

    test('localPath is a readable path, or undefined when bytes are not on local disk', async () => {
      const key = newKey();
      const bytes = randomBytes(64);
      await store.putFile(key, spoolFile(spool, bytes));
      const p = store.localPath(key);
      if (store.capabilities.kind === 's3') assert.equal(p, undefined);
      else assert.ok(p !== undefined && existsSync(p));
    });
  });
}

// --- S3 specifics: start-up check and write retries through a misbehaving proxy ------------------

/** An HTTP proxy in front of s3rver that can fail chosen requests; it records what it saw. */
async function faultyProxy(fail: (req: IncomingMessage, seen: number) => boolean): Promise<{ url: string; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const target = new URL(s3Endpoint);
  const server = createServer((req, res) => {
    const line = `${req.method} ${req.url}`;
    seen.push(line);
    if (fail(req, seen.filter((s) => s === line).length)) {
      req.resume();
      req.on('end', () => res.writeHead(500, { 'content-type': 'application/xml' }).end('<Error><Code>InternalError</Code><Message>injected</Message></Error>'));
      return;
    }
    const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

/**
 * s3rver in a child process with OpenSSL's legacy provider: it encrypts continuation tokens with
 * DES, which OpenSSL 3 refuses by default, so in-process it cannot answer a truncated listing.
 */
async function s3rverWithPaging(bucket: string): Promise<{ endpoint: string; stop(): void }> {
  const dir = tempDir('tessera-blob-s3rver-paging-');
  const code = `const S3rver = require('s3rver');
    new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: ${JSON.stringify(dir)}, configureBuckets: [{ name: ${JSON.stringify(bucket)} }] })
      .run().then((a) => console.log('PORT ' + a.port));`;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', code], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (c) => reject(new Error(`s3rver child exited with ${c}`)));
  });
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

describe('S3BlobStore specifics', () => {
  test('keys() follows continuation tokens across pages', async () => {
    const paging = await s3rverWithPaging(BUCKET);
    const store = await S3BlobStore.open(s3Config('paged/', paging.endpoint), { listPageSize: 2 });
    const other = await S3BlobStore.open(s3Config('paged-other/', paging.endpoint));
    try {
      const spool = tempDir('tessera-blob-spool-');
      const mine = Array.from({ length: 7 }, () => newKey());
      for (const k of mine) await store.putFile(k, spoolFile(spool, randomBytes(5)));
      await other.putFile(newKey(), spoolFile(spool, randomBytes(5)));
      assert.deepEqual(await collect(store.keys()), [...mine].sort(), 'all seven keys over four pages, none of the other prefix');
    } finally {
      store.close();
      other.close();
      paging.stop();
    }
  });

  test('open fails with one ConfigError line for a missing bucket or an unreachable endpoint', async () => {
    await assert.rejects(S3BlobStore.open({ ...s3Config('x/'), bucket: 'no-such-bucket' }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /no-such-bucket/);
      assert.match(e.message, /no such bucket/);
      assert.equal(e.message.includes('\n'), false);
      return true;
    });
    const dead = await new Promise<number>((r) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => r(port));
      });
    });
    await assert.rejects(S3BlobStore.open(s3Config('x/', `http://127.0.0.1:${dead}`)), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /not usable/);
      assert.equal(e.message.includes('\n'), false);
      return true;
    });
  });

  test('a part that fails once is retried from the file; the upload completes intact', async () => {
    const proxy = await faultyProxy((req, n) => req.method === 'PUT' && /partNumber=2/.test(req.url ?? '') && n === 1);
    const store = await S3BlobStore.open(s3Config('retry/', proxy.url), { partSize: 5 * MiB, multipartThreshold: 5 * MiB, writeAttempts: 3 });
    try {
      const bytes = randomBytes(11 * MiB);
      const key = newKey();
      const file = spoolFile(tempDir('tessera-blob-spool-'), bytes);
      await store.putFile(key, file);
      assert.equal(proxy.seen.filter((l) => l.startsWith('PUT') && l.includes('partNumber=2')).length, 2, 'part 2 was sent twice');
      assert.equal(sha(await readAll(await store.get(key))), sha(bytes));
    } finally {
      store.close();
      proxy.server.close();
    }
  });

  test('a part that keeps failing aborts the multipart upload and leaves the local file', async () => {
    const proxy = await faultyProxy((req) => req.method === 'PUT' && /partNumber=2/.test(req.url ?? ''));
    const store = await S3BlobStore.open(s3Config('abort/', proxy.url), { partSize: 5 * MiB, multipartThreshold: 5 * MiB, writeAttempts: 2 });
    try {
      const key = newKey();
      const file = spoolFile(tempDir('tessera-blob-spool-'), randomBytes(11 * MiB));
      await assert.rejects(store.putFile(key, file));
      assert.ok(existsSync(file), 'the caller still owns the local file after a failed put');
      assert.ok(
        proxy.seen.some((l) => l.startsWith('DELETE') && l.includes('uploadId=')),
        `an AbortMultipartUpload was sent (saw: ${proxy.seen.join(', ')})`,
      );
      assert.equal(await store.size(key), undefined, 'no object appeared under the key');
    } finally {
      store.close();
      proxy.server.close();
    }
  });
});
