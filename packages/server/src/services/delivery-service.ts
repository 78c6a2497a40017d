import type { Readable } from 'node:stream';
import { ApiError } from '../errors/index.js';
import type { ByteRange } from '../ports/blob-store.js';
import type { AssetState } from '../ports/metadata-store.js';
import type { DeliveryEngine, DeliveryInput, DeliveryResult } from './delivery/engine.js';
import type { Library } from './library.js';

export type { DeliveryInput, DeliveryResult } from './delivery/engine.js';

/**
 * What routes and other services call for delivery: serving URLs (services/delivery/engine.ts
 * holds the path from URL to bytes: endpoints, origins, signed URLs, transformations and the
 * variant cache) and cache purges, which go through the cache bus to every process.
 */
export class DeliveryService {
  constructor(
    private readonly lib: Library,
    private readonly engine: DeliveryEngine,
  ) {}

  /** A delivery URL's response: headers to send and the body to open. */
  deliver(input: DeliveryInput): Promise<DeliveryResult> {
    return this.engine.deliver(input);
  }

  async open(asset: AssetState, range?: ByteRange): Promise<Readable> {
    try {
      return await this.lib.blobs.get(asset.blobKey, range);
    } catch (e) {
      throw new ApiError('INTERNAL', 'The bytes of this file are missing from storage.', { cause: e });
    }
  }

  /** POST /v1/files/purge: `{ url }`, exact or ending in `*`; returns the request id. */
  purge(url: unknown): Promise<string> {
    return this.engine.purgeUrl(url);
  }

  /**
   * Rename with purgeCache: ImageKit purges `<old URL>*`, which removes the old file's URLs, its
   * versions' and their transformations; here on every URL endpoint.
   */
  purgeOldPath(oldFilePath: string): Promise<string> {
    return this.engine.purgeLibraryPrefix(oldFilePath);
  }

  /** Rename folder with purgeCache: everything under the old folder path (`<old path>*`). */
  purgeOldFolder(folderPath: string): Promise<string> {
    return this.engine.purgeLibraryPrefix(folderPath.endsWith('/') ? folderPath : `${folderPath}/`);
  }

  purgeStatus(requestId: string): Promise<{ status: string }> {
    return this.engine.purgeStatus(requestId);
  }

  /** The Metadata object of a (transformed) delivery URL of this server. */
  metadataOfUrl(url: URL): Promise<Record<string, unknown>> {
    return this.engine.metadataOfUrl(url);
  }

  stats() {
    return this.engine.stats();
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
