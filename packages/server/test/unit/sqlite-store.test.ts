/**
 * The embedded store's transactions on a file other processes also write (TESSERA_WORKERS): they
 * take the write lock at BEGIN, and a BEGIN that waited out the busy timeout is a 503, not a 500.
 * A second better-sqlite3 connection on the same file stands in for the other process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { KyselyMetadataStore } from '../../src/adapters/db/kysely-store.js';
import { openSqliteStore } from '../../src/adapters/db/sqlite/index.js';
import { isApiError } from '../../src/errors/index.js';

describe('SQLite store transactions', () => {
  let dir: string;
  let file: string;
  let store: KyselyMetadataStore;
  let other: BetterSqlite3.Database;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-'));
    file = join(dir, 'tessera.db');
    store = await openSqliteStore(file);
    other = new BetterSqlite3(file);
    other.pragma('busy_timeout = 0');
  });
  after(async () => {
    other.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a transaction holds the write lock from its start, before it has written anything', async () => {
    let otherWrite: unknown;
    await store.transaction(async (tx) => {
      await tx.getFileByPath('/a.jpg');
      try {
        other.prepare("INSERT INTO blob_journal (blob_key, created_at) VALUES ('k', '2026-01-01T00:00:00.000Z')").run();
      } catch (e) {
        otherWrite = e;
      }
    });
    assert.equal((otherWrite as { code?: string } | undefined)?.code, 'SQLITE_BUSY', 'the other connection could not write meanwhile');
    // Once it committed, the other writes freely.
    other.prepare("INSERT INTO blob_journal (blob_key, created_at) VALUES ('k2', '2026-01-01T00:00:00.000Z')").run();
  });

  test('a BEGIN or a write that waits out the busy timeout while another process writes is a 503 with Retry-After', { timeout: 30_000 }, async () => {
    other.prepare('BEGIN IMMEDIATE').run();
    try {
      const busy = (e: unknown) => isApiError(e) && e.status === 503 && e.headers['Retry-After'] === '1';
      await assert.rejects(store.transaction(async (tx) => tx.getFileByPath('/a.jpg')), busy);
      // A write outside a transaction waits out the same timeout.
      await assert.rejects(store.repo.journalBlobs(['k3'], '2026-01-01T00:00:00.000Z'), busy);
    } finally {
      other.prepare('ROLLBACK').run();
    }
  });
});
