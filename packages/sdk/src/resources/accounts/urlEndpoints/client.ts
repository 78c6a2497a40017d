import type { RequestOptions as BaseRequestOptions } from '../../../core/request-options.js';
import type { ImageKitPromise } from '../../../core/promise.js';
import { APIResource } from '../../../core/resource.js';
import { pathTemplate as path } from '../../../internal/path.js';
import type { UrlEndpointResponse, UrlEndpointResponseArray, UrlEndpointSchema } from './types.js';

/** URL endpoints: URL prefixes mapped to origins (beta). */
export class UrlEndpoints extends APIResource {
  /**
   * Lists all URL endpoints, the default one included.
   *
   * @example
   * const endpoints = await client.accounts.urlEndpoints.list();
   */
  list(requestOptions?: UrlEndpoints.RequestOptions): ImageKitPromise<UrlEndpointResponseArray> {
    return this._transport.request({ method: 'GET', path: '/v1/accounts/url-endpoints' }, requestOptions);
  }

  /**
   * Creates a URL endpoint.
   *
   * @example
   * await client.accounts.urlEndpoints.create({ description: 'Products', urlPrefix: 'products', origins: ['originId'] });
   */
  create(request: UrlEndpointSchema, requestOptions?: UrlEndpoints.RequestOptions): ImageKitPromise<UrlEndpointResponse> {
    return this._transport.request({ method: 'POST', path: '/v1/accounts/url-endpoints', json: request }, requestOptions);
  }

  /**
   * One URL endpoint (`default` for the account's own).
   *
   * @example
   * const endpoint = await client.accounts.urlEndpoints.get('default');
   */
  get(id: string, requestOptions?: UrlEndpoints.RequestOptions): ImageKitPromise<UrlEndpointResponse> {
    return this._transport.request(() => ({ method: 'GET', path: path`/v1/accounts/url-endpoints/${id}` }), requestOptions);
  }

  /**
   * Replaces a URL endpoint's configuration.
   *
   * @example
   * await client.accounts.urlEndpoints.update('id', { description: 'Products', urlPrefix: 'p', origins: ['originId'] });
   */
  update(
    id: string,
    request: UrlEndpointSchema,
    requestOptions?: UrlEndpoints.RequestOptions,
  ): ImageKitPromise<UrlEndpointResponse> {
    return this._transport.request(
      () => ({ method: 'PUT', path: path`/v1/accounts/url-endpoints/${id}`, json: request }),
      requestOptions,
    );
  }

  /**
   * Deletes a URL endpoint (not the default one).
   *
   * @example
   * await client.accounts.urlEndpoints.delete('id');
   */
  delete(id: string, requestOptions?: UrlEndpoints.RequestOptions): ImageKitPromise<void> {
    return this._transport.request(
      () => ({ method: 'DELETE', path: path`/v1/accounts/url-endpoints/${id}`, responseType: 'void' }),
      requestOptions,
    );
  }
}

export declare namespace UrlEndpoints {
  export type RequestOptions = BaseRequestOptions;
}
