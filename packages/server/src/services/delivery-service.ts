import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ApiError, badRequest, notFound, unauthorized } from '../errors/index.js';
import type { ByteRange } from '../ports/blob-store.js';
import type { AssetState, FileRecord } from '../ports/metadata-store.js';
import type { Library } from './library.js';

export interface ResolvedAsset {
  asset: AssetState;
  /** Strong validator: the bytes' sha256. */
  etag: string;
}

/**
 * Serving stored originals by path. Transformations, signed URLs and the derived-variant cache
 * belong to the delivery stage; until then a transformation request is refused with a 400.
 */
export class DeliveryService {
  private readonly purges = new Map<string, { status: 'Pending' | 'Completed' }>();

  constructor(private readonly lib: Library) {}

  async resolve(rawPath: string, query: Record<string, string | undefined>): Promise<ResolvedAsset> {
    if (rawPath.split('/').some((s) => s.startsWith('tr:')) || query.tr !== undefined) {
      throw badRequest('Image transformations are not available on this server yet; request the original URL without tr.');
    }
    let filePath: string;
    try {
      filePath = decodeURIComponent(rawPath);
    } catch {
      throw badRequest('The URL path is not valid percent-encoding.');
    }
    if (!filePath.startsWith('/')) filePath = `/${filePath}`;
    const file = await this.lib.store.repo.getFileByPath(filePath);
    if (!file) throw notFound('The requested file does not exist.');
    let asset: AssetState = file;
    const versionId = query['ik-obj-version'];
    if (versionId !== undefined) {
      const v = /^[0-9a-f]{24}$/.test(versionId) ? await this.lib.store.repo.getVersion(file.id, versionId) : undefined;
      if (!v) throw notFound('The requested file version does not exist.');
      asset = v;
    }
    if (asset.isPrivate || !asset.isPublished) {
      throw unauthorized('This file is private or unpublished; it can be served only through a signed URL.');
    }
    return { asset, etag: `"${asset.checksum}"` };
  }

  async open(asset: AssetState, range?: ByteRange): Promise<Readable> {
    try {
      return await this.lib.blobs.get(asset.blobKey, range);
    } catch (e) {
      throw new ApiError('INTERNAL', 'The bytes of this file are missing from storage.', { cause: e });
    }
  }

  /**
   * Rename with purgeCache: nothing derived is cached yet, so there is nothing to evict and the
   * request completes at once. The delivery cache replaces this with real evictions.
   */
  async purgeOldPath(_file: FileRecord): Promise<string> {
    const id = randomUUID().replace(/-/g, '').slice(0, 24);
    this.purges.set(id, { status: 'Completed' });
    return id;
  }

  async purgeStatus(requestId: string): Promise<{ status: string }> {
    const p = this.purges.get(requestId);
    // The spec answers an unknown requestId with 400, not 404.
    if (!p) throw badRequest('No request found for this requestId.');
    return { status: p.status };
  }
}
