// `ImageKit.beta.*`
export type * as v2 from './v2/namespace.js';
