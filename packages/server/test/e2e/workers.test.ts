/**
 * TESSERA_WORKERS=2 on the embedded store: a primary and two worker processes on one port and one
 * SQLite file. Every request below goes on a fresh connection, which the primary hands to the
 * workers in turn, so each step reaches both. A worker is told apart by the prefix of the request
 * id its errors carry (one random prefix per process).
 *
 * What must hold across workers: a write on one is seen by the other at once (remembered path
 * lookups, the URL endpoint table), a purge on one empties both caches before it answers, rate
 * limits count both together, a worker that dies is replaced, and SIGTERM stops them all.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startTestServer, testBackend, type TestServer } from '../support/server.js';
import { basicAuth, makeJpeg, sleep, uploadFile, uploadForm } from '../support/e2e-helpers.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request on its own connection (no keep-alive pool), so the primary picks a worker for it. */
function once(method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, connection: 'close' }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The process that answered, from the request id an error response carries. */
const workerOf = (a: Answer): string => String(a.headers['x-request-id'] ?? '').slice(0, 10);

/** The server's worker pids: children of the primary running tessera (not tsx's esbuild service). */
function workerPids(server: TestServer): number[] {
  let children: number[];
  try {
    children = execFileSync('pgrep', ['-P', String(server.process.pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return children.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('tessera.mjs');
    } catch {
      return false;
    }
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const embeddedOnly = { skip: testBackend() === 'scaleout' ? 'worker processes share the SQLite file; on PostgreSQL each is a node (two-node.test.ts)' : false };

describe('TESSERA_WORKERS=2 on the embedded store', embeddedOnly, () => {
  let srv: TestServer;
  const auth = () => ({ authorization: basicAuth(srv.privateKey) });

  before(async () => {
    srv = await startTestServer({ backend: 'embedded', env: { TESSERA_WORKERS: '2' } });
    await waitFor('both workers listening', async () => (/with 2 worker processes/.test(srv.output()) ? true : undefined));
  });
  after(async () => {
    await srv?.stop();
  });

  test('two worker processes answer on the one port, each with its own cache dir', async () => {
    assert.equal(workerPids(srv).length, 2);
    assert.deepEqual(readdirSync(join(srv.dataDir, 'cache')).sort(), ['worker-0', 'worker-1']);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const a = await once('GET', `${srv.urlEndpoint}/no/such-file.jpg`);
      assert.equal(a.status, 404);
      seen.add(workerOf(a));
    }
    assert.equal(seen.size, 2, `request ids from ${[...seen].join(', ')}`);
  });

  test('a file uploaded through one worker is served by both at once, though both remembered it missing', async () => {
    const url = `${srv.urlEndpoint}/w/fresh.jpg`;
    const missing = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const a = await once('GET', url);
      assert.equal(a.status, 404);
      missing.add(workerOf(a));
    }
    assert.equal(missing.size, 2, 'both workers looked the path up (and remembered it missing)');
    const jpeg = await makeJpeg(64, 48);
    await uploadFile(srv, jpeg, 'fresh.jpg', { folder: '/w', useUniqueFileName: 'false' });
    for (let i = 0; i < 4; i++) {
      const a = await once('GET', url);
      assert.equal(a.status, 200, `request ${i}: ${a.body.toString().slice(0, 200)}`);
      assert.ok(a.body.equals(jpeg));
    }
  });

  test('a purge through one worker empties the cache of both before it answers', async () => {
    await uploadFile(srv, await makeJpeg(200, 100), 'purged.jpg', { folder: '/w', useUniqueFileName: 'false' });
    const variant = `${srv.urlEndpoint}/tr:w-50/w/purged.jpg`;
    // Each worker renders the variant once, then serves it from its own cache.
    const warm: string[] = [];
    for (let i = 0; i < 6; i++) warm.push(String((await once('GET', variant)).headers['x-tessera-cache']));
    assert.deepEqual(warm.slice(-2), ['HIT', 'HIT'], `warm-up: ${warm.join(' ')}`);
    assert.equal(warm.filter((c) => c === 'MISS').length, 2, `one render per worker: ${warm.join(' ')}`);

    const purge = await once('POST', `${srv.baseUrl}/v1/files/purge`, { ...auth(), 'content-type': 'application/json' }, JSON.stringify({ url: `${srv.urlEndpoint}/w/purged.jpg` }));
    assert.equal(purge.status, 201, purge.body.toString());
    const after: string[] = [];
    for (let i = 0; i < 6; i++) after.push(String((await once('GET', variant)).headers['x-tessera-cache']));
    // Had the purge stayed in the worker that took it, the other would answer HIT straight away
    // and only one MISS would follow.
    assert.equal(after.filter((c) => c === 'MISS').length, 2, `after the purge: ${after.join(' ')}`);
  });

  test('a URL endpoint created through one worker routes on both at once (no wait for the table’s TTL)', async () => {
    const url = `${srv.urlEndpoint}/shop/w/fresh.jpg`;
    for (let i = 0; i < 4; i++) assert.equal((await once('GET', url)).status, 404, 'no such endpoint yet: /shop/w/fresh.jpg is not a file');
    const created = await once(
      'POST',
      `${srv.baseUrl}/v1/accounts/url-endpoints`,
      { ...auth(), 'content-type': 'application/json' },
      JSON.stringify({ description: 'Shop', urlPrefix: 'shop' }),
    );
    assert.equal(created.status, 201, created.body.toString());
    for (let i = 0; i < 4; i++) assert.equal((await once('GET', url)).status, 200, `request ${i} through the new endpoint`);
  });

  test('writes through both workers at once all land: uploads into one folder and tag updates, none refused', async () => {
    const jpeg = await makeJpeg(32, 24);
    const uploads = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const body = uploadForm({ fileName: `c-${i}.jpg`, folder: '/concurrent' }, { bytes: jpeg, name: `c-${i}.jpg` });
        // A fresh connection each: fetch would pool them onto one worker.
        const res = await fetch(`${srv.baseUrl}/api/v1/files/upload`, { method: 'POST', headers: { ...auth(), connection: 'close' }, body });
        const text = await res.text();
        assert.equal(res.status, 200, `upload ${i}: ${text}`);
        return JSON.parse(text) as { fileId: string };
      }),
    );
    const tagged = await Promise.all(
      uploads.map((u, i) =>
        once('POST', `${srv.baseUrl}/v1/files/addTags`, { ...auth(), 'content-type': 'application/json' }, JSON.stringify({ fileIds: [u.fileId], tags: [`t${i}`, 'both'] })),
      ),
    );
    for (const t of tagged) assert.equal(t.status, 200, t.body.toString());
    const listed = await once('GET', `${srv.baseUrl}/v1/files?path=/concurrent&limit=100`, auth());
    const files = JSON.parse(listed.body.toString()) as Array<{ name: string; tags: string[] }>;
    assert.equal(files.length, 16);
    for (const f of files) assert.ok(f.tags.includes('both'), `${f.name}: ${f.tags.join(',')}`);
  });

  test('a folder copy started through one worker completes (whichever worker runs it) and both serve the copies', async () => {
    const json = { ...auth(), 'content-type': 'application/json' };
    const started = await once('POST', `${srv.baseUrl}/v1/bulkJobs/copyFolder`, json, JSON.stringify({ sourceFolderPath: '/concurrent', destinationPath: '/copied' }));
    assert.equal(started.status, 200, started.body.toString());
    const { jobId } = JSON.parse(started.body.toString()) as { jobId: string };
    await waitFor('the copy to complete', async () => {
      const s = await once('GET', `${srv.baseUrl}/v1/bulkJobs/${jobId}`, auth());
      return (JSON.parse(s.body.toString()) as { status: string }).status === 'Completed' ? true : undefined;
    });
    const listed = JSON.parse((await once('GET', `${srv.baseUrl}/v1/files?path=/copied/concurrent&limit=100`, auth())).body.toString()) as Array<{ filePath: string }>;
    assert.equal(listed.length, 16);
    for (const f of listed.slice(0, 4)) assert.equal((await once('GET', `${srv.urlEndpoint}${f.filePath}`)).status, 200, f.filePath);
  });

  test('a worker killed with SIGKILL is replaced; the port keeps answering', async () => {
    const before = workerPids(srv);
    assert.equal(before.length, 2);
    process.kill(before[0]!, 'SIGKILL');
    const replaced = await waitFor('a replacement worker', async () => {
      const now = workerPids(srv);
      return now.length === 2 && !now.includes(before[0]!) ? now : undefined;
    });
    assert.ok(replaced.includes(before[1]!), 'the other worker kept running');
    await waitFor('the replacement serving', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const a = await once('GET', `${srv.urlEndpoint}/no/such-file.jpg`);
        assert.equal(a.status, 404);
        seen.add(workerOf(a));
      }
      return seen.size === 2 ? true : undefined;
    });
    assert.match(srv.output(), /worker 0 \(pid \d+\) exited \(SIGKILL\); starting another/);
  });

  test('SIGTERM stops the primary and every worker', async () => {
    const pids = workerPids(srv);
    assert.equal(pids.length, 2);
    await srv.kill('SIGTERM');
    assert.equal(srv.process.exitCode, 0);
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), 'worker gone');
  });
});

describe('TESSERA_WORKERS=2: rate limits count every worker together', embeddedOnly, () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ backend: 'embedded', env: { TESSERA_WORKERS: '2', TESSERA_RATE_LIMIT: '6/60s' } });
    await waitFor('both workers listening', async () => (/with 2 worker processes/.test(srv.output()) ? true : undefined));
  });
  after(async () => {
    await srv?.stop();
  });

  test('the seventh call in the window is refused, whichever worker takes it', async () => {
    const statuses: number[] = [];
    const workers = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const a = await once('GET', `${srv.baseUrl}/v1/files?limit=1`, { authorization: basicAuth(srv.privateKey) });
      statuses.push(a.status);
      if (a.status === 429) workers.add(workerOf(a));
    }
    // Counted per worker, ten calls alternating between two would all pass (five each).
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 429, 429, 429, 429]);
    assert.equal(workers.size, 2, 'both workers refused');
  });
});

describe('TESSERA_WORKERS=2 on PostgreSQL + S3: each worker is a node', { skip: testBackend() === 'scaleout' ? false : 'runs in the scale-out pass' }, () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { TESSERA_WORKERS: '2', TESSERA_RATE_LIMIT: '5/60s' } });
    await waitFor('both workers listening', async () => (/with 2 worker processes/.test(srv.output()) ? true : undefined));
  });
  after(async () => {
    await srv?.stop();
  });

  test('both workers answer, serve a file uploaded through either, and count one rate limit in the database', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(workerOf(await once('GET', `${srv.urlEndpoint}/no/such-file.jpg`)));
    assert.equal(seen.size, 2);
    const jpeg = await makeJpeg(40, 30);
    await uploadFile(srv, jpeg, 'pg.jpg', { folder: '/w', useUniqueFileName: 'false' });
    for (let i = 0; i < 4; i++) {
      const a = await once('GET', `${srv.urlEndpoint}/w/pg.jpg`);
      assert.equal(a.status, 200);
      assert.ok(a.body.equals(jpeg));
    }
    // Five calls a minute for the key, upload included: counted per worker, six would all pass.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await once('GET', `${srv.baseUrl}/v1/files?limit=1`, { authorization: basicAuth(srv.privateKey) })).status);
    const refused = statuses.indexOf(429);
    assert.ok(refused >= 4, `statuses ${statuses.join(' ')}`);
    assert.ok(statuses.slice(refused).every((s) => s === 429), `statuses ${statuses.join(' ')}`);
  });
});
