import { randomUUID } from 'node:crypto';
import { readFile, rename } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { badRequest, isApiError } from '../errors/index.js';
import { JobLeaseLostError, JobStoppedError, jobType, type JobContext, type JobQueue } from '../ports/job-queue.js';
import type { MediaProbe, ProbeResult } from '../ports/media-probe.js';
import type { FileRecord } from '../ports/metadata-store.js';
import { parseTransformation, type TransformStep } from '../transform/parse/index.js';
import { renderImage, type RenderLimits } from '../transform/pipeline/index.js';
import type { SpoolDir, SpooledFile } from '../util/spool.js';
import { TransformLimiter } from './delivery/limiter.js';
import type { Library } from './library.js';
import type { UploadParams } from './upload-params.js';
import type { StagedUpload } from './upload-service.js';
import type { WebhookService } from './webhook-service.js';

/**
 * The upload `transformation` parameter, as ImageKit documents it:
 * - `pre`: applied to an image before it is stored (synchronously): what is stored — bytes, size,
 *   dimensions, metadata, checksum — is the transformed image. It is parsed with the URL
 *   transformation parser and rendered with the same pipeline as delivery. Then the event
 *   `upload.pre-transform.success` (data: the Upload response) or, when the render fails (the upload
 *   then fails and nothing is stored), `upload.pre-transform.error`.
 * - `post`: after the upload is committed, each entry is a job on the durable queue. An image
 *   `transformation` is rendered into the delivery cache through the delivery engine, so its URL
 *   (`<file URL>?tr=<value>`) is served warm; then `upload.post-transform.success` / `.error`, one
 *   per entry. `gif-to-video`, `thumbnail` and `abs` need video encoding, which this server does not
 *   do: they are refused with 400 before anything is stored, never reported as a fake success.
 * Events go to the account-wide endpoint and to the upload's `webhookUrl`.
 */

export type PostTransformationType = 'transformation' | 'gif-to-video' | 'thumbnail' | 'abs';

export interface PreparedUploadTransformation {
  pre: { value: string; steps: TransformStep[] } | null;
  post: Array<{ type: 'transformation'; value: string }>;
}

/** Who asked: the request id (`x_request_id` of the events) and the upload's own webhookUrl. */
export interface UploadTransformContext {
  requestId: string;
  webhookUrl: string | null;
}

export interface PostTransformJobParams {
  fileId: string;
  name: string;
  filePath: string;
  transformation: { type: 'transformation'; value: string };
  requestId: string;
  webhookUrl: string | null;
}

export interface PostTransformJobProgress {
  phase: 'run' | 'notify' | 'done';
  /** error: the reason reported in the event. */
  outcome: { ok: true } | { ok: false; reason: string } | null;
}

export const POST_TRANSFORM = jobType<PostTransformJobParams, PostTransformJobProgress>('UPLOAD_POST_TRANSFORM', { phase: 'run', outcome: null });

export interface UploadTransformDeps {
  lib: Library;
  queue: JobQueue;
  webhooks: WebhookService;
  spool: SpoolDir;
  probe: MediaProbe;
  /** The delivery pipeline's limits (pixels in and out, time). */
  limits: RenderLimits;
  /** Pre-transformations rendered at once; more wait (bounded by maxQueued, then 503). */
  maxConcurrent: number;
  maxQueued: number;
  named?: Readonly<Record<string, string>>;
  /** Largest library image an `l-image` layer of a pre-transformation may draw. */
  maxOverlayBytes: number;
  /** Renders `<file>?tr=<transformation>` into the delivery cache through the delivery engine. */
  warm: (filePath: string, transformation: string) => Promise<void>;
  /** The delivery URL of a file with `?tr=<transformation>`. */
  transformedUrl: (filePath: string, transformation: string) => string;
  /** The Upload response shape of a file (the data of upload.pre-transform.success). */
  presentUpload: (file: FileRecord, probe: ProbeResult) => Record<string, unknown>;
  /** Attempts of a post job before a failure that may pass is reported as an error. */
  maxAttempts: number;
  onError?: (err: unknown) => void;
}

const MAX_POST_TRANSFORMATIONS = 20;
/** A post value becomes part of a URL's query as it is written; these would break it. */
const URL_BREAKERS = /[\s&#?]/;

const invalid = (why: string) => badRequest(`The file could not be uploaded because the transformation field is invalid. ${why}`);

export class UploadTransformService {
  private readonly limiter: TransformLimiter;

  constructor(private readonly d: UploadTransformDeps) {
    this.limiter = new TransformLimiter(d.maxConcurrent, d.maxQueued);
  }

  registerJobs(): void {
    this.d.queue.register(POST_TRANSFORM, (ctx) => this.run(ctx));
  }

  /**
   * Checks the (already shape-validated) parameter before any bytes are trusted: the pre string
   * and every post value must parse, and post types that need video encoding are refused.
   */
  prepare(spec: UploadParams['transformation']): PreparedUploadTransformation {
    const out: PreparedUploadTransformation = { pre: null, post: [] };
    if (!spec) return out;
    const parse = (value: string, where: string): TransformStep[] => {
      try {
        return parseTransformation(value, this.d.named ? { named: this.d.named } : {});
      } catch (e) {
        if (isApiError(e) && e.status === 400) throw invalid(`${where}: ${e.message}`);
        throw e;
      }
    };
    if (spec.pre !== undefined) {
      const value = spec.pre.trim();
      out.pre = { value, steps: parse(value, '"pre"') };
    }
    const post = spec.post ?? [];
    if (post.length > MAX_POST_TRANSFORMATIONS) throw invalid(`"post" may list at most ${MAX_POST_TRANSFORMATIONS} transformations.`);
    post.forEach((p, i) => {
      const type = p.type as PostTransformationType;
      if (type !== 'transformation') {
        throw badRequest(
          `The file could not be uploaded because post-transformation type "${type}" (post[${i}]) is not supported by this server: it needs video encoding, which Tessera does not do. Remove it from transformation.post.`,
        );
      }
      const value = (p.value ?? '').trim();
      if (value === '') throw invalid(`post[${i}] needs a value.`);
      if (URL_BREAKERS.test(value)) throw invalid(`post[${i}].value must be written as in a URL (percent-encode spaces, "&", "#" and "?").`);
      parse(value, `post[${i}].value`);
      out.post.push({ type: 'transformation', value });
    });
    return out;
  }

  /**
   * Runs between probing and storing: refuses transformations the detected file type cannot take,
   * then applies `pre`. On success the staged file is the transformed image (same spool path); on a
   * render failure the error event goes out and the upload fails with the render's 4xx.
   */
  async beforeStore(prepared: PreparedUploadTransformation, staged: StagedUpload, params: UploadParams, ctx: UploadTransformContext): Promise<StagedUpload> {
    const isImage = staged.probe.fileType === 'image';
    const kind = staged.probe.mime.startsWith('video/') ? 'video' : 'non-image';
    if (prepared.pre && !isImage) {
      throw badRequest(
        kind === 'video'
          ? 'The file could not be uploaded because pre-transformations of video files are not supported by this server (it does not encode video).'
          : 'The file could not be uploaded because transformations are supported only for image and video files.',
      );
    }
    if (prepared.post.length > 0 && !isImage) {
      throw badRequest('The file could not be uploaded because the detected file type & post-transformation are incompatible.');
    }
    if (!prepared.pre) return staged;
    const pre = prepared.pre;
    try {
      const result = await this.limiter.run(() =>
        renderImage({ path: staged.spooled.path }, pre.steps, {
          customCoordinates: params.customCoordinates ?? null,
          limits: this.d.limits,
          loadOverlay: (path) => this.loadOverlay(path),
          // The stored file keeps its own format unless the transformation names one.
          defaultFormat: 'orig',
          autoAvif: false,
          defaultQuality: 80,
        }),
      );
      const out = await this.d.spool.write(Readable.from([result.data]));
      try {
        await rename(out.path, staged.spooled.path);
      } catch (e) {
        await this.d.spool.remove(out.path);
        throw e;
      }
      const spooled: SpooledFile = { path: staged.spooled.path, size: out.size, sha256: out.sha256 };
      const probe = await this.d.probe.probe(spooled.path, params.fileName);
      const analysis = await this.d.probe.analyze(spooled.path, probe, spooled.size);
      return { spooled, probe, analysis };
    } catch (e) {
      // Too busy (503) is not the transformation's fault: no error event, the client may retry.
      if (isApiError(e) && e.status === 503) throw e;
      const reason = isApiError(e) ? e.message : 'The image could not be decoded or transformed.';
      if (!isApiError(e)) this.d.onError?.(e);
      await this.d.webhooks.emitUploadEvent(
        'upload.pre-transform.error',
        { x_request_id: ctx.requestId, transformation: pre.value },
        { name: params.fileName, path: params.folder + params.fileName, transformation: { error: { reason } } },
        randomUUID(),
        ctx.webhookUrl,
      );
      throw isApiError(e) ? e : badRequest(`The file could not be uploaded because its pre-transformation failed: ${reason}`);
    }
  }

  /** After the upload committed: the pre-transformation's success event, and one job per post entry. */
  async afterUpload(file: FileRecord, probe: ProbeResult, prepared: PreparedUploadTransformation, ctx: UploadTransformContext): Promise<void> {
    if (prepared.pre) {
      await this.d.webhooks.emitUploadEvent(
        'upload.pre-transform.success',
        { x_request_id: ctx.requestId, transformation: prepared.pre.value },
        this.d.presentUpload(file, probe),
        randomUUID(),
        ctx.webhookUrl,
      );
    }
    for (const t of prepared.post) {
      try {
        await this.d.queue.enqueue(POST_TRANSFORM, {
          fileId: file.id,
          name: file.name,
          filePath: file.filePath,
          transformation: t,
          requestId: ctx.requestId,
          webhookUrl: ctx.webhookUrl,
        });
      } catch (e) {
        // The upload itself succeeded; a post-transformation that could not be queued is reported.
        this.d.onError?.(e);
        await this.notify(randomUUID(), { fileId: file.id, name: file.name, filePath: file.filePath, transformation: t, requestId: ctx.requestId, webhookUrl: ctx.webhookUrl }, {
          ok: false,
          reason: 'The post-transformation could not be queued.',
        });
      }
    }
  }

  private async loadOverlay(path: string): Promise<Buffer | null> {
    const f = await this.d.lib.store.repo.getFileByPath(path);
    if (!f || f.fileType !== 'image') return null;
    if (f.size > this.d.maxOverlayBytes) throw badRequest(`The layer image ${path} is too large to draw.`);
    const local = this.d.lib.blobs.localPath(f.blobKey);
    if (local) return readFile(local);
    const chunks: Buffer[] = [];
    for await (const c of await this.d.lib.blobs.get(f.blobKey)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  // ---- the post-transformation job ----

  private async run(ctx: JobContext<PostTransformJobParams, PostTransformJobProgress>): Promise<void> {
    const resumedInNotify = ctx.job.progress.phase === 'notify';
    if (ctx.job.progress.phase === 'run') {
      const outcome = await this.execute(ctx);
      await ctx.step(async () => ({ progress: { phase: 'notify' as const, outcome }, result: undefined }));
    }
    const progress = ctx.job.progress;
    if (progress.phase === 'notify' && progress.outcome) {
      // The id comes from the job: a notify phase resumed after a crash sends the same event again,
      // which the delivery log recognises as already delivered.
      await this.notify(`${ctx.job.id}-post`, ctx.job.params, progress.outcome, resumedInNotify);
      await ctx.step(async () => ({ progress: { ...progress, phase: 'done' as const }, result: undefined }));
    }
  }

  private async execute(ctx: JobContext<PostTransformJobParams, PostTransformJobProgress>): Promise<NonNullable<PostTransformJobProgress['outcome']>> {
    const p = ctx.job.params;
    try {
      const file = await this.d.lib.store.repo.getFile(p.fileId);
      if (!file) return { ok: false, reason: 'The file no longer exists.' };
      await this.d.warm(file.filePath, p.transformation.value);
      return { ok: true };
    } catch (e) {
      if (e instanceof JobStoppedError || e instanceof JobLeaseLostError || ctx.signal.aborted) throw e;
      // A 4xx is the transformation's own fault: retrying cannot help.
      if (isApiError(e) && e.status < 500) return { ok: false, reason: e.message };
      if (ctx.job.attempts < this.d.maxAttempts) throw e;
      this.d.onError?.(e);
      return { ok: false, reason: isApiError(e) ? e.message : 'internal_server_error' };
    }
  }

  private async notify(eventId: string, p: PostTransformJobParams, outcome: NonNullable<PostTransformJobProgress['outcome']>, resend = false): Promise<void> {
    const request = { x_request_id: p.requestId, transformation: { type: p.transformation.type, value: p.transformation.value } };
    const url = this.d.transformedUrl(p.filePath, p.transformation.value);
    if (outcome.ok) {
      await this.d.webhooks.emitUploadEvent('upload.post-transform.success', request, { fileId: p.fileId, url, name: p.name }, eventId, p.webhookUrl, { resend });
    } else {
      await this.d.webhooks.emitUploadEvent(
        'upload.post-transform.error',
        request,
        { fileId: p.fileId, url, name: p.name, path: p.filePath, transformation: { error: { reason: outcome.reason } } },
        eventId,
        p.webhookUrl,
        { resend },
      );
    }
  }
}
