import { hmacSync, toHex, utf8 } from './crypto.js';
import { buildTransformationString } from './transformation.js';
import type { SrcOptions } from './types.js';

/** ImageKit's "never expires" timestamp: signed URLs without an expiry are signed with it and carry no `ik-t`. */
export const DEFAULT_SIGNATURE_EXPIRY = 9999999999;

// Stands in for the transformation while the URL object normalises the path: it is made of
// characters the path encoder leaves alone, so it survives as-is and is swapped afterwards.
// The real string goes in unencoded on purpose: `w-300,h-200` reads better than `w-300%2Ch-200`.
const TRANSFORMATION_MARKER = 'tessera-transformation-marker';

/** Appends `pair` to a URL that has no fragment, with the right separator. */
function appendQuery(url: string, pair: string): string {
  if (url.endsWith('?') || url.endsWith('&')) return url + pair;
  return url + (url.includes('?') ? '&' : '?') + pair;
}

/** Seconds-from-now → Unix expiry, or the "never" timestamp when no positive whole number is given. */
function expiryTimestamp(seconds: number | undefined): number {
  const whole = typeof seconds === 'number' ? Math.trunc(seconds) : 0;
  if (!(whole > 0)) return DEFAULT_SIGNATURE_EXPIRY;
  return Math.floor(Date.now() / 1000) + whole;
}

/**
 * ImageKit's URL signature: HMAC-SHA1, keyed with the private key, over the URL with
 * `urlEndpoint/` cut out, followed by the expiry timestamp; lowercase hex.
 *
 * @example
 * signUrl('https://ik.imagekit.io/demo/tr:w-100/a.jpg', 'https://ik.imagekit.io/demo', 'private_…', 9999999999);
 */
export function signUrl(url: string, urlEndpoint: string, privateKey: string, expiry: number): string {
  const prefix = urlEndpoint.endsWith('/') ? urlEndpoint : `${urlEndpoint}/`;
  const at = url.indexOf(prefix);
  const relative = at === -1 ? url : url.slice(0, at) + url.slice(at + prefix.length);
  return toHex(hmacSync('SHA-1', utf8(privateKey), utf8(relative + String(expiry))));
}

/**
 * Builds a delivery URL: endpoint + path, the transformation string (`?tr=…` by default, or a
 * `tr:…` path segment with `transformationPosition: 'path'`), extra query parameters and,
 * when asked, ImageKit's signature (`ik-t` expiry, `ik-s` HMAC-SHA1).
 *
 * Synchronous like the official SDKs' `buildSrc`, so it can be called inline in templates; signing
 * uses a bundled SHA-1 for that reason (Web Crypto is async only). It returns '' when `src` is empty
 * or the URL cannot be parsed, as the official helper does, and throws when signing is asked
 * for without `privateKey` (the official helper would emit an empty `ik-s`).
 *
 * @example
 * buildSrc({ urlEndpoint: 'https://ik.imagekit.io/demo', src: '/photo.jpg', transformation: [{ width: 400 }] });
 * // → 'https://ik.imagekit.io/demo/photo.jpg?tr=w-400'
 *
 * buildSrc({
 *   urlEndpoint: 'https://ik.imagekit.io/demo', src: '/photo.jpg',
 *   transformation: [{ width: 400 }], transformationPosition: 'path',
 *   signed: true, expiresIn: 300, privateKey: process.env.IMAGEKIT_PRIVATE_KEY,
 * });
 * // → 'https://ik.imagekit.io/demo/tr:w-400/photo.jpg?ik-t=1700000300&ik-s=…'
 */
export function buildSrc(options: SrcOptions): string {
  const src = options.src || '';
  const urlEndpoint = options.urlEndpoint || '';
  if (!src) return '';

  const isAbsolute = src.startsWith('http://') || src.startsWith('https://');
  let url: URL;
  try {
    url = new URL(isAbsolute ? src : urlEndpoint);
  } catch {
    return '';
  }

  const transformation = buildTransformationString(options.transformation);
  // An absolute URL's path is not ours to rewrite, so its transformation always goes in the query.
  const inQuery = isAbsolute || options.transformationPosition !== 'path';

  for (const [name, value] of Object.entries(options.queryParameters ?? {})) {
    if (value !== undefined && value !== null) url.searchParams.append(name, String(value));
  }

  if (!isAbsolute) {
    const segments = [url.pathname];
    if (transformation && !inQuery) segments.push(`tr:${TRANSFORMATION_MARKER}`);
    segments.push(src);
    url.pathname = segments.join('/').replace(/\/+/g, '/');
  }

  // Fragments never reach the server: keep it out of the query and the signature, re-attach last.
  const fragment = url.hash;
  url.hash = '';
  let result = url.href;
  if (transformation) {
    result = inQuery
      ? appendQuery(result, `tr=${transformation}`)
      : result.replace(TRANSFORMATION_MARKER, () => transformation);
  }

  const expiresIn = options.expiresIn ?? options.expireSeconds;
  const sign = options.signed === true || (typeof expiresIn === 'number' && expiresIn > 0);
  if (!sign) return result + fragment;

  if (!options.privateKey) throw new TypeError('buildSrc: `privateKey` is required to sign a URL');
  if (!urlEndpoint) throw new TypeError('buildSrc: `urlEndpoint` is required to sign a URL');
  const expiry = expiryTimestamp(expiresIn);
  const signature = signUrl(result, urlEndpoint, options.privateKey, expiry);
  const params = expiry === DEFAULT_SIGNATURE_EXPIRY ? `ik-s=${signature}` : `ik-t=${expiry}&ik-s=${signature}`;
  return appendQuery(result, params) + fragment;
}
