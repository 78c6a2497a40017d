/**
 * Two server processes on different ports sharing one PostgreSQL database and one S3 bucket (the
 * scale-out deployment of issue #7, in miniature). What must hold across nodes:
 * - a file uploaded on A is transformed on B;
 * - a purge on either node stops the other from serving the purged variant (the bytes behind it
 *   are changed first, so old and new are told apart by their pixels);
 * - a client-side upload token (V1 signature, V2 JWT) used on one node is refused on the other;
 * - a folder copy of a few thousand files started on A, killed with SIGKILL mid-job, is finished
 *   by B: every file copied exactly once, the job Completed through B's bulk-jobs API.
 *
 * Skips, loudly, only when PostgreSQL is unreachable and TESSERA_REQUIRE_SCALEOUT is not 1. It
 * always runs on its own PostgreSQL + S3 backend, so scripts/test.mjs runs it once, in its
 * scale-out pass (the embedded pass skips it).
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import sharp from 'sharp';
import type { FileRecord, VersionRecord } from '../../src/ports/metadata-store.js';
import { Library } from '../../src/services/library.js';
import { newId } from '../../src/util/ids.js';
import {
  api,
  fetchBytes,
  jsonValue,
  makeJpeg,
  openBlobsFor,
  openStoreFor,
  filesIn,
  queryDb,
  sleep,
  solidImage,
  upload,
  type ApiResponse,
} from '../support/e2e-helpers.js';
import { postgresForTests } from '../support/pg-fresh.js';
import { createScaleOutBackend, startTestServer, type ScaleOutBackend, type TestServer } from '../support/server.js';

const EMBEDDED_PASS = process.env.TESSERA_TEST_BACKEND === 'embedded';
const PG = EMBEDDED_PASS || (await postgresForTests('the two-node e2e test'));
const SKIP = EMBEDDED_PASS ? 'two nodes always run on PostgreSQL + S3: this test runs in the scale-out pass' : !PG;

const RED = { r: 220, g: 20, b: 20 };
const BLUE = { r: 20, g: 40, b: 220 };
const GREEN = { r: 20, g: 200, b: 40 };
type Rgb = typeof RED;

/** The colour at the centre of an image, and its size. */
async function centre(bytes: Buffer): Promise<{ width: number; height: number; rgb: Rgb }> {
  const img = sharp(bytes);
  const meta = await img.metadata();
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
  return { width: meta.width!, height: meta.height!, rgb: { r: data[at]!, g: data[at + 1]!, b: data[at + 2]! } };
}

function near(a: Rgb, b: Rgb): boolean {
  return Math.abs(a.r - b.r) < 30 && Math.abs(a.g - b.g) < 30 && Math.abs(a.b - b.b) < 30;
}

/** The colour a delivery URL serves now (asserting a 200 image). */
async function colourAt(url: string): Promise<Rgb> {
  const res = await fetchBytes(url);
  assert.equal(res.status, 200, `GET ${url} → ${res.status}: ${res.bytes.toString('utf8').slice(0, 200)}`);
  return (await centre(res.bytes)).rgb;
}

async function eventually(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

describe('two nodes on one PostgreSQL database and one bucket', { skip: SKIP, timeout: 240_000 }, () => {
  let backend: ScaleOutBackend;
  let a: TestServer;
  let b: TestServer;
  /** A web folder the URL endpoint `/ext` fetches from; its bytes change during the purge test. */
  let origin: Server;
  let originBytes: Buffer;
  let originHits = 0;

  before(async () => {
    backend = await createScaleOutBackend();
    const env = {
      ...backend.env,
      TESSERA_ALLOW_PRIVATE_URLS: 'true',
      TESSERA_JOB_BATCH_SIZE: '100',
      TESSERA_JOB_LEASE_MS: '2000',
      TESSERA_JOB_POLL_MS: '100',
    };
    [a, b] = await Promise.all([startTestServer({ env }), startTestServer({ env })]);
    originBytes = await solidImage(80, 60, RED);
    origin = createServer((req, res) => {
      originHits++;
      if (req.url === '/assets/pic.png') {
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': originBytes.length });
        res.end(originBytes);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  });

  after(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    origin?.close();
    await backend?.dispose();
  });

  test('upload on A, transform via URL on B', async () => {
    const bytes = await solidImage(64, 48, GREEN, 'png');
    const up = await upload(a, { fileName: 'shared.png', folder: '/two/', useUniqueFileName: 'false' }, { bytes, name: 'shared.png' });
    assert.equal(up.status, 200, up.text);
    const onB = await fetchBytes(`${b.urlEndpoint}/tr:w-32/two/shared.png`);
    assert.equal(onB.status, 200, onB.bytes.toString('utf8').slice(0, 300));
    const got = await centre(onB.bytes);
    assert.deepEqual([got.width, got.height], [32, 24]);
    assert.ok(near(got.rgb, GREEN), `B rendered A's pixels (${JSON.stringify(got.rgb)})`);
    // And the details API on B knows the file A stored.
    const details = await api(b, 'GET', `/v1/files/${up.body.fileId as string}/details`);
    assert.equal(details.status, 200, details.text);
    assert.equal(details.body.filePath, '/two/shared.png');
  });

  test('a purge on one node stops the other from serving the purged variant', async () => {
    const port = (origin.address() as AddressInfo).port;
    const o = await api(a, 'POST', '/v1/accounts/origins', { type: 'WEB_FOLDER', name: 'Local web', baseUrl: `http://127.0.0.1:${port}/assets` });
    assert.equal(o.status, 201, o.text);
    const e = await api(a, 'POST', '/v1/accounts/url-endpoints', { description: 'External', urlPrefix: 'ext', origins: [o.body.id] });
    assert.equal(e.status, 201, e.text);
    const urlA = `${a.baseUrl}/${a.imagekitId}/ext/tr:w-40/pic.png`;
    const urlB = `${b.baseUrl}/${b.imagekitId}/ext/tr:w-40/pic.png`;
    // B learns of the endpoint A created within its endpoint table's TTL.
    await eventually('B to serve the new endpoint', async () => (await fetchBytes(urlB)).status === 200, 10_000);

    assert.ok(near(await colourAt(urlA), RED));
    assert.ok(near(await colourAt(urlB), RED));
    const hitsCached = originHits;

    // The origin changes; both nodes keep serving the variant they cached.
    originBytes = await solidImage(80, 60, BLUE);
    assert.ok(near(await colourAt(urlA), RED), 'A serves its cached variant');
    assert.ok(near(await colourAt(urlB), RED), 'B serves its cached variant');
    assert.equal(originHits, hitsCached, 'neither node went back to the origin');

    // Purge on A: B must stop serving red.
    const purge = await api(a, 'POST', '/v1/files/purge', { url: `${a.baseUrl}/${a.imagekitId}/ext/pic.png` });
    assert.equal(purge.status, 201, purge.text);
    const status = await api(b, 'GET', `/v1/files/purge/${purge.body.requestId as string}`);
    assert.deepEqual(status.body, { status: 'Completed' }, 'B reports the purge A ran');
    await eventually('B to serve the new bytes after A’s purge', async () => near(await colourAt(urlB), BLUE), 3000);
    assert.ok(near(await colourAt(urlA), BLUE));

    // And the other way round.
    originBytes = await solidImage(80, 60, GREEN);
    assert.ok(near(await colourAt(urlA), BLUE), 'A cached blue again');
    const back = await api(b, 'POST', '/v1/files/purge', { url: `${b.baseUrl}/${b.imagekitId}/ext/*` });
    assert.equal(back.status, 201, back.text);
    await eventually('A to serve the new bytes after B’s purge', async () => near(await colourAt(urlA), GREEN), 3000);
    assert.ok(near(await colourAt(urlB), GREEN));
  });

  test('a node whose LISTEN connection drops serves nothing it cached before: purges it missed cannot leave stale variants', async () => {
    const urlA = `${a.baseUrl}/${a.imagekitId}/ext/tr:w-30/pic.png`;
    const urlB = `${b.baseUrl}/${b.imagekitId}/ext/tr:w-30/pic.png`;
    originBytes = await solidImage(80, 60, RED);
    const first = [await colourAt(urlA), await colourAt(urlB)];
    originBytes = await solidImage(80, 60, BLUE);
    assert.deepEqual(
      [await colourAt(urlA), await colourAt(urlB)].map((c) => near(c, first[0]!)),
      [true, true],
      'both nodes serve what they cached',
    );
    // Cut every node's LISTEN connection, as a network blip would.
    const cut = await queryDb<{ pid: number }>(
      a.dataDir,
      `select pg_terminate_backend(pid) as pid from pg_stat_activity where application_name like 'tessera-cache-bus:%' and datname = current_database()`,
    );
    assert.equal(cut.length, 2, 'one LISTEN connection per node');
    await eventually('both nodes to drop their cached variants once they listen again', async () => near(await colourAt(urlA), BLUE) && near(await colourAt(urlB), BLUE), 15_000);
  });

  test('client-side upload tokens used on one node are refused on the other', async () => {
    const png = await solidImage(10, 10, BLUE);
    const token = randomBytes(16).toString('hex');
    const expire = String(Math.floor(Date.now() / 1000) + 600);
    const signature = createHmac('sha1', a.privateKey).update(token + expire).digest('hex');
    const v1 = (s: TestServer, name: string) =>
      upload(s, { fileName: name, token, expire, signature, publicKey: s.publicKey }, { bytes: png, type: 'image/png' }, { version: 1, auth: null });
    const first = await v1(a, 'v1-a.png');
    assert.equal(first.status, 200, first.text);
    const replay = await v1(b, 'v1-b.png');
    assert.equal(replay.status, 400, replay.text);
    assert.match(String(replay.body.message), /used before/);

    const fields = { fileName: 'v2.png', folder: '/two-v2/' };
    const jwt = await new SignJWT(fields)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: b.publicKey })
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
      .sign(new TextEncoder().encode(b.privateKey));
    const v2 = (s: TestServer) => upload(s, { ...fields, token: jwt }, { bytes: png, type: 'image/png' }, { version: 2, auth: null });
    const firstV2 = await v2(b);
    assert.equal(firstV2.status, 200, firstV2.text);
    const replayV2 = await v2(a);
    assert.equal(replayV2.status, 400, replayV2.text);
    assert.match(String(replayV2.body.message), /used before/);
  });

  // Last: it kills A.
  test('a folder copy started on A and killed with SIGKILL is finished by B, every file copied once', async () => {
    const N = 3000;
    for (const [name, bytes] of [
      ['seed-a.png', await solidImage(16, 16, RED)],
      ['seed-b.jpg', await makeJpeg(17, 16)],
    ] as const) {
      const r = await upload(a, { fileName: name, folder: '/big/', useUniqueFileName: 'false' }, { bytes, name });
      assert.equal(r.status, 200, r.text);
    }
    const t0 = Date.now();
    await seedFiles(a.dataDir, '/big/', N);
    const seededMs = Date.now() - t0;
    const source = await filesIn(a.dataDir, '/big/');
    assert.equal(source.size, N + 2);
    const sourceVersions = [...source.values()].reduce((n, f) => n + f.versions, 0);

    const submitted = await api(a, 'POST', '/v1/bulkJobs/copyFolder', { sourceFolderPath: '/big', destinationPath: '/copy', includeVersions: true });
    assert.equal(submitted.status, 200, submitted.text);
    const jobId = submitted.body.jobId as string;
    const first = await eventually2(async () => {
      const j = await jobRow(a.dataDir, jobId);
      return j.status === 'running' && ((j.progress.files as number) ?? 0) >= 300 ? j : undefined;
    }, 90_000, 'A to copy a few batches');
    assert.ok(first.lockedBy, 'A holds the job');
    await a.kill('SIGKILL');
    const atKill = await jobRow(a.dataDir, jobId);
    assert.equal(atKill.status, 'running', 'killed mid-job');
    assert.ok((atKill.progress.files as number) < N, `killed before the end (${String(atKill.progress.files)} of ${N + 2})`);
    const killedAt = Date.now();

    // B takes the job over once A's lease lapses, and finishes it.
    let done: ApiResponse | undefined;
    await eventually(
      'B to report the job Completed',
      async () => {
        const r = await api(b, 'GET', `/v1/bulkJobs/${jobId}`);
        assert.equal(r.status, 200, r.text);
        if (r.body.status === 'Pending') return false;
        done = r;
        return true;
      },
      150_000,
    );
    assert.deepEqual(done!.body, { jobId, type: 'COPY_FOLDER', status: 'Completed' });
    const finishedMs = Date.now() - killedAt;

    const final = await jobRow(b.dataDir, jobId);
    assert.equal(final.status, 'completed');
    assert.equal(final.attempts, 2, 'claimed by A, then once by B');
    assert.equal(final.progress.files, N + 2);
    assert.equal(final.progress.versions, sourceVersions);

    const copied = await filesIn(b.dataDir, '/copy/big/');
    assert.equal(copied.size, source.size, 'every file is there, once');
    for (const [path, src] of source) {
      const dst = copied.get(`/copy${path}`);
      assert.ok(dst, `missing copy of ${path}`);
      assert.equal(dst.versions, src.versions, `${path}: versions copied exactly once (${dst.versions} vs ${src.versions})`);
      assert.equal(dst.checksum, src.checksum);
    }
    const dupes = await queryDb<{ n: number }>(
      b.dataDir,
      `select count(*) as n from (select file_id, version_number from file_versions group by file_id, version_number having count(*) > 1) d`,
    );
    assert.equal(dupes[0]!.n, 0, 'no version row twice');
    const ownBytes = await queryDb<{ n: number }>(
      b.dataDir,
      `select count(distinct blob_key) as n from file_versions where substr(file_path, 1, 10) = '/copy/big/'`,
    );
    assert.equal(ownBytes[0]!.n, sourceVersions, 'every copied version has bytes of its own');
    // A copy serves the source's bytes through B.
    const sample = [...source.keys()].find((p) => p.endsWith('.png'))!;
    const [s1, s2] = await Promise.all([fetchBytes(`${b.urlEndpoint}${sample}`), fetchBytes(`${b.urlEndpoint}/copy${sample}`)]);
    assert.equal(s2.status, 200);
    assert.ok(s1.bytes.equals(s2.bytes));
    console.log(
      `# two-node copy: ${N + 2} files / ${sourceVersions} versions seeded in ${seededMs} ms; A killed at ${String(atKill.progress.files)} files; ` +
        `B finished ${finishedMs} ms later (lease 2 s)`,
    );
  });
});

// ---- helpers ----

interface JobRow {
  status: string;
  attempts: number;
  lockedBy: string | null;
  progress: Record<string, unknown>;
}

async function jobRow(dataDir: string, id: string): Promise<JobRow> {
  const r = (await queryDb<{ status: string; attempts: number; locked_by: string | null; progress: string }>(
    dataDir,
    'select status, attempts, locked_by, progress from jobs where id = ?',
    id,
  ))[0]!;
  return { status: r.status, attempts: r.attempts, lockedBy: r.locked_by, progress: jsonValue<Record<string, unknown>>(r.progress) };
}

async function eventually2<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * `count` more files under `root`, cloned from the ones uploaded there, as rows written straight
 * into the shared database in a few transactions (seconds, where as many uploads take minutes).
 * The clones point at their template's bytes instead of copies of them: the copy job under test
 * gives every copied version bytes of its own either way, and nothing here deletes a clone.
 */
async function seedFiles(dataDir: string, root: string, count: number): Promise<void> {
  const store = await openStoreFor(dataDir);
  const lib = new Library({ store, blobs: await openBlobsFor(dataDir) });
  try {
    const templates = await store.repo.listFilesUnder(root, null, 10);
    assert.ok(templates.length >= 2);
    const tv = (await Promise.all(templates.map((t) => store.repo.getVersion(t.id, t.currentVersionId)))).filter((v) => v !== undefined);
    const now = new Date().toISOString();
    for (let start = 0; start < count; start += 500) {
      const versions: VersionRecord[] = [];
      const files: FileRecord[] = [];
      for (let i = start; i < Math.min(count, start + 500); i++) {
        const folderPath = `${root}s${String(i % 20).padStart(2, '0')}/`;
        const t = tv[i % tv.length]!;
        const name = `f${String(i).padStart(5, '0')}.${t.format}`;
        const fileId = newId();
        let last!: VersionRecord;
        for (let n = 1; n <= (i % 10 === 0 ? 2 : 1); n++) {
          last = { ...t, id: newId(), fileId, name, folderPath, filePath: folderPath + name, versionNumber: n, createdAt: now, updatedAt: now };
          versions.push(last);
        }
        const { fileId: _f, id: versionId, ...state } = last;
        files.push({ ...state, id: fileId, currentVersionId: versionId });
      }
      await store.transaction(async (tx) => {
        for (const f of new Set(files.map((x) => x.folderPath))) await lib.ensureFolders(tx, f, now);
        for (const v of versions) await tx.insertVersion(v);
        for (const f of files) await tx.insertFile(f);
      });
    }
  } finally {
    await store.close();
  }
}
