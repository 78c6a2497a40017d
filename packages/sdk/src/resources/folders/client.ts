import type { RequestOptions as BaseRequestOptions } from '../../core/request-options.js';
import type { ImageKitPromise } from '../../core/promise.js';
import { APIResource } from '../../core/resource.js';
import type { Transport } from '../../internal/transport.js';
import { Job } from './job/client.js';
import type {
  FoldersCopyRequest,
  FoldersCopyResponse,
  FoldersCreateRequest,
  FoldersDeleteRequest,
  FoldersMoveRequest,
  FoldersMoveResponse,
  FoldersRenameRequest,
  FoldersRenameResponse,
} from './types.js';

/** Folders: create and delete directly; copy, move and rename run as bulk jobs. */
export class Folders extends APIResource {
  readonly job: Job;

  constructor(transport: Transport) {
    super(transport);
    this.job = new Job(transport);
  }

  /**
   * Creates a folder (and missing parents).
   *
   * @example
   * await client.folders.create({ folderName: 'summer', parentFolderPath: '/product/images/' });
   */
  create(request: FoldersCreateRequest, requestOptions?: Folders.RequestOptions): ImageKitPromise<Record<string, unknown>> {
    return this._transport.request(
      { method: 'POST', path: '/v1/folder', json: request, responseType: 'object' },
      requestOptions,
    );
  }

  /**
   * Deletes a folder and everything in it.
   *
   * @example
   * await client.folders.delete({ folderPath: '/product/images/summer' });
   */
  delete(request: FoldersDeleteRequest, requestOptions?: Folders.RequestOptions): ImageKitPromise<Record<string, unknown>> {
    return this._transport.request(
      { method: 'DELETE', path: '/v1/folder', json: request, responseType: 'object' },
      requestOptions,
    );
  }

  /**
   * Starts copying a folder into another; returns the job id.
   *
   * @example
   * const { jobId } = await client.folders.copy({ sourceFolderPath: '/a', destinationPath: '/b', includeVersions: true });
   */
  copy(request: FoldersCopyRequest, requestOptions?: Folders.RequestOptions): ImageKitPromise<FoldersCopyResponse> {
    return this._transport.request({ method: 'POST', path: '/v1/bulkJobs/copyFolder', json: request }, requestOptions);
  }

  /**
   * Starts moving a folder into another; returns the job id.
   *
   * @example
   * const { jobId } = await client.folders.move({ sourceFolderPath: '/a', destinationPath: '/b' });
   */
  move(request: FoldersMoveRequest, requestOptions?: Folders.RequestOptions): ImageKitPromise<FoldersMoveResponse> {
    return this._transport.request({ method: 'POST', path: '/v1/bulkJobs/moveFolder', json: request }, requestOptions);
  }

  /**
   * Starts renaming a folder; returns the job id.
   *
   * @example
   * const { jobId } = await client.folders.rename({ folderPath: '/a', newFolderName: 'b', purgeCache: false });
   */
  rename(request: FoldersRenameRequest, requestOptions?: Folders.RequestOptions): ImageKitPromise<FoldersRenameResponse> {
    return this._transport.request({ method: 'POST', path: '/v1/bulkJobs/renameFolder', json: request }, requestOptions);
  }
}

export declare namespace Folders {
  export type RequestOptions = BaseRequestOptions;
}
