import { lookup } from 'node:dns/promises';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { badRequest, payloadTooLarge } from '../../errors/index.js';
import type { OriginRecord, S3CompatibleOrigin, S3Origin } from '../../ports/account-store.js';
import type { OriginFetcher, OriginObject, OriginRequest } from '../../ports/origin-fetcher.js';
import { forbiddenAddressReason } from '../net/safe-fetch.js';

/**
 * S3, S3_COMPATIBLE and CLOUDINARY_BACKUP (an S3 bucket) origins through @aws-sdk/client-s3,
 * imported on first use so installations without S3 origins never load it. The object key is the
 * origin's prefix joined with the source path. An S3_COMPATIBLE endpoint goes through the same
 * address rules as URL uploads (checked on each client creation).
 */

export interface S3OriginOptions {
  allowPrivate: boolean;
  maxBytes: number;
  /** Per request: connect + response headers. */
  requestTimeoutMs: number;
}

type S3Module = typeof import('@aws-sdk/client-s3');
type S3Like = S3Origin | S3CompatibleOrigin;

interface ClientSlot {
  stamp: string;
  client: InstanceType<S3Module['S3Client']>;
}

export function objectKey(prefix: string, path: string): string {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  const rest = path.replace(/^\/+/, '');
  return p === '' ? rest : `${p}/${rest}`;
}

export class S3OriginFetcher implements OriginFetcher {
  readonly types = ['S3', 'S3_COMPATIBLE', 'CLOUDINARY_BACKUP'] as const;
  private sdk: Promise<S3Module> | null = null;
  private readonly clients = new Map<string, ClientSlot>();

  constructor(private readonly opts: S3OriginOptions) {}

  async fetch(origin: OriginRecord, req: OriginRequest, dest: string): Promise<OriginObject | null> {
    if (origin.type !== 'S3' && origin.type !== 'S3_COMPATIBLE' && origin.type !== 'CLOUDINARY_BACKUP') return null;
    const sdk = await (this.sdk ??= import('@aws-sdk/client-s3'));
    const client = await this.client(sdk, origin);
    let res;
    try {
      res = await client.send(new sdk.GetObjectCommand({ Bucket: origin.bucket, Key: objectKey(origin.prefix, req.path) }), {
        abortSignal: AbortSignal.timeout(this.opts.requestTimeoutMs),
      });
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const name = (e as Error).name;
      if (name === 'NoSuchKey' || name === 'NotFound' || status === 404 || status === 403) return null;
      throw e;
    }
    const declared = res.ContentLength;
    if (declared !== undefined && declared > this.opts.maxBytes) {
      (res.Body as Readable | undefined)?.destroy?.();
      throw tooLarge(this.opts.maxBytes);
    }
    const body = res.Body as Readable | undefined;
    if (!body) return null;
    let bytes = 0;
    const max = this.opts.maxBytes;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        if (bytes > max) cb(tooLarge(max));
        else cb(null, chunk);
      },
    });
    try {
      await pipeline(body, counter, createWriteStream(dest));
    } catch (e) {
      await rm(dest, { force: true });
      throw e;
    }
    const meta = res.Metadata ?? {};
    const flag = meta.isprivatefile ?? meta.isPrivateFile ?? meta.IsPrivateFile;
    return { size: bytes, contentType: res.ContentType ?? null, isPrivate: typeof flag === 'string' && flag.toLowerCase() === 'true' };
  }

  private async client(sdk: S3Module, origin: S3Like & { id: string; updatedAt: string }) {
    const stamp = origin.updatedAt;
    const slot = this.clients.get(origin.id);
    if (slot && slot.stamp === stamp) return slot.client;
    slot?.client.destroy();
    const config: ConstructorParameters<S3Module['S3Client']>[0] = {
      region: process.env.AWS_REGION ?? 'us-east-1',
      // S3 origins name no region: follow the bucket's region when S3 redirects.
      followRegionRedirects: true,
      maxAttempts: 2,
    };
    if (origin.type === 'S3_COMPATIBLE') {
      await this.checkEndpoint(origin.endpoint);
      config.endpoint = origin.endpoint;
      config.forcePathStyle = origin.s3ForcePathStyle;
      config.credentials = { accessKeyId: origin.accessKey, secretAccessKey: origin.secretKey };
    } else if (!origin.useIAMRole) {
      config.credentials = { accessKeyId: origin.accessKey, secretAccessKey: origin.secretKey };
    }
    const client = new sdk.S3Client(config);
    this.clients.set(origin.id, { stamp, client });
    return client;
  }

  private async checkEndpoint(endpoint: string): Promise<void> {
    if (this.opts.allowPrivate) return;
    const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
    const addresses = isIP(host) !== 0 ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
    for (const a of addresses) {
      const reason = forbiddenAddressReason(a);
      if (reason !== null) throw badRequest(`The S3-compatible endpoint of this origin resolves to a non-public address (${reason}).`);
    }
  }

  close(): void {
    for (const s of this.clients.values()) s.client.destroy();
    this.clients.clear();
  }
}

function tooLarge(max: number) {
  return payloadTooLarge(`The file at the origin is larger than the ${max} bytes this server fetches.`);
}
