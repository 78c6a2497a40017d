import { badRequest } from '../../errors/index.js';
import type { OutputFormat } from '../parse/types.js';

/** Formats the pipeline writes. */
export type EncodedFormat = 'jpg' | 'png' | 'webp' | 'avif' | 'gif';

export const MIME: Readonly<Record<string, string>> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  tiff: 'image/tiff',
  heif: 'image/heif',
  jp2: 'image/jp2',
  jxl: 'image/jxl',
  bmp: 'image/bmp',
};

/** sharp's metadata format (+ compression for HEIF containers) → our format name. */
export function inputFormatName(format: string | undefined, compression?: string): string {
  if (format === 'jpeg') return 'jpg';
  if (format === 'heif') return compression === 'av1' ? 'avif' : 'heif';
  return format ?? 'unknown';
}

/**
 * Which media types the client accepts, honouring `q=0` as a refusal. Wildcards do not count:
 * browsers list image/avif and image/webp explicitly when they support them.
 */
export function accepts(accept: string | undefined, mime: string): boolean {
  if (!accept) return false;
  for (const part of accept.toLowerCase().split(',')) {
    const [type, ...params] = part.trim().split(';');
    if (type?.trim() !== mime) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q && Number(q.slice(2)) === 0) return false;
    return true;
  }
  return false;
}

/** A web format to keep when converting from the original is not asked for. */
function fromOriginal(input: string, hasAlpha: boolean): EncodedFormat {
  if (input === 'jpg' || input === 'png' || input === 'webp' || input === 'avif' || input === 'gif') return input;
  return hasAlpha ? 'png' : 'jpg';
}

export interface FormatChoice {
  format: EncodedFormat;
  /** The choice depended on the Accept header (responses must Vary: Accept). */
  negotiated: boolean;
}

/**
 * f-auto (and no f at all, ImageKit's default): AVIF if the client accepts it and AVIF is
 * enabled, else WebP if accepted, else the original's format. f-orig keeps the original's format.
 * GIF output needs a GIF original, as documented.
 */
export function chooseFormat(
  requested: OutputFormat | undefined,
  input: string,
  hasAlpha: boolean,
  accept: string | undefined,
  opts: { defaultFormat: 'auto' | 'orig'; avif: boolean },
): FormatChoice {
  const f = requested ?? opts.defaultFormat;
  switch (f) {
    case 'auto':
      if (opts.avif && accepts(accept, 'image/avif')) return { format: 'avif', negotiated: true };
      if (accepts(accept, 'image/webp')) return { format: 'webp', negotiated: true };
      return { format: fromOriginal(input, hasAlpha), negotiated: true };
    case 'orig':
      return { format: fromOriginal(input, hasAlpha), negotiated: false };
    case 'gif':
      if (input !== 'gif') throw badRequest('f-gif works only when the original image is a GIF.');
      return { format: 'gif', negotiated: false };
    case 'svg':
      throw badRequest('f-svg can only serve an SVG original; a raster image cannot be converted to SVG.');
    case 'mp4':
    case 'webm':
      throw badRequest(`f-${f} is a video format; images cannot be converted to video by Tessera.`);
    default:
      return { format: f, negotiated: false };
  }
}

export function supportsAlpha(f: EncodedFormat): boolean {
  return f !== 'jpg';
}

/** Largest side each encoder accepts. */
export const MAX_SIDE: Readonly<Record<EncodedFormat, number>> = {
  jpg: 65535,
  png: 2147483647,
  webp: 16383,
  avif: 65536,
  gif: 65535,
};
