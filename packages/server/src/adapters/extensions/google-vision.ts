import { ExtensionProviderError, type CallOptions, type DetectedLabel, type ProviderImage, type Tagger } from '../../ports/extension-providers.js';
import { errorDetail, parseJson, providerFetch, statusError } from './http.js';

/**
 * google-auto-tagging through Cloud Vision's `images:annotate` with one LABEL_DETECTION feature.
 * Request: `{requests: [{image: {content: <base64>}, features: [{type, maxResults}]}]}`; answer:
 * `{responses: [{labelAnnotations: [{description, score, …}]} | {error: {code, message}}]}`.
 * Scores are 0–1; ImageKit reports confidence on a 0–100 scale.
 * Auth is an API key (`?key=`) or an OAuth access token (`Authorization: Bearer`).
 */

export interface GoogleVisionOptions {
  endpoint: string;
  apiKey: string | null;
  accessToken: string | null;
  timeoutMs: number;
}

const PROVIDER = 'Google Cloud Vision';

interface Annotation {
  description?: unknown;
  score?: unknown;
}

export class GoogleVisionTagger implements Tagger {
  constructor(private readonly opts: GoogleVisionOptions) {}

  async detectLabels(image: ProviderImage, opts: CallOptions & { maxLabels: number; minConfidence: number }): Promise<DetectedLabel[]> {
    const url = new URL(this.opts.endpoint);
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', accept: 'application/json' };
    if (this.opts.apiKey) url.searchParams.set('key', this.opts.apiKey);
    if (this.opts.accessToken) headers.authorization = `Bearer ${this.opts.accessToken}`;
    const body = JSON.stringify({
      requests: [
        {
          image: { content: image.bytes.toString('base64') },
          // The service's default is 10; ask for what maxTags allows (at least one, so the call means something).
          features: [{ type: 'LABEL_DETECTION', maxResults: Math.max(1, opts.maxLabels) }],
        },
      ],
    });
    const res = await providerFetch({ provider: PROVIDER, url: url.toString(), headers, body, timeoutMs: this.opts.timeoutMs, signal: opts.signal });
    if (res.status < 200 || res.status > 299) {
      throw statusError(PROVIDER, res, errorDetail(res.body, (j) => (j.error as { message?: unknown } | undefined)?.message));
    }
    const json = parseJson(PROVIDER, res.body) as { responses?: Array<{ labelAnnotations?: Annotation[]; error?: { code?: number; message?: string } }> };
    const first = json.responses?.[0];
    if (!first) throw new ExtensionProviderError(`${PROVIDER} answered without a response for the image.`, true);
    if (first.error) {
      // Per-image errors carry a google.rpc code: 4 deadline, 8 exhausted, 13 internal, 14 unavailable are transient.
      const transient = [4, 8, 13, 14].includes(Number(first.error.code));
      throw new ExtensionProviderError(`${PROVIDER} could not label the image: ${first.error.message ?? `code ${first.error.code}`}`, transient);
    }
    const labels: DetectedLabel[] = [];
    for (const a of first.labelAnnotations ?? []) {
      if (typeof a.description !== 'string' || typeof a.score !== 'number') continue;
      labels.push({ name: a.description, confidence: a.score * 100 });
    }
    return labels;
  }
}
