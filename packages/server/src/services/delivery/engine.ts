import crypto, { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mime from 'mime-types';
import { ApiError, badRequest, isApiError, notFound, unauthorized } from '../../errors/index.js';
import type { OriginRecord, OriginType } from '../../ports/account-store.js';
import type { ByteRange } from '../../ports/blob-store.js';
import type { CacheBus, PurgeTarget } from '../../ports/cache-bus.js';
import type { CacheEntry, CacheEntryInfo, DeliveryCache } from '../../ports/delivery-cache.js';
import type { AssetState, FileRecord } from '../../ports/metadata-store.js';
import type { OriginFetcher } from '../../ports/origin-fetcher.js';
import type { PurgeStore } from '../../ports/purge-store.js';
import { canonicalTransformation, parseTransformation, type OutputFormat, type TransformStep } from '../../transform/parse/index.js';
import { accepts, renderImage, type RenderInput, type RenderLimits, type RenderResult, type SourceFacts } from '../../transform/pipeline/index.js';
import { newId, nowIso } from '../../util/ids.js';
import type { DeliveryEndpoint } from '../account-service.js';
import type { Library } from '../library.js';
import { SingleFlight, TransformLimiter } from './limiter.js';
import { onlyNamedTransformations, parseDeliveryUrl, parseQuery, type DeliveryUrl, type QueryPair } from './request.js';
import { rewriteUrl } from './rewriters.js';
import { signedPart, verifySignature } from './signing.js';

/**
 * The delivery path: URL → endpoint → source (media library first, then the endpoint's origins in
 * order) → access rules (signed URLs for private and unpublished files) → original, or a
 * transformed variant from the cache or rendered once (single-flight, under the transform cap).
 *
 * Cache keys (SHA-1, base64url, of these parts):
 * - library variant: endpoint prefix, source path, version id, checksum, customCoordinates,
 *   checksums of library overlays, canonical transformation, negotiated format class, client
 *   hints (only when w-auto/dpr-auto), the URL's other query parameters.
 *   A new version, a restored one or new focus coordinates change the key: nothing stale is served.
 * - original fetched from an origin: endpoint prefix and source path.
 * - variant of an origin file: the same parts minus the version facts (an origin has no versions;
 *   like a CDN, its bytes are kept until purged or evicted).
 * Purges match entries by source path (and transformation), across keys.
 */

export interface DeliveryLimits extends RenderLimits {
  /** Largest library overlay read for an image layer. */
  maxOverlayBytes: number;
}

export interface DeliveryEngineOptions {
  lib: Library;
  endpoints: {
    resolveEndpoint(urlPath: string): Promise<{ endpoint: DeliveryEndpoint; remainingPath: string } | null>;
    deliveryEndpoints(): Promise<DeliveryEndpoint[]>;
  };
  cache: DeliveryCache;
  bus: CacheBus;
  purges: PurgeStore;
  origins: readonly OriginFetcher[];
  imagekitId: string;
  publicUrl: string;
  privateKey: string;
  limits: DeliveryLimits;
  maxConcurrentTransforms: number;
  maxQueuedTransforms: number;
  /** f-auto may choose AVIF. */
  autoAvif: boolean;
  named?: Readonly<Record<string, string>>;
  /**
   * Moves on whenever a file or version row may have changed (see adapters/db/change-tracking).
   * When given, path lookups are remembered until it moves: a cache hit then costs no query.
   */
  libraryGeneration?: () => number;
  /** The Metadata object of a file on disk (metadata of transformed URLs). */
  analyze?: (path: string, size: number) => Promise<Record<string, unknown>>;
  clock?: () => number;
  log?: { warn(obj: object, msg: string): void };
}

export interface DeliveryInput {
  /** Raw request path, starting with `/<imagekit id>` (percent-encoded, as received). */
  rawPath: string;
  /** Raw query string without the `?`. */
  rawQuery: string;
  accept?: string | undefined;
  host?: string | undefined;
  clientHints?: { width?: number; dpr?: number };
  /** Internal callers (the metadata API, authenticated by key) skip the signature rules. */
  trusted?: boolean;
}

export type CacheStatus = 'HIT' | 'MISS' | 'COALESCED';

export interface DeliveryResult {
  size: number;
  mime: string;
  /** Quoted strong validator. */
  etag: string;
  cacheControl: string;
  lastModified?: string;
  vary?: string;
  /** Set for variants and origin files (the x-tessera-cache header). */
  cache?: CacheStatus;
  headers?: Readonly<Record<string, string>>;
  /** The body, when it is already in memory. */
  data?: Buffer;
  /** Opens the body (or the inclusive byte range of it). */
  open(range?: ByteRange): Promise<Readable | Buffer>;
}

interface ParsedTr {
  steps: TransformStep[];
  canonical: string;
  /** The f of the last step that sets one (undefined: ImageKit's default, automatic). */
  format: OutputFormat | undefined;
  /** Media-library paths of image layers, sorted. */
  overlays: string[];
  usesHints: boolean;
  /** The Vary header of its responses when the format was negotiated, and when it was not. */
  varyNegotiated: string | undefined;
  varyFixed: string | undefined;
}

const PUBLIC_CACHE_CONTROL = 'public, max-age=31536000';
/** Hits up to this size are read whole (and may enter the memory tier); larger ones are streamed. */
const READ_WHOLE_MAX = 1024 * 1024;
const PARSE_MEMO_MAX = 4096;
const FILE_MEMO_MAX = 4096;
const KEY_MEMO_MAX = 4096;
/** Longer key texts are hashed every time: the memo must not hold a few thousand huge query strings. */
const KEY_MEMO_TEXT_MAX = 1024;
const ACCEPT_MEMO_MAX = 256;
const ACCEPT_MEMO_TEXT_MAX = 512;
const FACTS_MEMO_MAX = 4096;
const NOT_FOUND = 'The requested file does not exist.';

// One-shot hashing where the runtime has it (Node ≥ 20.12): no Hash object per key.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'base64url') => string }).hash;

/** Adds to a memo of at most `max` entries, dropping the oldest first. */
function remember<K, V>(memo: Map<K, V>, max: number, key: K, value: V): void {
  if (memo.size >= max) memo.delete(memo.keys().next().value as K);
  memo.set(key, value);
}

/** Cache keys by their text: a hit looks its key up instead of hashing it (hashing was a third of the engine's work on a hit). */
const keyMemo = new Map<string, string>();

function keyOf(parts: ReadonlyArray<string | number>): string {
  const text = parts.join('\u0000');
  const known = keyMemo.get(text);
  if (known !== undefined) return known;
  const key = oneShot ? oneShot('sha1', text, 'base64url') : createHash('sha1').update(text).digest('base64url');
  if (text.length <= KEY_MEMO_TEXT_MAX) remember(keyMemo, KEY_MEMO_MAX, text, key);
  return key;
}

function varyOf(negotiated: boolean, usesHints: boolean): string | undefined {
  const v: string[] = [];
  if (negotiated) v.push('Accept');
  if (usesHints) v.push('Sec-CH-Width', 'Sec-CH-DPR');
  return v.length === 0 ? undefined : v.join(', ');
}

function overlayPaths(steps: readonly TransformStep[], out: Set<string>): Set<string> {
  for (const s of steps) {
    for (const l of s.layers) {
      if (l.input.kind === 'path') out.add(l.input.path);
      overlayPaths(l.steps, out);
    }
  }
  return out;
}

function bufferRange(buf: Buffer, range?: ByteRange): Buffer {
  return range ? buf.subarray(range.start, range.end + 1) : buf;
}

async function streamToBuffer(stream: Readable, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of stream) {
    const b = chunk as Buffer;
    n += b.length;
    if (n > max) {
      stream.destroy();
      throw badRequest('The file is too large to transform.');
    }
    parts.push(b);
  }
  return Buffer.concat(parts);
}

export class DeliveryEngine {
  private readonly clock: () => number;
  private readonly limiter: TransformLimiter;
  private readonly variantFlights = new SingleFlight<{ entry: CacheEntry; data: Buffer }>();
  private readonly originFlights = new SingleFlight<CacheEntry | null>();
  private readonly parsed = new Map<string, ParsedTr | ApiError>();
  private readonly files = new Map<string, { gen: number; file: FileRecord | undefined }>();
  /** The f-auto class of each Accept header seen: browsers send a handful of distinct ones. */
  private readonly acceptClasses = new Map<string, string>();
  /** Header facts of sources by content checksum: a miss on a known original skips reading its header. */
  private readonly facts = new Map<string, SourceFacts>();
  private readonly rootPrefix: string;
  private readonly unsubscribe: () => void;
  private renders = 0;

  constructor(private readonly o: DeliveryEngineOptions) {
    this.clock = o.clock ?? Date.now;
    this.limiter = new TransformLimiter(o.maxConcurrentTransforms, o.maxQueuedTransforms);
    this.rootPrefix = `/${o.imagekitId}`;
    this.unsubscribe = o.bus.subscribe((msg) => {
      for (const t of msg.targets) o.cache.evict(t);
    });
  }

  // -- delivery --------------------------------------------------------------------------------

  async deliver(input: DeliveryInput): Promise<DeliveryResult> {
    const resolved = await this.o.endpoints.resolveEndpoint(input.rawPath);
    if (!resolved) throw notFound(NOT_FOUND);
    const { endpoint, remainingPath } = resolved;
    const query = parseQuery(input.rawQuery);

    // The signature covers the URL as the client built it, before any rewriting.
    const first = parseDeliveryUrl(remainingPath, query);
    const signed = input.trusted ? 'valid' : this.checkSignature(endpoint, remainingPath, query, first);

    let url = first;
    if (endpoint.urlRewriter) {
      const r = rewriteUrl(endpoint.urlRewriter, remainingPath, query);
      url = parseDeliveryUrl(r.rawRemaining, r.query);
      if (r.tr !== '') url = { ...url, tr: url.tr === '' ? r.tr : `${r.tr}:${url.tr}` };
    }
    const parsed = url.tr === '' ? null : this.parse(url.tr);

    let file: FileRecord | undefined;
    if (!url.sourcePath.endsWith('/')) {
      // A remembered file costs no promise.
      const known = this.rememberedFile(url.sourcePath);
      file = known ? known.file : await this.lookUpFile(url.sourcePath);
    }
    if (file) {
      // Records are passed as they are: copying one (dozens of fields) per request costs more than the rest of a hit.
      let asset: AssetState = file;
      let versionId = file.currentVersionId;
      if (url.versionId !== undefined) {
        const v = /^[0-9a-f]{24}$/.test(url.versionId) ? await this.o.lib.store.repo.getVersion(file.id, url.versionId) : undefined;
        if (!v) throw notFound('The requested file version does not exist.');
        asset = v;
        versionId = v.id;
      }
      const restricted = asset.isPrivate || !asset.isPublished;
      if (restricted && signed !== 'valid') {
        // ImageKit lets named transformations of private (published) files through unsigned.
        if (!(asset.isPublished && onlyNamedTransformations(url.tr))) {
          throw unauthorized(
            asset.isPublished
              ? 'This file is private: it is served only through a signed URL.'
              : 'This file is unpublished: it is served only through a signed URL.',
          );
        }
      }
      const cacheControl = restricted ? this.privateCacheControl(url.expiry) : PUBLIC_CACHE_CONTROL;
      if (!parsed) return this.libraryOriginal(asset, cacheControl);
      return this.libraryVariant(endpoint, url, parsed, asset, versionId, input, cacheControl);
    }
    if (url.versionId !== undefined) throw notFound('The requested file version does not exist.');
    if (endpoint.origins.length === 0 || url.sourcePath === '/') throw notFound(NOT_FOUND);
    return this.originDelivery(endpoint, url, parsed, input, signed);
  }

  /** The lookup of a path remembered since the library last changed, if any. */
  private rememberedFile(path: string): { file: FileRecord | undefined } | undefined {
    const gen = this.o.libraryGeneration?.();
    if (gen === undefined) return undefined;
    const m = this.files.get(path);
    return m && m.gen === gen ? m : undefined;
  }

  /** The library file at a path, remembered until the library changes. */
  private async fileByPath(path: string): Promise<FileRecord | undefined> {
    const known = this.rememberedFile(path);
    return known ? known.file : this.lookUpFile(path);
  }

  /** The library file at a path, read from the store and remembered. */
  private async lookUpFile(path: string): Promise<FileRecord | undefined> {
    const gen = this.o.libraryGeneration?.();
    const file = await this.o.lib.store.repo.getFileByPath(path);
    if (gen !== undefined) remember(this.files, FILE_MEMO_MAX, path, { gen, file });
    return file;
  }

  private checkSignature(endpoint: DeliveryEndpoint, remainingPath: string, query: QueryPair[], url: DeliveryUrl): 'absent' | 'valid' {
    if (url.signature === undefined && url.expiry === undefined) return 'absent';
    const candidates = [signedPart(remainingPath, query)];
    // A URL of a custom endpoint may have been signed against the account's root endpoint.
    if (endpoint.urlPrefix !== '') candidates.push(signedPart(`/${endpoint.urlPrefix}${remainingPath}`, query));
    return verifySignature({
      signature: url.signature,
      expiry: url.expiry,
      candidates,
      privateKey: this.o.privateKey,
      nowSeconds: Math.floor(this.clock() / 1000),
    });
  }

  private privateCacheControl(expiry: string | undefined): string {
    const left = expiry === undefined ? 86_400 : Number(expiry) - Math.floor(this.clock() / 1000);
    return `private, max-age=${Math.max(0, Math.min(86_400, Number.isFinite(left) ? left : 0))}`;
  }

  /** Parses (and remembers) a transformation string; a bad one is remembered as its 400. */
  private parse(tr: string): ParsedTr {
    const memo = this.parsed.get(tr);
    if (memo !== undefined) {
      if (memo instanceof ApiError) throw memo;
      return memo;
    }
    let result: ParsedTr | ApiError;
    try {
      const steps = parseTransformation(tr, this.o.named ? { named: this.o.named } : {});
      let format: OutputFormat | undefined;
      let usesHints = false;
      for (const s of steps) {
        if (s.params.format !== undefined) format = s.params.format;
        if (s.params.width?.kind === 'auto' || s.params.dpr?.kind === 'auto') usesHints = true;
      }
      result = {
        steps,
        canonical: canonicalTransformation(steps),
        format,
        overlays: [...overlayPaths(steps, new Set())].sort(),
        usesHints,
        varyNegotiated: varyOf(true, usesHints),
        varyFixed: varyOf(false, usesHints),
      };
    } catch (e) {
      if (!isApiError(e)) throw e;
      result = e;
    }
    remember(this.parsed, PARSE_MEMO_MAX, tr, result);
    if (result instanceof ApiError) throw result;
    return result;
  }

  /** '' when the output format is fixed; else the class f-auto picks for this Accept header. */
  private formatClass(p: ParsedTr, accept: string | undefined): string {
    if ((p.format ?? 'auto') !== 'auto') return '';
    const header = accept ?? '';
    const known = this.acceptClasses.get(header);
    if (known !== undefined) return known;
    const cls = this.o.autoAvif && accepts(header, 'image/avif') ? 'avif' : accepts(header, 'image/webp') ? 'webp' : 'orig';
    if (header.length <= ACCEPT_MEMO_TEXT_MAX) remember(this.acceptClasses, ACCEPT_MEMO_MAX, header, cls);
    return cls;
  }

  private vary(p: ParsedTr, negotiated: boolean): string | undefined {
    return negotiated ? p.varyNegotiated : p.varyFixed;
  }

  private hintsPart(p: ParsedTr, input: DeliveryInput): string {
    if (!p.usesHints) return '';
    return `${input.clientHints?.width ?? ''}|${input.clientHints?.dpr ?? ''}`;
  }

  // -- media library ---------------------------------------------------------------------------

  private libraryOriginal(asset: AssetState, cacheControl: string): DeliveryResult {
    const blobs = this.o.lib.blobs;
    return {
      size: asset.size,
      mime: asset.mime,
      etag: `"${asset.checksum}"`,
      cacheControl,
      lastModified: asset.updatedAt,
      async open(range?: ByteRange) {
        try {
          return await blobs.get(asset.blobKey, range);
        } catch (e) {
          throw new ApiError('INTERNAL', 'The bytes of this file are missing from storage.', { cause: e });
        }
      },
    };
  }

  private async libraryVariant(
    endpoint: DeliveryEndpoint,
    url: DeliveryUrl,
    p: ParsedTr,
    asset: AssetState,
    versionId: string,
    input: DeliveryInput,
    cacheControl: string,
  ): Promise<DeliveryResult> {
    if (asset.fileType !== 'image') {
      throw badRequest(`Transformations are available for images only; ${asset.filePath} is ${asset.mime}. Request it without tr.`);
    }
    const fmtClass = this.formatClass(p, input.accept);
    const overlayTag = p.overlays.length === 0 ? '' : await this.overlayTag(p);
    const key = keyOf([
      'L',
      endpoint.pathPrefix,
      url.sourcePath,
      versionId,
      asset.checksum,
      asset.customCoordinates ?? '',
      overlayTag,
      p.canonical,
      fmtClass,
      this.hintsPart(p, input),
      url.cacheQuery,
    ]);
    const info: CacheEntryInfo = {
      kind: 'variant',
      sourcePath: endpoint.pathPrefix + url.sourcePath,
      transformation: p.canonical,
      mime: '',
      private: false,
      negotiated: fmtClass !== '',
    };
    return this.variant(key, info, p, input, cacheControl, async (limited) => {
      const blobs = this.o.lib.blobs;
      const local = blobs.localPath(asset.blobKey);
      const content = `L${asset.checksum}`;
      if (local) return limited(() => this.render({ path: local }, content, p, input, asset.customCoordinates));
      // Bytes not on this disk (S3): sharp wants random access, so the original is downloaded to a
      // temp file first — streamed, outside the transform cap — and removed once rendered.
      const tmp = this.o.cache.tempPath();
      try {
        try {
          await pipeline(await blobs.get(asset.blobKey), createWriteStream(tmp));
        } catch (e) {
          throw new ApiError('INTERNAL', 'The bytes of this file could not be read from storage.', { cause: e });
        }
        return await limited(() => this.render({ path: tmp }, content, p, input, asset.customCoordinates));
      } finally {
        await rm(tmp, { force: true });
      }
    });
  }

  /** Checksums of the library files image layers draw, so a replaced overlay changes the key. */
  private async overlayTag(p: ParsedTr): Promise<string> {
    if (p.overlays.length === 0) return '';
    const parts: string[] = [];
    for (const path of p.overlays) {
      const f = await this.fileByPath(path);
      parts.push(f ? f.checksum : '-');
    }
    return parts.join(',');
  }

  private async loadOverlay(path: string): Promise<Buffer | null> {
    const f = await this.o.lib.store.repo.getFileByPath(path);
    if (!f || f.fileType !== 'image') return null;
    if (f.size > this.o.limits.maxOverlayBytes) throw badRequest(`The layer image ${path} is too large to draw.`);
    const local = this.o.lib.blobs.localPath(f.blobKey);
    if (local) return readFile(local);
    return streamToBuffer(await this.o.lib.blobs.get(f.blobKey), this.o.limits.maxOverlayBytes);
  }

  /** Renders `source`, whose bytes are identified by `content` (a checksum of them, for the facts memo). */
  private async render(source: RenderInput, content: string, p: ParsedTr, input: DeliveryInput, customCoordinates: string | null): Promise<RenderResult> {
    this.renders++;
    const known = this.facts.get(content);
    const result = await renderImage(source, p.steps, {
      accept: input.accept,
      customCoordinates,
      limits: this.o.limits,
      loadOverlay: (path) => this.loadOverlay(path),
      ...(input.clientHints ? { clientHints: input.clientHints } : {}),
      defaultFormat: 'auto',
      autoAvif: this.o.autoAvif,
      defaultQuality: 80,
      ...(known ? { facts: known } : {}),
    });
    if (!known) remember(this.facts, FACTS_MEMO_MAX, content, result.facts);
    return result;
  }

  // -- the variant cache -----------------------------------------------------------------------

  /** A cached variant, or one rendered now by this request or a concurrent one for the same key. */
  private async variant(
    key: string,
    info: CacheEntryInfo,
    p: ParsedTr,
    input: DeliveryInput,
    cacheControl: string,
    /** Computes the variant; work passed to `limited` runs under the transform cap (fetching a source need not). */
    render: (limited: <T>(work: () => Promise<T>) => Promise<T>) => Promise<RenderResult>,
  ): Promise<DeliveryResult> {
    const hit = this.o.cache.get(key);
    if (hit) return this.fromEntry(hit, cacheControl, 'HIT', this.vary(p, info.negotiated));
    const { value, leader } = await this.variantFlights.do(key, async () => {
      const token = this.o.cache.writeToken();
      const result = await render((work) => this.limiter.run(work));
      const entry = await this.o.cache.put(key, { ...info, mime: result.mime }, result.data, token);
      return { entry, data: result.data };
    });
    const res = this.fromEntry(value.entry, cacheControl, leader ? 'MISS' : 'COALESCED', this.vary(p, info.negotiated));
    res.data = value.data;
    return res;
  }

  private fromEntry(entry: CacheEntry, cacheControl: string, status: CacheStatus, vary: string | undefined): DeliveryResult {
    const cache = this.o.cache;
    const res: DeliveryResult = {
      size: entry.size,
      mime: entry.mime,
      etag: entry.etag,
      cacheControl,
      cache: status,
      async open(range?: ByteRange) {
        if (res.data) return bufferRange(res.data, range);
        if (entry.size <= READ_WHOLE_MAX) {
          const buf = await cache.read(entry);
          if (!buf) throw new ApiError('SERVICE_UNAVAILABLE', 'The cached file was evicted while being read; retry.', { headers: { 'Retry-After': '1' } });
          return bufferRange(buf, range);
        }
        return createReadStream(entry.path, range ? { start: range.start, end: range.end } : {});
      },
    };
    const mem = cache.peekMemory(entry);
    if (mem) res.data = mem;
    if (vary) res.vary = vary;
    if (entry.headers) res.headers = entry.headers;
    return res;
  }

  // -- origins ---------------------------------------------------------------------------------

  private async originDelivery(
    endpoint: DeliveryEndpoint,
    url: DeliveryUrl,
    p: ParsedTr | null,
    input: DeliveryInput,
    signed: 'absent' | 'valid',
  ): Promise<DeliveryResult> {
    const sourcePath = endpoint.pathPrefix + url.sourcePath;
    const check = (privateFile: boolean): string => {
      if (privateFile && signed !== 'valid') throw unauthorized('This file is private: it is served only through a signed URL.');
      return privateFile ? this.privateCacheControl(url.expiry) : PUBLIC_CACHE_CONTROL;
    };
    if (!p) {
      const original = await this.originOriginal(endpoint, url, input);
      if (!original) throw notFound(NOT_FOUND);
      return this.fromEntry(original.entry, check(original.entry.private), original.status, undefined);
    }
    const fmtClass = this.formatClass(p, input.accept);
    const key = keyOf(['O', sourcePath, await this.overlayTag(p), p.canonical, fmtClass, this.hintsPart(p, input), url.cacheQuery]);
    const hit = this.o.cache.get(key);
    if (hit) return this.fromEntry(hit, check(hit.private), 'HIT', this.vary(p, fmtClass !== ''));
    const original = await this.originOriginal(endpoint, url, input);
    if (!original) throw notFound(NOT_FOUND);
    const cacheControl = check(original.entry.private);
    if (!original.entry.mime.startsWith('image/')) {
      throw badRequest(`Transformations are available for images only; this file is ${original.entry.mime}. Request it without tr.`);
    }
    const info: CacheEntryInfo = {
      kind: 'variant',
      sourcePath,
      transformation: p.canonical,
      mime: '',
      private: original.entry.private,
      negotiated: fmtClass !== '',
      ...(original.entry.headers ? { headers: original.entry.headers } : {}),
    };
    const entry = original.entry;
    return this.variant(key, info, p, input, cacheControl, (limited) =>
      limited(() => {
        const data = this.o.cache.peekMemory(entry);
        return this.render(data ? { buffer: data } : { path: entry.path }, `O${entry.etag}`, p, input, null);
      }),
    );
  }

  /** The original from the first origin of the endpoint that has it, cached (once per key). */
  private async originOriginal(
    endpoint: DeliveryEndpoint,
    url: DeliveryUrl,
    input: DeliveryInput,
  ): Promise<{ entry: CacheEntry; status: CacheStatus } | null> {
    const sourcePath = endpoint.pathPrefix + url.sourcePath;
    const key = keyOf(['o', sourcePath]);
    const hit = this.o.cache.get(key);
    if (hit) return { entry: hit, status: 'HIT' };
    const { value, leader } = await this.originFlights.do(key, async () => {
      const token = this.o.cache.writeToken();
      let failure: unknown;
      for (const origin of endpoint.origins) {
        const fetcher = this.fetcherFor(origin.type);
        if (!fetcher) continue;
        const dest = this.o.cache.tempPath();
        let obj;
        try {
          obj = await fetcher.fetch(origin, { path: url.sourcePath, rawPath: url.rawSourcePath, ...(input.host ? { host: input.host } : {}) }, dest);
        } catch (e) {
          await rm(dest, { force: true });
          failure = e;
          this.o.log?.warn({ err: e, originId: origin.id, path: url.sourcePath }, 'origin fetch failed');
          continue;
        }
        if (!obj) continue;
        const etag = `"${createHash('sha1').update(await readFile(dest)).digest('base64url')}"`;
        const info: CacheEntryInfo = {
          kind: 'original',
          sourcePath,
          transformation: '',
          mime: mimeOf(obj.contentType, url.sourcePath),
          private: obj.isPrivate,
          negotiated: false,
        };
        const canonical = canonicalLink(origin, url);
        if (canonical) info.headers = { link: canonical };
        return this.o.cache.putFile(key, info, dest, etag, token);
      }
      if (isApiError(failure) && failure.status === 413) throw failure;
      return null;
    });
    return value ? { entry: value, status: leader ? 'MISS' : 'COALESCED' } : null;
  }

  private fetcherFor(type: OriginType): OriginFetcher | undefined {
    return this.o.origins.find((f) => f.types.includes(type));
  }

  // -- purges ----------------------------------------------------------------------------------

  /** POST /v1/files/purge: an exact URL of this server, or a prefix ending in `*`. */
  async purgeUrl(raw: unknown): Promise<string> {
    if (typeof raw !== 'string' || raw.trim() === '') throw badRequest('Your request is missing the url parameter.');
    const text = raw.trim();
    const prefix = text.endsWith('*');
    const body = prefix ? text.slice(0, -1) : text;
    if (body.includes('*')) throw badRequest('A wildcard (*) is supported only at the end of the URL.');
    let u: URL;
    try {
      u = new URL(body);
    } catch {
      throw badRequest('The url parameter should be a valid URL.');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw badRequest('The url parameter should be an http or https URL.');
    const rawPath = u.pathname;
    let target: PurgeTarget;
    const resolved = await this.o.endpoints.resolveEndpoint(rawPath);
    if (resolved) {
      const url = parseDeliveryUrl(resolved.remainingPath, parseQuery(u.search.replace(/^\?/, '')));
      // `/demo/img*` is a prefix of more than the img endpoint's own paths (`/demo/imgx.jpg` too).
      const sourcePath = prefix && url.sourcePath === '/' && !rawPath.endsWith('/') ? '' : url.sourcePath;
      target = { mode: prefix ? 'prefix' : 'exact', path: resolved.endpoint.pathPrefix + sourcePath };
      if (url.tr !== '') target.transformation = this.parse(url.tr).canonical;
    } else if (prefix && this.rootPrefix.startsWith(rawPath) && rawPath.length > 1) {
      // `/dem*`: everything of this server's endpoints.
      target = { mode: 'prefix', path: this.rootPrefix };
    } else {
      throw badRequest(`The URL is not valid for cache purging: it must be a URL of this server's URL endpoints (${this.o.publicUrl}${this.rootPrefix}/…).`);
    }
    if (target.mode === 'exact' && target.path.endsWith('/')) {
      throw badRequest('The URL is not valid for cache purging: it names a folder; append * to purge everything under it.');
    }
    return this.runPurge(text, [target]);
  }

  /**
   * Rename with purgeCache: the old path's URLs on every URL endpoint, as a prefix (the old URL
   * followed by `*`, as ImageKit issues it), so versions and every variant go too.
   */
  async purgeLibraryPrefix(libraryPath: string): Promise<string> {
    const endpoints = await this.o.endpoints.deliveryEndpoints();
    const targets: PurgeTarget[] = endpoints.map((e) => ({ mode: 'prefix', path: e.pathPrefix + libraryPath }));
    return this.runPurge(`${this.o.publicUrl}${this.rootPrefix}${encodeURI(libraryPath)}*`, targets);
  }

  private async runPurge(label: string, targets: PurgeTarget[]): Promise<string> {
    const id = newId();
    const now = nowIso(this.clock);
    await this.o.purges.insert({ id, status: 'Pending', target: label, createdAt: now, updatedAt: now });
    await this.o.bus.publish({ requestId: id, targets });
    await this.o.purges.setStatus(id, 'Completed', nowIso(this.clock));
    return id;
  }

  async purgeStatus(requestId: string): Promise<{ status: 'Pending' | 'Completed' }> {
    const rec = /^[0-9a-f]{24}$/.test(requestId) ? await this.o.purges.get(requestId) : undefined;
    // The spec answers an unknown requestId with 400, not 404.
    if (!rec) throw badRequest('No request found for this requestId.');
    return { status: rec.status };
  }

  // -- metadata of delivery URLs ---------------------------------------------------------------

  /** The Metadata object of what a URL of this server delivers (transformations applied). */
  async metadataOfUrl(url: URL): Promise<Record<string, unknown>> {
    if (!this.o.analyze) throw badRequest('Metadata of transformed URLs is not available on this server.');
    const res = await this.deliver({ rawPath: url.pathname, rawQuery: url.search.replace(/^\?/, ''), trusted: true });
    const body = res.data ?? (await res.open());
    const buf = Buffer.isBuffer(body) ? body : await streamToBuffer(body, Number.MAX_SAFE_INTEGER);
    const tmp = this.o.cache.tempPath();
    await writeFile(tmp, buf);
    try {
      return await this.o.analyze(tmp, buf.length);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  stats() {
    return { renders: this.renders, transforms: this.limiter.stats(), cache: this.o.cache.stats() };
  }

  async close(): Promise<void> {
    this.unsubscribe();
  }
}

function mimeOf(contentType: string | null, path: string): string {
  const ct = contentType?.split(';')[0]?.trim().toLowerCase();
  if (ct && ct !== 'application/octet-stream' && ct !== 'binary/octet-stream') return ct;
  return mime.lookup(path) || 'application/octet-stream';
}

function canonicalLink(origin: OriginRecord, url: DeliveryUrl): string | undefined {
  if (!origin.includeCanonicalHeader) return undefined;
  const base = origin.baseUrlForCanonicalHeader ?? (origin.type === 'WEB_FOLDER' ? origin.baseUrl : undefined);
  if (!base) return undefined;
  return `<${base.replace(/\/+$/, '')}${url.rawSourcePath}>; rel="canonical"`;
}
