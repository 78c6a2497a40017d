import type { RequestOptions as BaseRequestOptions } from '../../../core/request-options.js';
import type { ImageKitPromise } from '../../../core/promise.js';
import { APIResource } from '../../../core/resource.js';
import { pathTemplate as path } from '../../../internal/path.js';
import type { FileDetails } from '../types.js';

/** The version history of a file. */
export class Versions extends APIResource {
  /**
   * Lists every version of a file, the current one included.
   *
   * @example
   * const versions = await client.files.versions.list('fileId');
   */
  list(fileId: string, requestOptions?: Versions.RequestOptions): ImageKitPromise<FileDetails[]> {
    return this._transport.request(() => ({ method: 'GET', path: path`/v1/files/${fileId}/versions` }), requestOptions);
  }

  /**
   * Details of one version.
   *
   * @example
   * const v = await client.files.versions.get('fileId', 'versionId');
   */
  get(fileId: string, versionId: string, requestOptions?: Versions.RequestOptions): ImageKitPromise<FileDetails> {
    return this._transport.request(
      () => ({ method: 'GET', path: path`/v1/files/${fileId}/versions/${versionId}` }),
      requestOptions,
    );
  }

  /**
   * Deletes a non-current version permanently.
   *
   * @example
   * await client.files.versions.delete('fileId', 'versionId');
   */
  delete(
    fileId: string,
    versionId: string,
    requestOptions?: Versions.RequestOptions,
  ): ImageKitPromise<Record<string, unknown>> {
    return this._transport.request(
      () => ({ method: 'DELETE', path: path`/v1/files/${fileId}/versions/${versionId}`, responseType: 'object' }),
      requestOptions,
    );
  }

  /**
   * Makes a version the current one.
   *
   * @example
   * const current = await client.files.versions.restore('fileId', 'versionId');
   */
  restore(fileId: string, versionId: string, requestOptions?: Versions.RequestOptions): ImageKitPromise<FileDetails> {
    return this._transport.request(
      () => ({ method: 'PUT', path: path`/v1/files/${fileId}/versions/${versionId}/restore` }),
      requestOptions,
    );
  }
}

export declare namespace Versions {
  export type RequestOptions = BaseRequestOptions;
}
