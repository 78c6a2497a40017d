import type { RequestOptions as BaseRequestOptions } from '../../../core/request-options.js';
import type { ImageKitPromise } from '../../../core/promise.js';
import { APIResource } from '../../../core/resource.js';
import { pathTemplate as path } from '../../../internal/path.js';
import type { JobGetResponse } from './types.js';

/** Status of folder copy/move/rename jobs. */
export class Job extends APIResource {
  /**
   * Status of a bulk job.
   *
   * @example
   * const { jobId } = await client.folders.copy({ sourceFolderPath: '/a', destinationPath: '/b' });
   * const { status } = await client.folders.job.get(jobId);
   */
  get(jobId: string, requestOptions?: Job.RequestOptions): ImageKitPromise<JobGetResponse> {
    return this._transport.request(() => ({ method: 'GET', path: path`/v1/bulkJobs/${jobId}` }), requestOptions);
  }
}

export declare namespace Job {
  export type RequestOptions = BaseRequestOptions;
}
