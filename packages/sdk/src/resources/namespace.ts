// Everything exported here is reachable as `ImageKit.<Name>`; the nested namespaces mirror the
// reference's qualified names (`ImageKit.files.BulkDeleteRequest`, `ImageKit.beta.v2.FileUploadV2` …).
export type * from './files/types.js';
export type * from './files/bulk/types.js';
export type * from './files/metadata/types.js';
export type * from './customMetadataFields/types.js';
export type * from './assets/types.js';
export type * from './folders/types.js';
export type * from './folders/job/types.js';
export type * from './accounts/usage/types.js';
export type * from './accounts/origins/types.js';
export type * from './accounts/urlEndpoints/types.js';
export type * from './cache/invalidation/types.js';
export type * from './beta/v2/files/types.js';
export type { Uploadable, StreamLike } from '../core/uploads.js';

export type * as files from './files/namespace.js';
export type * as accounts from './accounts/namespace.js';
export type * as cache from './cache/namespace.js';
export type * as beta from './beta/namespace.js';
