import type { RequestOptions as BaseRequestOptions } from '../../core/request-options.js';
import type { ImageKitPromise } from '../../core/promise.js';
import { APIResource } from '../../core/resource.js';
import { pathTemplate as path } from '../../internal/path.js';
import type { Transport } from '../../internal/transport.js';
import { Bulk } from './bulk/client.js';
import { Metadata } from './metadata/client.js';
import type {
  FileDetails,
  FilesCopyRequest,
  FilesMoveRequest,
  FilesRenameRequest,
  FilesRenameResponse,
  FilesUpdateRequest,
  FilesUpdateResponse,
  FileUploadV1,
  Upload,
} from './types.js';
import { uploadRequestSpec } from './upload.js';
import { Versions } from './versions/client.js';

/** Files in the media library: upload, details, update, delete, copy, move, rename. */
export class Files extends APIResource {
  readonly bulk: Bulk;
  readonly versions: Versions;
  readonly metadata: Metadata;

  constructor(transport: Transport) {
    super(transport);
    this.bulk = new Bulk(transport);
    this.versions = new Versions(transport);
    this.metadata = new Metadata(transport);
  }

  /**
   * Uploads a file (Upload API V1). `file` may be bytes, a Blob/File, a stream (sent as a stream,
   * and then not retried), an http(s) URL or base64. Without a private key, pass the client-side
   * `publicKey`, `signature`, `expire` and `token`.
   *
   * @example
   * const uploaded = await client.files.upload({
   *   file: fs.createReadStream('/path/to/photo.jpg'),
   *   fileName: 'photo.jpg',
   *   folder: '/products/',
   *   tags: ['summer', 'sale'],
   * });
   */
  upload(request: FileUploadV1, requestOptions?: Files.RequestOptions): ImageKitPromise<Upload> {
    return this._transport.request(
      () => uploadRequestSpec('/api/v1/files/upload', request, request.signature !== undefined),
      requestOptions,
    );
  }

  /**
   * Details of the current version of a file.
   *
   * @example
   * const file = await client.files.get('fileId');
   * console.log(file.filePath, file.width, file.height);
   */
  get(fileId: string, requestOptions?: Files.RequestOptions): ImageKitPromise<FileDetails> {
    return this._transport.request(() => ({ method: 'GET', path: path`/v1/files/${fileId}/details` }), requestOptions);
  }

  /**
   * Updates tags, custom coordinates, custom metadata, AI tags, description or publication status,
   * and runs extensions.
   *
   * @example
   * await client.files.update('fileId', { tags: ['tag1'], customCoordinates: '10,10,100,100' });
   * await client.files.update('fileId', { publish: { isPublished: false } });
   */
  update(
    fileId: string,
    request: FilesUpdateRequest,
    requestOptions?: Files.RequestOptions,
  ): ImageKitPromise<FilesUpdateResponse> {
    return this._transport.request(
      () => ({ method: 'PATCH', path: path`/v1/files/${fileId}/details`, json: request }),
      requestOptions,
    );
  }

  /**
   * Deletes a file and all its versions. Cached CDN copies stay until purged.
   *
   * @example
   * await client.files.delete('fileId');
   */
  delete(fileId: string, requestOptions?: Files.RequestOptions): ImageKitPromise<void> {
    return this._transport.request(
      () => ({ method: 'DELETE', path: path`/v1/files/${fileId}`, responseType: 'void' }),
      requestOptions,
    );
  }

  /**
   * Copies a file into another folder.
   *
   * @example
   * await client.files.copy({ sourceFilePath: '/a/photo.jpg', destinationPath: '/b/' });
   */
  copy(request: FilesCopyRequest, requestOptions?: Files.RequestOptions): ImageKitPromise<Record<string, unknown>> {
    return this._transport.request(
      { method: 'POST', path: '/v1/files/copy', json: request, responseType: 'object' },
      requestOptions,
    );
  }

  /**
   * Moves a file and its versions into another folder.
   *
   * @example
   * await client.files.move({ sourceFilePath: '/a/photo.jpg', destinationPath: '/b/' });
   */
  move(request: FilesMoveRequest, requestOptions?: Files.RequestOptions): ImageKitPromise<Record<string, unknown>> {
    return this._transport.request(
      { method: 'POST', path: '/v1/files/move', json: request, responseType: 'object' },
      requestOptions,
    );
  }

  /**
   * Renames a file (all its versions). Old URLs stop working.
   *
   * @example
   * await client.files.rename({ filePath: '/a/photo.jpg', newFileName: 'cover.jpg', purgeCache: true });
   */
  rename(request: FilesRenameRequest, requestOptions?: Files.RequestOptions): ImageKitPromise<FilesRenameResponse> {
    return this._transport.request(
      { method: 'PUT', path: '/v1/files/rename', json: request, responseType: 'object' },
      requestOptions,
    );
  }
}

export declare namespace Files {
  export type RequestOptions = BaseRequestOptions;
}
