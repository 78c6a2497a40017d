import { badRequest } from '../../errors/index.js';

/**
 * The parts of a delivery URL, read the way ImageKit documents them:
 * `<URL endpoint>/<tr:…>/<path>?tr=…&ik-obj-version=…&ik-t=…&ik-s=…`. The transformation segment
 * comes right after the endpoint; a `tr` query parameter is chained after it. Values stay
 * percent-encoded where the transformation parser wants them so (it decodes after splitting).
 */

export interface QueryPair {
  /** Decoded name. */
  name: string;
  /** The pair exactly as received (`name=value`), for signatures and cache keys. */
  raw: string;
  /** Raw (still encoded) value; '' when the pair has no `=`. */
  value: string;
}

export interface DeliveryUrl {
  /** Transformation as the parser takes it (path part, then query part, chained with `:`); '' for none. */
  tr: string;
  /** The transformation was written in the path (`/tr:…/`). */
  trInPath: boolean;
  /** Source path as received (percent-encoded), with a leading "/". */
  rawSourcePath: string;
  /** Decoded source path, with a leading "/". */
  sourcePath: string;
  versionId?: string;
  /** `ik-s`, lowercase hex as sent. */
  signature?: string;
  /** `ik-t`, as sent. */
  expiry?: string;
  /** Query pairs that are not ImageKit's own (tr, ik-*): part of the URL's identity for caching. */
  cacheQuery: string;
  query: QueryPair[];
}

/** Reserved query parameters that never distinguish cached bytes. */
const OWN_PARAMS = new Set(['tr', 'ik-s', 'ik-t', 'ik-obj-version']);

export function parseQuery(rawQuery: string): QueryPair[] {
  if (rawQuery === '') return [];
  const out: QueryPair[] = [];
  for (const raw of rawQuery.split('&')) {
    if (raw === '') continue;
    const eq = raw.indexOf('=');
    const rawName = eq === -1 ? raw : raw.slice(0, eq);
    out.push({ name: safeDecode(rawName.replace(/\+/g, ' ')), raw, value: eq === -1 ? '' : raw.slice(eq + 1) });
  }
  return out;
}

export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function decodePath(raw: string): string {
  // Nothing to decode (the common case): decodeURIComponent would return the same string, slower.
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw badRequest('The URL path is not valid percent-encoding.');
  }
}

/**
 * Splits what follows the URL endpoint (`/tr:w-100/folder/a.jpg`, raw) and the query into a
 * DeliveryUrl. Throws 400 on a path that is not valid percent-encoding.
 */
export function parseDeliveryUrl(rawRemaining: string, query: QueryPair[]): DeliveryUrl {
  let rest = rawRemaining.startsWith('/') ? rawRemaining : `/${rawRemaining}`;
  let pathTr = '';
  let trInPath = false;
  const second = rest.indexOf('/', 1);
  const first = second === -1 ? rest.slice(1) : rest.slice(1, second);
  if (first.startsWith('tr:') || first.startsWith('tr%3A') || first.startsWith('tr%3a')) {
    pathTr = first.startsWith('tr:') ? first.slice(3) : first.slice(5);
    trInPath = true;
    rest = second === -1 ? '/' : rest.slice(second);
  }
  let queryTr = '';
  let versionId: string | undefined;
  let signature: string | undefined;
  let expiry: string | undefined;
  const keep: string[] = [];
  for (const p of query) {
    switch (p.name) {
      case 'tr':
        queryTr = queryTr === '' ? p.value : `${queryTr}:${p.value}`;
        break;
      case 'ik-obj-version':
        versionId = safeDecode(p.value);
        break;
      case 'ik-s':
        signature = safeDecode(p.value);
        break;
      case 'ik-t':
        expiry = safeDecode(p.value);
        break;
      default:
        if (!OWN_PARAMS.has(p.name)) keep.push(p.raw);
    }
  }
  const tr = pathTr !== '' && queryTr !== '' ? `${pathTr}:${queryTr}` : pathTr || queryTr;
  const out: DeliveryUrl = {
    tr,
    trInPath,
    rawSourcePath: rest,
    sourcePath: decodePath(rest),
    cacheQuery: keep.join('&'),
    query,
  };
  if (versionId !== undefined) out.versionId = versionId;
  if (signature !== undefined) out.signature = signature;
  if (expiry !== undefined) out.expiry = expiry;
  return out;
}

/** True when every parameter of the transformation is a named transformation (`n-…`). */
export function onlyNamedTransformations(tr: string): boolean {
  if (tr === '') return false;
  return tr.split(/[,:]/).every((t) => t === '' || t.startsWith('n-'));
}
