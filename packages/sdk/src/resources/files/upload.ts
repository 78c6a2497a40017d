import { ImageKitError } from '../../core/errors.js';
import { buildMultipart, encodeUploadFields, inferFileName } from '../../core/uploads.js';
import type { RequestSpec } from '../../internal/transport.js';
import type { UploadOptionsBase } from './types.js';

/**
 * The request for either upload API. `clientSideAuth` is true when the request carries its own
 * credentials (V1 signature, V2 token): ImageKit refuses a request that also has a Basic header.
 */
export function uploadRequestSpec(path: string, request: UploadOptionsBase, clientSideAuth: boolean): RequestSpec {
  if (typeof request !== 'object' || request === null) throw new ImageKitError('upload() needs a request object');
  const { file, fileName, ...rest } = request;
  if (file === undefined || file === null) throw new ImageKitError('upload(): `file` is required');
  const name = fileName ?? inferFileName(file);
  if (name === undefined || name === '') {
    throw new ImageKitError('upload(): `fileName` is required when the file input does not carry a name');
  }
  const fields = encodeUploadFields({ fileName: name, ...rest });
  const multipart =
    typeof file === 'string'
      ? // A URL or base64 string is a plain field; the server fetches or decodes it.
        buildMultipart({ fields: [...fields, ['file', file]] })
      : buildMultipart({ fields, file: { name: 'file', fileName: name, data: file } });
  return { method: 'POST', path, host: 'upload', multipart, omitAuth: clientSideAuth };
}
