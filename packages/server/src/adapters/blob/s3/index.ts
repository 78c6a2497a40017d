import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import type { BlobsConfig } from '../../../config/index.js';
import { ConfigError } from '../../../config/index.js';
import type { BlobStore, ByteRange } from '../../../ports/blob-store.js';

/**
 * Bytes in an S3 bucket (AWS S3, MinIO, R2, any S3-compatible server) under `<prefix><key>`.
 * The AWS SDK is imported when the store opens, so installations on local disk never load it.
 *
 * Only plain S3 calls are used — no ACLs, no object lock, no checksum trailers (set to
 * WHEN_REQUIRED: R2 and small S3 servers reject or ignore the CRC headers newer SDKs add).
 * Bodies stream in both directions. Uploads of files from `multipartThreshold` up go in parts,
 * each a range of the local file streamed from disk (never buffered) and retried by reopening
 * that range: the SDK cannot retry a streaming body itself.
 */

type S3Module = typeof import('@aws-sdk/client-s3');
type S3ClientType = InstanceType<S3Module['S3Client']>;
export type S3BlobsConfig = Extract<BlobsConfig, { kind: 's3' }>;

export interface S3BlobStoreOptions {
  /** Files at least this large are uploaded in parts. Default 16 MiB. */
  multipartThreshold?: number;
  /** Size of each uploaded part: at least 5 MiB (S3's minimum). Default 8 MiB; grows to fit 10,000 parts. */
  partSize?: number;
  /** Parts in flight at once per upload or copy. Default 4. */
  partConcurrency?: number;
  /** Objects larger than this are copied in parts (UploadPartCopy). Default 5 GiB, CopyObject's limit. */
  copyMultipartThreshold?: number;
  /** Attempts per write request (a part, a small put). Default 3. */
  writeAttempts?: number;
  /** Keys per ListObjectsV2 page in keys(). Default 1,000 (S3's maximum). */
  listPageSize?: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const MIN_PART = 5 * MiB;
const MAX_PARTS = 10_000;
const KEY_RE = /^[a-z0-9]{8,64}$/;

export class S3BlobStore implements BlobStore {
  readonly capabilities = { kind: 's3' as const };
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly partConcurrency: number;
  private readonly copyMultipartThreshold: number;
  private readonly writeAttempts: number;
  private readonly listPageSize: number;

  private constructor(
    private readonly sdk: S3Module,
    private readonly client: S3ClientType,
    private readonly bucket: string,
    private readonly prefix: string,
    opts: S3BlobStoreOptions,
  ) {
    this.partSize = opts.partSize ?? 8 * MiB;
    if (this.partSize < MIN_PART) throw new Error(`S3 part size must be at least ${MIN_PART} bytes`);
    this.multipartThreshold = Math.max(opts.multipartThreshold ?? 16 * MiB, this.partSize);
    this.partConcurrency = Math.max(1, opts.partConcurrency ?? 4);
    this.copyMultipartThreshold = Math.min(opts.copyMultipartThreshold ?? 5 * GiB, 5 * GiB);
    this.writeAttempts = Math.max(1, opts.writeAttempts ?? 3);
    this.listPageSize = Math.min(1000, Math.max(1, opts.listPageSize ?? 1000));
  }

  /** Connects and checks the bucket answers (one HeadBucket); a failure is one clear ConfigError line. */
  static async open(cfg: S3BlobsConfig, opts: S3BlobStoreOptions = {}): Promise<S3BlobStore> {
    const sdk = await import('@aws-sdk/client-s3');
    const region = cfg.region ?? (await chainRegion(sdk)) ?? 'us-east-1';
    const client = new sdk.S3Client({
      region,
      ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
      forcePathStyle: cfg.forcePathStyle,
      // Unset: the standard AWS chain (environment, profiles, web identity, instance roles).
      ...(cfg.accessKeyId && cfg.secretAccessKey ? { credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey } } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      requestHandler: {
        connectionTimeout: 10_000,
        // Socket idle time, also while a body streams: a stalled transfer is cut after 2 minutes.
        requestTimeout: 120_000,
        // Streamed originals hold a socket each for as long as the client reads; the SDK's default of 50 is too few.
        httpAgent: { keepAlive: true, maxSockets: 512 },
        httpsAgent: { keepAlive: true, maxSockets: 512 },
      },
    });
    try {
      await client.send(new sdk.HeadBucketCommand({ Bucket: cfg.bucket }));
    } catch (e) {
      client.destroy();
      const where = cfg.endpoint ?? `AWS S3 (${region})`;
      throw new ConfigError(`S3 bucket "${cfg.bucket}" at ${where} is not usable: ${describeS3Error(e)}`);
    }
    return new S3BlobStore(sdk, client, cfg.bucket, cfg.prefix, opts);
  }

  private objectKey(key: string): string {
    if (!KEY_RE.test(key)) throw new Error(`invalid blob key ${key}`);
    return this.prefix + key;
  }

  async putFile(key: string, localPath: string): Promise<void> {
    const Key = this.objectKey(key);
    const { size } = await stat(localPath);
    if (size < this.multipartThreshold) {
      await this.withRetries(() =>
        withFileRange(localPath, undefined, (Body) =>
          this.client.send(new this.sdk.PutObjectCommand({ Bucket: this.bucket, Key, Body, ContentLength: size })),
        ),
      );
    } else {
      await this.multipartUpload(Key, localPath, size);
    }
    await rm(localPath, { force: true });
  }

  private async multipartUpload(Key: string, localPath: string, size: number): Promise<void> {
    await this.inParts(Key, size, Math.max(this.partSize, Math.ceil(size / MAX_PARTS)), async (UploadId, PartNumber, start, end) => {
      const res = await withFileRange(localPath, { start, end }, (Body) =>
        this.client.send(new this.sdk.UploadPartCommand({ Bucket: this.bucket, Key, UploadId, PartNumber, Body, ContentLength: end - start + 1 })),
      );
      return res.ETag!;
    });
  }

  /**
   * A multipart upload of `size` bytes in parts of `partSize`: `sendPart` uploads (or copies) one
   * part and returns its ETag. Parts go `partConcurrency` at a time, each retried on its own; any
   * failure aborts the upload, so no half-written object or orphan parts stay behind.
   */
  private async inParts(
    Key: string,
    size: number,
    partSize: number,
    sendPart: (UploadId: string, PartNumber: number, start: number, end: number) => Promise<string>,
  ): Promise<void> {
    const count = Math.ceil(size / partSize);
    const created = await this.client.send(new this.sdk.CreateMultipartUploadCommand({ Bucket: this.bucket, Key }));
    const UploadId = created.UploadId!;
    try {
      const etags = await mapBounded(count, this.partConcurrency, (i) => {
        const start = i * partSize;
        const end = Math.min(size, start + partSize) - 1;
        return this.withRetries(() => sendPart(UploadId, i + 1, start, end));
      });
      await this.withRetries(() => this.completeUpload(Key, UploadId, etags));
    } catch (e) {
      await this.abortUpload(Key, UploadId);
      throw e;
    }
  }

  /** Joins the uploaded (or copied) parts, numbered in order, into the object. */
  private async completeUpload(Key: string, UploadId: string, etags: string[]): Promise<void> {
    await this.client.send(
      new this.sdk.CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
  }

  /** Best effort: parts of an abandoned upload cost storage, but the failure that got us here matters more. */
  private async abortUpload(Key: string, UploadId: string): Promise<void> {
    await this.client.send(new this.sdk.AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId })).catch(() => undefined);
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const res = await this.client.send(
        new this.sdk.GetObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      const body = res.Body as Readable;
      return range ? exactRange(body, range, res.ContentRange) : body;
    } catch (e) {
      if (isNotFound(e)) throw missing(key, e);
      throw e;
    }
  }

  localPath(): undefined {
    return undefined;
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const res = await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return res.ContentLength ?? 0;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    const source = `${this.bucket}/${this.objectKey(fromKey)}`;
    const Key = this.objectKey(toKey);
    const size = await this.size(fromKey);
    if (size === undefined) throw missing(fromKey);
    if (size <= this.copyMultipartThreshold) {
      await this.withRetries(() => this.client.send(new this.sdk.CopyObjectCommand({ Bucket: this.bucket, Key, CopySource: source })));
      return;
    }
    // Beyond 5 GiB CopyObject refuses: copy server-side in ranges.
    await this.inParts(Key, size, Math.max(512 * MiB, Math.ceil(size / MAX_PARTS)), async (UploadId, PartNumber, start, end) => {
      const res = await this.client.send(
        new this.sdk.UploadPartCopyCommand({ Bucket: this.bucket, Key, UploadId, PartNumber, CopySource: source, CopySourceRange: `bytes=${start}-${end}` }),
      );
      return res.CopyPartResult!.ETag!;
    });
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** Keys under this store's prefix, a page at a time; objects that are not blob keys are skipped. */
  async *keys(): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new this.sdk.ListObjectsV2Command({
          Bucket: this.bucket,
          MaxKeys: this.listPageSize,
          ...(this.prefix ? { Prefix: this.prefix } : {}),
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const o of page.Contents ?? []) {
        const k = o.Key?.slice(this.prefix.length);
        if (k !== undefined && KEY_RE.test(k)) yield k;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  close(): void {
    this.client.destroy();
  }

  /** Retries a write whose body is rebuilt on each call; only failures worth retrying (network, 5xx, throttling). */
  private async withRetries<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (attempt >= this.writeAttempts || !isRetryable(e)) throw e;
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt + Math.random() * 100));
      }
    }
  }
}

/**
 * The requested range of a ranged GET's body. Some S3-compatible servers answer a range with
 * more than was asked (the whole object, or `bytes=0-0` read as "from 0 to the end"); the
 * Content-Range they send says what came, so the surplus is cut here rather than served.
 */
function exactRange(body: Readable, want: ByteRange, contentRange: string | undefined): Readable {
  const m = contentRange ? /^bytes (\d+)-(\d+)\//.exec(contentRange) : null;
  const gotStart = m ? Number(m[1]) : 0;
  const gotEnd = m ? Number(m[2]) : Number.POSITIVE_INFINITY;
  if (gotStart === want.start && gotEnd === want.end) return body;
  if (gotStart > want.start || gotEnd < want.end) {
    body.destroy();
    throw new Error(`S3 answered bytes ${gotStart}-${gotEnd} for a request of ${want.start}-${want.end}`);
  }
  let skip = want.start - gotStart;
  let left = want.end - want.start + 1;
  const out = new PassThrough();
  body.on('error', (e) => out.destroy(e));
  out.on('close', () => body.destroy());
  body.on('data', (chunk: Buffer) => {
    if (skip >= chunk.length) {
      skip -= chunk.length;
      return;
    }
    const piece = chunk.subarray(skip, skip + left);
    skip = 0;
    left -= piece.length;
    const more = out.write(piece);
    if (left === 0) {
      out.end();
      body.destroy();
    } else if (!more) {
      body.pause();
      out.once('drain', () => body.resume());
    }
  });
  body.on('end', () => {
    if (left > 0) out.destroy(new Error('S3 body ended before the requested range'));
  });
  return out;
}

/** The region of the standard AWS chain (AWS_REGION, profile config), or undefined when it names none. */
async function chainRegion(sdk: S3Module): Promise<string | undefined> {
  const probe = new sdk.S3Client({});
  try {
    return await probe.config.region();
  } catch {
    return undefined;
  } finally {
    probe.destroy();
  }
}

/** Opens the file (or an inclusive range of it) for one request, and closes it whatever the request did. */
async function withFileRange<T>(path: string, range: ByteRange | undefined, fn: (body: Readable) => Promise<T>): Promise<T> {
  const body = range ? createReadStream(path, range) : createReadStream(path);
  try {
    return await fn(body);
  } finally {
    body.destroy();
  }
}

/** Runs fn(0..count-1) with at most `limit` in flight; the first failure stops new starts and is thrown. */
async function mapBounded<T>(count: number, limit: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < count) {
      const i = next++;
      try {
        out[i] = await fn(i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, count) }, worker));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  return out;
}

interface S3ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

function isNotFound(e: unknown): boolean {
  const err = e as S3ErrorShape;
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404;
}

function isRetryable(e: unknown): boolean {
  const err = e as S3ErrorShape;
  const status = err.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429 || err.name === 'SlowDown' || err.name === 'RequestTimeout';
  // No HTTP status: the request never got an answer (reset, timeout, refused).
  return true;
}

function missing(key: string, cause?: unknown): Error {
  return Object.assign(new Error(`blob ${key} does not exist`, cause === undefined ? {} : { cause }), { code: 'ENOENT' });
}

function describeS3Error(e: unknown): string {
  const err = e as S3ErrorShape;
  const status = err.$metadata?.httpStatusCode;
  if (status === 404 || err.name === 'NoSuchBucket' || err.name === 'NotFound') return 'no such bucket (create it, or check TESSERA_S3_BUCKET)';
  if (status === 403 || status === 401) return 'access denied (check the credentials and the bucket policy)';
  if (status === 301 || err.name === 'PermanentRedirect') return 'the bucket is in another region (set TESSERA_S3_REGION)';
  const detail = err.code ?? err.name ?? 'Error';
  const msg = (err.message ?? String(e)).split('\n')[0];
  return status !== undefined ? `HTTP ${status} ${detail}: ${msg}` : `${detail}: ${msg}`;
}
