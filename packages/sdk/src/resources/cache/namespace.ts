// `ImageKit.cache.*`
export type * from './invalidation/types.js';
