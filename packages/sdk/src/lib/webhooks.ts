import { fromBase64, fromUtf8, hmacAsync, hmacSync, randomUuid, timingSafeEqual, toBase64, utf8 } from './crypto.js';

/*
 * ImageKit signs webhooks with the Standard Webhooks scheme (https://www.standardwebhooks.com):
 *   webhook-id:        a message id
 *   webhook-timestamp: Unix seconds
 *   webhook-signature: space-separated `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">`
 * The official SDK (`client.webhooks.unwrap`) keys the HMAC with the UTF-8 bytes of the secret
 * exactly as the dashboard shows it, `whsec_` prefix included; that is our default ('raw'). Secrets
 * in the generic Standard Webhooks form (`whsec_` + base64 key) are read with `secretFormat: 'standard'`.
 */

// ---------------------------------------------------------------------------------------------
// Event types (spec: BaseWebhookEvent and the *Event schemas)
// ---------------------------------------------------------------------------------------------

/**
 * The file object carried by file and upload events (the spec's `FileDetails` / `Upload`). Only the
 * common fields are spelled out; the event type is generic so the client can plug in its full type.
 */
export interface WebhookFile {
  fileId?: string;
  name?: string;
  filePath?: string;
  url?: string;
  type?: string;
  fileType?: string;
  [field: string]: unknown;
}

interface EventBase<T extends string> {
  id: string;
  type: T;
  /** ISO 8601. */
  created_at: string;
}

export interface VideoWebhookRequestInfo {
  x_request_id: string;
  url: string;
  user_agent?: string;
}

export interface VideoTransformationOptions {
  video_codec?: 'h264' | 'vp9' | 'av1';
  audio_codec?: 'aac' | 'opus';
  auto_rotate?: boolean;
  quality?: number;
  format?: 'mp4' | 'webm' | 'jpg' | 'png' | 'webp';
  stream_protocol?: 'HLS' | 'DASH';
  variants?: string[];
}

export interface VideoTransformationBase {
  type: 'video-transformation' | 'gif-to-video' | 'video-thumbnail';
  options?: VideoTransformationOptions;
}

export interface VideoTransformationAcceptedEvent extends EventBase<'video.transformation.accepted'> {
  request: VideoWebhookRequestInfo;
  data: { asset: { url: string }; transformation: VideoTransformationBase };
}

export interface VideoTransformationReadyEvent extends EventBase<'video.transformation.ready'> {
  request: VideoWebhookRequestInfo;
  timings?: { download_duration?: number; encoding_duration?: number };
  data: {
    asset: { url: string };
    transformation: VideoTransformationBase & {
      output?: {
        url: string;
        video_metadata?: { duration: number; width: number; height: number; bitrate: number };
      };
    };
  };
}

export interface VideoTransformationErrorEvent extends EventBase<'video.transformation.error'> {
  request: VideoWebhookRequestInfo;
  data: {
    asset: { url: string };
    transformation: VideoTransformationBase & {
      error?: { reason: 'encoding_failed' | 'download_failed' | 'internal_server_error' };
    };
  };
}

export interface UploadPreTransformSuccessEvent<TFile = WebhookFile> extends EventBase<'upload.pre-transform.success'> {
  request: { x_request_id: string; transformation: string };
  data: TFile;
}

export interface UploadPreTransformErrorEvent extends EventBase<'upload.pre-transform.error'> {
  request: { x_request_id: string; transformation: string };
  data: { name: string; path: string; transformation: { error: { reason: string } } };
}

export interface PostTransformWebhookRequestInfo {
  x_request_id: string;
  transformation: {
    type: 'transformation' | 'abs' | 'gif-to-video' | 'thumbnail';
    value?: string;
    protocol?: 'hls' | 'dash';
  };
}

export interface UploadPostTransformSuccessEvent extends EventBase<'upload.post-transform.success'> {
  request: PostTransformWebhookRequestInfo;
  data: { fileId: string; url: string; name: string };
}

export interface UploadPostTransformErrorEvent extends EventBase<'upload.post-transform.error'> {
  request: PostTransformWebhookRequestInfo;
  data: { fileId: string; url: string; name: string; path: string; transformation: { error: { reason: string } } };
}

export interface FileCreateEvent<TFile = WebhookFile> extends EventBase<'file.created'> {
  data: TFile;
}

export interface FileUpdateEvent<TFile = WebhookFile> extends EventBase<'file.updated'> {
  data: TFile;
}

export interface FileDeleteEvent extends EventBase<'file.deleted'> {
  data: { fileId: string };
}

export interface FileVersionCreateEvent<TFile = WebhookFile> extends EventBase<'file-version.created'> {
  data: TFile;
}

export interface FileVersionDeleteEvent extends EventBase<'file-version.deleted'> {
  data: { fileId: string; versionId: string };
}

/** Every event ImageKit documents; narrow on `type`. */
export type WebhookEvent<TFile = WebhookFile> =
  | VideoTransformationAcceptedEvent
  | VideoTransformationReadyEvent
  | VideoTransformationErrorEvent
  | UploadPreTransformSuccessEvent<TFile>
  | UploadPreTransformErrorEvent
  | UploadPostTransformSuccessEvent
  | UploadPostTransformErrorEvent
  | FileCreateEvent<TFile>
  | FileUpdateEvent<TFile>
  | FileDeleteEvent
  | FileVersionCreateEvent<TFile>
  | FileVersionDeleteEvent;

// ---------------------------------------------------------------------------------------------
// Signing and verification
// ---------------------------------------------------------------------------------------------

/** Why a webhook was refused. */
export type WebhookVerificationFailure =
  | 'missing-headers'
  | 'invalid-timestamp'
  | 'timestamp-too-old'
  | 'timestamp-too-new'
  | 'invalid-signature'
  | 'invalid-body';

/** Thrown when a webhook is not proven to come from the holder of the secret, or is stale. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(
    message: string,
    /** A stable code for the failure, for logs and branching. */
    readonly reason: WebhookVerificationFailure,
  ) {
    super(message);
  }
}

/**
 * Request headers as frameworks hand them over: a Fetch `Headers`, or a plain object such as Node's
 * `IncomingHttpHeaders` (names in any case; arrays take their first value).
 */
export type WebhookHeaders =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/** How the secret string becomes the HMAC key. */
export type WebhookSecretFormat = 'raw' | 'standard';

export interface VerifyWebhookOptions {
  /** Largest accepted clock difference, seconds, both ways. Default 300, as Standard Webhooks. */
  toleranceSeconds?: number;
  /** The current time (ms since the epoch or a Date); default `Date.now()`. For tests and replays. */
  now?: number | Date;
  /** `'raw'` (default, ImageKit's): UTF-8 bytes of the secret. `'standard'`: `whsec_` + base64. */
  secretFormat?: WebhookSecretFormat;
}

export interface SignWebhookOptions {
  /** The exact body that will be sent. */
  body: string | Uint8Array;
  secret: string;
  /** The message id; default a random UUID. */
  id?: string;
  /** Unix seconds or a Date; default now. */
  timestamp?: number | Date;
  secretFormat?: WebhookSecretFormat;
}

/**
 * The three headers to send with a signed webhook. A type alias rather than an interface so it can be
 * passed straight back where a header record is expected.
 */
export type WebhookSignatureHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;
const STANDARD_PREFIX = 'whsec_';

function secretKey(secret: string, format: WebhookSecretFormat): Uint8Array {
  if (typeof secret !== 'string' || secret === '') throw new TypeError('Webhook secret must be a non-empty string');
  if (format === 'raw') return utf8(secret);
  const encoded = secret.startsWith(STANDARD_PREFIX) ? secret.slice(STANDARD_PREFIX.length) : secret;
  const key = fromBase64(encoded);
  if (key.length === 0) throw new TypeError('Webhook secret decodes to an empty key');
  return key;
}

function bodyBytes(body: string | Uint8Array): Uint8Array {
  return typeof body === 'string' ? utf8(body) : body;
}

function signedContent(id: string, timestamp: string, body: Uint8Array): Uint8Array {
  const prefix = utf8(`${id}.${timestamp}.`);
  const out = new Uint8Array(prefix.length + body.length);
  out.set(prefix);
  out.set(body, prefix.length);
  return out;
}

function readHeader(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  for (const [key, value] of Object.entries(headers as Record<string, string | readonly string[] | undefined>)) {
    if (key.toLowerCase() !== name) continue;
    return typeof value === 'string' ? value : value?.[0];
  }
  return undefined;
}

interface PreparedCheck {
  content: Uint8Array;
  key: Uint8Array;
  candidates: string[];
  body: Uint8Array;
}

/** Header and clock checks shared by the async and sync verifiers. */
function prepare(body: string | Uint8Array, headers: WebhookHeaders, secret: string, options: VerifyWebhookOptions): PreparedCheck {
  const id = readHeader(headers, 'webhook-id');
  const timestamp = readHeader(headers, 'webhook-timestamp');
  const signature = readHeader(headers, 'webhook-signature');
  if (!id || !timestamp || !signature) {
    throw new WebhookVerificationError(
      'Missing webhook-id, webhook-timestamp or webhook-signature header',
      'missing-headers',
    );
  }
  if (!/^\d+$/.test(timestamp)) {
    throw new WebhookVerificationError(`Invalid webhook-timestamp header: ${JSON.stringify(timestamp)}`, 'invalid-timestamp');
  }
  const sent = Number(timestamp);
  const nowMs = options.now instanceof Date ? options.now.getTime() : (options.now ?? Date.now());
  const now = Math.floor(nowMs / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  if (now - sent > tolerance) {
    throw new WebhookVerificationError(`Webhook timestamp is ${now - sent}s old, beyond the ${tolerance}s tolerance`, 'timestamp-too-old');
  }
  if (sent - now > tolerance) {
    throw new WebhookVerificationError(`Webhook timestamp is ${sent - now}s in the future, beyond the ${tolerance}s tolerance`, 'timestamp-too-new');
  }
  // Several signatures may be sent during a secret rotation; only version 1 is defined.
  const candidates = signature
    .split(' ')
    .map((entry) => entry.split(','))
    .filter((parts) => parts[0] === 'v1' && parts[1] !== undefined)
    .map((parts) => parts[1] as string);
  const bytes = bodyBytes(body);
  // The timestamp is signed exactly as the header carries it.
  return { content: signedContent(id, timestamp, bytes), key: secretKey(secret, options.secretFormat ?? 'raw'), candidates, body: bytes };
}

function finish<T>(check: PreparedCheck, mac: Uint8Array): T {
  const expected = utf8(toBase64(mac));
  if (!check.candidates.some((candidate) => timingSafeEqual(utf8(candidate), expected))) {
    throw new WebhookVerificationError('No webhook signature matches the body and secret', 'invalid-signature');
  }
  try {
    return JSON.parse(fromUtf8(check.body)) as T;
  } catch (error) {
    throw new WebhookVerificationError(
      `Webhook body is not JSON: ${error instanceof Error ? error.message : String(error)}`,
      'invalid-body',
    );
  }
}

/**
 * Verifies a webhook request and returns its parsed event. Pass the RAW body (before any JSON
 * parsing: re-serialising changes the bytes and breaks the signature), the request headers and
 * your webhook secret. Throws {@link WebhookVerificationError} on missing headers, a timestamp more
 * than `toleranceSeconds` (300) from now, or no matching signature. Uses Web Crypto, hence async.
 *
 * @example
 * app.post('/imagekit-webhook', express.raw({ type: 'application/json' }), async (req, res) => {
 *   const event = await verifyWebhook(req.body, req.headers, process.env.IMAGEKIT_WEBHOOK_SECRET!);
 *   if (event.type === 'video.transformation.ready') console.log(event.data.transformation.output?.url);
 *   res.sendStatus(204);
 * });
 */
export async function verifyWebhook<T = WebhookEvent>(
  body: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<T> {
  const check = prepare(body, headers, secret, options);
  return finish<T>(check, await hmacAsync('SHA-256', check.key, check.content));
}

/**
 * Synchronous {@link verifyWebhook}, for callers that cannot await (it backs the client's
 * `webhooks.unwrap`, which is synchronous in the official SDK). Uses the bundled SHA-256.
 *
 * @example
 * const event = verifyWebhookSync(rawBody, req.headers, process.env.IMAGEKIT_WEBHOOK_SECRET!);
 */
export function verifyWebhookSync<T = WebhookEvent>(
  body: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string,
  options: VerifyWebhookOptions = {},
): T {
  const check = prepare(body, headers, secret, options);
  return finish<T>(check, hmacSync('SHA-256', check.key, check.content));
}

/**
 * Signs a webhook body the way ImageKit does and returns the headers to send with it. Tessera's
 * server uses it to deliver events; tests use it to forge valid deliveries.
 *
 * @example
 * const body = JSON.stringify(event);
 * const headers = await signWebhook({ body, secret: process.env.WEBHOOK_SECRET!, id: event.id });
 * await fetch(endpoint, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
 */
export async function signWebhook(options: SignWebhookOptions): Promise<WebhookSignatureHeaders> {
  const id = options.id ?? randomUuid();
  const ts = options.timestamp ?? Date.now() / 1000;
  const timestamp = String(Math.floor(ts instanceof Date ? ts.getTime() / 1000 : ts));
  const key = secretKey(options.secret, options.secretFormat ?? 'raw');
  const mac = await hmacAsync('SHA-256', key, signedContent(id, timestamp, bodyBytes(options.body)));
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${toBase64(mac)}` };
}
