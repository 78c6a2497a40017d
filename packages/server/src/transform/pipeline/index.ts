/**
 * A fixed, ordered list of sharp steps with limits and a timeout: renders parsed transformation
 * steps on an image.
 */
export { renderImage, type RenderInput, type RenderLimits, type RenderOptions, type RenderResult, type SourceFacts } from './render.js';
export { accepts, chooseFormat, MIME, type EncodedFormat } from './format.js';
export { planCrop, placeLayer, requestedSize, parseCustomCoordinates, type ResizePlan } from './geometry.js';
