import type { RequestOptions as BaseRequestOptions } from '../../core/request-options.js';
import type { ImageKitPromise } from '../../core/promise.js';
import { APIResource } from '../../core/resource.js';
import { pathTemplate as path } from '../../internal/path.js';
import type {
  CustomMetadataField,
  CustomMetadataFieldsCreateRequest,
  CustomMetadataFieldsListRequest,
  CustomMetadataFieldsUpdateRequest,
} from './types.js';

/** Definitions of the custom metadata fields that files can carry. */
export class CustomMetadataFields extends APIResource {
  /**
   * Lists the fields (deleted ones only with `includeDeleted`).
   *
   * @example
   * const fields = await client.customMetadataFields.list({ includeDeleted: true });
   */
  list(
    request: CustomMetadataFieldsListRequest = {},
    requestOptions?: CustomMetadataFields.RequestOptions,
  ): ImageKitPromise<CustomMetadataField[]> {
    return this._transport.request(
      {
        method: 'GET',
        path: '/v1/customMetadataFields',
        query: { includeDeleted: request.includeDeleted, folderPath: request.folderPath },
      },
      requestOptions,
    );
  }

  /**
   * Creates a field.
   *
   * @example
   * await client.customMetadataFields.create({
   *   name: 'price',
   *   label: 'Price',
   *   schema: { type: 'Number', minValue: 0, maxValue: 3000 },
   * });
   */
  create(
    request: CustomMetadataFieldsCreateRequest,
    requestOptions?: CustomMetadataFields.RequestOptions,
  ): ImageKitPromise<CustomMetadataField> {
    return this._transport.request({ method: 'POST', path: '/v1/customMetadataFields', json: request }, requestOptions);
  }

  /**
   * Changes a field's label or schema (not its name or type).
   *
   * @example
   * await client.customMetadataFields.update('id', { label: 'Price (EUR)' });
   */
  update(
    id: string,
    request: CustomMetadataFieldsUpdateRequest = {},
    requestOptions?: CustomMetadataFields.RequestOptions,
  ): ImageKitPromise<CustomMetadataField> {
    return this._transport.request(
      () => ({ method: 'PATCH', path: path`/v1/customMetadataFields/${id}`, json: request }),
      requestOptions,
    );
  }

  /**
   * Deletes a field. Its name stays reserved.
   *
   * @example
   * await client.customMetadataFields.delete('id');
   */
  delete(id: string, requestOptions?: CustomMetadataFields.RequestOptions): ImageKitPromise<Record<string, unknown>> {
    return this._transport.request(
      () => ({ method: 'DELETE', path: path`/v1/customMetadataFields/${id}`, responseType: 'object' }),
      requestOptions,
    );
  }
}

export declare namespace CustomMetadataFields {
  export type RequestOptions = BaseRequestOptions;
}
