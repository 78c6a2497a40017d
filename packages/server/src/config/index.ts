import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
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
  /**
   * Processes serving the port (node:cluster): 1 serves from this process; more start a primary
   * that forks that many workers, so requests use every core. On SQLite they share the file and
   * pass purges and rate-limit counts through the primary; on PostgreSQL each is a node.
   */
  readonly workers: number;
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
  /** Background jobs (folder copy/move/rename): see JobsConfig. */
  readonly jobs: JobsConfig;
  /** URL delivery: the variant cache, the transform cap and the pipeline's limits. */
  readonly delivery: DeliveryConfig;
  /** Extension providers; a provider left unset makes its extension fail with a clear message. */
  readonly extensions: ExtensionsConfig;
  /** Outbound webhooks: the account-wide endpoint and the signing secret. */
  readonly webhooks: WebhooksConfig;
  /** Where rows live: the embedded SQLite file, or a shared PostgreSQL. */
  readonly database: DatabaseConfig;
  /** Where file bytes live: the data dir, or a shared S3-compatible bucket. */
  readonly blobs: BlobsConfig;
}

/**
 * `sqlite`: <data dir>/tessera.db, one process. `postgres`: a shared database, so any number of
 * identical nodes can serve the same library (TESSERA_DATABASE_URL=postgres://…).
 */
export type DatabaseConfig =
  | { readonly kind: 'sqlite' }
  | {
      readonly kind: 'postgres';
      readonly url: string;
      /** Connections this node's pool may open. */
      readonly poolMax: number;
    };

/**
 * `local`: <data dir>/blobs. `s3`: a bucket on AWS S3 or any S3-compatible server (MinIO, R2 …).
 * Credentials left unset fall back to the standard AWS chain (AWS_ACCESS_KEY_ID, profiles, roles).
 */
export type BlobsConfig =
  | { readonly kind: 'local' }
  | {
      readonly kind: 's3';
      readonly bucket: string;
      /** Custom endpoint for S3-compatible servers; null: AWS's own for the region. */
      readonly endpoint: string | null;
      /** null: the AWS chain decides (AWS_REGION …), else us-east-1. */
      readonly region: string | null;
      readonly accessKeyId: string | null;
      readonly secretAccessKey: string | null;
      /** Path-style addressing (bucket in the path): MinIO and most self-hosted servers need it. */
      readonly forcePathStyle: boolean;
      /** Key prefix inside the bucket, '' or ending in '/'; lets several deployments share one bucket. */
      readonly prefix: string;
    };

export interface ExtensionsConfig {
  /** How long one provider call may take. */
  readonly timeoutMs: number;
  /** google-auto-tagging: Cloud Vision images:annotate, with an API key or an OAuth access token. */
  readonly googleVision: { readonly endpoint: string; readonly apiKey: string | null; readonly accessToken: string | null } | null;
  /** aws-auto-tagging: Rekognition DetectLabels, SigV4-signed. */
  readonly awsRekognition: {
    readonly region: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken: string | null;
    readonly endpoint: string;
  } | null;
  /** ai-auto-description and ai-tasks: an OpenAI-compatible chat completions endpoint. */
  readonly openai: { readonly baseUrl: string; readonly apiKey: string | null; readonly model: string } | null;
  /** remove-bg: a remove.bg-compatible HTTP API. */
  readonly removeBg: { readonly endpoint: string; readonly apiKey: string | null } | null;
}

export interface WebhooksConfig {
  /** Account-wide endpoint that receives the file events; null sends them nowhere. */
  readonly url: string | null;
  /** Standard Webhooks signing secret, as the receiver passes it to the SDK's `webhooks.unwrap`. */
  readonly secret: string;
  /** True when the secret was generated on this start (kept in <data dir>/webhook-secret). */
  readonly secretGenerated: boolean;
  /** How long a receiver has to answer one delivery (ImageKit: 30 s). */
  readonly timeoutMs: number;
  /**
   * Failed deliveries are retried with doubling delays from firstDelayMs up to maxDelayMs for as
   * long as the next attempt still falls within windowMs of the first (ImageKit: up to 24 hours).
   */
  readonly retry: { readonly firstDelayMs: number; readonly maxDelayMs: number; readonly windowMs: number };
}

export interface JobsConfig {
  /** Files per batch transaction of a folder job. */
  readonly batchSize: number;
  /** How long a claimed job stays locked to its worker without a heartbeat; a dead worker's job is retaken after it. */
  readonly leaseMs: number;
  /** How often an idle runner looks for due jobs (retries, abandoned leases). */
  readonly pollMs: number;
  /**
   * Jobs one process runs at once, so a slow webhook or extension call does not hold up folder
   * jobs. Default 4 on PostgreSQL; 2 on SQLite, whose steps take turns on its one writer anyway.
   */
  readonly concurrency: number;
}

export interface DeliveryConfig {
  /** Bytes the delivery cache (variants, originals fetched from origins) may use on disk; 0 stores nothing. */
  readonly cacheMaxBytes: number;
  /** Bytes of small hot cache entries also kept in memory; 0 turns the memory tier off. */
  readonly cacheMemoryBytes: number;
  /** Transforms running at once; each sharp pipeline uses one libvips thread. */
  readonly maxConcurrentTransforms: number;
  /** Transforms waiting for a slot; past this a request is refused with 503 and Retry-After. */
  readonly transformQueue: number;
  /** Wall-clock budget of one transform (503 past it). */
  readonly transformTimeoutMs: number;
  /** Largest decoded input (width × height) transformed; larger images (decompression bombs) → 400. */
  readonly maxInputPixels: number;
  /** Largest output (width × height) any step may produce → 400 past it. */
  readonly maxOutputPixels: number;
  /** Whether f-auto (and no f) may answer AVIF to clients that accept it. */
  readonly autoAvif: boolean;
  /** Named transformations (`n-<name>`) by name, beside the built-in ones. */
  readonly namedTransformations: Readonly<Record<string, string>>;
}

export type ConfigInput = Partial<{
  port: number | string;
  host: string;
  workers: number | string;
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
  jobBatchSize: number | string;
  jobLeaseMs: number | string;
  jobPollMs: number | string;
  jobConcurrency: number | string;
  cacheMaxBytes: number | string;
  cacheMemoryBytes: number | string;
  maxConcurrentTransforms: number | string;
  transformQueue: number | string;
  transformTimeoutMs: number | string;
  maxInputPixels: number | string;
  maxOutputPixels: number | string;
  autoAvif: boolean | string;
  namedTransformations: string;
  extensionTimeoutMs: number | string;
  googleVisionApiKey: string;
  googleVisionAccessToken: string;
  googleVisionEndpoint: string;
  awsRekognitionRegion: string;
  awsRekognitionAccessKeyId: string;
  awsRekognitionSecretAccessKey: string;
  awsRekognitionSessionToken: string;
  awsRekognitionEndpoint: string;
  openaiApiKey: string;
  openaiBaseUrl: string;
  openaiModel: string;
  removeBgApiKey: string;
  removeBgEndpoint: string;
  webhookUrl: string;
  webhookSecret: string;
  webhookTimeoutMs: number | string;
  webhookRetryFirstMs: number | string;
  webhookRetryMaxMs: number | string;
  webhookRetryWindowMs: number | string;
  databaseUrl: string;
  databasePoolMax: number | string;
  s3Bucket: string;
  s3Endpoint: string;
  s3Region: string;
  s3AccessKeyId: string;
  s3SecretAccessKey: string;
  s3ForcePathStyle: boolean | string;
  s3Prefix: string;
}>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The environment variable behind each option. */
export const ENV_NAMES: Record<keyof ConfigInput, string> = {
  port: 'TESSERA_PORT',
  host: 'TESSERA_HOST',
  workers: 'TESSERA_WORKERS',
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
  jobBatchSize: 'TESSERA_JOB_BATCH_SIZE',
  jobLeaseMs: 'TESSERA_JOB_LEASE_MS',
  jobPollMs: 'TESSERA_JOB_POLL_MS',
  jobConcurrency: 'TESSERA_JOB_CONCURRENCY',
  cacheMaxBytes: 'TESSERA_CACHE_MAX_BYTES',
  cacheMemoryBytes: 'TESSERA_CACHE_MEMORY_BYTES',
  maxConcurrentTransforms: 'TESSERA_MAX_CONCURRENT_TRANSFORMS',
  transformQueue: 'TESSERA_TRANSFORM_QUEUE',
  transformTimeoutMs: 'TESSERA_TRANSFORM_TIMEOUT_MS',
  maxInputPixels: 'TESSERA_MAX_INPUT_PIXELS',
  maxOutputPixels: 'TESSERA_MAX_OUTPUT_PIXELS',
  autoAvif: 'TESSERA_AUTO_AVIF',
  namedTransformations: 'TESSERA_NAMED_TRANSFORMATIONS',
  extensionTimeoutMs: 'TESSERA_EXTENSION_TIMEOUT_MS',
  googleVisionApiKey: 'TESSERA_GOOGLE_VISION_API_KEY',
  googleVisionAccessToken: 'TESSERA_GOOGLE_VISION_ACCESS_TOKEN',
  googleVisionEndpoint: 'TESSERA_GOOGLE_VISION_ENDPOINT',
  awsRekognitionRegion: 'TESSERA_AWS_REKOGNITION_REGION',
  awsRekognitionAccessKeyId: 'TESSERA_AWS_REKOGNITION_ACCESS_KEY_ID',
  awsRekognitionSecretAccessKey: 'TESSERA_AWS_REKOGNITION_SECRET_ACCESS_KEY',
  awsRekognitionSessionToken: 'TESSERA_AWS_REKOGNITION_SESSION_TOKEN',
  awsRekognitionEndpoint: 'TESSERA_AWS_REKOGNITION_ENDPOINT',
  openaiApiKey: 'TESSERA_OPENAI_API_KEY',
  openaiBaseUrl: 'TESSERA_OPENAI_BASE_URL',
  openaiModel: 'TESSERA_OPENAI_MODEL',
  removeBgApiKey: 'TESSERA_REMOVE_BG_API_KEY',
  removeBgEndpoint: 'TESSERA_REMOVE_BG_ENDPOINT',
  webhookUrl: 'TESSERA_WEBHOOK_URL',
  webhookSecret: 'TESSERA_WEBHOOK_SECRET',
  webhookTimeoutMs: 'TESSERA_WEBHOOK_TIMEOUT_MS',
  webhookRetryFirstMs: 'TESSERA_WEBHOOK_RETRY_FIRST_MS',
  webhookRetryMaxMs: 'TESSERA_WEBHOOK_RETRY_MAX_MS',
  webhookRetryWindowMs: 'TESSERA_WEBHOOK_RETRY_WINDOW_MS',
  databaseUrl: 'TESSERA_DATABASE_URL',
  databasePoolMax: 'TESSERA_DATABASE_POOL_MAX',
  s3Bucket: 'TESSERA_S3_BUCKET',
  s3Endpoint: 'TESSERA_S3_ENDPOINT',
  s3Region: 'TESSERA_S3_REGION',
  s3AccessKeyId: 'TESSERA_S3_ACCESS_KEY_ID',
  s3SecretAccessKey: 'TESSERA_S3_SECRET_ACCESS_KEY',
  s3ForcePathStyle: 'TESSERA_S3_FORCE_PATH_STYLE',
  s3Prefix: 'TESSERA_S3_PREFIX',
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

function httpUrl(name: string, raw: string): string {
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
    return u.toString();
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  }
}

/** Provider settings: each provider is on when its credentials (or, for keyless servers, its endpoint) are set. */
function resolveExtensions(input: ConfigInput, env: NodeJS.ProcessEnv): ExtensionsConfig {
  const get = (k: keyof ConfigInput) => pick(input, env, k)?.trim() || undefined;

  const gKey = get('googleVisionApiKey');
  const gToken = get('googleVisionAccessToken');
  const gEndpoint = get('googleVisionEndpoint');
  if (gKey && gToken) throw new ConfigError('set TESSERA_GOOGLE_VISION_API_KEY or TESSERA_GOOGLE_VISION_ACCESS_TOKEN, not both');
  if (gEndpoint && !gKey && !gToken) {
    throw new ConfigError('TESSERA_GOOGLE_VISION_ENDPOINT is set but neither TESSERA_GOOGLE_VISION_API_KEY nor TESSERA_GOOGLE_VISION_ACCESS_TOKEN is');
  }
  const googleVision =
    gKey || gToken
      ? Object.freeze({
          endpoint: httpUrl('TESSERA_GOOGLE_VISION_ENDPOINT', gEndpoint ?? 'https://vision.googleapis.com/v1/images:annotate'),
          apiKey: gKey ?? null,
          accessToken: gToken ?? null,
        })
      : null;

  const aRegion = get('awsRekognitionRegion');
  const aId = get('awsRekognitionAccessKeyId');
  const aSecret = get('awsRekognitionSecretAccessKey');
  const aToken = get('awsRekognitionSessionToken');
  const aEndpoint = get('awsRekognitionEndpoint');
  let awsRekognition: ExtensionsConfig['awsRekognition'] = null;
  if (aId || aSecret || aRegion || aToken || aEndpoint) {
    if (!aId || !aSecret) {
      throw new ConfigError('AWS Rekognition needs both TESSERA_AWS_REKOGNITION_ACCESS_KEY_ID and TESSERA_AWS_REKOGNITION_SECRET_ACCESS_KEY');
    }
    if (!aRegion) throw new ConfigError('AWS Rekognition needs TESSERA_AWS_REKOGNITION_REGION (e.g. us-east-1)');
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(aRegion)) throw new ConfigError(`TESSERA_AWS_REKOGNITION_REGION must look like us-east-1, got "${aRegion}"`);
    awsRekognition = Object.freeze({
      region: aRegion,
      accessKeyId: aId,
      secretAccessKey: aSecret,
      sessionToken: aToken ?? null,
      endpoint: httpUrl('TESSERA_AWS_REKOGNITION_ENDPOINT', aEndpoint ?? `https://rekognition.${aRegion}.amazonaws.com/`),
    });
  }

  const oKey = get('openaiApiKey');
  const oBase = get('openaiBaseUrl');
  const oModel = get('openaiModel');
  // A local OpenAI-compatible server may need no key: setting its base URL is enough.
  const openai =
    oKey || oBase
      ? Object.freeze({
          baseUrl: httpUrl('TESSERA_OPENAI_BASE_URL', oBase ?? 'https://api.openai.com/v1').replace(/\/+$/, ''),
          apiKey: oKey ?? null,
          model: oModel ?? 'gpt-4o-mini',
        })
      : null;
  if (oModel && !openai) throw new ConfigError('TESSERA_OPENAI_MODEL is set but neither TESSERA_OPENAI_API_KEY nor TESSERA_OPENAI_BASE_URL is');

  const rKey = get('removeBgApiKey');
  const rEndpoint = get('removeBgEndpoint');
  const removeBg =
    rKey || rEndpoint
      ? Object.freeze({ endpoint: httpUrl('TESSERA_REMOVE_BG_ENDPOINT', rEndpoint ?? 'https://api.remove.bg/v1.0/removebg'), apiKey: rKey ?? null })
      : null;

  return Object.freeze({
    timeoutMs: int('TESSERA_EXTENSION_TIMEOUT_MS', pick(input, env, 'extensionTimeoutMs'), 60_000, 100, 600_000),
    googleVision,
    awsRekognition,
    openai,
    removeBg,
  });
}

/** The webhook signing secret: as set, or generated once and kept in the data dir. */
function resolveWebhooks(input: ConfigInput, env: NodeJS.ProcessEnv, dataDir: string): WebhooksConfig {
  const rawUrl = pick(input, env, 'webhookUrl')?.trim();
  const url = rawUrl ? httpUrl('TESSERA_WEBHOOK_URL', rawUrl) : null;
  let secret = pick(input, env, 'webhookSecret');
  let secretGenerated = false;
  if (secret !== undefined) {
    if (/\s/.test(secret) || secret.length < 8) throw new ConfigError('TESSERA_WEBHOOK_SECRET must be at least 8 characters with no spaces');
  } else {
    const file = join(dataDir, 'webhook-secret');
    if (existsSync(file)) {
      secret = readFileSync(file, 'utf8').trim();
      if (secret.length < 8 || /\s/.test(secret)) throw new ConfigError(`${file} is not valid; fix or remove it`);
    } else {
      secret = `whsec_${randomBytes(24).toString('base64')}`;
      writeFileSync(file, secret + '\n', { mode: 0o600 });
      secretGenerated = true;
    }
  }
  return Object.freeze({
    url,
    secret,
    secretGenerated,
    timeoutMs: int('TESSERA_WEBHOOK_TIMEOUT_MS', pick(input, env, 'webhookTimeoutMs'), 30_000, 100, 120_000),
    retry: resolveWebhookRetry(input, env),
  });
}

/** ImageKit retries a failed webhook "for a maximum of 24 hours in spaced intervals". */
function resolveWebhookRetry(input: ConfigInput, env: NodeJS.ProcessEnv): WebhooksConfig['retry'] {
  const firstDelayMs = int('TESSERA_WEBHOOK_RETRY_FIRST_MS', pick(input, env, 'webhookRetryFirstMs'), 60_000, 10, 86_400_000);
  const maxDelayMs = int('TESSERA_WEBHOOK_RETRY_MAX_MS', pick(input, env, 'webhookRetryMaxMs'), 4 * 3_600_000, 10, 7 * 86_400_000);
  const windowMs = int('TESSERA_WEBHOOK_RETRY_WINDOW_MS', pick(input, env, 'webhookRetryWindowMs'), 86_400_000, 0, 30 * 86_400_000);
  if (maxDelayMs < firstDelayMs) throw new ConfigError('TESSERA_WEBHOOK_RETRY_MAX_MS must be at least TESSERA_WEBHOOK_RETRY_FIRST_MS');
  return Object.freeze({ firstDelayMs, maxDelayMs, windowMs });
}

function resolveDatabase(input: ConfigInput, env: NodeJS.ProcessEnv): DatabaseConfig {
  const raw = pick(input, env, 'databaseUrl')?.trim();
  const poolRaw = pick(input, env, 'databasePoolMax');
  if (raw === undefined || raw === '' || raw.toLowerCase() === 'sqlite') {
    if (poolRaw !== undefined) throw new ConfigError('TESSERA_DATABASE_POOL_MAX only applies with TESSERA_DATABASE_URL=postgres://…');
    return Object.freeze({ kind: 'sqlite' as const });
  }
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError('TESSERA_DATABASE_URL must be a postgres://user@host:port/database URL');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new ConfigError(`TESSERA_DATABASE_URL must start with postgres:// (or be unset for the embedded SQLite store), got "${u.protocol}//…"`);
  }
  if (!u.hostname && !u.searchParams.get('host')) throw new ConfigError('TESSERA_DATABASE_URL needs a host');
  return Object.freeze({
    kind: 'postgres' as const,
    url: raw,
    poolMax: int('TESSERA_DATABASE_POOL_MAX', poolRaw, 10, 1, 1000),
  });
}

function resolveBlobs(input: ConfigInput, env: NodeJS.ProcessEnv): BlobsConfig {
  const get = (k: keyof ConfigInput) => pick(input, env, k)?.trim() || undefined;
  const bucket = get('s3Bucket');
  const others = (['s3Endpoint', 's3Region', 's3AccessKeyId', 's3SecretAccessKey', 's3ForcePathStyle', 's3Prefix'] as const).filter((k) => get(k));
  if (!bucket) {
    if (others.length > 0) throw new ConfigError(`${ENV_NAMES[others[0]!]} is set but TESSERA_S3_BUCKET is not`);
    return Object.freeze({ kind: 'local' as const });
  }
  // S3's bucket naming rules (lowercase, digits, dots, hyphens; 3-63); R2 and MinIO follow them.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(`TESSERA_S3_BUCKET must be a bucket name (3-63 lowercase letters, digits, "." or "-"), got "${bucket}"`);
  }
  const accessKeyId = get('s3AccessKeyId') ?? null;
  const secretAccessKey = get('s3SecretAccessKey') ?? null;
  if ((accessKeyId === null) !== (secretAccessKey === null)) {
    throw new ConfigError('set both TESSERA_S3_ACCESS_KEY_ID and TESSERA_S3_SECRET_ACCESS_KEY, or neither (then the AWS credential chain is used)');
  }
  const endpointRaw = get('s3Endpoint');
  const region = get('s3Region') ?? null;
  if (region !== null && !/^[a-z0-9-]{2,40}$/.test(region)) throw new ConfigError(`TESSERA_S3_REGION must look like us-east-1 (or "auto" for R2), got "${region}"`);
  let prefix = get('s3Prefix') ?? '';
  if (prefix !== '') {
    prefix = prefix.replace(/^\/+/, '');
    if (!prefix.endsWith('/')) prefix += '/';
    if (prefix.split('/').some((seg, i, all) => (seg === '' && i < all.length - 1) || seg === '.' || seg === '..')) {
      throw new ConfigError(`TESSERA_S3_PREFIX must be a plain key prefix like "tessera/", got "${get('s3Prefix')}"`);
    }
  }
  return Object.freeze({
    kind: 's3' as const,
    bucket,
    endpoint: endpointRaw ? httpUrl('TESSERA_S3_ENDPOINT', endpointRaw).replace(/\/+$/, '') : null,
    region,
    accessKeyId,
    secretAccessKey,
    forcePathStyle: bool('TESSERA_S3_FORCE_PATH_STYLE', pick(input, env, 's3ForcePathStyle'), false),
    prefix,
  });
}

/** A byte size where 0 is allowed (it switches the feature off). */
function sizeOrZero(name: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined) return dflt;
  if (/^\s*0+\s*(b|kb|mb|gb|tb)?\s*$/i.test(raw)) return 0;
  return parseByteSize(name, raw);
}

const NAMED_TRANSFORMATION_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

function parseNamedTransformations(raw: string | undefined): Readonly<Record<string, string>> {
  if (raw === undefined) return Object.freeze({});
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new ConfigError('TESSERA_NAMED_TRANSFORMATIONS must be a JSON object like {"thumb":"w-200,h-200"}');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ConfigError('TESSERA_NAMED_TRANSFORMATIONS must be a JSON object of name → transformation string');
  }
  const out: Record<string, string> = {};
  for (const [name, tr] of Object.entries(v as Record<string, unknown>)) {
    if (!NAMED_TRANSFORMATION_NAME.test(name)) {
      throw new ConfigError(`TESSERA_NAMED_TRANSFORMATIONS: "${name}" is not a valid name (letters, digits, "_", "-", ".")`);
    }
    if (typeof tr !== 'string' || tr.trim() === '') {
      throw new ConfigError(`TESSERA_NAMED_TRANSFORMATIONS: the value of "${name}" must be a transformation string`);
    }
    out[name] = tr.trim();
  }
  return Object.freeze(out);
}

function resolveDelivery(input: ConfigInput, env: NodeJS.ProcessEnv): DeliveryConfig {
  // One libvips thread per pipeline here, and a pipeline waits on file reads part of the time: four
  // side by side (libuv's default thread pool) keep two cores busy; more cores get one each.
  const cpus = Math.max(4, availableParallelism());
  return Object.freeze({
    cacheMaxBytes: sizeOrZero('TESSERA_CACHE_MAX_BYTES', pick(input, env, 'cacheMaxBytes'), 2 * 1024 ** 3),
    cacheMemoryBytes: sizeOrZero('TESSERA_CACHE_MEMORY_BYTES', pick(input, env, 'cacheMemoryBytes'), 64 * 1024 ** 2),
    maxConcurrentTransforms: int('TESSERA_MAX_CONCURRENT_TRANSFORMS', pick(input, env, 'maxConcurrentTransforms'), cpus, 1, 256),
    transformQueue: int('TESSERA_TRANSFORM_QUEUE', pick(input, env, 'transformQueue'), 64, 0, 100_000),
    transformTimeoutMs: int('TESSERA_TRANSFORM_TIMEOUT_MS', pick(input, env, 'transformTimeoutMs'), 30_000, 100, 600_000),
    maxInputPixels: int('TESSERA_MAX_INPUT_PIXELS', pick(input, env, 'maxInputPixels'), 100_000_000, 1, 1_000_000_000),
    maxOutputPixels: int('TESSERA_MAX_OUTPUT_PIXELS', pick(input, env, 'maxOutputPixels'), 50_000_000, 1, 1_000_000_000),
    autoAvif: bool('TESSERA_AUTO_AVIF', pick(input, env, 'autoAvif'), false),
    namedTransformations: parseNamedTransformations(pick(input, env, 'namedTransformations')),
  });
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

  const database = resolveDatabase(input, env);
  const blobs = resolveBlobs(input, env);
  const givenPrivate = pick(input, env, 'privateKey');
  const givenPublic = pick(input, env, 'publicKey');
  if ((givenPrivate === undefined) !== (givenPublic === undefined)) {
    throw new ConfigError('set both TESSERA_PRIVATE_KEY and TESSERA_PUBLIC_KEY, or neither (then they are generated)');
  }
  // Keys and the webhook secret generated into one node's data dir would differ from node to node.
  if (database.kind === 'postgres' && givenPrivate === undefined) {
    throw new ConfigError('with TESSERA_DATABASE_URL every node must share the keys: set TESSERA_PRIVATE_KEY and TESSERA_PUBLIC_KEY');
  }
  if (database.kind === 'postgres' && pick(input, env, 'webhookSecret') === undefined) {
    throw new ConfigError('with TESSERA_DATABASE_URL every node must sign webhooks alike: set TESSERA_WEBHOOK_SECRET');
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

  const rawWorkers = pick(input, env, 'workers');
  if (rawWorkers !== undefined && !/^\s*(\d+|auto)\s*$/i.test(rawWorkers)) {
    throw new ConfigError(`TESSERA_WORKERS must be a whole number or "auto", got "${rawWorkers}"`);
  }
  const workers = rawWorkers?.trim().toLowerCase() === 'auto' ? availableParallelism() : int('TESSERA_WORKERS', rawWorkers, 1, 1, 64);

  return Object.freeze({
    port,
    host,
    workers,
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
    jobs: Object.freeze({
      batchSize: int('TESSERA_JOB_BATCH_SIZE', pick(input, env, 'jobBatchSize'), 500, 1, 10_000),
      leaseMs: int('TESSERA_JOB_LEASE_MS', pick(input, env, 'jobLeaseMs'), 30_000, 200, 3_600_000),
      pollMs: int('TESSERA_JOB_POLL_MS', pick(input, env, 'jobPollMs'), 1000, 10, 60_000),
      concurrency: int('TESSERA_JOB_CONCURRENCY', pick(input, env, 'jobConcurrency'), database.kind === 'postgres' ? 4 : 2, 1, 64),
    }),
    delivery: resolveDelivery(input, env),
    extensions: resolveExtensions(input, env),
    webhooks: resolveWebhooks(input, env, dataDir),
    database,
    blobs,
  });
}
