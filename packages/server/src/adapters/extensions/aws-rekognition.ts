import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { SignatureV4 } from '@smithy/signature-v4';
import { ExtensionProviderError, type CallOptions, type DetectedLabel, type ProviderImage, type Tagger } from '../../ports/extension-providers.js';
import { errorDetail, isRetryableStatus, parseJson, providerFetch } from './http.js';

/**
 * aws-auto-tagging through Amazon Rekognition's DetectLabels, spoken directly: the AWS JSON 1.1
 * protocol (POST /, `X-Amz-Target: RekognitionService.DetectLabels`, content type
 * `application/x-amz-json-1.1`), body `{Image: {Bytes: <base64>}, MaxLabels, MinConfidence}`,
 * answer `{Labels: [{Name, Confidence (0–100), …}]}`, errors `{__type, message}`.
 *
 * Requests are signed with AWS Signature Version 4 by `@smithy/signature-v4` (AWS's own signer,
 * already installed with the S3 client) over Node's crypto — one signed POST does not need the
 * whole Rekognition client.
 */

export interface RekognitionOptions {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | null;
  /** Default https://rekognition.<region>.amazonaws.com */
  endpoint: string;
  timeoutMs: number;
}

const PROVIDER = 'AWS Rekognition';

/** The hash constructor the signer wants (`new Sha256(secret?)`), backed by node:crypto. */
class NodeSha256 {
  private h: Hash | Hmac;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    this.h = this.fresh();
  }
}

function toBuffer(d: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

/** Rekognition's error types that trying again can fix. */
const TRANSIENT_TYPES = new Set(['ThrottlingException', 'ProvisionedThroughputExceededException', 'InternalServerError', 'ServiceUnavailableException', 'LimitExceededException']);

export class RekognitionTagger implements Tagger {
  private signer: Promise<SignatureV4> | undefined;

  constructor(private readonly opts: RekognitionOptions) {}

  /** The signer is loaded on first use: servers without Rekognition never load it. */
  private getSigner(): Promise<SignatureV4> {
    this.signer ??= import('@smithy/signature-v4').then(
      ({ SignatureV4 }) =>
        new SignatureV4({
          service: 'rekognition',
          region: this.opts.region,
          credentials: {
            accessKeyId: this.opts.accessKeyId,
            secretAccessKey: this.opts.secretAccessKey,
            ...(this.opts.sessionToken ? { sessionToken: this.opts.sessionToken } : {}),
          },
          sha256: NodeSha256,
        }),
    );
    return this.signer;
  }

  async detectLabels(image: ProviderImage, opts: CallOptions & { maxLabels: number; minConfidence: number }): Promise<DetectedLabel[]> {
    const url = new URL(this.opts.endpoint);
    const body = JSON.stringify({
      Image: { Bytes: image.bytes.toString('base64') },
      MaxLabels: Math.max(1, opts.maxLabels),
      MinConfidence: opts.minConfidence,
    });
    const signed = await (await this.getSigner()).sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname || '/',
      query: {},
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'RekognitionService.DetectLabels',
      },
      body,
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') headers[k] = String(v);
    const res = await providerFetch({ provider: PROVIDER, url: url.toString(), headers, body, timeoutMs: this.opts.timeoutMs, signal: opts.signal });
    if (res.status < 200 || res.status > 299) {
      const type = errorDetail(res.body, (j) => j.__type)?.split('#').pop();
      const message = errorDetail(res.body, (j) => j.message ?? j.Message);
      const retryable = isRetryableStatus(res.status) || (type !== undefined && TRANSIENT_TYPES.has(type));
      const what = [type, message].filter(Boolean).join(': ');
      throw new ExtensionProviderError(`${PROVIDER} answered with status ${res.status}${what ? `: ${what.slice(0, 300)}` : ''}`, retryable, res.status);
    }
    const json = parseJson(PROVIDER, res.body) as { Labels?: Array<{ Name?: unknown; Confidence?: unknown }> };
    const labels: DetectedLabel[] = [];
    for (const l of json.Labels ?? []) {
      if (typeof l.Name !== 'string' || typeof l.Confidence !== 'number') continue;
      labels.push({ name: l.Name, confidence: l.Confidence });
    }
    return labels;
  }
}
