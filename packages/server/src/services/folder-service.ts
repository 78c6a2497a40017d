import { ApiError, badRequest, conflict, locked, notFound } from '../errors/index.js';
import {
  JobConflictError,
  jobType,
  type JobContext,
  type JobQueue,
  type JobRecord,
  type JobType,
} from '../ports/job-queue.js';
import type { FileRecord, MetadataRepo, VersionRecord } from '../ports/metadata-store.js';
import { newId } from '../util/ids.js';
import { isPlainObject } from './field-rules.js';
import type { FileService } from './file-service.js';
import { Library, MAX_VERSIONS, fileFromVersion, stateOf } from './library.js';
import { MAX_FILE_NAME_LENGTH, lastSegment, normalizeFolderPath, parentOf } from './paths.js';
import type { FileEventType } from './webhook-service.js';

/**
 * Folders: create, delete, and copy / move / rename as bulk jobs.
 *
 * A bulk job walks the source subtree in keyset batches (folders by path, then files by file
 * path), so a folder of any size is never loaded at once. Each batch's rows and the job's cursor
 * commit in one transaction; the bytes a copy needs are placed before that transaction under the
 * blob journal (as FileService.copy does), so a crash at any point leaves either a committed
 * batch or journaled bytes the start-up sweep removes, and the resumed job continues after the
 * last committed cursor: nothing is copied twice and nothing is skipped.
 */

/** ImageKit refuses a folder delete past this many nested files, versions and folders. */
export const MAX_DELETE_OBJECTS = 100_000;
/** Blob copies in flight at once while a copy job places a batch's bytes. */
const BLOB_COPY_CONCURRENCY = 8;
/** Rows per transaction when deleting a folder. */
const DELETE_BATCH = 200;

export interface FolderJobParams {
  /** '/a/b/': the folder being copied, moved or renamed. */
  source: string;
  /** Where the source folder itself lands: '/dest/b/' (copy, move) or '/a/new-name/' (rename). */
  target: string;
  includeVersions?: boolean;
  purgeCache?: boolean;
}

export interface FolderJobProgress {
  phase: 'folders' | 'files' | 'cleanup' | 'purge' | 'done';
  /** Last folder path or file path committed in this phase; null at its start. */
  cursor: string | null;
  folders: number;
  files: number;
  versions: number;
  /** Files left where they were because the destination file would pass MAX_VERSIONS. */
  skipped: number;
  skippedPaths: string[];
  purgeRequestId?: string;
  /**
   * File events of the last committed step, sent after it commits. Kept with the progress so a job
   * resumed after a crash sends them again — with the same ids, which the delivery log recognises.
   */
  events?: FolderFileEvent[];
}

export interface FolderFileEvent {
  type: FileEventType;
  fileId: string;
}

const START: FolderJobProgress = { phase: 'folders', cursor: null, folders: 0, files: 0, versions: 0, skipped: 0, skippedPaths: [] };

export const COPY_FOLDER = jobType<FolderJobParams, FolderJobProgress>('COPY_FOLDER', START);
export const MOVE_FOLDER = jobType<FolderJobParams, FolderJobProgress>('MOVE_FOLDER', START);
export const RENAME_FOLDER = jobType<FolderJobParams, FolderJobProgress>('RENAME_FOLDER', START);
const FOLDER_JOBS: ReadonlyArray<JobType<FolderJobParams, FolderJobProgress>> = [COPY_FOLDER, MOVE_FOLDER, RENAME_FOLDER];

export interface BulkJobStatus {
  jobId: string;
  type: string;
  status: string;
  purgeRequestId?: string;
}

export interface FolderServiceOptions {
  /** Files (and folders) per batch transaction. */
  batchSize: number;
  /** Records a purge of everything under an old folder path; returns the purge request id. */
  purge: (folderPath: string) => Promise<string>;
  /** Refuse a delete past this many nested files, versions and folders (default MAX_DELETE_OBJECTS). */
  maxDeleteObjects?: number;
  /**
   * Sends a file event (`file` is null for file.deleted); never throws. A given eventId is the same
   * for the same change when a job repeats it.
   */
  emitFileEvent?: (type: FileEventType, fileId: string, file: FileRecord | null, eventId?: string, resend?: boolean) => Promise<void>;
}

const FOLDER_CHAR = /[\p{L}\p{M}\p{N}_-]/u;
const overlaps = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);
const MAX_SKIPPED_PATHS = 20;

/** A folder name as ImageKit keeps it: letters, marks, digits, '-' and '_'; anything else becomes '_'. */
function sanitizeFolderName(raw: unknown, field: string): string {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw badRequest(`${field} parameter is missing.`, { extra: { reason: 'MISSING_PARAMETER' } });
  }
  const name = raw.trim();
  if (name === '.' || name === '..') {
    throw badRequest(`'.' & '..' can not be used as ${field}.`, { extra: { reason: 'INVALID_FOLDER_PATH' } });
  }
  const clean = [...name].map((ch) => (FOLDER_CHAR.test(ch) ? ch : '_')).join('');
  if ([...clean].length > MAX_FILE_NAME_LENGTH) {
    throw badRequest(`${field} is longer than ${MAX_FILE_NAME_LENGTH} characters.`, { extra: { reason: 'INVALID_PARAMETER' } });
  }
  return clean;
}

/** A folder path that is created if missing ('a/b' → '/a/b/'), sanitised like folder names. */
function folderPathToCreate(raw: unknown, field: string): string {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw badRequest(`${field} parameter is missing.`, { extra: { reason: 'MISSING_PARAMETER' } });
  }
  try {
    return normalizeFolderPath(raw, field);
  } catch (e) {
    throw badRequest((e as Error).message, { extra: { reason: 'INVALID_FOLDER_PATH' } });
  }
}

/** A path naming an existing folder, taken as written ('/a/b', 'a/b/' → '/a/b/'); never sanitised. */
function existingFolderPath(raw: unknown, field: string): string {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw badRequest(`${field} parameter is missing.`, { extra: { reason: 'MISSING_PARAMETER' } });
  }
  const segs = raw.split('/').filter((s) => s !== '');
  if (segs.some((s) => s === '.' || s === '..')) {
    throw badRequest(`'.' & '..' can not be used in ${field}.`, { extra: { reason: 'INVALID_FOLDER_PATH' } });
  }
  return segs.length === 0 ? '/' : `/${segs.join('/')}/`;
}

function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') {
    throw badRequest(`Your request contains invalid ${field} parameter. It should be a boolean.`, { extra: { reason: 'INVALID_PARAMETER' } });
  }
  return v;
}

function body(raw: unknown): Record<string, unknown> {
  if (!isPlainObject(raw)) throw badRequest('Your request body should be a JSON object.', { extra: { reason: 'MISSING_PARAMETER' } });
  return raw;
}

/** Where a path under `source` lands under `target`. */
function remap(path: string, source: string, target: string): string {
  return target + path.slice(source.length);
}

/** The current version last, so it is the current version wherever the history lands. */
function currentLast(versions: VersionRecord[], currentVersionId: string): VersionRecord[] {
  return [...versions].sort((a, b) =>
    a.id === currentVersionId ? 1 : b.id === currentVersionId ? -1 : a.versionNumber - b.versionNumber,
  );
}

export class FolderService {
  constructor(
    private readonly lib: Library,
    private readonly files: FileService,
    private readonly queue: JobQueue,
    private readonly opts: FolderServiceOptions,
  ) {}

  /** Puts the bulk-job handlers on the queue; app.ts calls this once before starting the runner. */
  registerJobs(): void {
    this.queue.register(COPY_FOLDER, (ctx) => this.run(ctx, 'copy'));
    this.queue.register(MOVE_FOLDER, (ctx) => this.run(ctx, 'move'));
    this.queue.register(RENAME_FOLDER, (ctx) => this.run(ctx, 'move'));
  }

  // ---- create / delete (synchronous) ----

  async create(raw: unknown): Promise<void> {
    const b = body(raw);
    const name = sanitizeFolderName(b.folderName, 'folderName');
    const parent = folderPathToCreate(b.parentFolderPath, 'parentFolderPath');
    const path = folderPathToCreate(parent + name, 'folderName');
    await this.lib.store.transaction((tx) => this.lib.ensureFolders(tx, path, this.lib.now()));
  }

  /**
   * Deletes the folder and everything under it, in batches: each batch's rows go in one
   * transaction that journals their bytes, which are removed after it commits (FileService.delete's
   * order), so an interruption leaves no orphan bytes and the rest can be deleted by calling again.
   */
  async delete(raw: unknown): Promise<void> {
    const b = body(raw);
    const path = existingFolderPath(b.folderPath, 'folderPath');
    if (path === '/') throw badRequest('folderPath cannot be root.', { extra: { reason: 'INVALID_FOLDER_PATH' } });
    const repo = this.lib.store.repo;
    if (!(await repo.getFolder(path)) && (await repo.listFilesUnder(path, null, 1)).length === 0) {
      throw notFound(`No folder found with folderPath ${path}.`, { extra: { reason: 'FOLDER_NOT_FOUND' } });
    }
    const max = this.opts.maxDeleteObjects ?? MAX_DELETE_OBJECTS;
    if ((await repo.countUnder(path, max + 1)) > max) {
      throw badRequest(`Total nested assets (files, folders and file versions) are more than allowed limit of ${max} items.`, {
        extra: { reason: 'TOO_MANY_OBJECTS' },
      });
    }
    for (;;) {
      const { keys, count, deleted } = await this.lib.store.transaction(async (tx) => {
        const batch = await tx.listFilesUnder(path, null, DELETE_BATCH);
        const all: string[] = [];
        for (const f of batch) all.push(...(await this.files.deleteInTx(tx, f)));
        return { keys: all, count: batch.length, deleted: batch.map((f) => f.id) };
      });
      await this.lib.discardBlobs(keys);
      for (const fileId of deleted) await this.opts.emitFileEvent?.('file.deleted', fileId, null);
      if (count < DELETE_BATCH) break;
    }
    for (;;) {
      const n = await this.lib.store.transaction(async (tx) => {
        const folders = await tx.listFoldersUnder(path, null, 500);
        await tx.deleteFolders(folders.map((f) => f.path));
        return folders.length;
      });
      if (n < 500) break;
    }
  }

  // ---- bulk jobs ----

  async copy(raw: unknown): Promise<{ jobId: string }> {
    const b = body(raw);
    const { source, target } = await this.copyMoveTarget(b);
    // The spec calls it includeVersions; ImageKit's older docs and SDKs say includeFileVersions.
    const includeVersions = optionalBoolean(b, 'includeVersions') ?? optionalBoolean(b, 'includeFileVersions') ?? false;
    return this.submit(COPY_FOLDER, { source, target, includeVersions });
  }

  async move(raw: unknown): Promise<{ jobId: string }> {
    const { source, target } = await this.copyMoveTarget(body(raw));
    return this.submit(MOVE_FOLDER, { source, target });
  }

  async rename(raw: unknown): Promise<{ jobId: string }> {
    try {
      return await this.renameJob(raw);
    } catch (e) {
      // The spec's rename errors are { message, help } only, without the reason the other folder calls give.
      if (e instanceof ApiError && 'reason' in e.extra) throw new ApiError(e.code, e.message, { help: e.help, headers: { ...e.headers } });
      throw e;
    }
  }

  private async renameJob(raw: unknown): Promise<{ jobId: string }> {
    const b = body(raw);
    const source = existingFolderPath(b.folderPath, 'folderPath');
    if (source === '/') throw badRequest('folderPath cannot be root.', { extra: { reason: 'INVALID_FOLDER_PATH' } });
    const name = sanitizeFolderName(b.newFolderName, 'newFolderName');
    const purgeCache = optionalBoolean(b, 'purgeCache') ?? false;
    const target = folderPathToCreate(parentOf(source) + name, 'newFolderName');
    const repo = this.lib.store.repo;
    if (!(await repo.getFolder(source)) && (await repo.listFilesUnder(source, null, 1)).length === 0) {
      throw notFound('Source folder not found.', { extra: { reason: 'FOLDER_NOT_FOUND' } });
    }
    if (target === source || (await repo.getFolder(target)) || (await repo.listFilesUnder(target, null, 1)).length > 0) {
      throw conflict(`Folder with name ${name} already exists at the same location.`, { extra: { reason: 'FOLDER_ALREADY_EXISTS' } });
    }
    return this.submit(RENAME_FOLDER, { source, target, purgeCache });
  }

  async job(jobId: string): Promise<BulkJobStatus> {
    const job = /^[0-9a-f]{24}$/.test(jobId) ? await this.queue.get(jobId) : undefined;
    if (!job || !FOLDER_JOBS.some((t) => t.name === job.type)) throw notFound(`No bulk job found with jobId ${jobId}.`);
    const out: BulkJobStatus = { jobId: job.id, type: job.type, status: statusOf(job) };
    const progress = job.progress as Partial<FolderJobProgress>;
    if (typeof progress.purgeRequestId === 'string') out.purgeRequestId = progress.purgeRequestId;
    return out;
  }

  /** Validates a copy/move request and works out where the source folder lands. */
  private async copyMoveTarget(b: Record<string, unknown>): Promise<{ source: string; target: string }> {
    const source = existingFolderPath(b.sourceFolderPath, 'sourceFolderPath');
    const dest = folderPathToCreate(b.destinationPath, 'destinationPath');
    if (source === '/') throw badRequest('sourceFolderPath cannot be root.', { extra: { reason: 'SOURCE_IS_ROOT' } });
    if (source === dest) {
      throw badRequest('sourceFolderPath and destinationPath is same.', { extra: { reason: 'SAME_SOURCE_AND_DESTINATION' } });
    }
    const target = dest + lastSegment(source) + '/';
    if (target === source) {
      throw badRequest('The folder is already in destinationPath.', { extra: { reason: 'SAME_SOURCE_AND_DESTINATION' } });
    }
    // A subtree copied or moved into itself (or over an ancestor of itself) would walk its own output.
    if (overlaps(source, target)) {
      throw badRequest('This operation is not allowed because parent folder cannot be moved into child folder.', {
        extra: { reason: 'INVALID_DESTINATION_PATH' },
      });
    }
    const repo = this.lib.store.repo;
    if (!(await repo.getFolder(source)) && (await repo.listFilesUnder(source, null, 1)).length === 0) {
      throw notFound(`No files & folder found at sourceFolderPath ${source}.`, { extra: { reason: 'NO_FILES_FOLDER' } });
    }
    return { source, target };
  }

  /** Enqueues unless an unfinished folder job already works on an overlapping path (423). */
  private async submit(type: JobType<FolderJobParams, FolderJobProgress>, params: FolderJobParams): Promise<{ jobId: string }> {
    let clash: 'source' | 'target' = 'source';
    try {
      const job = await this.queue.enqueue(type, params, {
        conflictsWith: (active) => {
          if (!FOLDER_JOBS.some((t) => t.name === active.type)) return false;
          const p = active.params as FolderJobParams;
          if (overlaps(params.source, p.source) || overlaps(params.source, p.target)) return (clash = 'source'), true;
          if (overlaps(params.target, p.source) || overlaps(params.target, p.target)) return (clash = 'target'), true;
          return false;
        },
      });
      return { jobId: job.id };
    } catch (e) {
      if (!(e instanceof JobConflictError)) throw e;
      throw locked(
        clash === 'source'
          ? 'A bulk job is running on given folder path, please try after sometime.'
          : 'Destination folder path is already locked. Please try after sometime.',
      );
    }
  }

  // ---- the job ----

  private async run(ctx: JobContext<FolderJobParams, FolderJobProgress>, kind: 'copy' | 'move'): Promise<void> {
    // Events found before this run's first step were committed by an earlier run that stopped.
    let resumed = true;
    for (;;) {
      // Outside any step's transaction: the events of the step that committed last.
      const pending = ctx.job.progress.events;
      if (pending && pending.length > 0) {
        await this.sendEvents(ctx.job.id, pending, resumed);
        // Only in memory: the next step commits without them; a crash before that sends them again.
        ctx.job.progress = { ...ctx.job.progress, events: [] };
      }
      resumed = false;
      ctx.throwIfStopping();
      const p = ctx.job.progress;
      switch (p.phase) {
        case 'folders':
          await this.foldersStep(ctx, kind);
          break;
        case 'files':
          if (kind === 'copy') await this.copyFilesStep(ctx);
          else await this.moveFilesStep(ctx);
          break;
        case 'cleanup':
          await this.cleanupStep(ctx);
          break;
        case 'purge': {
          // Outside the step: the purge writes through the store, which on SQLite would wait for
          // the step's own transaction. Repeated after a crash before the step commits — harmless.
          const purgeRequestId = await this.opts.purge(ctx.job.params.source);
          await ctx.step(async () => ({ progress: { ...ctx.job.progress, phase: 'done', cursor: null, purgeRequestId }, result: undefined }));
          break;
        }
        case 'done':
          return;
      }
    }
  }

  /**
   * Folders first, parents before children (path order), so empty folders come along too. A move
   * takes a folder row along (same id) unless the destination already has that folder, in which
   * case the two merge and the source row goes in the cleanup phase.
   */
  private async foldersStep(ctx: JobContext<FolderJobParams, FolderJobProgress>, kind: 'copy' | 'move'): Promise<void> {
    const { source, target } = ctx.job.params;
    const n = this.opts.batchSize;
    await ctx.step(async (tx) => {
      const p = ctx.job.progress;
      const now = this.lib.now();
      await this.lib.ensureFolders(tx, parentOf(target), now);
      const rows = await tx.listFoldersUnder(source, p.cursor, n);
      for (const f of rows) {
        const to = remap(f.path, source, target);
        if (kind === 'copy') {
          await this.lib.ensureFolders(tx, to, now);
        } else if (!(await tx.getFolder(to))) {
          await this.lib.ensureFolders(tx, parentOf(to), now);
          await tx.updateFolder(f.path, { path: to, name: lastSegment(to), parentPath: parentOf(to), updatedAt: now });
        }
      }
      const progress: FolderJobProgress =
        rows.length < n
          ? { ...p, phase: 'files', cursor: null, folders: p.folders + rows.length }
          : { ...p, cursor: rows[rows.length - 1]!.path, folders: p.folders + rows.length };
      return { progress, result: undefined };
    });
  }

  /**
   * One batch of a copy: read the batch, place copies of its bytes under the journal, then commit
   * the rows and the cursor together. If the transaction fails the bytes are discarded; if the
   * process dies first, the start-up sweep removes them and the batch is redone from the cursor.
   */
  private async copyFilesStep(ctx: JobContext<FolderJobParams, FolderJobProgress>): Promise<void> {
    const { source, target, includeVersions } = ctx.job.params;
    const lib = this.lib;
    const repo = lib.store.repo;
    const p = ctx.job.progress;
    const batch = await repo.listFilesUnder(source, p.cursor, this.opts.batchSize);
    if (batch.length === 0) {
      await ctx.step(async () => ({ progress: { ...p, phase: 'done', cursor: null }, result: undefined }));
      return;
    }
    const plans: Array<{ file: FileRecord; pairs: Array<{ v: VersionRecord; key: string }> }> = [];
    for (const file of batch) {
      let versions: VersionRecord[];
      if (includeVersions) versions = await repo.listVersions(file.id);
      else {
        const current = await repo.getVersion(file.id, file.currentVersionId);
        versions = current ? [current] : [];
      }
      if (versions.length === 0) continue;
      plans.push({ file, pairs: currentLast(versions, file.currentVersionId).map((v) => ({ v, key: lib.newBlobKey() })) });
    }
    const keys = plans.flatMap((pl) => pl.pairs.map((x) => x.key));
    const copies = plans.flatMap((pl) => pl.pairs);
    await lib.journalAndPlace(keys, async () => {
      // A few at a time: each copy waits on a directory fsync, and those overlap well.
      let next = 0;
      const worker = async () => {
        while (next < copies.length) {
          const x = copies[next++]!;
          await lib.blobs.copy(x.v.blobKey, x.key);
        }
      };
      await Promise.all(Array.from({ length: Math.min(BLOB_COPY_CONCURRENCY, copies.length) }, worker));
    });
    let unused: string[];
    try {
      unused = await ctx.step(async (tx) => {
        const now = lib.now();
        const ensured = new Set<string>();
        const skippedKeys: string[] = [];
        const next: FolderJobProgress = { ...p, skippedPaths: [...p.skippedPaths], events: [] };
        for (const { file, pairs } of plans) {
          const destFolder = remap(file.folderPath, source, target);
          const destPath = destFolder + file.name;
          if (!ensured.has(destFolder)) {
            await lib.ensureFolders(tx, destFolder, now);
            ensured.add(destFolder);
          }
          const existing = await tx.getFileByPath(destPath);
          if (existing && (await tx.listVersions(existing.id)).length + pairs.length > MAX_VERSIONS) {
            skippedKeys.push(...pairs.map((x) => x.key));
            this.noteSkipped(next, file.filePath);
            continue;
          }
          // Documented rule: on a name collision the source and its versions are appended to the
          // destination file's history; otherwise the copy is a new file.
          const fileId = existing?.id ?? newId();
          let n = existing ? await tx.maxVersionNumber(existing.id) : 0;
          let last: VersionRecord | undefined;
          for (const { v, key } of pairs) {
            last = {
              ...stateOf(v),
              id: newId(),
              fileId,
              name: file.name,
              filePath: destPath,
              folderPath: destFolder,
              blobKey: key,
              versionNumber: ++n,
              createdAt: now,
              updatedAt: now,
            };
            await tx.insertVersion(last);
          }
          const rec = fileFromVersion({ id: fileId, createdAt: existing?.createdAt ?? now }, last!, now);
          if (existing) await tx.updateFile(fileId, rec);
          else await tx.insertFile(rec);
          next.events!.push({ type: existing ? 'file-version.created' : 'file.created', fileId });
          next.files++;
          next.versions += pairs.length;
        }
        const skipped = new Set(skippedKeys);
        await tx.unjournalBlobs(keys.filter((k) => !skipped.has(k)));
        next.cursor = batch[batch.length - 1]!.filePath;
        return { progress: next, result: skippedKeys };
      });
    } catch (e) {
      await lib.discardBlobs(keys);
      throw e;
    }
    await lib.discardBlobs(unused);
  }

  /**
   * One batch of a move (or rename): rows only, the bytes stay where they are. A file with no
   * namesake at the destination keeps its id and changes path; one with a namesake is appended to
   * that file's history (the documented rule) and disappears from the source.
   */
  private async moveFilesStep(ctx: JobContext<FolderJobParams, FolderJobProgress>): Promise<void> {
    const { source, target } = ctx.job.params;
    const lib = this.lib;
    await ctx.step(async (tx) => {
      const p = ctx.job.progress;
      const batch = await tx.listFilesUnder(source, p.cursor, this.opts.batchSize);
      if (batch.length === 0) return { progress: { ...p, phase: 'cleanup', cursor: null }, result: undefined };
      const now = lib.now();
      const ensured = new Set<string>();
      const next: FolderJobProgress = { ...p, skippedPaths: [...p.skippedPaths], events: [] };
      for (const file of batch) {
        const destFolder = remap(file.folderPath, source, target);
        const destPath = destFolder + file.name;
        if (!ensured.has(destFolder)) {
          await lib.ensureFolders(tx, destFolder, now);
          ensured.add(destFolder);
        }
        const existing = await tx.getFileByPath(destPath);
        const versions = await tx.listVersions(file.id);
        if (!existing) {
          await tx.updateFile(file.id, { filePath: destPath, folderPath: destFolder, updatedAt: now });
          await tx.updateVersionsOfFile(file.id, { filePath: destPath, folderPath: destFolder });
          next.events!.push({ type: 'file.updated', fileId: file.id });
        } else {
          if ((await tx.listVersions(existing.id)).length + versions.length > MAX_VERSIONS) {
            // It stays where it is, so its folder must too (the folder row may have moved on).
            await lib.ensureFolders(tx, file.folderPath, now);
            this.noteSkipped(next, file.filePath);
            continue;
          }
          let n = await tx.maxVersionNumber(existing.id);
          let last: VersionRecord | undefined;
          for (const v of currentLast(versions, file.currentVersionId)) {
            last = { ...v, id: newId(), fileId: existing.id, name: file.name, filePath: destPath, folderPath: destFolder, versionNumber: ++n, updatedAt: now };
            await tx.insertVersion(last);
          }
          // The version rows were re-parented, so the bytes they point at stay in use.
          await tx.deleteFile(file.id);
          if (last) await tx.updateFile(existing.id, fileFromVersion(existing, last, now));
          next.events!.push({ type: 'file.deleted', fileId: file.id }, { type: 'file-version.created', fileId: existing.id });
        }
        next.files++;
        next.versions += versions.length;
      }
      next.cursor = batch[batch.length - 1]!.filePath;
      return { progress: next, result: undefined };
    });
  }

  /** The end of a move: source folder rows that were merged into existing ones, unless files stayed in them. */
  private async cleanupStep(ctx: JobContext<FolderJobParams, FolderJobProgress>): Promise<void> {
    const { source, purgeCache } = ctx.job.params;
    const n = this.opts.batchSize;
    await ctx.step(async (tx) => {
      const p = ctx.job.progress;
      const rows = await tx.listFoldersUnder(source, p.cursor, n);
      const empty: string[] = [];
      for (const f of rows) if ((await tx.listFilesUnder(f.path, null, 1)).length === 0) empty.push(f.path);
      await tx.deleteFolders(empty);
      const progress: FolderJobProgress =
        rows.length < n
          ? { ...p, phase: purgeCache ? 'purge' : 'done', cursor: null }
          : { ...p, cursor: rows[rows.length - 1]!.path };
      return { progress, result: undefined };
    });
  }

  /** Ids derive from the job and the file, so a repeat after a resume is the same event. */
  private async sendEvents(jobId: string, events: readonly FolderFileEvent[], resend: boolean): Promise<void> {
    const emit = this.opts.emitFileEvent;
    if (!emit) return;
    let files: Map<string, FileRecord>;
    try {
      const ids = [...new Set(events.filter((e) => e.type !== 'file.deleted').map((e) => e.fileId))];
      files = new Map((ids.length > 0 ? await this.lib.store.repo.getFiles(ids) : []).map((f) => [f.id, f]));
    } catch {
      // Events never fail the job; the next attempt of this loop would send them again anyway.
      return;
    }
    for (const e of events) {
      const eventId = `${jobId}-${e.type}-${e.fileId}`;
      if (e.type === 'file.deleted') await emit(e.type, e.fileId, null, eventId, resend);
      else {
        const f = files.get(e.fileId);
        // Gone since (deleted by a later request): nothing left to describe.
        if (f) await emit(e.type, e.fileId, f, eventId, resend);
      }
    }
  }

  private noteSkipped(p: FolderJobProgress, filePath: string): void {
    p.skipped++;
    if (p.skippedPaths.length < MAX_SKIPPED_PATHS) p.skippedPaths.push(filePath);
  }
}

/** The spec knows Pending and Completed; a job that gave up after its retries says Failed. */
function statusOf(job: JobRecord): string {
  if (job.state === 'completed') return 'Completed';
  if (job.state === 'failed') return 'Failed';
  return 'Pending';
}
