import type { UploadOptionsBase } from '../../../files/types.js';

/**
 * Upload API V2 request. Server-side, the client's private key authenticates it; client-side, pass a
 * `token`: a JWT signed with the private key over the whole payload (see the JWT helper).
 */
export interface FileUploadV2 extends UploadOptionsBase {
  token?: string;
}
