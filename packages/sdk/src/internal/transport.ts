import {
  createAPIError,
  ImageKitAbortError,
  ImageKitConnectionError,
  ImageKitError,
  ImageKitTimeoutError,
  type RawResponse,
} from '../core/errors.js';
import { ImageKitPromise, type WithRawResponse } from '../core/promise.js';
import type { HeaderValues, QueryParamValue, RequestOptions } from '../core/request-options.js';
import type { MultipartBody } from '../core/uploads.js';
import { mergeHeaders } from './headers.js';
import { joinUrl } from './path.js';
import { buildQuery } from './query.js';
import { isRetryableStatus, retryDelayMs, sleep } from './retry.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One endpoint call as a resource describes it. */
export interface RequestSpec {
  method: HttpMethod;
  /** Absolute path with parameters already encoded (see pathTemplate). */
  path: string;
  /** Uploads go to the upload host; everything else to the API host. */
  host?: 'api' | 'upload';
  query?: Record<string, QueryParamValue>;
  json?: unknown;
  multipart?: MultipartBody;
  /** Client-side uploads authenticate with a signature or token; a Basic header too would be refused. */
  omitAuth?: boolean;
  /** 'void' discards the body; 'object' turns an empty body (204) into `{}`. Default 'json'. */
  responseType?: 'json' | 'void' | 'object';
}

export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

export interface TransportConfig {
  baseUrl: string;
  uploadBaseUrl: string;
  authorization: string | undefined;
  /** undefined: 60 s for API calls, 600 s for uploads. */
  timeoutInSeconds: number | undefined;
  maxRetries: number;
  headers: HeaderValues | undefined;
  userAgent: string | undefined;
  fetch: FetchFunction | undefined;
}

const DEFAULT_TIMEOUT_S = 60;
const DEFAULT_UPLOAD_TIMEOUT_S = 600;

/** A failure before a complete response arrived; retryable when the body can be re-sent. */
class NetworkFailure {
  constructor(readonly cause: unknown) {}
}

interface Received {
  response: Response;
  text: string;
}

/** Sends requests: URL and header assembly, timeouts, abort, retries with backoff, error mapping. */
export class Transport {
  constructor(private readonly config: TransportConfig) {}

  /**
   * `spec` may be a function so that argument errors (a bad path parameter, a missing fileName)
   * surface as a rejected promise, like every other failure, instead of a synchronous throw.
   */
  request<T>(spec: RequestSpec | (() => RequestSpec), options: RequestOptions = {}): ImageKitPromise<T> {
    return new ImageKitPromise<T>(this.execute<T>(spec, options));
  }

  private async execute<T>(specOrFn: RequestSpec | (() => RequestSpec), options: RequestOptions): Promise<WithRawResponse<T>> {
    const spec = typeof specOrFn === 'function' ? specOrFn() : specOrFn;
    const cfg = this.config;
    const isUpload = spec.host === 'upload';
    const base = isUpload ? cfg.uploadBaseUrl : cfg.baseUrl;
    const query = buildQuery(spec.query, options.queryParams);
    const url = joinUrl(base, spec.path) + (query ? `?${query}` : '');
    const timeoutS =
      options.timeoutInSeconds ?? cfg.timeoutInSeconds ?? (isUpload ? DEFAULT_UPLOAD_TIMEOUT_S : DEFAULT_TIMEOUT_S);
    const maxRetries = Math.max(0, Math.floor(options.maxRetries ?? cfg.maxRetries));
    const signal = options.abortSignal;

    const bodyHeaders: HeaderValues = {};
    if (spec.multipart) bodyHeaders['Content-Type'] = spec.multipart.contentType;
    else if (spec.json !== undefined) bodyHeaders['Content-Type'] = 'application/json';
    const headers = mergeHeaders(
      {
        Accept: 'application/json',
        'User-Agent': cfg.userAgent,
        Authorization: spec.omitAuth ? undefined : cfg.authorization,
      },
      bodyHeaders,
      cfg.headers,
      options.headers,
    );
    const jsonBody = spec.json === undefined ? undefined : JSON.stringify(spec.json);
    const replayable = spec.multipart ? spec.multipart.replayable : true;

    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new ImageKitAbortError('Request aborted', { cause: signal.reason });
      const canRetry = replayable && attempt < maxRetries;
      const body = spec.multipart ? spec.multipart.body() : jsonBody;

      let received: Received;
      try {
        received = await this.attempt(url, spec.method, headers, body, timeoutS, signal);
      } catch (err) {
        if (!(err instanceof NetworkFailure)) throw err;
        if (canRetry) {
          await sleep(retryDelayMs(attempt) ?? 0, signal);
          continue;
        }
        throw new ImageKitConnectionError(`Request to ${spec.method} ${url} failed: ${describe(err.cause)}`, {
          cause: err.cause,
        });
      }

      const { response, text } = received;
      const rawResponse: RawResponse = {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
        url: response.url || url,
      };
      if (response.ok) {
        return { data: parseSuccess<T>(spec, text, rawResponse), rawResponse };
      }
      if (canRetry && isRetryableStatus(response.status)) {
        const delay = retryDelayMs(attempt, response.headers);
        if (delay !== null) {
          await sleep(delay, signal);
          continue;
        }
      }
      throw createAPIError(response.status, parseErrorBody(text, response.headers), rawResponse);
    }
  }

  /** One HTTP exchange, including reading the body, under one timeout. */
  private async attempt(
    url: string,
    method: HttpMethod,
    headers: Headers,
    body: string | Blob | ReadableStream<Uint8Array> | undefined,
    timeoutS: number,
    signal: AbortSignal | undefined,
  ): Promise<Received> {
    const controller = new AbortController();
    let timedOut = false;
    const timer =
      Number.isFinite(timeoutS) && timeoutS > 0
        ? setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, timeoutS * 1000)
        : undefined;
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const fetchFn: FetchFunction = this.config.fetch ?? ((input, init) => globalThis.fetch(input, init));
    const init: RequestInit & { duplex?: 'half' } = { method, headers, signal: controller.signal };
    if (body !== undefined) init.body = body;
    // Streaming request bodies must be declared half-duplex (Node's fetch and the Fetch standard).
    if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) init.duplex = 'half';
    try {
      const response = await fetchFn(url, init);
      const text = await response.text();
      return { response, text };
    } catch (err) {
      if (timedOut) {
        throw new ImageKitTimeoutError(`Request timed out after ${timeoutS}s: ${method} ${url}`, { cause: err });
      }
      if (signal?.aborted) throw new ImageKitAbortError('Request aborted', { cause: signal.reason });
      if (err instanceof ImageKitError) throw err;
      throw new NetworkFailure(err);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

function parseSuccess<T>(spec: RequestSpec, text: string, rawResponse: RawResponse): T {
  if (spec.responseType === 'void') return undefined as T;
  if (text.trim() === '') return (spec.responseType === 'object' ? {} : undefined) as T;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new ImageKitError(`Could not parse the response of ${spec.method} ${spec.path} as JSON`, {
      statusCode: rawResponse.status,
      body: text,
      rawResponse,
      cause: err,
    });
  }
}

function parseErrorBody(text: string, headers: Headers): unknown {
  if (text === '') return undefined;
  const type = headers.get('content-type') ?? '';
  if (type.includes('json') || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      /* not JSON after all: keep the text */
    }
  }
  return text;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? ` (${(cause as { code?: string }).code ?? cause.message})` : '';
    return `${err.message}${detail}`;
  }
  return String(err);
}
