/**
 * Errors thrown by the SDK. Every error is an `ImageKitError`; HTTP failures are narrowed to a
 * status-specific subclass so callers can `instanceof` instead of comparing numbers.
 */

/** Status line and headers of an HTTP response, as returned by `.withRawResponse()` and on errors. */
export interface RawResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  /** The final request URL (after redirects). */
  readonly url: string;
}

export interface ImageKitErrorOptions {
  statusCode?: number;
  body?: unknown;
  rawResponse?: RawResponse;
  cause?: unknown;
}

/**
 * Base class of every error the SDK throws.
 *
 * @example
 * try {
 *   await client.files.get('missing');
 * } catch (err) {
 *   if (err instanceof ImageKitError) console.log(err.statusCode, err.body);
 * }
 */
export class ImageKitError extends Error {
  // Explicit names survive minification, unlike constructor.name.
  override name = 'ImageKitError';
  /** HTTP status, when the error came from a response. */
  readonly statusCode: number | undefined;
  /** Parsed response body (JSON when the server sent JSON, else text). */
  readonly body: unknown;
  readonly rawResponse: RawResponse | undefined;

  constructor(message: string, options: ImageKitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.statusCode = options.statusCode;
    this.body = options.body;
    this.rawResponse = options.rawResponse;
  }
}

/** Error produced from a non-2xx response; `statusCode`, `body` and `rawResponse` are always set. */
export class ImageKitAPIError extends ImageKitError {
  override name = 'ImageKitAPIError';
  declare readonly statusCode: number;
  declare readonly rawResponse: RawResponse;
  /** ImageKit's `help` text from the error body, if any. */
  readonly help: string | undefined;

  constructor(statusCode: number, body: unknown, rawResponse: RawResponse) {
    super(apiErrorMessage(statusCode, body, rawResponse), { statusCode, body, rawResponse });
    this.help = stringField(body, 'help');
  }
}

/** 400: the request was malformed or failed validation. */
export class BadRequestError extends ImageKitAPIError {
  override name = 'BadRequestError';
}
/** 401: missing or wrong private key. */
export class UnauthorizedError extends ImageKitAPIError {
  override name = 'UnauthorizedError';
}
/** 403: the key may not perform this operation. */
export class ForbiddenError extends ImageKitAPIError {
  override name = 'ForbiddenError';
}
/** 404: the file, version, folder, field or job does not exist. */
export class NotFoundError extends ImageKitAPIError {
  override name = 'NotFoundError';
}
/** 409: the operation conflicts with existing state (e.g. a rename target exists). */
export class ConflictError extends ImageKitAPIError {
  override name = 'ConflictError';
}
/** 422: the request was understood but cannot be processed. */
export class UnprocessableEntityError extends ImageKitAPIError {
  override name = 'UnprocessableEntityError';
}
/** 423: the folder is locked by another bulk job. */
export class LockedError extends ImageKitAPIError {
  override name = 'LockedError';
}

/** Rate-limit headers ImageKit sends with a 429. */
export interface RateLimitInfo {
  /** `X-RateLimit-Limit`: requests allowed per interval. */
  readonly limit: number | undefined;
  /** `X-RateLimit-Reset`: milliseconds until requests are allowed again. */
  readonly reset: number | undefined;
  /** `X-RateLimit-Interval`: length of the rate-limit window in milliseconds. */
  readonly interval: number | undefined;
  /** `Retry-After` in seconds, when sent. */
  readonly retryAfter: number | undefined;
}

/** 429: rate limited; `rateLimit` carries the server's rate-limit headers. */
export class TooManyRequestsError extends ImageKitAPIError {
  override name = 'TooManyRequestsError';
  readonly rateLimit: RateLimitInfo;

  constructor(statusCode: number, body: unknown, rawResponse: RawResponse) {
    super(statusCode, body, rawResponse);
    const h = rawResponse.headers;
    this.rateLimit = {
      limit: numberHeader(h, 'x-ratelimit-limit'),
      reset: numberHeader(h, 'x-ratelimit-reset'),
      interval: numberHeader(h, 'x-ratelimit-interval'),
      retryAfter: numberHeader(h, 'retry-after'),
    };
  }
}

/** 5xx: the server failed. Retried automatically before it reaches you. */
export class InternalServerError extends ImageKitAPIError {
  override name = 'InternalServerError';
}

/** The request (one attempt) took longer than `timeoutInSeconds`; it was aborted. */
export class ImageKitTimeoutError extends ImageKitError {
  override name = 'ImageKitTimeoutError';
}

/** The request was cancelled through `abortSignal`. `cause` is the signal's reason. */
export class ImageKitAbortError extends ImageKitError {
  override name = 'ImageKitAbortError';
}

/** The server could not be reached or the connection broke (after any retries). `cause` is the fetch error. */
export class ImageKitConnectionError extends ImageKitError {
  override name = 'ImageKitConnectionError';
}

/** Picks the subclass for a status; unknown statuses get the generic `ImageKitAPIError`. */
export function createAPIError(statusCode: number, body: unknown, rawResponse: RawResponse): ImageKitAPIError {
  switch (statusCode) {
    case 400:
      return new BadRequestError(statusCode, body, rawResponse);
    case 401:
      return new UnauthorizedError(statusCode, body, rawResponse);
    case 403:
      return new ForbiddenError(statusCode, body, rawResponse);
    case 404:
      return new NotFoundError(statusCode, body, rawResponse);
    case 409:
      return new ConflictError(statusCode, body, rawResponse);
    case 422:
      return new UnprocessableEntityError(statusCode, body, rawResponse);
    case 423:
      return new LockedError(statusCode, body, rawResponse);
    case 429:
      return new TooManyRequestsError(statusCode, body, rawResponse);
    default:
      if (statusCode >= 500) return new InternalServerError(statusCode, body, rawResponse);
      return new ImageKitAPIError(statusCode, body, rawResponse);
  }
}

function apiErrorMessage(statusCode: number, body: unknown, raw: RawResponse): string {
  // ImageKit puts the human-readable reason in `message`; fall back to short text bodies, then the status line.
  const message =
    stringField(body, 'message') ??
    stringField(body, 'error') ??
    (typeof body === 'string' && body.trim() !== '' && body.length <= 500 ? body.trim() : undefined);
  const status = `${statusCode}${raw.statusText ? ` ${raw.statusText}` : ''}`;
  return message ? `${status}: ${message}` : status;
}

function stringField(body: unknown, key: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const v = (body as Record<string, unknown>)[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function numberHeader(headers: Headers, name: string): number | undefined {
  const v = headers.get(name);
  if (v === null || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
