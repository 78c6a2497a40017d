// Public surface of @tessera/sdk.
export { ImageKitClient, ImageKitEnvironment } from './client.js';
export type { ImageKitClientOptions, ImageKitEnvironmentUrls } from './client.js';
export * as ImageKit from './resources/namespace.js';
export {
  ImageKitError,
  ImageKitAPIError,
  BadRequestError,
  UnauthorizedError,
  ForbiddenError,
  NotFoundError,
  ConflictError,
  UnprocessableEntityError,
  LockedError,
  TooManyRequestsError,
  InternalServerError,
  ImageKitTimeoutError,
  ImageKitAbortError,
  ImageKitConnectionError,
} from './core/errors.js';
export type { RawResponse, RateLimitInfo, ImageKitErrorOptions } from './core/errors.js';
export { ImageKitPromise } from './core/promise.js';
export type { WithRawResponse } from './core/promise.js';
export type { RequestOptions, QueryParamValue, HeaderValues } from './core/request-options.js';
export type { Uploadable, StreamLike } from './core/uploads.js';
export type { FetchFunction } from './internal/transport.js';
export { Files } from './resources/files/client.js';
export { Bulk } from './resources/files/bulk/client.js';
export { Versions } from './resources/files/versions/client.js';
export { Metadata } from './resources/files/metadata/client.js';
export { CustomMetadataFields } from './resources/customMetadataFields/client.js';
export { Assets } from './resources/assets/client.js';
export { Folders } from './resources/folders/client.js';
export { Job } from './resources/folders/job/client.js';
export { Accounts } from './resources/accounts/client.js';
export { Usage } from './resources/accounts/usage/client.js';
export { Origins } from './resources/accounts/origins/client.js';
export { UrlEndpoints } from './resources/accounts/urlEndpoints/client.js';
export { Beta } from './resources/beta/client.js';
export { Cache } from './resources/cache/client.js';
export { Invalidation } from './resources/cache/invalidation/client.js';
export { VERSION } from './version.js';

// Hand-written helpers (URL builder, signing, upload auth, webhooks), maintained in ./lib.
export * from './lib/index.js';
