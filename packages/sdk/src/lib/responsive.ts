import { buildSrc } from './url.js';
import type { GetImageAttributesOptions, ResponsiveImageAttributes } from './types.js';

const DEFAULT_DEVICE_BREAKPOINTS = [640, 750, 828, 1080, 1200, 1920, 2048, 3840];
const DEFAULT_IMAGE_BREAKPOINTS = [16, 32, 48, 64, 96, 128, 256, 384];

const ascending = (a: number, b: number): number => a - b;

/**
 * Builds `src`, `srcSet` and `sizes` for a responsive `<img>`, following the spec's
 * `GetImageAttributesOptions` semantics:
 * - `sizes` given → `w` descriptors over device + image breakpoints, dropping those narrower than
 *   the smallest `vw` share of the smallest device width;
 * - else `width` given → `1x` and `2x` candidates (the first breakpoints at least `width` and
 *   `2 × width` wide);
 * - else → `w` descriptors over the device breakpoints with `sizes: '100vw'`.
 * Each candidate appends a `{ width, crop: 'at_max' }` step so an image is never upscaled.
 *
 * @example
 * getResponsiveImageAttributes({ urlEndpoint: 'https://ik.imagekit.io/demo', src: '/a.jpg', width: 400 });
 * // → { src: '…/a.jpg?tr=c-at_max,w-828', srcSet: '…?tr=c-at_max,w-640 1x, …?tr=c-at_max,w-828 2x', width: 400 }
 */
export function getResponsiveImageAttributes(options: GetImageAttributesOptions): ResponsiveImageAttributes {
  const { width, sizes, deviceBreakpoints, imageBreakpoints, ...srcOptions } = options;
  const device = [...(deviceBreakpoints ?? DEFAULT_DEVICE_BREAKPOINTS)].sort(ascending);
  const all = [...new Set([...device, ...(imageBreakpoints ?? DEFAULT_IMAGE_BREAKPOINTS)])].sort(ascending);

  let candidates: number[];
  let descriptor: 'w' | 'x';
  if (sizes) {
    descriptor = 'w';
    const shares = [...sizes.matchAll(/(?:^|\s)(1?\d{1,2})vw/g)].map((m) => Number(m[1]));
    if (shares.length > 0 && device.length > 0) {
      const floor = (Math.min(...shares) / 100) * device[0]!;
      candidates = all.filter((bp) => bp >= floor);
    } else {
      candidates = all;
    }
  } else if (typeof width === 'number') {
    descriptor = 'x';
    const pick = (w: number): number => all.find((bp) => bp >= w) ?? all[all.length - 1] ?? w;
    candidates = [...new Set([pick(width), pick(width * 2)])];
  } else {
    descriptor = 'w';
    candidates = device;
  }

  const urlFor = (w: number): string =>
    buildSrc({ ...srcOptions, transformation: [...(srcOptions.transformation ?? []), { crop: 'at_max', width: w }] });

  const entries = candidates.map((w, i) => `${urlFor(w)} ${descriptor === 'w' ? `${w}w` : `${i + 1}x`}`);
  const largest = candidates[candidates.length - 1];
  const result: ResponsiveImageAttributes = {
    src: largest === undefined ? buildSrc(srcOptions) : urlFor(largest),
  };
  if (entries.length > 0) result.srcSet = entries.join(', ');
  const effectiveSizes = sizes ?? (descriptor === 'w' ? '100vw' : undefined);
  if (effectiveSizes !== undefined) result.sizes = effectiveSizes;
  if (width !== undefined) result.width = width;
  return result;
}
