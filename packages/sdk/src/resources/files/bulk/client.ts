import type { RequestOptions as BaseRequestOptions } from '../../../core/request-options.js';
import type { ImageKitPromise } from '../../../core/promise.js';
import { APIResource } from '../../../core/resource.js';
import type {
  BulkAddTagsRequest,
  BulkAddTagsResponse,
  BulkDeleteRequest,
  BulkDeleteResponse,
  BulkRemoveAiTagsRequest,
  BulkRemoveAiTagsResponse,
  BulkRemoveTagsRequest,
  BulkRemoveTagsResponse,
} from './types.js';

/** Operations on many files at once. A 207 (partial success) resolves normally, with `errors` set. */
export class Bulk extends APIResource {
  /**
   * Deletes up to 100 files and all their versions.
   *
   * @example
   * await client.files.bulk.delete({ fileIds: ['598821f949c0a938d57563bd'] });
   */
  delete(request: BulkDeleteRequest, requestOptions?: Bulk.RequestOptions): ImageKitPromise<BulkDeleteResponse> {
    return this._transport.request({ method: 'POST', path: '/v1/files/batch/deleteByFileIds', json: request }, requestOptions);
  }

  /**
   * Adds tags to up to 50 files.
   *
   * @example
   * await client.files.bulk.addTags({ fileIds: ['598821f949c0a938d57563bd'], tags: ['sale'] });
   */
  addTags(request: BulkAddTagsRequest, requestOptions?: Bulk.RequestOptions): ImageKitPromise<BulkAddTagsResponse> {
    return this._transport.request({ method: 'POST', path: '/v1/files/addTags', json: request }, requestOptions);
  }

  /**
   * Removes tags from up to 50 files.
   *
   * @example
   * await client.files.bulk.removeTags({ fileIds: ['598821f949c0a938d57563bd'], tags: ['sale'] });
   */
  removeTags(
    request: BulkRemoveTagsRequest,
    requestOptions?: Bulk.RequestOptions,
  ): ImageKitPromise<BulkRemoveTagsResponse> {
    return this._transport.request({ method: 'POST', path: '/v1/files/removeTags', json: request }, requestOptions);
  }

  /**
   * Removes AI tags from up to 50 files.
   *
   * @example
   * await client.files.bulk.removeAiTags({ fileIds: ['598821f949c0a938d57563bd'], AITags: ['Shirt'] });
   */
  removeAiTags(
    request: BulkRemoveAiTagsRequest,
    requestOptions?: Bulk.RequestOptions,
  ): ImageKitPromise<BulkRemoveAiTagsResponse> {
    return this._transport.request({ method: 'POST', path: '/v1/files/removeAITags', json: request }, requestOptions);
  }
}

export declare namespace Bulk {
  export type RequestOptions = BaseRequestOptions;
}
