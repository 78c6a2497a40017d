// `ImageKit.beta.v2.*`
export type * from './files/types.js';
