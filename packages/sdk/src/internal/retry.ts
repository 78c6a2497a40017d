import { ImageKitAbortError } from '../core/errors.js';

const INITIAL_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;
const JITTER = 0.25;
/** A server asking us to wait longer than this is better answered with the error than with a hang. */
export const MAX_HINTED_DELAY_MS = 60_000;

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * How long to wait before retry number `retryIndex` (0-based). The server's hint wins:
 * `retry-after-ms`, `Retry-After` (seconds or an HTTP date), then ImageKit's `X-RateLimit-Reset`
 * (milliseconds until the window resets). Without a hint: exponential backoff with jitter.
 * Returns null when the hint exceeds MAX_HINTED_DELAY_MS (do not retry).
 */
export function retryDelayMs(retryIndex: number, headers?: Headers, random: () => number = Math.random): number | null {
  const hinted = headers ? hintedDelayMs(headers) : undefined;
  if (hinted !== undefined) return hinted > MAX_HINTED_DELAY_MS ? null : hinted;
  const base = Math.min(INITIAL_DELAY_MS * 2 ** retryIndex, MAX_DELAY_MS);
  // Jitter spreads out clients that failed together so they do not retry in lockstep.
  return base * (1 - JITTER * random());
}

function hintedDelayMs(headers: Headers): number | undefined {
  const ms = parseNumber(headers.get('retry-after-ms'));
  if (ms !== undefined) return Math.max(0, ms);
  const retryAfter = headers.get('retry-after');
  if (retryAfter !== null) {
    const seconds = parseNumber(retryAfter);
    if (seconds !== undefined) return Math.max(0, seconds * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
  }
  const reset = parseNumber(headers.get('x-ratelimit-reset'));
  if (reset !== undefined) return Math.max(0, reset);
  return undefined;
}

function parseNumber(v: string | null): number | undefined {
  if (v === null || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Waits, but gives up as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ImageKitAbortError('Request aborted', { cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ImageKitAbortError('Request aborted', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
