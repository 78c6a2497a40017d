import { badRequest, conflict, notFound } from '../errors/index.js';
import type { FileRecord, MetadataRepo, VersionRecord } from '../ports/metadata-store.js';
import { newId } from '../util/ids.js';
import {
  isPlainObject,
  tagsFromJson,
  validateCustomCoordinates,
  validateExtensions,
  validateWebhookUrl,
  type ExtensionRequest,
} from './field-rules.js';
import type { CustomMetadataRulesSource } from './custom-metadata-rules.js';
import { Library, MAX_VERSIONS, fileFromVersion, stateOf } from './library.js';
import { normalizeFolderPath, parseFilePath, sanitizeFileName } from './paths.js';

const ID_RE = /^[0-9a-f]{24}$/;

export function assertId(id: string, field: 'fileId' | 'versionId'): void {
  if (!ID_RE.test(id)) throw badRequest(`Your request contains invalid ${field} parameter.`);
}

export interface UpdateResult {
  file: FileRecord;
  extensions: ExtensionRequest[] | undefined;
}

/** Files and their versions: details, update, delete, copy, move, rename, version history. */
export class FileService {
  constructor(
    private readonly lib: Library,
    /** Custom metadata field rules; without them customMetadata is merged unchecked. */
    private readonly customMetadata?: CustomMetadataRulesSource,
  ) {}

  async get(fileId: string): Promise<FileRecord> {
    assertId(fileId, 'fileId');
    const f = await this.lib.store.repo.getFile(fileId);
    if (!f) throw notFound('The requested file does not exist.');
    return f;
  }

  /** PATCH /details: either an update of details or a change of publication status. */
  async update(fileId: string, body: unknown): Promise<UpdateResult> {
    assertId(fileId, 'fileId');
    if (!isPlainObject(body)) throw badRequest('Your request body should be a JSON object.');
    const allowed = ['removeAITags', 'webhookUrl', 'extensions', 'tags', 'customCoordinates', 'customMetadata', 'description', 'publish'];
    const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
    if (unknown.length > 0) throw badRequest(`Your request contains unknown parameter(s): ${unknown.join(', ')}.`);

    if (body.publish !== undefined) {
      if (Object.keys(body).length > 1) throw badRequest('publish cannot be combined with other updates in one request.');
      const p = body.publish;
      if (!isPlainObject(p) || typeof p.isPublished !== 'boolean') {
        throw badRequest('Your request contains invalid publish parameter. It needs isPublished as a boolean.');
      }
      if (p.includeFileVersions !== undefined && typeof p.includeFileVersions !== 'boolean') {
        throw badRequest('Your request contains invalid publish.includeFileVersions parameter. It should be a boolean.');
      }
      const isPublished = p.isPublished;
      const all = p.includeFileVersions === true;
      const file = await this.lib.store.transaction(async (tx) => {
        const f = await tx.getFile(fileId);
        if (!f) throw notFound('The requested file does not exist.');
        const now = this.lib.now();
        await tx.updateFile(fileId, { isPublished, updatedAt: now });
        if (all) await tx.updateVersionsOfFile(fileId, { isPublished });
        else await tx.updateVersion(f.currentVersionId, { isPublished, updatedAt: now });
        return { ...f, isPublished, updatedAt: now };
      });
      return { file, extensions: undefined };
    }

    const tags = body.tags === undefined ? undefined : body.tags === null ? null : tagsFromJson(body.tags);
    let customCoordinates: string | null | undefined;
    if (body.customCoordinates === null) customCoordinates = null;
    else if (body.customCoordinates !== undefined) {
      if (typeof body.customCoordinates !== 'string') throw badRequest('Your request contains invalid customCoordinates parameter.');
      customCoordinates = validateCustomCoordinates(body.customCoordinates);
    }
    if (body.customMetadata !== undefined && !isPlainObject(body.customMetadata)) {
      throw badRequest('Your request contains invalid customMetadata parameter. It should be an object.');
    }
    if (body.description !== undefined && typeof body.description !== 'string') {
      throw badRequest('Your request contains invalid description parameter. It should be a string.');
    }
    let removeAITags: 'all' | string[] | undefined;
    if (body.removeAITags !== undefined) {
      if (body.removeAITags === 'all') removeAITags = 'all';
      else if (Array.isArray(body.removeAITags) && body.removeAITags.every((t) => typeof t === 'string')) {
        removeAITags = body.removeAITags as string[];
      } else throw badRequest('Your request contains invalid removeAITags parameter. Send an array of tag names or "all".');
    }
    const extensions = body.extensions === undefined ? undefined : validateExtensions(body.extensions);
    if (body.webhookUrl !== undefined) {
      if (typeof body.webhookUrl !== 'string') throw badRequest('Your request contains invalid webhookUrl parameter.');
      validateWebhookUrl(body.webhookUrl);
    }

    // Read before the transaction opens: on SQLite a read from outside it would wait for it to end.
    const rules = body.customMetadata !== undefined ? await this.customMetadata?.loadRules() : undefined;
    const file = await this.lib.store.transaction(async (tx) => {
      const f = await tx.getFile(fileId);
      if (!f) throw notFound('The requested file does not exist.');
      const now = this.lib.now();
      const patch: Partial<FileRecord> = { updatedAt: now };
      if (tags !== undefined) patch.tags = tags && tags.length > 0 ? tags : null;
      if (customCoordinates !== undefined) patch.customCoordinates = customCoordinates;
      if (body.description !== undefined) patch.description = body.description as string;
      if (body.customMetadata !== undefined && rules) {
        // Merged into what is stored (null unsets a key), checked against the fields, required fields kept.
        patch.customMetadata = rules.validate(body.customMetadata as Record<string, unknown>, { mode: 'update', existing: f.customMetadata });
      } else if (body.customMetadata !== undefined) {
        // A null value unsets that key; other keys are merged into what is stored.
        const merged: Record<string, unknown> = { ...f.customMetadata };
        for (const [k, v] of Object.entries(body.customMetadata as Record<string, unknown>)) {
          if (v === null) delete merged[k];
          else merged[k] = v;
        }
        patch.customMetadata = merged;
      }
      if (removeAITags !== undefined) {
        const remaining = removeAITags === 'all' ? [] : (f.aiTags ?? []).filter((t) => !removeAITags.includes(t.name));
        patch.aiTags = remaining.length > 0 ? remaining : null;
      }
      await tx.updateFile(fileId, patch);
      const { currentVersionId: _c, ...versionPatch } = patch;
      await tx.updateVersion(f.currentVersionId, versionPatch);
      return { ...f, ...patch };
    });
    return { file, extensions };
  }

  /** Deletes the file, every version and their bytes. */
  async delete(fileId: string): Promise<void> {
    assertId(fileId, 'fileId');
    const keys = await this.lib.store.transaction(async (tx) => {
      const f = await tx.getFile(fileId);
      if (!f) throw notFound('The requested file does not exist.');
      return this.deleteInTx(tx, f);
    });
    await this.lib.discardBlobs(keys);
  }

  /** Removes the rows of a file inside a transaction; returns blob keys to discard after commit. */
  async deleteInTx(tx: MetadataRepo, f: FileRecord): Promise<string[]> {
    const versions = await tx.listVersions(f.id);
    const keys = [...new Set(versions.map((v) => v.blobKey).concat(f.blobKey))];
    await tx.deleteFile(f.id);
    await tx.journalBlobs(keys, this.lib.now());
    return keys;
  }

  /** Returns the destination file and whether it is new (else the copy became its newest version). */
  async copy(body: unknown): Promise<{ file: FileRecord; created: boolean }> {
    const { source, destFolder, includeVersions } = this.parseCopyMove(body, true);
    const lib = this.lib;
    const src = await lib.store.repo.getFileByPath(source.filePath);
    if (!src) throw notFound(`No file found with filePath ${source.filePath}.`, { extra: { reason: 'SOURCE_FILE_MISSING' } });
    const all = await lib.store.repo.listVersions(src.id);
    const toCopy = includeVersions ? all : all.filter((v) => v.id === src.currentVersionId);
    // Current version last, so it becomes the current version at the destination.
    toCopy.sort((a, b) => (a.id === src.currentVersionId ? 1 : b.id === src.currentVersionId ? -1 : a.versionNumber - b.versionNumber));
    const pairs = toCopy.map((v) => ({ v, key: lib.newBlobKey() }));
    await lib.journalAndPlace(
      pairs.map((p) => p.key),
      async () => {
        for (const p of pairs) await lib.blobs.copy(p.v.blobKey, p.key);
      },
    );
    try {
      return await lib.store.transaction(async (tx) => {
        const now = lib.now();
        await lib.ensureFolders(tx, destFolder, now);
        const destPath = destFolder + src.name;
        const existing = await tx.getFileByPath(destPath);
        const target = existing ?? null;
        if (target) {
          const count = (await tx.listVersions(target.id)).length;
          if (count + pairs.length > MAX_VERSIONS) {
            throw badRequest(`The destination file would have more than ${MAX_VERSIONS} versions.`, { extra: { reason: 'VERSION_LIMIT_EXCEEDED' } });
          }
        }
        const fileId = target?.id ?? newId();
        let n = target ? await tx.maxVersionNumber(target.id) : 0;
        let last: VersionRecord | undefined;
        for (const p of pairs) {
          n++;
          last = {
            ...stateOf(p.v),
            id: newId(),
            fileId,
            name: src.name,
            filePath: destPath,
            folderPath: destFolder,
            blobKey: p.key,
            versionNumber: n,
            createdAt: now,
            updatedAt: now,
          };
          await tx.insertVersion(last);
        }
        if (!last) throw new Error('source file has no versions');
        const rec = fileFromVersion({ id: fileId, createdAt: target?.createdAt ?? now }, last, now);
        if (target) await tx.updateFile(fileId, rec);
        else await tx.insertFile(rec);
        await tx.unjournalBlobs(pairs.map((p) => p.key));
        return { file: rec, created: !target };
      });
    } catch (e) {
      await lib.discardBlobs(pairs.map((p) => p.key));
      throw e;
    }
  }

  /**
   * Returns the file at the destination, and the source's id when it was merged into a namesake
   * there (its versions appended to that file's history, the source file gone).
   */
  async move(body: unknown): Promise<{ file: FileRecord; mergedFileId: string | null }> {
    const { source, destFolder } = this.parseCopyMove(body, false);
    const lib = this.lib;
    return lib.store.transaction(async (tx) => {
      const src = await tx.getFileByPath(source.filePath);
      if (!src) throw notFound(`No file found with filePath ${source.filePath}.`, { extra: { reason: 'SOURCE_FILE_MISSING' } });
      const now = lib.now();
      await lib.ensureFolders(tx, destFolder, now);
      const destPath = destFolder + src.name;
      const target = await tx.getFileByPath(destPath);
      const versions = await tx.listVersions(src.id);
      if (!target) {
        await tx.updateFile(src.id, { filePath: destPath, folderPath: destFolder, updatedAt: now });
        await tx.updateVersionsOfFile(src.id, { filePath: destPath, folderPath: destFolder });
        return { file: { ...src, filePath: destPath, folderPath: destFolder, updatedAt: now }, mergedFileId: null };
      }
      // Documented rule: the source and its versions are appended to the destination's history.
      const count = (await tx.listVersions(target.id)).length;
      if (count + versions.length > MAX_VERSIONS) {
        throw badRequest(`The destination file would have more than ${MAX_VERSIONS} versions.`, { extra: { reason: 'VERSION_LIMIT_EXCEEDED' } });
      }
      versions.sort((a, b) => (a.id === src.currentVersionId ? 1 : b.id === src.currentVersionId ? -1 : a.versionNumber - b.versionNumber));
      let n = await tx.maxVersionNumber(target.id);
      let last: VersionRecord | undefined;
      for (const v of versions) {
        n++;
        last = { ...v, id: newId(), fileId: target.id, filePath: destPath, folderPath: destFolder, name: src.name, versionNumber: n, updatedAt: now };
        await tx.insertVersion(last);
      }
      // Rows are re-parented, so the blobs stay where they are.
      await tx.deleteFile(src.id);
      const merged = last ? fileFromVersion(target, last, now) : target;
      if (last) await tx.updateFile(target.id, merged);
      return { file: merged, mergedFileId: src.id };
    });
  }

  async rename(body: unknown): Promise<{ purgeRequested: boolean; file: FileRecord; previousFilePath: string }> {
    if (!isPlainObject(body)) throw badRequest('Your request body should be a JSON object.', { extra: { reason: 'MISSING_PARAMETER' } });
    const src = parseFilePath(body.filePath, 'filePath');
    if (typeof body.newFileName !== 'string' || body.newFileName.trim() === '') {
      throw badRequest('Your request is missing newFileName parameter.', { extra: { reason: 'MISSING_PARAMETER' } });
    }
    if (body.purgeCache !== undefined && typeof body.purgeCache !== 'boolean') {
      throw badRequest('Your request contains invalid purgeCache parameter. It should be a boolean.', { extra: { reason: 'INVALID_PARAMETER' } });
    }
    let newName: string;
    try {
      newName = sanitizeFileName(body.newFileName, 'newFileName');
    } catch (e) {
      throw badRequest((e as Error).message, { extra: { reason: 'INVALID_PARAMETER' } });
    }
    const file = await this.lib.store.transaction(async (tx) => {
      const f = await tx.getFileByPath(src.filePath);
      if (!f) throw notFound(`No file found in media library at filePath ${src.filePath}`, { extra: { reason: 'FILE_MISSING' } });
      if (newName === f.name) {
        throw badRequest('newFileName cannot be the same as its existing name.', { extra: { reason: 'SAME_OLD_AND_NEW_NAME' } });
      }
      const newPath = f.folderPath + newName;
      if (await tx.getFileByPath(newPath)) {
        throw conflict(`File with name ${newName} already exists at the same location.`, { extra: { reason: 'FILE_ALREADY_EXISTS' } });
      }
      const now = this.lib.now();
      await tx.updateFile(f.id, { name: newName, filePath: newPath, updatedAt: now });
      await tx.updateVersionsOfFile(f.id, { name: newName, filePath: newPath });
      return { ...f, name: newName, filePath: newPath, updatedAt: now };
    });
    return { purgeRequested: body.purgeCache === true, file, previousFilePath: src.filePath };
  }

  private parseCopyMove(body: unknown, isCopy: boolean) {
    if (!isPlainObject(body)) throw badRequest('Your request is missing parameters / contains invalid parameters.', { extra: { reason: 'MISSING_PARAMETER' } });
    const source = parseFilePath(body.sourceFilePath, 'sourceFilePath');
    if (typeof body.destinationPath !== 'string' || body.destinationPath.trim() === '') {
      throw badRequest('Your request is missing destinationPath parameter.', { extra: { reason: 'MISSING_PARAMETER' } });
    }
    let destFolder: string;
    try {
      destFolder = normalizeFolderPath(body.destinationPath, 'destinationPath');
    } catch (e) {
      throw badRequest((e as Error).message, { extra: { reason: 'INVALID_FOLDER_PATH' } });
    }
    if (isCopy && body.includeFileVersions !== undefined && typeof body.includeFileVersions !== 'boolean') {
      throw badRequest('Your request contains invalid includeFileVersions parameter. It should be a boolean.', { extra: { reason: 'INVALID_PARAMETER' } });
    }
    if (destFolder === source.folderPath) {
      throw badRequest('The source file is already in the destination folder.', { extra: { reason: 'SAME_SOURCE_AND_DESTINATION' } });
    }
    return { source, destFolder, includeVersions: body.includeFileVersions === true };
  }

  // ---- versions ----

  async listVersions(fileId: string): Promise<{ file: FileRecord; versions: VersionRecord[] }> {
    const file = await this.get(fileId);
    const versions = await this.lib.store.repo.listVersions(fileId);
    return { file, versions };
  }

  async getVersion(fileId: string, versionId: string): Promise<{ file: FileRecord; version: VersionRecord }> {
    assertId(fileId, 'fileId');
    assertId(versionId, 'versionId');
    const file = await this.lib.store.repo.getFile(fileId);
    const version = file && (await this.lib.store.repo.getVersion(fileId, versionId));
    if (!file || !version) throw notFound('The requested file version does not exist.');
    return { file, version };
  }

  async deleteVersion(fileId: string, versionId: string): Promise<void> {
    assertId(fileId, 'fileId');
    assertId(versionId, 'versionId');
    const keys = await this.lib.store.transaction(async (tx) => {
      const file = await tx.getFile(fileId);
      const version = file && (await tx.getVersion(fileId, versionId));
      if (!file || !version) throw notFound('The requested asset does not exist.');
      if (file.currentVersionId === versionId) throw badRequest('You cannot delete current version of a file.');
      await tx.deleteVersion(versionId);
      const shared = (await tx.listVersions(fileId)).some((v) => v.blobKey === version.blobKey);
      if (shared) return [];
      await tx.journalBlobs([version.blobKey], this.lib.now());
      return [version.blobKey];
    });
    await this.lib.discardBlobs(keys);
  }

  async restoreVersion(fileId: string, versionId: string): Promise<FileRecord> {
    assertId(fileId, 'fileId');
    assertId(versionId, 'versionId');
    return this.lib.store.transaction(async (tx) => {
      const file = await tx.getFile(fileId);
      const version = file && (await tx.getVersion(fileId, versionId));
      if (!file || !version) throw notFound('The requested file version does not exist.');
      const now = this.lib.now();
      const rec = fileFromVersion(file, { ...version, name: file.name, filePath: file.filePath, folderPath: file.folderPath }, now);
      await tx.updateFile(fileId, rec);
      return rec;
    });
  }
}
