import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Settings are resolved once (option ?? env TESSERA_* ?? default), validated, then frozen.
 * A bad value stops the server at start with one clear line (ConfigError).
 */
export interface RateLimitConfig {
  /** Requests allowed per key in one interval. */
  readonly limit: number;
  readonly intervalMs: number;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly publicUrl: string;
  readonly privateKey: string;
  readonly publicKey: string;
  /** True when the keys were generated on this start (printed once). */
  readonly keysGenerated: boolean;
  readonly imagekitId: string;
  readonly maxUploadBytes: number;
  /** URL uploads may fetch loopback/private addresses (tests, trusted LANs). */
  readonly allowPrivateUrls: boolean;
  /** How long a URL upload waits for response headers. */
  readonly urlFetchHeaderTimeoutMs: number;
  readonly rateLimit: RateLimitConfig | null;
  readonly logLevel: string;
}

export type ConfigInput = Partial<{
  port: number | string;
  host: string;
  dataDir: string;
  publicUrl: string;
  privateKey: string;
  publicKey: string;
  imagekitId: string;
  maxUploadBytes: number | string;
  allowPrivateUrls: boolean | string;
  urlFetchHeaderTimeoutMs: number | string;
  rateLimit: string;
  logLevel: string;
}>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The environment variable behind each option. */
export const ENV_NAMES: Record<keyof ConfigInput, string> = {
  port: 'TESSERA_PORT',
  host: 'TESSERA_HOST',
  dataDir: 'TESSERA_DATA_DIR',
  publicUrl: 'TESSERA_PUBLIC_URL',
  privateKey: 'TESSERA_PRIVATE_KEY',
  publicKey: 'TESSERA_PUBLIC_KEY',
  imagekitId: 'TESSERA_IMAGEKIT_ID',
  maxUploadBytes: 'TESSERA_MAX_UPLOAD_BYTES',
  allowPrivateUrls: 'TESSERA_ALLOW_PRIVATE_URLS',
  urlFetchHeaderTimeoutMs: 'TESSERA_URL_FETCH_HEADER_TIMEOUT_MS',
  rateLimit: 'TESSERA_RATE_LIMIT',
  logLevel: 'TESSERA_LOG_LEVEL',
};

/** First path segments the API itself uses, so they cannot name the URL endpoint. */
const RESERVED_IDS = new Set(['v1', 'v2', 'api', 'healthz', 'docs']);

const DEFAULT_MAX_UPLOAD = 2 * 1024 * 1024 * 1024;

function pick(input: ConfigInput, env: NodeJS.ProcessEnv, key: keyof ConfigInput): string | undefined {
  const v = input[key];
  if (v !== undefined && v !== null && v !== '') return String(v);
  const e = env[ENV_NAMES[key]];
  return e === undefined || e === '' ? undefined : e;
}

function int(name: string, raw: string | undefined, dflt: number, min: number, max: number): number {
  if (raw === undefined) return dflt;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(name: string, raw: string | undefined, dflt: boolean): boolean {
  if (raw === undefined) return dflt;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** Byte sizes: "1048576", "512mb", "2gb". */
export function parseByteSize(name: string, raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?\s*$/i.exec(raw);
  if (!m) throw new ConfigError(`${name} must be a size like 104857600 or 100mb, got "${raw}"`);
  const mult: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };
  const n = Math.floor(Number(m[1]) * mult[(m[2] ?? 'b').toLowerCase()]!);
  if (n < 1) throw new ConfigError(`${name} must be at least 1 byte`);
  return n;
}

/** "100/60s", "10/1s", "1000/1m": requests per interval, per API key. */
function parseRateLimit(raw: string | undefined): RateLimitConfig | null {
  if (raw === undefined || raw.trim().toLowerCase() === 'off') return null;
  const m = /^\s*(\d+)\s*\/\s*(\d+)?\s*(ms|s|m|h)\s*$/.exec(raw);
  if (!m) throw new ConfigError(`TESSERA_RATE_LIMIT must look like "100/60s" (requests/interval) or "off", got "${raw}"`);
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const limit = Number(m[1]);
  const intervalMs = Number(m[2] ?? '1') * unit[m[3]!]!;
  if (limit < 1 || intervalMs < 1) throw new ConfigError('TESSERA_RATE_LIMIT needs a positive limit and interval');
  return { limit, intervalMs };
}

interface StoredKeys {
  privateKey: string;
  publicKey: string;
}

function loadOrCreateKeys(dataDir: string): { keys: StoredKeys; generated: boolean } {
  const file = join(dataDir, 'keys.json');
  if (existsSync(file)) {
    try {
      const k = JSON.parse(readFileSync(file, 'utf8')) as Partial<StoredKeys>;
      if (typeof k.privateKey === 'string' && typeof k.publicKey === 'string') {
        return { keys: { privateKey: k.privateKey, publicKey: k.publicKey }, generated: false };
      }
    } catch {
      /* fall through: regenerate is wrong here, so fail loudly */
    }
    throw new ConfigError(`${file} is not valid; fix or remove it`);
  }
  const keys = {
    privateKey: `private_${randomBytes(21).toString('base64url')}`,
    publicKey: `public_${randomBytes(21).toString('base64url')}`,
  };
  writeFileSync(file, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600 });
  return { keys, generated: true };
}

export function resolveConfig(input: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const port = int('TESSERA_PORT', pick(input, env, 'port'), 8080, 0, 65535);
  const host = pick(input, env, 'host') ?? '0.0.0.0';
  const dataDir = resolve(pick(input, env, 'dataDir') ?? './data');
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (e) {
    throw new ConfigError(`TESSERA_DATA_DIR ${dataDir} cannot be created: ${(e as Error).message}`);
  }

  const rawPublicUrl = pick(input, env, 'publicUrl') ?? `http://localhost:${port}`;
  let publicUrl: string;
  try {
    const u = new URL(rawPublicUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
    publicUrl = u.toString().replace(/\/+$/, '');
  } catch {
    throw new ConfigError(`TESSERA_PUBLIC_URL must be an http(s) URL, got "${rawPublicUrl}"`);
  }

  const givenPrivate = pick(input, env, 'privateKey');
  const givenPublic = pick(input, env, 'publicKey');
  if ((givenPrivate === undefined) !== (givenPublic === undefined)) {
    throw new ConfigError('set both TESSERA_PRIVATE_KEY and TESSERA_PUBLIC_KEY, or neither (then they are generated)');
  }
  let keys: StoredKeys;
  let keysGenerated = false;
  if (givenPrivate !== undefined && givenPublic !== undefined) {
    keys = { privateKey: givenPrivate, publicKey: givenPublic };
  } else {
    const loaded = loadOrCreateKeys(dataDir);
    keys = loaded.keys;
    keysGenerated = loaded.generated;
  }
  if (keys.privateKey.includes(':')) throw new ConfigError('TESSERA_PRIVATE_KEY must not contain ":"');

  const imagekitId = pick(input, env, 'imagekitId') ?? 'tessera';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(imagekitId)) {
    throw new ConfigError(`TESSERA_IMAGEKIT_ID must be 1-64 letters, digits, "_" or "-", got "${imagekitId}"`);
  }
  if (RESERVED_IDS.has(imagekitId.toLowerCase())) {
    throw new ConfigError(`TESSERA_IMAGEKIT_ID "${imagekitId}" collides with an API path; choose another`);
  }

  const rawMax = pick(input, env, 'maxUploadBytes');
  const maxUploadBytes = rawMax === undefined ? DEFAULT_MAX_UPLOAD : parseByteSize('TESSERA_MAX_UPLOAD_BYTES', rawMax);

  return Object.freeze({
    port,
    host,
    dataDir,
    publicUrl,
    privateKey: keys.privateKey,
    publicKey: keys.publicKey,
    keysGenerated,
    imagekitId,
    maxUploadBytes,
    allowPrivateUrls: bool('TESSERA_ALLOW_PRIVATE_URLS', pick(input, env, 'allowPrivateUrls'), false),
    urlFetchHeaderTimeoutMs: int(
      'TESSERA_URL_FETCH_HEADER_TIMEOUT_MS',
      pick(input, env, 'urlFetchHeaderTimeoutMs'),
      8000,
      1,
      600_000,
    ),
    rateLimit: parseRateLimit(pick(input, env, 'rateLimit')),
    logLevel: pick(input, env, 'logLevel') ?? 'info',
  });
}
