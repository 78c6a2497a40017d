/** A query parameter value; arrays repeat the key, `undefined` and `null` leave it out. */
export type QueryParamValue = string | number | boolean | null | undefined | ReadonlyArray<string | number | boolean>;

/** Header values; `null` removes a header the client would otherwise send (e.g. `Authorization`). */
export type HeaderValues = Record<string, string | null | undefined>;

/** Options accepted as the last argument of every method. They override the client's options for one call. */
export interface RequestOptions {
  /** Give up on one attempt after this many seconds (default: the client's, 60 s; uploads 600 s). */
  timeoutInSeconds?: number;
  /** Retries after the first attempt on network errors, 408, 429 and 5xx (default: the client's, 2). */
  maxRetries?: number;
  /** Cancels the request, including any wait between retries. */
  abortSignal?: AbortSignal;
  /** Extra query parameters, merged over the method's own. */
  queryParams?: Record<string, QueryParamValue>;
  /** Extra headers, merged over the client's. */
  headers?: HeaderValues;
}
