import type { RequestOptions as BaseRequestOptions } from '../../../core/request-options.js';
import type { ImageKitPromise } from '../../../core/promise.js';
import { APIResource } from '../../../core/resource.js';
import { pathTemplate as path } from '../../../internal/path.js';
import type { Metadata as MetadataResult, MetadataGetFromUrlRequest } from './types.js';

/** EXIF, pHash and other technical metadata. */
export class Metadata extends APIResource {
  /**
   * Metadata of an uploaded file.
   *
   * @example
   * const { width, height, pHash } = await client.files.metadata.get('fileId');
   */
  get(fileId: string, requestOptions?: Metadata.RequestOptions): ImageKitPromise<MetadataResult> {
    return this._transport.request(() => ({ method: 'GET', path: path`/v1/files/${fileId}/metadata` }), requestOptions);
  }

  /**
   * Metadata of an image served through an ImageKit URL.
   *
   * @example
   * const meta = await client.files.metadata.getFromUrl({ url: 'https://ik.imagekit.io/demo/photo.jpg' });
   */
  getFromUrl(request: MetadataGetFromUrlRequest, requestOptions?: Metadata.RequestOptions): ImageKitPromise<MetadataResult> {
    return this._transport.request({ method: 'GET', path: '/v1/metadata', query: { url: request.url } }, requestOptions);
  }
}

export declare namespace Metadata {
  export type RequestOptions = BaseRequestOptions;
}
