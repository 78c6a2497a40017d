import type { RequestOptions as BaseRequestOptions } from '../../core/request-options.js';
import type { ImageKitPromise } from '../../core/promise.js';
import { APIResource } from '../../core/resource.js';
import type { AssetsListRequest, AssetsListResponseItem } from './types.js';

/** Listing and searching files and folders. */
export class Assets extends APIResource {
  /**
   * Lists files and/or folders, optionally filtered by a Lucene-like `searchQuery`.
   *
   * @example
   * const items = await client.assets.list({ searchQuery: 'createdAt > "7d" AND tags IN ["sale"]', limit: 50 });
   * for (const item of items) if (item.type === 'folder') console.log(item.folderPath);
   */
  list(request: AssetsListRequest = {}, requestOptions?: Assets.RequestOptions): ImageKitPromise<AssetsListResponseItem[]> {
    const { type, sort, path, searchQuery, fileType, limit, skip } = request;
    return this._transport.request(
      { method: 'GET', path: '/v1/files', query: { type, sort, path, searchQuery, fileType, limit, skip } },
      requestOptions,
    );
  }
}

export declare namespace Assets {
  export type RequestOptions = BaseRequestOptions;
}
