/**
 * The folder-subtree queries of the MetadataStore (keyset batches, boundaries of the prefix
 * range, capped counts, folder updates and deletes), and FolderService.delete's object limit.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { LocalBlobStore } from '../../src/adapters/blob/local/index.js';
import type { KyselyMetadataStore } from '../../src/adapters/db/kysely-store.js';
import { openPostgresStore } from '../../src/adapters/db/postgres/index.js';
import { openSqliteStore } from '../../src/adapters/db/sqlite/index.js';
import { DbJobQueue } from '../../src/adapters/queue/db-queue.js';
import type { FileRecord } from '../../src/ports/metadata-store.js';
import { FileService } from '../../src/services/file-service.js';
import { FolderService } from '../../src/services/folder-service.js';
import { Library } from '../../src/services/library.js';
import { newId } from '../../src/util/ids.js';
import { freshPgDatabase, postgresForTests } from '../support/pg-fresh.js';

let store: KyselyMetadataStore;
let lib: Library;

/** Every MetadataStore adapter: SQLite always, PostgreSQL when it answers (see pg-fresh.ts). */
interface Adapter {
  name: string;
  open(): Promise<{ store: KyselyMetadataStore; dispose(): Promise<void> }>;
}
const ADAPTERS: Adapter[] = [
  {
    name: 'SQLite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-subtree-'));
      const store = await openSqliteStore(join(dir, 'tessera.db'));
      return { store, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
];
if (await postgresForTests('the MetadataStore subtree contract')) {
  ADAPTERS.push({
    name: 'PostgreSQL',
    async open() {
      const db = await freshPgDatabase('tessera_t_');
      const store = await openPostgresStore({ url: db.url, poolMax: 4 });
      return { store, dispose: () => db.drop() };
    },
  });
}

const PATHS = [
  '/a/x.png',
  '/a/b/y.png',
  '/a/b/c/z.png',
  '/a-b/no.png', // '-' sorts before '/'
  '/a0/no.png', // '0' is the first character after '/'
  '/ab/no.png',
  '/a.png', // a file named like the folder, at the root
  '/é/a/unicode.png',
];

async function addFile(filePath: string, versions = 1): Promise<void> {
  const now = new Date().toISOString();
  const folderPath = filePath.slice(0, filePath.lastIndexOf('/') + 1);
  const name = filePath.slice(folderPath.length);
  const fileId = newId();
  await store.transaction(async (tx) => {
    await lib.ensureFolders(tx, folderPath, now);
    let last!: FileRecord;
    for (let n = 1; n <= versions; n++) {
      const id = newId();
      const state = {
        name, filePath, folderPath, fileType: 'image' as const, mime: 'image/png', format: 'png', size: 1, width: 1, height: 1,
        hasAlpha: false, bitRate: null, duration: null, audioCodec: null, videoCodec: null, tags: null, aiTags: null,
        customCoordinates: null, customMetadata: {}, embeddedMetadata: null, description: null, isPrivate: false,
        isPublished: true, blobKey: lib.newBlobKey(), checksum: 'c', versionNumber: n, createdAt: now, updatedAt: now,
      };
      await tx.insertVersion({ ...state, id, fileId });
      last = { ...state, id: fileId, currentVersionId: id };
    }
    await tx.insertFile(last);
  });
}

for (const adapter of ADAPTERS) {
  describe(adapter.name, () => {
    let dispose: () => Promise<void>;
    before(async () => {
      const opened = await adapter.open();
      store = opened.store;
      dispose = opened.dispose;
      const blobDir = mkdtempSync(join(tmpdir(), 'tessera-subtree-blobs-'));
      const blobs = new LocalBlobStore(blobDir);
      await blobs.init();
      lib = new Library({ store, blobs });
      for (const p of PATHS) await addFile(p, p === '/a/b/y.png' ? 3 : 1);
      for (let i = 0; i < 25; i++) await addFile(`/many/f${String(i).padStart(2, '0')}.png`);
    });

    after(async () => {
      await store.close();
      await dispose();
    });

    describe('subtree queries', () => {
      test('listFilesUnder finds the subtree and nothing that merely shares its first letters', async () => {
        const got = (await store.repo.listFilesUnder('/a/', null, 100)).map((f) => f.filePath);
        assert.deepEqual(got, ['/a/b/c/z.png', '/a/b/y.png', '/a/x.png']);
        assert.deepEqual(
          (await store.repo.listFilesUnder('/é/', null, 100)).map((f) => f.filePath),
          ['/é/a/unicode.png'],
        );
        assert.equal((await store.repo.listFilesUnder('/', null, 1000)).length, PATHS.length + 25);
      });

      test('keyset batches visit every file once, in order', async () => {
        const seen: string[] = [];
        let cursor: string | null = null;
        for (;;) {
          const batch: FileRecord[] = await store.repo.listFilesUnder('/many/', cursor, 7);
          if (batch.length === 0) break;
          seen.push(...batch.map((f) => f.filePath));
          cursor = batch[batch.length - 1]!.filePath;
        }
        assert.equal(seen.length, 25);
        assert.equal(new Set(seen).size, 25);
        assert.deepEqual(seen, [...seen].sort());
      });

      test('listFoldersUnder includes the folder itself, parents before children', async () => {
        const got = (await store.repo.listFoldersUnder('/a/', null, 100)).map((f) => f.path);
        assert.deepEqual(got, ['/a/', '/a/b/', '/a/b/c/']);
        assert.deepEqual((await store.repo.listFoldersUnder('/a/', '/a/', 1)).map((f) => f.path), ['/a/b/']);
      });

      test('countUnder counts files, versions and folders, stopping at the cap', async () => {
        // /a/: 3 files, 1 + 3 + 1 versions, 3 folders.
        assert.equal(await store.repo.countUnder('/a/', 1000), 3 + 5 + 3);
        assert.equal(await store.repo.countUnder('/a/', 4), 4);
        assert.equal(await store.repo.countUnder('/nothing/', 10), 0);
      });

      test('updateFolder and deleteFolders', async () => {
        await store.transaction((tx) => lib.ensureFolders(tx, '/tmp1/inner/', new Date().toISOString()));
        const before = await store.repo.getFolder('/tmp1/inner/');
        await store.repo.updateFolder('/tmp1/inner/', { path: '/tmp1/moved/', name: 'moved' });
        assert.equal(await store.repo.getFolder('/tmp1/inner/'), undefined);
        const after = await store.repo.getFolder('/tmp1/moved/');
        assert.equal(after?.id, before?.id);
        assert.equal(after?.name, 'moved');
        await store.repo.deleteFolders(['/tmp1/', '/tmp1/moved/']);
        assert.deepEqual(await store.repo.listFoldersUnder('/tmp1/', null, 10), []);
      });
    });

    describe('what the store hands back', () => {
      test('bigint, count(*) and sum() come back as numbers, JSON columns as values', async () => {
        const { rows } = await sql<{ n: unknown; total: unknown; size: unknown }>`select count(*) as n, sum(size) as total, max(size) as size from files where file_path = ${'/a/x.png'}`.execute(store.kysely);
        assert.deepEqual([typeof rows[0]!.n, typeof rows[0]!.total, typeof rows[0]!.size], ['number', 'number', 'number']);
        assert.deepEqual((await store.repo.getFileByPath('/a/x.png'))?.customMetadata, {});
        assert.equal((await store.repo.getFileByPath('/a/x.png'))?.size, 1);
      });
    });

    describe('FolderService.delete limit', () => {
      test('a folder with more nested objects than the limit is refused with TOO_MANY_OBJECTS, untouched', async () => {
        const folders = new FolderService(lib, new FileService(lib), new DbJobQueue(store, { leaseMs: 1000, pollMs: 1000 }), {
          batchSize: 10,
          purge: async () => 'x',
          maxDeleteObjects: 10,
        });
        await assert.rejects(folders.delete({ folderPath: '/a/' }), (e: Error & { status?: number; extra?: Record<string, unknown> }) => {
          assert.equal(e.status, 400);
          assert.equal(e.extra?.reason, 'TOO_MANY_OBJECTS');
          assert.match(e.message, /more than allowed limit of 10 items/);
          return true;
        });
        assert.equal((await store.repo.listFilesUnder('/a/', null, 10)).length, 3);
        // Within the limit it goes through: /a/b/ holds 2 files, 4 versions and 2 folders.
        await folders.delete({ folderPath: '/a/b/' });
        assert.deepEqual((await store.repo.listFilesUnder('/a/', null, 10)).map((f) => f.filePath), ['/a/x.png']);
      });
    });
  });
}
