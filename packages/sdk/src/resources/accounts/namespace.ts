// `ImageKit.accounts.*`
export type * from './usage/types.js';
export type * from './origins/types.js';
export type * from './urlEndpoints/types.js';
