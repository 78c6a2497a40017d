import type { RequestOptions as BaseRequestOptions } from '../../../../core/request-options.js';
import type { ImageKitPromise } from '../../../../core/promise.js';
import { APIResource } from '../../../../core/resource.js';
import type { Upload } from '../../../files/types.js';
import { uploadRequestSpec } from '../../../files/upload.js';
import type { FileUploadV2 } from './types.js';

/** Upload API V2: the whole payload is verified through a JWT `token` on client-side uploads. */
export class Files extends APIResource {
  /**
   * Uploads a file (Upload API V2). Server-side, the private key authenticates it; client-side,
   * pass `token` (a JWT over the payload) and no private key.
   *
   * @example
   * const uploaded = await client.beta.v2.files.upload({
   *   file: fs.createReadStream('/path/to/photo.jpg'),
   *   fileName: 'photo.jpg',
   *   tags: ['v2'],
   * });
   */
  upload(request: FileUploadV2, requestOptions?: Files.RequestOptions): ImageKitPromise<Upload> {
    return this._transport.request(
      () => uploadRequestSpec('/api/v2/files/upload', request, request.token !== undefined),
      requestOptions,
    );
  }
}

export declare namespace Files {
  export type RequestOptions = BaseRequestOptions;
}
