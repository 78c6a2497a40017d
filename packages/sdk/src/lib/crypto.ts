/**
 * Byte, encoding and HMAC primitives for the helpers.
 *
 * Two HMAC paths exist on purpose:
 * - `hmacAsync` uses Web Crypto (`globalThis.crypto.subtle`), which is native and vetted, but only
 *   asynchronous. The JWT minter and the webhook helpers use it.
 * - `hmacSync` is a small SHA-1 / SHA-256 written from FIPS 180-4. `buildSrc` and
 *   `getAuthenticationParameters` are synchronous in the official SDKs (people call them inline in
 *   templates), and Web Crypto has no synchronous API, so they need it. It is also the fallback when
 *   `crypto.subtle` is missing (browser pages served over plain http, Node 18 without the global).
 * Both are cross-checked against node:crypto in the tests.
 *
 * @internal Not part of the public API; exported for the other helper modules and tests.
 */

export type HashName = 'SHA-1' | 'SHA-256';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_LOOKUP: Record<string, number> = {};
for (let i = 0; i < B64.length; i++) B64_LOOKUP[B64.charAt(i)] = i;
// Accept the URL-safe alphabet when decoding too, so one decoder serves both.
B64_LOOKUP['-'] = 62;
B64_LOOKUP['_'] = 63;

/** Standard base64 (RFC 4648 §4) with padding. */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] ?? 0;
    const b = bytes[i + 1] ?? 0;
    const c = bytes[i + 2] ?? 0;
    const n = (a << 16) | (b << 8) | c;
    out += B64.charAt((n >> 18) & 63) + B64.charAt((n >> 12) & 63);
    out += i + 1 < bytes.length ? B64.charAt((n >> 6) & 63) : '=';
    out += i + 2 < bytes.length ? B64.charAt(n & 63) : '=';
  }
  return out;
}

/** base64url (RFC 4648 §5) without padding, as JWTs use. */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes base64 or base64url, padded or not. Throws on characters outside both alphabets. */
export function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  if (clean.length % 4 === 1) throw new Error('Invalid base64 length');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const ch of clean) {
    const v = B64_LOOKUP[ch];
    if (v === undefined) throw new Error(`Invalid base64 character ${JSON.stringify(ch)}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** Compares two byte arrays in time independent of where they differ. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

// ---------------------------------------------------------------------------------------------
// Synchronous SHA-1 / SHA-256 (FIPS 180-4)
// ---------------------------------------------------------------------------------------------

/** Appends the 0x80 byte, zeros and the 64-bit big-endian bit length (both hashes pad alike). */
function pad(message: Uint8Array): DataView {
  const len = message.length;
  const total = Math.ceil((len + 9) / 64) * 64;
  const out = new Uint8Array(total);
  out.set(message);
  out[len] = 0x80;
  const view = new DataView(out.buffer);
  // Bit length split in two words; a single 32-bit shift would overflow past 512 MiB.
  view.setUint32(total - 8, Math.floor(len / 0x20000000));
  view.setUint32(total - 4, (len * 8) >>> 0);
  return view;
}

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));
const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));

function wordsToBytes(words: Uint32Array): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w));
  return out;
}

export function sha1(message: Uint8Array): Uint8Array {
  const view = pad(message);
  const h = new Uint32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]);
  const w = new Uint32Array(80);
  for (let block = 0; block < view.byteLength; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + t * 4);
    for (let t = 16; t < 80; t++) w[t] = rotl(w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!, 1);
    let a = h[0]!;
    let b = h[1]!;
    let c = h[2]!;
    let d = h[3]!;
    let e = h[4]!;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const next = (rotl(a, 5) + f + e + k + w[t]!) >>> 0;
      e = d;
      d = c;
      c = rotl(b, 30) >>> 0;
      b = a;
      a = next;
    }
    // Uint32Array stores modulo 2^32, which is exactly the addition the standard asks for.
    h[0] = h[0]! + a;
    h[1] = h[1]! + b;
    h[2] = h[2]! + c;
    h[3] = h[3]! + d;
    h[4] = h[4]! + e;
  }
  return wordsToBytes(h);
}

function firstPrimes(count: number): number[] {
  const primes: number[] = [];
  for (let n = 2; primes.length < count; n++) {
    if (primes.every((p) => n % p !== 0)) primes.push(n);
  }
  return primes;
}

// The constants are the fractional parts of square and cube roots of the first primes; deriving
// them avoids a 64-entry table transcribed by hand (the tests pin the resulting digests).
const frac32 = (x: number): number => Math.floor((x - Math.floor(x)) * 0x100000000) >>> 0;
const PRIMES = firstPrimes(64);
const SHA256_K = new Uint32Array(PRIMES.map((p) => frac32(Math.cbrt(p))));
const SHA256_H0 = new Uint32Array(PRIMES.slice(0, 8).map((p) => frac32(Math.sqrt(p))));

export function sha256(message: Uint8Array): Uint8Array {
  const view = pad(message);
  const h = new Uint32Array(SHA256_H0);
  const w = new Uint32Array(64);
  for (let block = 0; block < view.byteLength; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + t * 4);
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15]!;
      const y = w[t - 2]!;
      const s0 = rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3);
      const s1 = rotr(y, 17) ^ rotr(y, 19) ^ (y >>> 10);
      w[t] = w[t - 16]! + s0 + w[t - 7]! + s1;
    }
    let a = h[0]!;
    let b = h[1]!;
    let c = h[2]!;
    let d = h[3]!;
    let e = h[4]!;
    let f = h[5]!;
    let g = h[6]!;
    let hh = h[7]!;
    for (let t = 0; t < 64; t++) {
      const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + SHA256_K[t]! + w[t]!) >>> 0;
      const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] = h[0]! + a;
    h[1] = h[1]! + b;
    h[2] = h[2]! + c;
    h[3] = h[3]! + d;
    h[4] = h[4]! + e;
    h[5] = h[5]! + f;
    h[6] = h[6]! + g;
    h[7] = h[7]! + hh;
  }
  return wordsToBytes(h);
}

/** HMAC (RFC 2104) over the synchronous hashes; both have a 64-byte block. */
export function hmacSync(hash: HashName, key: Uint8Array, message: Uint8Array): Uint8Array {
  const digest = hash === 'SHA-1' ? sha1 : sha256;
  const block = new Uint8Array(64);
  block.set(key.length > 64 ? digest(key) : key);
  const inner = new Uint8Array(64 + message.length);
  const outer = new Uint8Array(64 + (hash === 'SHA-1' ? 20 : 32));
  for (let i = 0; i < 64; i++) {
    inner[i] = block[i]! ^ 0x36;
    outer[i] = block[i]! ^ 0x5c;
  }
  inner.set(message, 64);
  outer.set(digest(inner), 64);
  return digest(outer);
}

// ---------------------------------------------------------------------------------------------
// Web Crypto
// ---------------------------------------------------------------------------------------------

/** The slice of Web Crypto we touch, typed locally so the code does not depend on lib "dom". */
interface SubtleLike {
  importKey(
    format: 'raw',
    keyData: Uint8Array,
    algorithm: { name: 'HMAC'; hash: HashName },
    extractable: boolean,
    usages: ReadonlyArray<'sign'>,
  ): Promise<unknown>;
  sign(algorithm: 'HMAC', key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
}

interface CryptoLike {
  subtle?: SubtleLike;
  getRandomValues?<T extends Uint8Array>(array: T): T;
  randomUUID?(): string;
}

function webCrypto(): CryptoLike | undefined {
  return (globalThis as { crypto?: CryptoLike }).crypto;
}

/** HMAC through Web Crypto, falling back to the synchronous implementation where `subtle` is absent. */
export async function hmacAsync(hash: HashName, key: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const subtle = webCrypto()?.subtle;
  if (!subtle) return hmacSync(hash, key, message);
  const cryptoKey = await subtle.importKey('raw', key, { name: 'HMAC', hash }, false, ['sign']);
  return new Uint8Array(await subtle.sign('HMAC', cryptoKey, message));
}

/**
 * A random RFC 4122 version-4 UUID. Uses `crypto.randomUUID` / `getRandomValues` when present; the
 * Math.random fallback (old runtimes only) is acceptable because the upload token it feeds is a
 * public nonce whose only job is to be unique, the signature carries the secret.
 */
export function randomUuid(): string {
  const c = webCrypto();
  if (c?.randomUUID) return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = toHex(bytes);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
