/**
 * The blob journal when several nodes share one PostgreSQL database and one S3 bucket: a node's
 * sweep (at its start, or periodically) must never delete bytes another node journaled for a
 * write still in flight, yet still clear what a crashed node left behind once it is old enough.
 * Two Library instances over one database and bucket play the two nodes; their clocks let the
 * test look hours ahead instead of waiting.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import S3rver from 's3rver';
import { S3BlobStore } from '../../src/adapters/blob/s3/index.js';
import type { KyselyMetadataStore } from '../../src/adapters/db/kysely-store.js';
import { openPostgresStore } from '../../src/adapters/db/postgres/index.js';
import { openSqliteStore } from '../../src/adapters/db/sqlite/index.js';
import { Library, SHARED_JOURNAL_GRACE_MS } from '../../src/services/library.js';
import { freshPgDatabase, postgresForTests, type FreshDatabase } from '../support/pg-fresh.js';
import { assetState } from '../support/records.js';

const HOUR = 3_600_000;
const BUCKET = 'journal-shared';
const runPg = await postgresForTests('blob-journal-shared');

let s3: S3rver | undefined;
let s3Endpoint = '';
let db: FreshDatabase | undefined;
const dirs: string[] = [];
const stores: KyselyMetadataStore[] = [];
const blobStores: S3BlobStore[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tessera-b-journal-'));
  dirs.push(d);
  return d;
}

before(async () => {
  const dir = tempDir();
  s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: BUCKET, configs: [] }] });
  s3Endpoint = `http://127.0.0.1:${((await s3.run()) as AddressInfo).port}`;
  if (runPg) db = await freshPgDatabase('tessera_b_');
});

after(async () => {
  for (const b of blobStores) b.close();
  for (const s of stores) await s.close().catch(() => undefined);
  await db?.drop();
  await s3?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function bucket(prefix: string): Promise<S3BlobStore> {
  const b = await S3BlobStore.open({
    kind: 's3',
    bucket: BUCKET,
    endpoint: s3Endpoint,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
    prefix,
  });
  blobStores.push(b);
  return b;
}

/** Places bytes under the journal the way UploadService does, and stops before the row commits. */
async function placeInFlight(lib: Library, bytes = randomBytes(2048)): Promise<string> {
  const key = lib.newBlobKey();
  const src = join(tempDir(), 'spooled.part');
  writeFileSync(src, bytes);
  await lib.journalAndPlace([key], () => lib.blobs.putFile(key, src));
  return key;
}

/** A file row using the key, as the upload's transaction would commit it. */
async function commitRow(store: KyselyMetadataStore, key: string): Promise<void> {
  const id = randomBytes(12).toString('hex');
  const versionId = randomBytes(12).toString('hex');
  const now = new Date().toISOString();
  const state = assetState({ name: `${id}.bin`, filePath: `/${id}.bin`, size: 2048, blobKey: key, checksum: 'x'.repeat(64), createdAt: now, updatedAt: now });
  await store.transaction(async (tx) => {
    await tx.insertFile({ ...state, id, currentVersionId: versionId });
    await tx.insertVersion({ ...state, id: versionId, fileId: id });
    await tx.unjournalBlobs([key]);
  });
}

describe('the blob journal shared by several nodes (PostgreSQL + S3)', { skip: !runPg && 'PostgreSQL is not reachable' }, () => {
  test("a node's sweep leaves another node's in-flight write alone, and clears a crashed node's leftovers once old", async () => {
    const storeA = await openPostgresStore({ url: db!.url, poolMax: 4 });
    const storeB = await openPostgresStore({ url: db!.url, poolMax: 4, migrate: false });
    stores.push(storeA, storeB);
    const blobsA = await bucket('shared/');
    const blobsB = await bucket('shared/');
    let clockB = Date.now();
    const nodeA = new Library({ store: storeA, blobs: blobsA });
    const nodeB = new Library({ store: storeB, blobs: blobsB, clock: () => clockB });
    assert.equal(nodeB.journalShared, true);

    // Node A: one upload in flight (bytes placed, row not yet committed) ...
    const inFlight = await placeInFlight(nodeA);
    // ... and one whose process died at that point: its entry will never be settled by A.
    const abandoned = await placeInFlight(nodeA);

    // Node B starts now: both entries are young, so both are A's business.
    assert.deepEqual(await nodeB.sweepJournal(), { removed: 0, kept: 0 });
    assert.equal(await blobsB.size(inFlight), 2048, 'the in-flight bytes survive B starting');
    assert.equal(await blobsB.size(abandoned), 2048);

    // A's upload commits; its journal entry goes with the row.
    await commitRow(storeA, inFlight);

    // An hour and a bit later, B's periodic sweep settles the abandoned entry (no row: bytes go).
    clockB = Date.now() + SHARED_JOURNAL_GRACE_MS + 60_000;
    assert.deepEqual(await nodeB.sweepJournal(), { removed: 1, kept: 0 });
    assert.equal(await blobsB.size(abandoned), undefined, "the crashed write's bytes are removed");
    assert.equal(await blobsB.size(inFlight), 2048, 'committed bytes stay');
    assert.deepEqual(await storeB.repo.journaledBlobs(10), []);
  });

  test('an old entry whose row did commit is kept (crash after commit, before the journal was cleared)', async () => {
    const store = await openPostgresStore({ url: db!.url, poolMax: 2, migrate: false });
    stores.push(store);
    const blobs = await bucket('kept/');
    const writer = new Library({ store, blobs, clock: () => Date.now() - 2 * HOUR });
    const key = await placeInFlight(writer);
    // The row commits but (crash) the journal entry stays: commitRow clears it, so journal it again.
    await commitRow(store, key);
    await store.repo.journalBlobs([key], new Date(Date.now() - 2 * HOUR).toISOString());
    const sweeper = new Library({ store, blobs });
    assert.deepEqual(await sweeper.sweepJournal(), { removed: 0, kept: 1 });
    assert.equal(await blobs.size(key), 2048);
  });
});

describe('the blob journal of an embedded database (SQLite) with bytes in S3', () => {
  test('the start-up sweep settles every entry at once: one process owns the journal', async () => {
    const store = await openSqliteStore(join(tempDir(), 'tessera.db'));
    stores.push(store);
    const blobs = await bucket('embedded/');
    const lib = new Library({ store, blobs });
    assert.equal(lib.journalShared, false);
    const key = await placeInFlight(lib);
    assert.deepEqual(await lib.sweepJournal(), { removed: 1, kept: 0 });
    assert.equal(await blobs.size(key), undefined);
  });
});
