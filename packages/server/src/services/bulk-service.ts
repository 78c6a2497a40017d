import { badRequest, notFound } from '../errors/index.js';
import type { FileRecord } from '../ports/metadata-store.js';
import { isPlainObject, tagsFromJson } from './field-rules.js';
import type { FileService } from './file-service.js';
import type { Library } from './library.js';

const ID_RE = /^[0-9a-f]{24}$/;

/**
 * Bulk operations. They are all-or-nothing: if any fileId is missing the call answers 404 with
 * missingFileIds and changes nothing, so a caller never has to work out a half-applied batch.
 */
export class BulkService {
  constructor(
    private readonly lib: Library,
    private readonly files: FileService,
  ) {}

  private fileIds(body: unknown, max: number, tooMany: string): string[] {
    if (!isPlainObject(body) || body.fileIds === undefined) throw badRequest('fileIds parameter is missing.');
    const ids = body.fileIds;
    if (!Array.isArray(ids)) throw badRequest('fileIds should be an Array.');
    if (ids.length === 0) throw badRequest('fileIds is empty.');
    if (ids.length > max) throw badRequest(tooMany);
    for (const id of ids) {
      if (typeof id !== 'string' || !ID_RE.test(id)) throw badRequest(`Your request contains invalid fileId ${JSON.stringify(id)} in fileIds.`);
    }
    return [...new Set(ids as string[])];
  }

  private async requireAll(ids: string[]): Promise<Map<string, FileRecord>> {
    const found = await this.lib.store.repo.getFiles(ids);
    const byId = new Map(found.map((f) => [f.id, f]));
    const missing = ids.filter((id) => !byId.has(id));
    if (missing.length > 0) throw notFound('The requested file(s) does not exist.', { extra: { missingFileIds: missing } });
    return byId;
  }

  async delete(body: unknown): Promise<{ successfullyDeletedFileIds: string[] }> {
    const ids = this.fileIds(body, 100, 'fileIds cannot have more than 100 items.');
    await this.requireAll(ids);
    const keys = await this.lib.store.transaction(async (tx) => {
      const all: string[] = [];
      const missing: string[] = [];
      for (const id of ids) {
        const f = await tx.getFile(id);
        if (!f) missing.push(id);
        else all.push(...(await this.files.deleteInTx(tx, f)));
      }
      if (missing.length > 0) throw notFound('The requested file(s) does not exist.', { extra: { missingFileIds: missing } });
      return all;
    });
    await this.lib.discardBlobs(keys);
    return { successfullyDeletedFileIds: ids };
  }

  async addTags(body: unknown): Promise<{ successfullyUpdatedFileIds: string[] }> {
    const ids = this.fileIds(body, 50, 'A maximum of 50 files can be edited at a time.');
    const tags = this.tags(body, 'tags');
    return this.apply(ids, (f) => {
      const merged = [...new Set([...(f.tags ?? []), ...tags])];
      const total = merged.reduce((n, t) => n + [...t].length, 0);
      if (total > 500) {
        throw badRequest(
          `Your request contains invalid value for tags parameter. Combined length of all tags should be less than or equal to 500 (file ${f.id} would have ${total}).`,
        );
      }
      return { tags: merged };
    });
  }

  async removeTags(body: unknown): Promise<{ successfullyUpdatedFileIds: string[] }> {
    const ids = this.fileIds(body, 50, 'A maximum of 50 files can be edited at a time.');
    const tags = new Set(this.tags(body, 'tags'));
    return this.apply(ids, (f) => {
      const left = (f.tags ?? []).filter((t) => !tags.has(t));
      return { tags: left.length > 0 ? left : null };
    });
  }

  async removeAITags(body: unknown): Promise<{ successfullyUpdatedFileIds: string[] }> {
    const ids = this.fileIds(body, 50, 'A maximum of 50 files can be edited at a time.');
    const names = new Set(this.tags(body, 'AITags'));
    return this.apply(ids, (f) => {
      const left = (f.aiTags ?? []).filter((t) => !names.has(t.name));
      return { aiTags: left.length > 0 ? left : null };
    });
  }

  /** The files as they are now (for the events of a bulk change that has committed). */
  current(ids: readonly string[]): Promise<FileRecord[]> {
    return this.lib.store.repo.getFiles([...ids]);
  }

  private tags(body: unknown, field: 'tags' | 'AITags'): string[] {
    const v = isPlainObject(body) ? body[field] : undefined;
    if (v === undefined) throw badRequest(`${field} parameter is missing.`);
    if (!Array.isArray(v)) throw badRequest(`${field} should be an Array.`);
    if (v.length === 0) throw badRequest(`${field} array cannot be empty.`);
    const tags = tagsFromJson(v, field);
    if (tags.length === 0) throw badRequest(`${field} array cannot be empty.`);
    return tags;
  }

  private async apply(
    ids: string[],
    change: (f: FileRecord) => Partial<Pick<FileRecord, 'tags' | 'aiTags'>>,
  ): Promise<{ successfullyUpdatedFileIds: string[] }> {
    await this.requireAll(ids);
    await this.lib.store.transaction(async (tx) => {
      const now = this.lib.now();
      const missing: string[] = [];
      for (const id of ids) {
        const f = await tx.getFile(id);
        if (!f) {
          missing.push(id);
          continue;
        }
        const patch = { ...change(f), updatedAt: now };
        await tx.updateFile(id, patch);
        await tx.updateVersion(f.currentVersionId, patch);
      }
      if (missing.length > 0) throw notFound('The requested file(s) does not exist.', { extra: { missingFileIds: missing } });
    });
    return { successfullyUpdatedFileIds: ids };
  }
}
