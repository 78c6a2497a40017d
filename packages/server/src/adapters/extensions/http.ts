import { ExtensionProviderError } from '../../ports/extension-providers.js';

/**
 * HTTP plumbing shared by the provider adapters. Provider endpoints come from the operator's
 * settings (not from API callers), so they are fetched as configured — loopback included, which is
 * how the tests point them at local stand-ins.
 */

export interface ProviderRequest {
  /** Shown in error messages: "Google Cloud Vision", "AWS Rekognition" … */
  provider: string;
  url: string;
  method?: string;
  headers: Record<string, string>;
  body: string | FormData;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Largest response body read; more is refused. */
  maxResponseBytes?: number;
}

export interface ProviderResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

const DEFAULT_MAX_RESPONSE = 64 * 1024 * 1024;

/** Statuses worth trying again: timeouts, throttling, and the service's own failures. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
}

/** Sends the request; a network failure or timeout is a retryable ExtensionProviderError. */
export async function providerFetch(req: ProviderRequest): Promise<ProviderResponse> {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(req.url, { method: req.method ?? 'POST', headers: req.headers, body: req.body, signal, redirect: 'error' });
  } catch (e) {
    if (req.signal?.aborted) throw req.signal.reason;
    if (timeout.aborted) throw new ExtensionProviderError(`${req.provider} did not answer within ${req.timeoutMs} ms.`, true);
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new ExtensionProviderError(`${req.provider} could not be reached (${cause?.code ?? cause?.message ?? (e as Error).message}).`, true);
  }
  const max = req.maxResponseBytes ?? DEFAULT_MAX_RESPONSE;
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new ExtensionProviderError(`${req.provider} answered with ${declared} bytes, more than the ${max} accepted.`, false, res.status);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    if (res.body) {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        total += chunk.byteLength;
        if (total > max) throw new ExtensionProviderError(`${req.provider} answered with more than the ${max} bytes accepted.`, false, res.status);
        chunks.push(Buffer.from(chunk));
      }
    }
  } catch (e) {
    if (e instanceof ExtensionProviderError) throw e;
    if (req.signal?.aborted) throw req.signal.reason;
    throw new ExtensionProviderError(`${req.provider} dropped the connection while answering.`, true);
  }
  return { status: res.status, headers: res.headers, body: Buffer.concat(chunks) };
}

export function parseJson(provider: string, body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ExtensionProviderError(`${provider} answered with a body that is not JSON.`, true);
  }
}

/** Builds the error for a non-2xx answer, with the service's own message when it sent one. */
export function statusError(provider: string, res: ProviderResponse, detail: string | undefined): ExtensionProviderError {
  const what = detail ? `: ${detail.slice(0, 300)}` : '';
  return new ExtensionProviderError(`${provider} answered with status ${res.status}${what}`, isRetryableStatus(res.status), res.status);
}

/** A message field from a JSON error body, if the body is JSON and has one. */
export function errorDetail(body: Buffer, pick: (json: Record<string, unknown>) => unknown): string | undefined {
  try {
    const j = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const v = pick(j);
    return typeof v === 'string' && v !== '' ? v : undefined;
  } catch {
    const text = body.toString('utf8').trim();
    return text !== '' && text.length < 300 && !/[\u0000-\u0008]/.test(text) ? text : undefined;
  }
}
