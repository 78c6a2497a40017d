// `ImageKit.files.*`: request types the reference names under the files namespace.
export type * from './types.js';
export type * from './bulk/types.js';
export type * from './metadata/types.js';
