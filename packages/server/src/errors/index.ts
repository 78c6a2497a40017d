/**
 * The error catalogue. Every error the API can answer with is built here, so that
 * status, public message and help text stay consistent. Imports nothing.
 */

export const DEFAULT_HELP = 'For support, see the Tessera README or open an issue with the request id.';

export type ErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'LOCKED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL';

const STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  LOCKED: 423,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** An error whose message is safe to show to the API caller. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly help: string;
  /** Extra response headers (rate limits, retry-after). */
  readonly headers: Readonly<Record<string, string>>;
  /** Extra body fields some endpoints define (e.g. missingFileIds on bulk 404s). */
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { help?: string; headers?: Record<string, string>; extra?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ApiError';
    this.code = code;
    this.status = STATUS[code];
    this.help = opts.help ?? DEFAULT_HELP;
    this.headers = opts.headers ?? {};
    this.extra = opts.extra ?? {};
  }

  toBody(): Record<string, unknown> {
    return { message: this.message, help: this.help, ...this.extra };
  }
}

type Opts = ConstructorParameters<typeof ApiError>[2];

export const badRequest = (message: string, opts?: Opts) => new ApiError('BAD_REQUEST', message, opts);
export const unauthorized = (message: string, opts?: Opts) => new ApiError('UNAUTHORIZED', message, opts);
export const forbidden = (message: string, opts?: Opts) => new ApiError('FORBIDDEN', message, opts);
export const notFound = (message: string, opts?: Opts) => new ApiError('NOT_FOUND', message, opts);
export const conflict = (message: string, opts?: Opts) => new ApiError('CONFLICT', message, opts);
/** 423: a bulk job is working on the folder the request names. */
export const locked = (message: string, opts?: Opts) => new ApiError('LOCKED', message, opts);
export const payloadTooLarge = (message: string, opts?: Opts) => new ApiError('PAYLOAD_TOO_LARGE', message, opts);
export const rateLimited = (message: string, opts?: Opts) => new ApiError('RATE_LIMITED', message, opts);
export const serviceUnavailable = (message: string, opts?: Opts) =>
  new ApiError('SERVICE_UNAVAILABLE', message, opts);

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}
