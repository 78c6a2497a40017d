import { hmacAsync, toBase64Url, utf8 } from './crypto.js';

/**
 * Upload parameters a V2 token covers: every multipart field of the upload except `file` and
 * `token`. Typed after the spec's `FileUploadV2`; unknown names are allowed so a parameter added
 * by ImageKit later can still be signed.
 */
export interface UploadTokenPayload {
  fileName: string;
  useUniqueFileName?: boolean;
  tags?: string[];
  folder?: string;
  isPrivateFile?: boolean;
  isPublished?: boolean;
  customCoordinates?: string;
  responseFields?: string[];
  extensions?: ReadonlyArray<Record<string, unknown>>;
  webhookUrl?: string;
  overwriteFile?: boolean;
  overwriteAITags?: boolean;
  overwriteTags?: boolean;
  overwriteCustomMetadata?: boolean;
  customMetadata?: Record<string, unknown>;
  transformation?: { pre?: string; post?: ReadonlyArray<Record<string, unknown>> };
  checks?: string;
  description?: string;
  [parameter: string]: unknown;
}

/** Options of {@link createUploadToken}. */
export interface CreateUploadTokenOptions {
  /** Private API key: the HMAC-SHA256 secret. Server-side only. */
  privateKey: string;
  /** Public API key: goes in the JWT header as `kid`. */
  publicKey: string;
  /** The exact parameters the upload request will send (without `file` and `token`). */
  uploadPayload: UploadTokenPayload;
  /** Lifetime in seconds, 1 to 3600 (ImageKit's ceiling). Default 600. */
  expireSeconds?: number;
}

/** The decoded JWT header. */
export interface UploadTokenHeader {
  alg: 'HS256';
  typ: 'JWT';
  kid: string;
}

/** ImageKit refuses tokens that live longer than an hour. */
export const MAX_UPLOAD_TOKEN_SECONDS = 3600;
export const DEFAULT_UPLOAD_TOKEN_SECONDS = 600;

// Multipart fields that ImageKit reads as comma-separated lists rather than JSON.
const COMMA_LISTS = new Set(['tags', 'responseFields']);

/**
 * Serializes upload parameters to the strings a multipart upload sends: `tags` and
 * `responseFields` comma-joined, booleans and numbers as text, objects and other arrays as JSON;
 * `undefined` and `null` are left out. The V2 token must be minted over exactly these strings,
 * so the upload request should send the same output.
 *
 * @example
 * serializeUploadPayload({ fileName: 'a.jpg', tags: ['x', 'y'], isPrivateFile: false });
 * // → { fileName: 'a.jpg', tags: 'x,y', isPrivateFile: 'false' }
 */
export function serializeUploadPayload(payload: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') out[name] = value;
    else if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'bigint') out[name] = String(value);
    else if (Array.isArray(value) && COMMA_LISTS.has(name)) out[name] = value.map(String).join(',');
    else if (typeof value === 'object') out[name] = JSON.stringify(value);
    else throw new TypeError(`Upload parameter "${name}" cannot be serialized (${typeof value})`);
  }
  return out;
}

/**
 * Mints the JWT that authenticates a client-side V2 upload (`POST /api/v2/files/upload`): HS256
 * with the private key, header `{ alg: 'HS256', typ: 'JWT', kid: publicKey }`, payload = the
 * serialized upload parameters plus `iat` and `exp`. The browser then sends the same parameters,
 * the file and `token`. Uses Web Crypto, hence async; works in Node 18+, Deno, Bun and workers.
 *
 * @example
 * const token = await createUploadToken({
 *   privateKey: process.env.IMAGEKIT_PRIVATE_KEY!,
 *   publicKey: process.env.IMAGEKIT_PUBLIC_KEY!,
 *   uploadPayload: { fileName: 'dress.jpg', useUniqueFileName: false, tags: ['summer', 'dress'] },
 *   expireSeconds: 300,
 * });
 * // the client then posts fileName=dress.jpg, useUniqueFileName=false, tags=summer,dress, file, token
 */
export async function createUploadToken(options: CreateUploadTokenOptions): Promise<string> {
  const { privateKey, publicKey, uploadPayload } = options;
  const expireSeconds = options.expireSeconds ?? DEFAULT_UPLOAD_TOKEN_SECONDS;
  if (!privateKey) throw new TypeError('createUploadToken: `privateKey` is required');
  if (!publicKey) throw new TypeError('createUploadToken: `publicKey` is required');
  if (!uploadPayload || typeof uploadPayload !== 'object') {
    throw new TypeError('createUploadToken: `uploadPayload` must be an object of upload parameters');
  }
  if (!Number.isInteger(expireSeconds) || expireSeconds < 1 || expireSeconds > MAX_UPLOAD_TOKEN_SECONDS) {
    throw new RangeError(`createUploadToken: \`expireSeconds\` must be a whole number from 1 to ${MAX_UPLOAD_TOKEN_SECONDS}`);
  }
  for (const reserved of ['file', 'token'] as const) {
    if (reserved in uploadPayload) {
      throw new TypeError(`createUploadToken: \`${reserved}\` is not signed and must not be in \`uploadPayload\``);
    }
  }

  const iat = Math.floor(Date.now() / 1000);
  const header: UploadTokenHeader = { alg: 'HS256', typ: 'JWT', kid: publicKey };
  // Time claims last, so they win over same-named fields, which are not upload parameters anyway.
  const claims = { ...serializeUploadPayload(uploadPayload), iat, exp: iat + expireSeconds };
  const signingInput = `${toBase64Url(utf8(JSON.stringify(header)))}.${toBase64Url(utf8(JSON.stringify(claims)))}`;
  const signature = await hmacAsync('SHA-256', utf8(privateKey), utf8(signingInput));
  return `${signingInput}.${toBase64Url(signature)}`;
}
