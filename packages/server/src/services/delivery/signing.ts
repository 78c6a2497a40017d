import { createHmac, timingSafeEqual } from 'node:crypto';
import { unauthorized } from '../../errors/index.js';
import type { QueryPair } from './request.js';

/**
 * ImageKit's signed URLs. The signer takes the full URL it built (query included, before the
 * signature parameters are appended), cuts out `<urlEndpoint>/`, appends the expiry timestamp
 * (`ik-t`, or 9999999999 when the URL never expires and so carries no `ik-t`), and sends
 * HMAC-SHA1 of that string, keyed with the private key, as lowercase hex in `ik-s`.
 *
 * The server rebuilds the same string from the request as received: the path after the URL
 * endpoint (still percent-encoded, the `tr:` segment included) and the query pairs other than
 * ik-s and ik-t, in their order.
 */

export const NEVER_EXPIRES = '9999999999';

/** `path?query` relative to an endpoint, without the signature parameters. */
export function signedPart(rawRelativePath: string, query: readonly QueryPair[]): string {
  const rest = query.filter((p) => p.name !== 'ik-s' && p.name !== 'ik-t').map((p) => p.raw);
  const path = rawRelativePath.replace(/^\/+/, '');
  return rest.length === 0 ? path : `${path}?${rest.join('&')}`;
}

export function signatureOf(privateKey: string, relative: string, expiry: string): string {
  return createHmac('sha1', privateKey).update(relative + expiry).digest('hex');
}

export interface SignatureCheck {
  signature: string | undefined;
  expiry: string | undefined;
  /** The signed part relative to each URL endpoint the client may have signed against. */
  candidates: readonly string[];
  privateKey: string;
  nowSeconds: number;
}

/**
 * 'absent' when the URL carries no signature; 'valid' when it verifies and has not expired.
 * A signature that does not verify, a malformed or past `ik-t`, or an `ik-t` without `ik-s` → 401.
 */
export function verifySignature(c: SignatureCheck): 'absent' | 'valid' {
  if (c.signature === undefined) {
    if (c.expiry !== undefined) throw unauthorized('The URL has an ik-t expiry but no ik-s signature.');
    return 'absent';
  }
  const expiry = c.expiry ?? NEVER_EXPIRES;
  if (!/^\d{1,12}$/.test(expiry)) throw unauthorized('The ik-t parameter of the signed URL is not a Unix timestamp.');
  if (Number(expiry) < c.nowSeconds) throw unauthorized('The signed URL has expired.');
  const given = Buffer.from(c.signature.toLowerCase(), 'utf8');
  for (const relative of c.candidates) {
    const want = Buffer.from(signatureOf(c.privateKey, relative, expiry), 'utf8');
    if (want.length === given.length && timingSafeEqual(want, given)) return 'valid';
  }
  throw unauthorized('The URL signature is not valid: the URL was changed after it was signed, or signed with another key.');
}
