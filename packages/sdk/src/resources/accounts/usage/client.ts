import type { RequestOptions as BaseRequestOptions } from '../../../core/request-options.js';
import type { ImageKitPromise } from '../../../core/promise.js';
import { APIResource } from '../../../core/resource.js';
import type { UsageGetRequest, UsageGetResponse } from './types.js';

/** Account usage. */
export class Usage extends APIResource {
  /**
   * Usage between two dates (start included, end excluded).
   *
   * @example
   * const usage = await client.accounts.usage.get({ startDate: '2024-01-01', endDate: '2024-02-01' });
   */
  get(request: UsageGetRequest, requestOptions?: Usage.RequestOptions): ImageKitPromise<UsageGetResponse> {
    return this._transport.request(
      { method: 'GET', path: '/v1/accounts/usage', query: { startDate: request.startDate, endDate: request.endDate } },
      requestOptions,
    );
  }
}

export declare namespace Usage {
  export type RequestOptions = BaseRequestOptions;
}
