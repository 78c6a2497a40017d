import type { RequestOptions as BaseRequestOptions } from '../../../core/request-options.js';
import type { ImageKitPromise } from '../../../core/promise.js';
import { APIResource } from '../../../core/resource.js';
import { pathTemplate as path } from '../../../internal/path.js';
import type { OriginResponse, OriginResponseArray, OriginSchema } from './types.js';

/** Storage origins that URL endpoints fetch from (beta). */
export class Origins extends APIResource {
  /**
   * Lists all origins.
   *
   * @example
   * const origins = await client.accounts.origins.list();
   */
  list(requestOptions?: Origins.RequestOptions): ImageKitPromise<OriginResponseArray> {
    return this._transport.request({ method: 'GET', path: '/v1/accounts/origins' }, requestOptions);
  }

  /**
   * Creates an origin.
   *
   * @example
   * const origin = await client.accounts.origins.create({ type: 'WEB_FOLDER', name: 'Site', baseUrl: 'https://example.com/img' });
   */
  create(request: OriginSchema, requestOptions?: Origins.RequestOptions): ImageKitPromise<OriginResponse> {
    return this._transport.request({ method: 'POST', path: '/v1/accounts/origins', json: request }, requestOptions);
  }

  /**
   * One origin.
   *
   * @example
   * const origin = await client.accounts.origins.get('id');
   */
  get(id: string, requestOptions?: Origins.RequestOptions): ImageKitPromise<OriginResponse> {
    return this._transport.request(() => ({ method: 'GET', path: path`/v1/accounts/origins/${id}` }), requestOptions);
  }

  /**
   * Replaces an origin's configuration.
   *
   * @example
   * await client.accounts.origins.update('id', { type: 'WEB_PROXY', name: 'Proxy' });
   */
  update(id: string, request: OriginSchema, requestOptions?: Origins.RequestOptions): ImageKitPromise<OriginResponse> {
    return this._transport.request(
      () => ({ method: 'PUT', path: path`/v1/accounts/origins/${id}`, json: request }),
      requestOptions,
    );
  }

  /**
   * Deletes an origin; fails while a URL endpoint uses it.
   *
   * @example
   * await client.accounts.origins.delete('id');
   */
  delete(id: string, requestOptions?: Origins.RequestOptions): ImageKitPromise<void> {
    return this._transport.request(
      () => ({ method: 'DELETE', path: path`/v1/accounts/origins/${id}`, responseType: 'void' }),
      requestOptions,
    );
  }
}

export declare namespace Origins {
  export type RequestOptions = BaseRequestOptions;
}
