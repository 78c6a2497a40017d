/**
 * The pure parts of the delivery path: URL parsing, ImageKit's URL signatures (checked against
 * URLs the official SDK builds), URL rewriters, the transform cap and single-flight, the disk
 * cache (LRU, purges, write tokens, memory tier) and the store's change counter.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ImageKit from '@imagekit/nodejs';
import { DiskDeliveryCache } from '../../src/adapters/cache/disk-cache.js';
import { InProcessCacheBus } from '../../src/adapters/cache/in-process-bus.js';
import { afterWrites, trackChanges } from '../../src/adapters/db/change-tracking.js';
import { openSqliteStore } from '../../src/adapters/db/sqlite/index.js';
import { ConfigError, resolveConfig } from '../../src/config/index.js';
import { isApiError } from '../../src/errors/index.js';
import type { CacheEntryInfo } from '../../src/ports/delivery-cache.js';
import { SingleFlight, TransformLimiter } from '../../src/services/delivery/limiter.js';
import { onlyNamedTransformations, parseDeliveryUrl, parseQuery } from '../../src/services/delivery/request.js';
import { rewriteUrl } from '../../src/services/delivery/rewriters.js';
import { signedPart, verifySignature } from '../../src/services/delivery/signing.js';

const ENDPOINT = 'https://img.example.com/demo';
const KEY = 'private_unit_test_key';

/** Splits a URL built for ENDPOINT into what the server sees: the path after the endpoint and the query. */
function received(url: string, endpoint = ENDPOINT): { remaining: string; query: ReturnType<typeof parseQuery> } {
  const u = new URL(url);
  const base = new URL(endpoint).pathname;
  assert.ok(u.pathname.startsWith(base), url);
  // The raw query, exactly as sent (URL.search keeps the encoding).
  return { remaining: u.pathname.slice(base.length), query: parseQuery(u.search.replace(/^\?/, '')) };
}

function check(url: string, opts: { now?: number; endpoint?: string; candidates?: string[] } = {}) {
  const { remaining, query } = received(url, opts.endpoint);
  const parsed = parseDeliveryUrl(remaining, query);
  return verifySignature({
    signature: parsed.signature,
    expiry: parsed.expiry,
    candidates: opts.candidates ?? [signedPart(remaining, query)],
    privateKey: KEY,
    nowSeconds: opts.now ?? Math.floor(Date.now() / 1000),
  });
}

function rejects401(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => isApiError(e) && e.status === 401);
}

describe('delivery URLs', () => {
  test('path transformation, query transformation, both chained (path first)', () => {
    const a = parseDeliveryUrl('/tr:w-300,h-200/folder/a%20b.jpg', parseQuery(''));
    assert.equal(a.tr, 'w-300,h-200');
    assert.equal(a.trInPath, true);
    assert.equal(a.sourcePath, '/folder/a b.jpg');
    assert.equal(a.rawSourcePath, '/folder/a%20b.jpg');
    const b = parseDeliveryUrl('/folder/a.jpg', parseQuery('tr=w-300:rt-90&updatedAt=123'));
    assert.equal(b.tr, 'w-300:rt-90');
    assert.equal(b.cacheQuery, 'updatedAt=123');
    const c = parseDeliveryUrl('/tr:w-300/a.jpg', parseQuery('tr=rt-90'));
    assert.equal(c.tr, 'w-300:rt-90');
    const d = parseDeliveryUrl('/tr%3Aw-10/a.jpg', parseQuery(''));
    assert.equal(d.tr, 'w-10');
  });

  test('ImageKit parameters are read and kept out of the cache identity', () => {
    const u = parseDeliveryUrl('/a.jpg', parseQuery('v=2&ik-obj-version=0123456789abcdef01234567&ik-t=99&ik-s=abc&tr=w-1'));
    assert.equal(u.versionId, '0123456789abcdef01234567');
    assert.equal(u.expiry, '99');
    assert.equal(u.signature, 'abc');
    assert.equal(u.cacheQuery, 'v=2');
  });

  test('a tr segment later in the path is part of the file path (ImageKit documents it after the endpoint only)', () => {
    const u = parseDeliveryUrl('/folder/tr:w-10/a.jpg', parseQuery(''));
    assert.equal(u.tr, '');
    assert.equal(u.sourcePath, '/folder/tr:w-10/a.jpg');
  });

  test('bad percent-encoding is a 400', () => {
    assert.throws(() => parseDeliveryUrl('/a%E0%A4%A.jpg', []), (e: unknown) => isApiError(e) && e.status === 400);
  });

  test('named-only transformations', () => {
    assert.equal(onlyNamedTransformations('n-thumb'), true);
    assert.equal(onlyNamedTransformations('n-a:n-b'), true);
    assert.equal(onlyNamedTransformations('n-a,w-10'), false);
    assert.equal(onlyNamedTransformations(''), false);
  });
});

describe('signed URLs (cross-checked with the official SDK)', () => {
  const client = new ImageKit({ privateKey: KEY });

  test('every shape the official helper signs verifies', () => {
    const urls = [
      client.helper.buildSrc({ urlEndpoint: ENDPOINT, src: '/a.jpg', signed: true }),
      client.helper.buildSrc({ urlEndpoint: ENDPOINT, src: '/folder/a b.jpg', transformation: [{ width: 300, height: 200 }], signed: true, expiresIn: 600 }),
      client.helper.buildSrc({
        urlEndpoint: ENDPOINT,
        src: '/folder/ä.jpg',
        transformation: [{ width: 100 }, { rotation: 90 }],
        transformationPosition: 'path',
        signed: true,
        expiresIn: 60,
      }),
      client.helper.buildSrc({ urlEndpoint: ENDPOINT, src: '/a.jpg', queryParameters: { v: '123', x: 'y z' }, transformation: [{ width: 50 }], signed: true }),
    ];
    for (const url of urls) assert.equal(check(url), 'valid', url);
  });

  test('a URL of a custom endpoint verifies against either endpoint the signer used', () => {
    const custom = `${ENDPOINT}/img`;
    const viaCustom = client.helper.buildSrc({ urlEndpoint: custom, src: '/a.jpg', signed: true });
    const viaRoot = client.helper.buildSrc({ urlEndpoint: ENDPOINT, src: '/img/a.jpg', signed: true });
    for (const url of [viaCustom, viaRoot]) {
      const { remaining, query } = received(url, custom);
      const parsed = parseDeliveryUrl(remaining, query);
      assert.equal(
        verifySignature({
          signature: parsed.signature,
          expiry: parsed.expiry,
          candidates: [signedPart(remaining, query), signedPart(`/img${remaining}`, query)],
          privateKey: KEY,
          nowSeconds: Math.floor(Date.now() / 1000),
        }),
        'valid',
      );
    }
  });

  test('absent, tampered, expired, half-signed, other key', () => {
    assert.equal(check(`${ENDPOINT}/a.jpg?tr=w-10`), 'absent');
    const url = client.helper.buildSrc({ urlEndpoint: ENDPOINT, src: '/a.jpg', transformation: [{ width: 10 }], signed: true, expiresIn: 60 });
    rejects401(() => check(url.replace('w-10', 'w-11')));
    rejects401(() => check(url.replace('/a.jpg', '/b.jpg')));
    rejects401(() => check(url, { now: Math.floor(Date.now() / 1000) + 3600 }));
    rejects401(() => check(url.replace(/&ik-s=[0-9a-f]+/, '')));
    rejects401(() => check(url.replace(/ik-t=\d+/, 'ik-t=soon')));
    const other = new ImageKit({ privateKey: 'private_other' }).helper.buildSrc({ urlEndpoint: ENDPOINT, src: '/a.jpg', signed: true });
    rejects401(() => check(other));
  });
});

describe('URL rewriters', () => {
  test('Cloudinary: segments → chained steps; image/upload and the version dropped; unknown segments stop', () => {
    const r = rewriteUrl({ type: 'CLOUDINARY', preserveAssetDeliveryTypes: false }, '/image/upload/h_300,w_300,c_crop,g_north/a_-67/v123/folder/image.jpg', []);
    assert.equal(r.tr, 'h-300,w-300,cm-extract,fo-top:rt-N67');
    assert.equal(r.rawRemaining, '/folder/image.jpg');
    const kept = rewriteUrl({ type: 'CLOUDINARY', preserveAssetDeliveryTypes: true }, '/image/upload/w_10/a.jpg', []);
    assert.equal(kept.rawRemaining, '/image/upload/a.jpg');
    const plain = rewriteUrl({ type: 'CLOUDINARY', preserveAssetDeliveryTypes: false }, '/folder/a.jpg', []);
    assert.deepEqual([plain.tr, plain.rawRemaining], ['', '/folder/a.jpg']);
  });

  test('Cloudinary values from the published table', () => {
    const one = (t: string) => rewriteUrl({ type: 'CLOUDINARY', preserveAssetDeliveryTypes: false }, `/${t}/a.jpg`, []).tr;
    assert.equal(one('ar_4:3,w_100'), 'ar-4-3,w-100');
    assert.equal(one('q_auto:best'), 'q-86');
    assert.equal(one('e_blur:500'), 'bl-5');
    assert.equal(one('e_unsharp_mask:250'), 'e-usm-0-2.5-1-0.05');
    assert.equal(one('b_rgb:B4F'), 'bg-BB44FF');
    assert.equal(one('b_rgb:AAAA54A9'), 'bg-AAAA5466');
    assert.equal(one('bo_5px_solid_red'), 'b-5_red');
    assert.equal(one('t_thumb'), 'n-thumb');
    assert.equal(one('fl_progressive:none'), 'pr-false');
    // A known key with an untranslatable value is dropped silently.
    assert.equal(one('h_100,w_abc'), 'h-100');
  });

  test('Imgix and Akamai read the query and leave other parameters', () => {
    const ix = rewriteUrl({ type: 'IMGIX' }, '/a.jpg', parseQuery('w=100&crop=left,top&fm=jpeg&blur=90&keep=1'));
    assert.equal(ix.tr, 'w-100,fo-top_left,f-jpg,bl-4.5');
    assert.deepEqual(ix.query.map((p) => p.raw), ['keep=1']);
    const ak = rewriteUrl({ type: 'AKAMAI' }, '/a.jpg', parseQuery('imwidth=320&imheight=200'));
    assert.equal(ak.tr, 'w-320,h-200');
  });
});

describe('transform cap and single-flight', () => {
  test('at most maxRunning at once, maxQueued waiting, 503 with Retry-After past that', async () => {
    const limiter = new TransformLimiter(2, 1);
    let running = 0;
    let peak = 0;
    const release: Array<() => void> = [];
    const job = () =>
      limiter.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => release.push(r));
        running--;
      });
    const a = job();
    const b = job();
    const c = job();
    await assert.rejects(job(), (e: unknown) => isApiError(e) && e.status === 503 && /^\d+$/.test(e.headers['Retry-After'] ?? ''));
    await new Promise((r) => setImmediate(r));
    assert.equal(limiter.stats().running, 2);
    assert.equal(limiter.stats().queued, 1);
    while (release.length > 0 || running > 0) {
      release.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all([a, b, c]);
    assert.equal(peak, 2);
    assert.equal(limiter.stats().running, 0);
  });

  test('concurrent callers of one key share one computation; errors are shared too', async () => {
    const sf = new SingleFlight<number>();
    let runs = 0;
    const work = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 20));
      return 42;
    };
    const all = await Promise.all(Array.from({ length: 10 }, () => sf.do('k', work)));
    assert.equal(runs, 1);
    assert.equal(all.filter((r) => r.leader).length, 1);
    assert.ok(all.every((r) => r.value === 42));
    const failing = () => sf.do('bad', async () => Promise.reject(new Error('nope')));
    await Promise.all([assert.rejects(failing()), assert.rejects(failing())]);
    assert.equal(sf.size, 0);
  });
});

describe('the disk cache', () => {
  const info = (sourcePath: string, transformation = 'w-10', kind: CacheEntryInfo['kind'] = 'variant'): CacheEntryInfo => ({
    kind,
    sourcePath,
    transformation,
    mime: 'image/jpeg',
    private: false,
    negotiated: false,
  });
  const bytes = (n: number, fill = 1) => Buffer.alloc(n, fill);

  test('put / get / read; strong ETag of the bytes; a restart empties it', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'tessera-cache-')), 'c');
    const cache = await DiskDeliveryCache.open({ root, maxBytes: 10_000, memoryMaxBytes: 0 });
    const e = await cache.put('key1', info('/demo/a.jpg'), bytes(100), cache.writeToken());
    assert.match(e.etag, /^"[A-Za-z0-9_-]{27}"$/);
    assert.equal(cache.get('key1')?.size, 100);
    assert.deepEqual(await cache.read(cache.get('key1')!), bytes(100));
    assert.equal(cache.get('nope'), undefined);
    await cache.close();
    const again = await DiskDeliveryCache.open({ root, maxBytes: 10_000, memoryMaxBytes: 0 });
    assert.equal(again.get('key1'), undefined);
    assert.equal(again.stats().entries, 0);
    await again.close();
  });

  test('a write that fails leaves nothing cached and still hands the bytes back', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'tessera-cache-')), 'c');
    const errors: unknown[] = [];
    const cache = await DiskDeliveryCache.open({ root, maxBytes: 10_000, memoryMaxBytes: 0, onError: (e) => errors.push(e) });
    // The temp dir replaced by a file: every write into it fails (ENOTDIR), as on a broken disk.
    rmSync(join(root, 'tmp'), { recursive: true });
    writeFileSync(join(root, 'tmp'), 'not a directory');
    const e = await cache.put('key1', info('/demo/a.jpg'), bytes(100), cache.writeToken());
    assert.equal(e.size, 100);
    assert.match(e.etag, /^"[A-Za-z0-9_-]{27}"$/);
    assert.equal(cache.get('key1'), undefined);
    assert.equal(cache.stats().entries, 0);
    assert.equal(errors.length, 1);
    await cache.close();
  });

  test('least-recently-used entries go first when the total passes maxBytes', async () => {
    const cache = await DiskDeliveryCache.open({ root: join(mkdtempSync(join(tmpdir(), 'tessera-cache-')), 'c'), maxBytes: 300, memoryMaxBytes: 0 });
    const t = cache.writeToken();
    await cache.put('a', info('/demo/a.jpg'), bytes(100), t);
    await cache.put('b', info('/demo/b.jpg'), bytes(100), t);
    await cache.put('c', info('/demo/c.jpg'), bytes(100), t);
    cache.get('a'); // a is now the most recent
    await cache.put('d', info('/demo/d.jpg'), bytes(100), t);
    assert.ok(cache.get('a'));
    assert.equal(cache.get('b'), undefined);
    assert.ok(cache.get('c') && cache.get('d'));
    assert.equal(cache.stats().bytes, 300);
    assert.equal(cache.stats().evictions, 1);
    // An entry larger than the whole cache is returned but not kept.
    const big = await cache.put('e', info('/demo/e.jpg'), bytes(500), t);
    assert.equal(big.size, 500);
    assert.equal(cache.get('e'), undefined);
    await cache.close();
  });

  test('purges: exact path (all transformations), one transformation, prefix', async () => {
    const cache = await DiskDeliveryCache.open({ root: join(mkdtempSync(join(tmpdir(), 'tessera-cache-')), 'c'), maxBytes: 1e6, memoryMaxBytes: 1e5 });
    const t = cache.writeToken();
    await cache.put('a1', info('/demo/x/a.jpg', 'w-10'), bytes(10), t);
    await cache.put('a2', info('/demo/x/a.jpg', 'w-20'), bytes(10), t);
    await cache.put('b1', info('/demo/x/b.jpg', 'w-10'), bytes(10), t);
    await cache.put('o1', info('/demo/y/o.jpg', '', 'original'), bytes(10), t);
    assert.equal(cache.stats().originalBytes, 10);
    assert.equal(cache.evict({ mode: 'exact', path: '/demo/x/a.jpg', transformation: 'w-20' }), 1);
    assert.ok(cache.get('a1'));
    assert.equal(cache.evict({ mode: 'exact', path: '/demo/x/a.jpg' }), 1);
    assert.equal(cache.get('a1'), undefined);
    assert.equal(cache.evict({ mode: 'prefix', path: '/demo/x/' }), 1);
    assert.equal(cache.get('b1'), undefined);
    assert.ok(cache.get('o1'));
    assert.equal(cache.evict({ mode: 'prefix', path: '/demo' }), 1);
    assert.equal(cache.stats().entries, 0);
    assert.equal(cache.stats().originalBytes, 0);
    assert.equal(cache.stats().memoryBytes, 0);
    await cache.close();
  });

  test('a computation that began before a purge is served but not stored', async () => {
    const cache = await DiskDeliveryCache.open({ root: join(mkdtempSync(join(tmpdir(), 'tessera-cache-')), 'c'), maxBytes: 1e6, memoryMaxBytes: 0 });
    const token = cache.writeToken();
    cache.evict({ mode: 'exact', path: '/demo/a.jpg' });
    const e = await cache.put('k', info('/demo/a.jpg'), bytes(10), token);
    assert.equal(e.size, 10);
    assert.equal(cache.get('k'), undefined);
    // putFile: the file stays readable for this request, and is not indexed.
    const tmp = cache.tempPath();
    writeFileSync(tmp, 'abc');
    const f = await cache.putFile('f', info('/demo/b.jpg', '', 'original'), tmp, '"x"', token);
    assert.equal(f.path, tmp);
    assert.ok(existsSync(tmp));
    assert.equal(cache.get('f'), undefined);
    await cache.close();
    assert.ok(!existsSync(tmp), 'removed at close');
  });

  test('small entries are answered from memory; evicted files are unlinked after the grace period', async () => {
    let now = 1_000_000;
    const root = join(mkdtempSync(join(tmpdir(), 'tessera-cache-')), 'c');
    const cache = await DiskDeliveryCache.open({ root, maxBytes: 150, memoryMaxBytes: 1000, memoryItemMax: 200, unlinkGraceMs: 5000, clock: () => now });
    const t = cache.writeToken();
    const a = await cache.put('aa', info('/demo/a.jpg'), bytes(100, 7), t);
    assert.deepEqual(cache.peekMemory(a), bytes(100, 7));
    await cache.put('bb', info('/demo/b.jpg'), bytes(100), t); // evicts aa
    assert.equal(cache.get('aa'), undefined);
    assert.ok(existsSync(a.path), 'still there within the grace period');
    now += 10_000;
    await cache.close();
    assert.ok(!existsSync(a.path));
    assert.deepEqual(readdirSync(join(root, 'v', 'aa')), []);
  });

  test('the in-process bus reaches every subscriber before publish resolves', async () => {
    const bus = new InProcessCacheBus();
    const seen: string[] = [];
    const off = bus.subscribe(async (m) => {
      await new Promise((r) => setTimeout(r, 5));
      seen.push(m.requestId);
    });
    await bus.publish({ requestId: 'r1', targets: [] });
    assert.deepEqual(seen, ['r1']);
    off();
    await bus.publish({ requestId: 'r2', targets: [] });
    assert.deepEqual(seen, ['r1']);
  });
});

describe('change tracking', () => {
  test('writes and transactions move the generation; reads do not', async () => {
    const tracked = trackChanges(await openSqliteStore(join(mkdtempSync(join(tmpdir(), 'tessera-track-')), 'db.sqlite')));
    assert.equal(tracked.changeSignal, 'every-commit');
    const g0 = tracked.generation();
    await tracked.store.repo.getFileByPath('/nope.jpg');
    await tracked.store.repo.listVersions('0123456789abcdef01234567');
    assert.equal(tracked.generation(), g0);
    await tracked.store.repo.journalBlobs(['k1'], new Date().toISOString());
    const g1 = tracked.generation();
    assert.ok(g1 > g0);
    await tracked.store.transaction(async (tx) => tx.getFileByPath('/x.jpg'));
    assert.ok(tracked.generation() > g1);
    await tracked.store.close();
  });

  test('with other writers (worker processes): each write is announced before it resolves, and their writes move the generation', async () => {
    let theirs = 0;
    const announced: string[] = [];
    const tracked = trackChanges(await openSqliteStore(join(mkdtempSync(join(tmpdir(), 'tessera-track-')), 'db.sqlite')), {
      changes: () => theirs,
      announce: async () => {
        await new Promise((r) => setTimeout(r, 20));
        announced.push('told');
      },
    });
    assert.equal(tracked.changeSignal, 'every-commit');
    const g0 = tracked.generation();
    await tracked.store.repo.getFileByPath('/nope.jpg');
    assert.deepEqual(announced, [], 'a read announces nothing');
    await tracked.store.repo.journalBlobs(['k1'], new Date().toISOString());
    assert.deepEqual(announced, ['told'], 'the write resolved only after the others were told');
    const g1 = tracked.generation();
    assert.ok(g1 > g0);
    await tracked.store.transaction(async (tx) => tx.getFileByPath('/x.jpg'));
    assert.deepEqual(announced, ['told', 'told']);
    const g2 = tracked.generation();
    theirs++;
    assert.ok(tracked.generation() > g2, 'a write announced by another process');
    await tracked.store.close();
  });

  test('afterWrites: a read that calls its own helpers is no write (else two workers would tell each other forever)', async () => {
    let writes = 0;
    class Repo {
      async listThings(): Promise<number[]> {
        return this.withDetails([1, 2]);
      }
      async withDetails(xs: number[]): Promise<number[]> {
        return xs.map((x) => x * 10);
      }
      async insertThing(): Promise<void> {}
    }
    const repo = afterWrites(new Repo(), () => {
      writes++;
    });
    assert.deepEqual(await repo.listThings(), [10, 20]);
    assert.equal(writes, 0);
    await repo.insertThing();
    assert.equal(writes, 1);
  });
});

describe('delivery settings', () => {
  const base = () => ({ dataDir: mkdtempSync(join(tmpdir(), 'tessera-cfg-')), privateKey: 'private_x', publicKey: 'public_x' });

  test('defaults and values', () => {
    const d = resolveConfig(base(), {}).delivery;
    assert.equal(d.cacheMaxBytes, 2 * 1024 ** 3);
    assert.equal(d.cacheMemoryBytes, 64 * 1024 ** 2);
    assert.ok(d.maxConcurrentTransforms >= 4);
    assert.equal(d.transformQueue, 64);
    assert.equal(d.autoAvif, false);
    assert.deepEqual(d.namedTransformations, {});
    const e = resolveConfig(base(), {
      TESSERA_CACHE_MAX_BYTES: '0',
      TESSERA_CACHE_MEMORY_BYTES: '16mb',
      TESSERA_MAX_CONCURRENT_TRANSFORMS: '3',
      TESSERA_TRANSFORM_QUEUE: '0',
      TESSERA_AUTO_AVIF: 'true',
      TESSERA_NAMED_TRANSFORMATIONS: '{"thumb":"w-100,h-100"}',
    }).delivery;
    assert.equal(e.cacheMaxBytes, 0);
    assert.equal(e.cacheMemoryBytes, 16 * 1024 ** 2);
    assert.equal(e.maxConcurrentTransforms, 3);
    assert.equal(e.transformQueue, 0);
    assert.equal(e.autoAvif, true);
    assert.deepEqual(e.namedTransformations, { thumb: 'w-100,h-100' });
    assert.ok(Object.isFrozen(e));
  });

  test('bad values stop the start with a clear message', () => {
    for (const [k, v] of [
      ['TESSERA_CACHE_MAX_BYTES', 'lots'],
      ['TESSERA_MAX_CONCURRENT_TRANSFORMS', '0'],
      ['TESSERA_TRANSFORM_TIMEOUT_MS', '5'],
      ['TESSERA_MAX_INPUT_PIXELS', '-1'],
      ['TESSERA_AUTO_AVIF', 'maybe'],
      ['TESSERA_NAMED_TRANSFORMATIONS', '[1]'],
      ['TESSERA_NAMED_TRANSFORMATIONS', '{"bad name":"w-1"}'],
      ['TESSERA_NAMED_TRANSFORMATIONS', '{"x":""}'],
    ] as const) {
      assert.throws(() => resolveConfig(base(), { [k]: v }), (e: unknown) => e instanceof ConfigError && e.message.includes(k), `${k}=${v}`);
    }
  });
});
