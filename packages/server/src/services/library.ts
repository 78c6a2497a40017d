import { randomBytes } from 'node:crypto';
import type { BlobStore } from '../ports/blob-store.js';
import type { AssetState, FileRecord, MetadataRepo, MetadataStore, VersionRecord } from '../ports/metadata-store.js';
import { newId } from '../util/ids.js';
import { folderChain, lastSegment, parentOf } from './paths.js';

/**
 * Shared plumbing of the library services: clocks, ids, folder creation and the two-phase
 * blob writes that keep bytes and rows consistent across crashes.
 */

export const MAX_VERSIONS = 100;

/** On a journal shared by several nodes, entries younger than this are left to their writer (see sweepJournal). */
export const SHARED_JOURNAL_GRACE_MS = 60 * 60 * 1000;

export interface LibraryDeps {
  store: MetadataStore;
  blobs: BlobStore;
  clock?: () => number;
  /** Other processes write the same journal (see journalShared); default: when the database is PostgreSQL. */
  sharedJournal?: boolean;
}

export class Library {
  readonly store: MetadataStore;
  readonly blobs: BlobStore;
  private readonly clock: () => number;
  /**
   * Whether other processes write the same journal. The journal lives in the database, so it is
   * shared when the database is (PostgreSQL) and when several worker processes serve one SQLite
   * file (TESSERA_WORKERS). One process alone on an SQLite file is its only writer, and that holds
   * even when its bytes are in S3 (a bucket shared by several deployments is not a shared journal:
   * each names only its own random keys).
   */
  readonly journalShared: boolean;

  constructor(deps: LibraryDeps) {
    this.store = deps.store;
    this.blobs = deps.blobs;
    this.clock = deps.clock ?? Date.now;
    this.journalShared = deps.sharedJournal ?? deps.store.capabilities.dialect !== 'sqlite';
  }

  now(): string {
    return new Date(this.clock()).toISOString();
  }

  newBlobKey(): string {
    return randomBytes(16).toString('hex');
  }

  /** Creates every missing folder of the chain; existing ones are left as they are. */
  async ensureFolders(repo: MetadataRepo, folderPath: string, now: string): Promise<void> {
    for (const path of folderChain(folderPath)) {
      if (await repo.getFolder(path)) continue;
      await repo.insertFolder({ id: newId(), path, name: lastSegment(path), parentPath: parentOf(path), createdAt: now, updatedAt: now });
    }
  }

  /**
   * Phase one of a write: journal the keys, then run `place` to put their bytes in the blob store.
   * Phase two is the caller's transaction, which must call `settleWritten` inside it.
   */
  async journalAndPlace(keys: string[], place: () => Promise<void>): Promise<void> {
    await this.store.repo.journalBlobs(keys, this.now());
    try {
      await place();
    } catch (e) {
      await this.discardBlobs(keys);
      throw e;
    }
  }

  /** Deletes blob bytes and their journal entries (after the rows that used them are gone). */
  async discardBlobs(keys: string[]): Promise<void> {
    for (const k of keys) await this.blobs.delete(k).catch(() => undefined);
    await this.store.repo.unjournalBlobs(keys).catch(() => undefined);
  }

  /**
   * Settles the journal: every entry is either in use (kept) or removed with its bytes.
   *
   * The rule for when an entry may be settled: alone on the journal, at start every entry is
   * left over from before (no write of this process is in flight yet), so all are settled. On a
   * shared journal an entry may belong to a write still in flight on another node — its bytes
   * placed, its row not yet committed — and settling it would delete bytes that node is about to
   * point at. So only entries older than `sharedGraceMs` are settled: no write keeps its entry
   * that long (a put, a copy batch, a delete's discard take seconds to minutes). Younger ones wait
   * for a later sweep; `app.ts` repeats the sweep periodically on a shared journal.
   * The bucket is never listed: the journal alone names what may be orphaned.
   */
  async sweepJournal(opts: { sharedGraceMs?: number } = {}): Promise<{ removed: number; kept: number }> {
    const graceMs = this.journalShared ? (opts.sharedGraceMs ?? SHARED_JOURNAL_GRACE_MS) : 0;
    const before = graceMs > 0 ? new Date(this.clock() - graceMs).toISOString() : undefined;
    let removed = 0;
    let kept = 0;
    for (;;) {
      const keys = await this.store.repo.journaledBlobs(500, before);
      if (keys.length === 0) break;
      for (const k of keys) {
        if (await this.store.repo.blobKeyInUse(k)) kept++;
        else {
          await this.blobs.delete(k);
          removed++;
        }
      }
      await this.store.repo.unjournalBlobs(keys);
    }
    return { removed, kept };
  }
}

/** The file row that mirrors a version being made current. */
export function fileFromVersion(file: Pick<FileRecord, 'id' | 'createdAt'>, v: VersionRecord, now: string): FileRecord {
  const { fileId: _f, id: versionId, ...state } = v;
  return { ...state, id: file.id, currentVersionId: versionId, createdAt: file.createdAt, updatedAt: now };
}

export function stateOf(rec: FileRecord | VersionRecord): AssetState {
  const { id: _id, ...rest } = rec as FileRecord & VersionRecord;
  const { currentVersionId: _c, fileId: _fid, ...state } = rest as AssetState & { currentVersionId?: string; fileId?: string };
  return state;
}
