import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { errors as joseErrors, jwtVerify, decodeProtectedHeader } from 'jose';
import { badRequest, forbidden, unauthorized } from '../errors/index.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import { AUTH_FIELDS, type RawUploadFields } from './upload-params.js';

/**
 * Client-side upload authentication: V1 (publicKey + HMAC-SHA1 signature of token+expire) and
 * V2 (an HS256 JWT whose payload pins the upload parameters). Tokens are single-use forever:
 * they are recorded in the store, so a restart does not forget them.
 */

export interface UploadKeys {
  privateKey: string;
  publicKey: string;
}

const MAX_EXPIRE_AHEAD_S = 3600;
/** Clock skew tolerated between the signer and this server. */
const SKEW_S = 30;

function first(fields: RawUploadFields, name: string): string | undefined {
  const v = fields[name];
  return v && v.length > 0 ? v[0] : undefined;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export class UploadAuthService {
  constructor(
    private readonly keys: UploadKeys,
    private readonly store: MetadataStore,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Decides whether an upload may proceed. `hasPrivateKey` means the request carried a valid
   * private-key Authorization header (checked earlier).
   */
  async authorize(version: 1 | 2, fields: RawUploadFields, hasPrivateKey: boolean): Promise<void> {
    if (version === 1) {
      const clientSide = ['signature', 'expire', 'token', 'publicKey'].some((k) => first(fields, k) !== undefined);
      if (hasPrivateKey && first(fields, 'signature') !== undefined) {
        throw badRequest(
          'Your request contains both signature and basic auth parameter. Use only one method, you might be exposing your private API key.',
        );
      }
      if (hasPrivateKey) return;
      if (!clientSide) throw unauthorized('Your request does not contain private API key.');
      await this.verifyV1(fields);
      return;
    }
    const token = first(fields, 'token');
    if (hasPrivateKey && token !== undefined) {
      throw badRequest(
        'Your request contains both token and basic auth parameter. Use only one method, you might be exposing your private API key.',
      );
    }
    if (hasPrivateKey) return;
    if (token === undefined) throw badRequest('Your request is missing token parameter.');
    await this.verifyV2(token, fields);
  }

  private async verifyV1(fields: RawUploadFields): Promise<void> {
    const publicKey = first(fields, 'publicKey');
    const signature = first(fields, 'signature');
    const expireRaw = first(fields, 'expire');
    const token = first(fields, 'token');
    if (!publicKey) throw badRequest('Your request is missing publicKey parameter.');
    if (!signature) throw badRequest('Your request is missing signature parameter.');
    if (!expireRaw) throw badRequest('Your request is missing expire parameter.');
    if (!token) throw badRequest('Your request is missing token parameter.');
    if (!safeEqual(publicKey, this.keys.publicKey)) throw forbidden('Your account cannot be authenticated.');

    const nowS = Math.floor(this.clock() / 1000);
    const expire = /^\d{1,12}$/.test(expireRaw.trim()) ? Number(expireRaw.trim()) : NaN;
    if (!Number.isFinite(expire) || expire <= nowS || expire > nowS + MAX_EXPIRE_AHEAD_S + SKEW_S) {
      throw badRequest(
        'Your request contains invalid expire parameter. Expire parameter should be a Unix time in less than 1 hour into the future.',
      );
    }
    const expected = createHmac('sha1', this.keys.privateKey).update(token + expireRaw).digest('hex');
    if (!safeEqual(signature.toLowerCase(), expected)) {
      throw forbidden('Your request contains an invalid signature. It must be HMAC-SHA1(token + expire) with your private key, in lowercase hex.');
    }
    await this.consume(`v1:${token}`, expire);
  }

  private async verifyV2(token: string, fields: RawUploadFields): Promise<void> {
    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      kid = typeof header.kid === 'string' ? header.kid : undefined;
      if (header.alg !== 'HS256') throw new Error('alg');
    } catch {
      throw badRequest('Your request has invalid token.');
    }
    if (kid === undefined || !safeEqual(kid, this.keys.publicKey)) throw forbidden('Your account cannot be authenticated.');

    let payload: Record<string, unknown>;
    try {
      const res = await jwtVerify(token, new TextEncoder().encode(this.keys.privateKey), {
        algorithms: ['HS256'],
        currentDate: new Date(this.clock()),
        clockTolerance: SKEW_S,
      });
      payload = res.payload as Record<string, unknown>;
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) throw badRequest('Your request contains expired token.');
      throw badRequest('Your request has invalid token.');
    }
    const nowS = Math.floor(this.clock() / 1000);
    const exp = payload.exp;
    if (typeof exp !== 'number') throw badRequest('Your request has invalid token. The token must carry an exp claim.');
    if (exp > nowS + MAX_EXPIRE_AHEAD_S + SKEW_S) {
      throw badRequest('Your request has invalid token. A token may be valid for at most 1 hour.');
    }

    // The payload must pin exactly the parameters sent: nothing added, removed or changed.
    const mismatch = () =>
      badRequest('Your request contains invalid payload. It does not match with the payload used to generate token.');
    const claims = Object.keys(payload).filter((k) => !['iat', 'exp', 'nbf'].includes(k));
    const sent = Object.keys(fields).filter((k) => !AUTH_FIELDS.has(k));
    if (claims.length !== sent.length) throw mismatch();
    for (const key of sent) {
      if (!(key in payload)) throw mismatch();
      const want = payload[key];
      const wantStr = typeof want === 'string' ? want : JSON.stringify(want);
      const got = fields[key]!;
      if (got.length !== 1 || got[0] !== wantStr) throw mismatch();
    }
    const digest = createHash('sha256').update(token).digest('hex');
    await this.consume(`v2:${digest}`, exp);
  }

  private async consume(key: string, expireS: number): Promise<void> {
    const ok = await this.store.repo.consumeUploadToken(
      key,
      new Date(expireS * 1000 + SKEW_S * 1000).toISOString(),
      new Date(this.clock()).toISOString(),
    );
    if (!ok) {
      throw badRequest('Your request contains a token that has been used before. Generate a new token for every upload.');
    }
  }
}
