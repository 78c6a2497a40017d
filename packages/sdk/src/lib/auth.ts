import { hmacSync, randomUuid, toHex, utf8 } from './crypto.js';

/** What a browser needs, next to the public key, to call the V1 upload API without the private key. */
export interface AuthenticationParameters {
  /** A unique nonce; ImageKit refuses a token it has seen before. */
  token: string;
  /** Unix time (seconds) after which the signature is refused; at most one hour ahead. */
  expire: number;
  /** `HMAC-SHA1(privateKey, token + expire)`, lowercase hex. */
  signature: string;
}

/** How far ahead the default expiry is set, as the official SDKs do: 30 minutes. */
export const DEFAULT_AUTH_EXPIRY_SECONDS = 30 * 60;

/**
 * Signs client-side (V1) upload parameters on your server: the browser sends `token`, `expire` and
 * `signature` with the upload instead of the private key.
 *
 * `token` defaults to a random UUID and `expire` (a Unix timestamp in seconds, not a duration) to
 * 30 minutes from now; empty values take the defaults, as in the official SDK. Synchronous like the
 * official helper, so the bundled SHA-1 is used rather than async Web Crypto.
 *
 * @example
 * // In a server route that authenticated the user:
 * const { token, expire, signature } = getAuthenticationParameters(process.env.IMAGEKIT_PRIVATE_KEY!);
 * res.json({ token, expire, signature, publicKey: process.env.IMAGEKIT_PUBLIC_KEY });
 */
export function getAuthenticationParameters(privateKey: string, token?: string, expire?: number): AuthenticationParameters {
  if (!privateKey) throw new TypeError('getAuthenticationParameters: `privateKey` is required');
  const finalToken = token || randomUuid();
  const finalExpire = expire || Math.floor(Date.now() / 1000) + DEFAULT_AUTH_EXPIRY_SECONDS;
  const signature = toHex(hmacSync('SHA-1', utf8(privateKey), utf8(finalToken + String(finalExpire))));
  return { token: finalToken, expire: finalExpire, signature };
}
