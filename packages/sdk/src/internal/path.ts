import { ImageKitError } from '../core/errors.js';

/**
 * Encodes one path parameter so it stays inside its segment: `/`, `?`, `#` and `%` are escaped, and
 * values that a URL parser would treat as a dot-segment are refused, because `..` (even as `%2e%2e`)
 * is collapsed by fetch and would silently hit another endpoint.
 */
export function encodePathParam(name: string, value: string): string {
  if (typeof value !== 'string') {
    throw new ImageKitError(`Path parameter ${name} must be a string, got ${value === null ? 'null' : typeof value}`);
  }
  if (value === '' || value === '.' || value === '..') {
    throw new ImageKitError(`Path parameter ${name} must not be ${value === '' ? 'empty' : `"${value}"`}`);
  }
  return encodeURIComponent(value);
}

/**
 * Tagged template for endpoint paths: every interpolated value is a path parameter.
 * `path\`/v1/files/${fileId}/details\``
 */
export function pathTemplate(strings: TemplateStringsArray, ...values: string[]): string {
  const template = strings.join('{…}');
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += encodePathParam(`${i + 1} of ${template}`, v) + (strings[i + 1] ?? '');
  });
  return out;
}

/** Joins a base URL (which may carry a path prefix) and an absolute endpoint path without dropping the prefix. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}
