import type { RequestOptions as BaseRequestOptions } from '../../../core/request-options.js';
import type { ImageKitPromise } from '../../../core/promise.js';
import { APIResource } from '../../../core/resource.js';
import { pathTemplate as path } from '../../../internal/path.js';
import type { InvalidationCreateRequest, InvalidationCreateResponse, InvalidationGetResponse } from './types.js';

/** CDN and internal cache purges. */
export class Invalidation extends APIResource {
  /**
   * Purges a URL (or a prefix ending in `*`) from the caches.
   *
   * @example
   * const { requestId } = await client.cache.invalidation.create({ url: 'https://ik.imagekit.io/demo/photo.jpg' });
   */
  create(
    request: InvalidationCreateRequest,
    requestOptions?: Invalidation.RequestOptions,
  ): ImageKitPromise<InvalidationCreateResponse> {
    return this._transport.request({ method: 'POST', path: '/v1/files/purge', json: request }, requestOptions);
  }

  /**
   * Status of a purge request.
   *
   * @example
   * const { status } = await client.cache.invalidation.get('requestId');
   */
  get(requestId: string, requestOptions?: Invalidation.RequestOptions): ImageKitPromise<InvalidationGetResponse> {
    return this._transport.request(() => ({ method: 'GET', path: path`/v1/files/purge/${requestId}` }), requestOptions);
  }
}

export declare namespace Invalidation {
  export type RequestOptions = BaseRequestOptions;
}
