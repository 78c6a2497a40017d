import type { RawResponse } from './errors.js';

/** What `.withRawResponse()` resolves to. */
export interface WithRawResponse<T> {
  readonly data: T;
  readonly rawResponse: RawResponse;
}

/**
 * The promise every SDK method returns: await it for the parsed body, or call `.withRawResponse()`
 * for the body together with the status and headers.
 *
 * @example
 * const { data, rawResponse } = await client.files.get('fileId').withRawResponse();
 * console.log(rawResponse.status, rawResponse.headers.get('x-request-id'), data.name);
 */
export class ImageKitPromise<T> implements Promise<T> {
  readonly [Symbol.toStringTag] = 'Promise';
  readonly #response: Promise<WithRawResponse<T>>;
  // Derived lazily so a caller who only uses withRawResponse() does not leave a second,
  // unobserved rejected promise behind.
  #data: Promise<T> | undefined;

  constructor(response: Promise<WithRawResponse<T>>) {
    this.#response = response;
  }

  /** Resolves to `{ data, rawResponse }` instead of just the body. */
  withRawResponse(): Promise<WithRawResponse<T>> {
    return this.#response;
  }

  #dataPromise(): Promise<T> {
    this.#data ??= this.#response.then((r) => r.data);
    return this.#data;
  }

  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#dataPromise().then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.#dataPromise().catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.#dataPromise().finally(onfinally);
  }
}
