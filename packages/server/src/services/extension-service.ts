import { Readable } from 'node:stream';
import sharp from 'sharp';
import { badRequest, isApiError } from '../errors/index.js';
import {
  ExtensionProviderError,
  type ExtensionProviders,
  type ProviderImage,
  type Tagger,
  type VisionTaskAnswer,
  type VisionTaskQuestion,
} from '../ports/extension-providers.js';
import { JobLeaseLostError, JobStoppedError, jobType, type JobContext, type JobQueue } from '../ports/job-queue.js';
import type { MediaProbe } from '../ports/media-probe.js';
import type { AITag, FileRecord, VersionRecord } from '../ports/metadata-store.js';
import type { CustomFieldSchema } from '../ports/custom-field-store.js';
import { newId } from '../util/ids.js';
import type { SpoolDir } from '../util/spool.js';
import type { CustomMetadataRules } from './custom-metadata-rules.js';
import { extensionUnits, parseExtensionEntries, type AiTask, type AiTaskAction, type ExtensionConfig, type SelectValue } from './extension-rules.js';
import { validateTags } from './field-rules.js';
import { Library, MAX_VERSIONS, fileFromVersion, stateOf } from './library.js';
import type { SavedExtensionService } from './saved-extension-service.js';
import type { WebhookService } from './webhook-service.js';

/**
 * Extensions on upload and update: remove-bg, google-auto-tagging, aws-auto-tagging,
 * ai-auto-description and ai-tasks (directly, or through a saved extension's id).
 *
 * The request only queues them — one persisted job per extension on the job queue — and answers
 * `pending` (or `failed` at once when this server cannot run it: no provider configured, not an
 * image). A job calls its provider, then commits the result and its progress in one transaction:
 * AITags merged into the file, the description, tags / custom metadata (ai-tasks), or a new
 * version (remove-bg, its bytes placed first under the blob journal). A provider failure that may
 * pass (network, 429, 5xx) is retried with the queue's backoff; one that cannot, or the last
 * attempt, ends the extension `failed`. Either way the final status then goes out as ImageKit's
 * extension webhook to the request's `webhookUrl`, and a success as a file event to the account
 * endpoint. Because the job records its phase, a restart resumes exactly where it stopped.
 */

export interface ExtensionJobParams {
  fileId: string;
  extension: ExtensionConfig;
  webhookUrl: string | null;
  /** Set when the extension was known to fail when it was requested (reported as failed at once). */
  failure: string | null;
}

export interface ExtensionJobProgress {
  phase: 'run' | 'notify' | 'done';
  outcome: { status: 'success' | 'failed'; message?: string } | null;
}

export const RUN_EXTENSION = jobType<ExtensionJobParams, ExtensionJobProgress>('RUN_EXTENSION', { phase: 'run', outcome: null });

export type ExtensionStatus = 'pending' | 'success' | 'failed';

/** A failure that no retry can fix; its message goes to the caller in the webhook. */
export class ExtensionFailure extends Error {
  override name = 'ExtensionFailure';
}

export interface CustomFieldsSource {
  loadRules(): Promise<CustomMetadataRules>;
  list(): Promise<Array<{ name: string; schema: CustomFieldSchema }>>;
}

export interface ExtensionServiceDeps {
  lib: Library;
  queue: JobQueue;
  providers: ExtensionProviders;
  saved: SavedExtensionService;
  webhooks: WebhookService;
  probe: MediaProbe;
  spool: SpoolDir;
  customFields: CustomFieldsSource;
  /** The FileDetails wire shape of a file (webhook `fileObject` and event `data`). */
  present: (f: FileRecord) => Record<string, unknown>;
  /** Extension units are counted here (GET /v1/accounts/usage). */
  usage?: { recordExtensionUnits(n: number): void };
  /** Attempts before a retryable failure becomes final; at most the queue's own maxAttempts. */
  maxAttempts: number;
  /** Largest original read into memory for a provider (default 100 MiB). */
  maxImageBytes?: number;
  onError?: (err: unknown) => void;
}

/** Longest side of the image sent for tagging, description and AI tasks. */
const ANALYSIS_SIDE = 1600;
/** remove.bg-compatible services take these formats as they are, up to about this size. */
const REMOVE_BG_DIRECT = new Set(['jpg', 'jpeg', 'png', 'webp']);
const REMOVE_BG_MAX_DIRECT_BYTES = 12 * 1024 * 1024;
const REMOVE_BG_MAX_SIDE = 5000;

const NOT_CONFIGURED: Record<ExtensionConfig['name'], string> = {
  'google-auto-tagging': 'google-auto-tagging is not configured on this server (set TESSERA_GOOGLE_VISION_API_KEY or TESSERA_GOOGLE_VISION_ACCESS_TOKEN).',
  'aws-auto-tagging': 'aws-auto-tagging is not configured on this server (set the TESSERA_AWS_REKOGNITION_* settings).',
  'ai-auto-description': 'ai-auto-description is not configured on this server (set TESSERA_OPENAI_API_KEY or TESSERA_OPENAI_BASE_URL).',
  'ai-tasks': 'ai-tasks is not configured on this server (set TESSERA_OPENAI_API_KEY or TESSERA_OPENAI_BASE_URL).',
  'remove-bg': 'remove-bg is not configured on this server (set TESSERA_REMOVE_BG_API_KEY or TESSERA_REMOVE_BG_ENDPOINT).',
};

const round2 = (n: number) => Math.round(n * 100) / 100;

/** Labels kept as ImageKit documents: confidence at least minConfidence, the best maxTags of them. */
export function selectAiTags(labels: Array<{ name: string; confidence: number }>, ext: { minConfidence: number; maxTags: number }, source: string): AITag[] {
  const seen = new Set<string>();
  return labels
    .filter((l) => l.name.trim() !== '' && Number.isFinite(l.confidence) && l.confidence >= ext.minConfidence)
    .sort((a, b) => b.confidence - a.confidence)
    .filter((l) => {
      const k = l.name.trim().toLowerCase();
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .slice(0, ext.maxTags)
    .map((l) => ({ name: l.name.trim(), confidence: round2(Math.min(100, l.confidence)), source }));
}

/**
 * New AITags join the file's: a tag of the same name from the same source is replaced (its new
 * confidence wins); tags from other sources and earlier runs stay.
 */
export function mergeAiTags(existing: AITag[] | null, fresh: AITag[]): AITag[] | null {
  const key = (t: AITag) => `${t.source}\u0000${t.name.toLowerCase()}`;
  const replaced = new Set(fresh.map(key));
  const all = [...(existing ?? []).filter((t) => !replaced.has(key(t))), ...fresh];
  return all.length > 0 ? all : null;
}

function sameValue(a: SelectValue, b: SelectValue): boolean {
  return typeof a === 'string' && typeof b === 'string' ? a.trim().toLowerCase() === b.trim().toLowerCase() : a === b;
}

/** The model's picks reduced to the allowed options (as the options spell them), at most `max`. */
function chosen(selected: SelectValue[], options: readonly SelectValue[] | null, max: number): SelectValue[] {
  const out: SelectValue[] = [];
  for (const v of selected) {
    let value: SelectValue | undefined = v;
    if (options) value = options.find((o) => sameValue(o, v));
    else if (typeof v === 'string') value = v.trim() === '' || v.includes('%') ? undefined : v.trim();
    if (value === undefined || out.some((o) => sameValue(o, value!))) continue;
    out.push(value);
    if (out.length >= max) break;
  }
  return out;
}

export class ExtensionService {
  private readonly maxImageBytes: number;

  constructor(private readonly d: ExtensionServiceDeps) {
    this.maxImageBytes = d.maxImageBytes ?? 100 * 1024 * 1024;
  }

  registerJobs(): void {
    this.d.queue.register(RUN_EXTENSION, (ctx) => this.run(ctx));
  }

  /**
   * Checks the `extensions` of a request and resolves saved-extension references to their stored
   * configs. Runs before anything is stored, so a bad entry or an unknown saved extension is a 400.
   */
  async prepare(raw: unknown): Promise<ExtensionConfig[]> {
    if (raw === undefined || raw === null) return [];
    const entries = parseExtensionEntries(raw);
    const out: ExtensionConfig[] = [];
    for (const e of entries) out.push(e.name === 'saved-extension' ? await this.d.saved.resolve(e.id) : e);
    const names = new Set<string>();
    for (const e of out) {
      if (names.has(e.name)) {
        throw badRequest(`Your request contains invalid extensions parameter. Extension "${e.name}" is requested twice (directly or through a saved extension).`);
      }
      names.add(e.name);
    }
    return out;
  }

  /** Queues the extensions for a file; returns the `extensionStatus` of the response. */
  async schedule(file: FileRecord, extensions: readonly ExtensionConfig[], webhookUrl: string | null | undefined): Promise<Record<string, ExtensionStatus> | undefined> {
    if (extensions.length === 0) return undefined;
    const status: Record<string, ExtensionStatus> = {};
    for (const ext of extensions) {
      const failure = this.cannotRun(ext, file);
      try {
        await this.d.queue.enqueue(RUN_EXTENSION, { fileId: file.id, extension: ext, webhookUrl: webhookUrl ?? null, failure });
        status[ext.name] = failure ? 'failed' : 'pending';
      } catch (e) {
        this.d.onError?.(e);
        status[ext.name] = 'failed';
      }
    }
    return status;
  }

  /** Why this server cannot run the extension on this file, or null. */
  private cannotRun(ext: ExtensionConfig, file: FileRecord): string | null {
    const p = this.d.providers;
    const provider = { 'google-auto-tagging': p.google, 'aws-auto-tagging': p.aws, 'ai-auto-description': p.describer, 'ai-tasks': p.describer, 'remove-bg': p.removeBg }[ext.name];
    if (!provider) return NOT_CONFIGURED[ext.name];
    if (file.fileType !== 'image') return `${ext.name} works on images only; this file is ${file.mime}.`;
    return null;
  }

  // ---- the job ----

  private async run(ctx: JobContext<ExtensionJobParams, ExtensionJobProgress>): Promise<void> {
    // A run that starts in notify repeats one that stopped: its events may be queued already.
    const resend = ctx.job.progress.phase === 'notify';
    if (ctx.job.progress.phase === 'run') await this.execute(ctx);
    const progress = ctx.job.progress;
    if (progress.phase === 'notify' && progress.outcome) {
      await this.notify(ctx.job.id, ctx.job.params, progress.outcome, resend);
      await ctx.step(async () => ({ progress: { ...progress, phase: 'done' as const }, result: undefined }));
    }
  }

  private async execute(ctx: JobContext<ExtensionJobParams, ExtensionJobProgress>): Promise<void> {
    const { fileId, extension: ext, failure } = ctx.job.params;
    if (failure) return this.commitOutcome(ctx, { status: 'failed', message: failure });
    try {
      const file = await this.d.lib.store.repo.getFile(fileId);
      if (!file) throw new ExtensionFailure('The file no longer exists.');
      const why = this.cannotRun(ext, file);
      if (why) throw new ExtensionFailure(why);
      switch (ext.name) {
        case 'google-auto-tagging':
        case 'aws-auto-tagging':
          await this.autoTag(ctx, file, ext, (ext.name === 'google-auto-tagging' ? this.d.providers.google : this.d.providers.aws)!);
          break;
        case 'ai-auto-description':
          await this.describe(ctx, file);
          break;
        case 'ai-tasks':
          await this.aiTasks(ctx, file, ext.tasks);
          break;
        case 'remove-bg':
          await this.removeBg(ctx, file, ext);
          break;
      }
      this.d.usage?.recordExtensionUnits(extensionUnits(ext));
    } catch (e) {
      if (e instanceof JobStoppedError || e instanceof JobLeaseLostError || ctx.signal.aborted) throw e;
      const known = e instanceof ExtensionProviderError || e instanceof ExtensionFailure || isApiError(e);
      const retryable = e instanceof ExtensionProviderError ? e.retryable : !known;
      if (retryable && ctx.job.attempts < this.d.maxAttempts) throw e;
      if (!known) this.d.onError?.(e);
      const message = known ? (e as Error).message : 'An internal error stopped the extension; the server log has the details.';
      await this.commitOutcome(ctx, { status: 'failed', message });
    }
  }

  private commitOutcome(ctx: JobContext<ExtensionJobParams, ExtensionJobProgress>, outcome: NonNullable<ExtensionJobProgress['outcome']>): Promise<void> {
    return ctx.step(async () => ({ progress: { phase: 'notify' as const, outcome }, result: undefined }));
  }

  /** Applies a change to the file and its current version, committed with the job's progress. */
  private async commitFileChange(
    ctx: JobContext<ExtensionJobParams, ExtensionJobProgress>,
    change: (f: FileRecord) => Partial<FileRecord>,
  ): Promise<void> {
    await ctx.step(async (tx) => {
      const f = await tx.getFile(ctx.job.params.fileId);
      if (!f) throw new ExtensionFailure('The file was deleted while the extension ran.');
      const patch = { ...change(f), updatedAt: this.d.lib.now() };
      await tx.updateFile(f.id, patch);
      const { currentVersionId: _c, ...versionPatch } = patch;
      await tx.updateVersion(f.currentVersionId, versionPatch);
      return { progress: { phase: 'notify' as const, outcome: { status: 'success' as const } }, result: undefined };
    });
  }

  private async autoTag(ctx: JobContext<ExtensionJobParams, ExtensionJobProgress>, file: FileRecord, ext: { name: string; minConfidence: number; maxTags: number }, tagger: Tagger): Promise<void> {
    const image = await this.analysisImage(file);
    const labels = ext.maxTags === 0 ? [] : await tagger.detectLabels(image, { maxLabels: ext.maxTags, minConfidence: ext.minConfidence, signal: ctx.signal });
    const fresh = selectAiTags(labels, ext, ext.name);
    await this.commitFileChange(ctx, (f) => ({ aiTags: mergeAiTags(f.aiTags, fresh) }));
  }

  private async describe(ctx: JobContext<ExtensionJobParams, ExtensionJobProgress>, file: FileRecord): Promise<void> {
    const image = await this.analysisImage(file);
    const description = await this.d.providers.describer!.describe(image, { signal: ctx.signal });
    await this.commitFileChange(ctx, () => ({ description }));
  }

  private async aiTasks(ctx: JobContext<ExtensionJobParams, ExtensionJobProgress>, file: FileRecord, tasks: AiTask[]): Promise<void> {
    const usesMetadata = tasks.some(
      (t) => t.type === 'select_metadata' || (t.type === 'yes_no' && [t.on_yes, t.on_no, t.on_unknown].some((a) => a?.set_metadata || a?.unset_metadata)),
    );
    const fields = usesMetadata ? new Map((await this.d.customFields.list()).map((f) => [f.name, f.schema])) : new Map<string, CustomFieldSchema>();
    const rules = usesMetadata ? await this.d.customFields.loadRules() : undefined;

    const questions: VisionTaskQuestion[] = tasks.map((t, i) => {
      if (t.type === 'yes_no') return { kind: 'yes_no', instruction: t.instruction };
      if (t.type === 'select_tags') {
        const options = t.vocabulary ?? null;
        return { kind: 'select', instruction: t.instruction, options: options ?? [], min: t.min_selections ?? 0, max: t.max_selections ?? options?.length ?? 10 };
      }
      const schema = fields.get(t.field);
      if (!schema) throw new ExtensionFailure(`ai-tasks task ${i}: "${t.field}" is not a custom metadata field.`);
      const options = t.vocabulary ?? schema.selectOptions ?? [];
      const max = schema.type === 'MultiSelect' ? (t.max_selections ?? Math.max(1, options.length)) : 1;
      return { kind: 'select', instruction: t.instruction, options, min: Math.min(t.min_selections ?? 0, max), max };
    });

    const image = await this.analysisImage(file);
    const answers = await this.d.providers.describer!.answer(image, questions, { signal: ctx.signal });

    const addTags: string[] = [];
    const removeTags = new Set<string>();
    const metadata: Record<string, unknown> = {};
    const applyAction = (a: AiTaskAction | undefined) => {
      if (!a) return;
      for (const t of a.add_tags ?? []) {
        addTags.push(t);
        removeTags.delete(t);
      }
      for (const t of a.remove_tags ?? []) removeTags.add(t);
      for (const m of a.set_metadata ?? []) metadata[m.field] = m.value;
      for (const m of a.unset_metadata ?? []) metadata[m.field] = null;
    };
    tasks.forEach((t, i) => {
      const q = questions[i]!;
      const ans: VisionTaskAnswer | undefined = answers[i];
      if (t.type === 'yes_no') {
        const a = ans?.kind === 'yes_no' ? ans.answer : 'unknown';
        applyAction(a === 'yes' ? t.on_yes : a === 'no' ? t.on_no : t.on_unknown);
        return;
      }
      if (q.kind !== 'select' || ans?.kind !== 'select') return;
      const free = t.type === 'select_tags' && !t.vocabulary;
      const picks = chosen(ans.selected, free ? null : q.options, q.max);
      if (t.type === 'select_tags') {
        for (const v of picks) if (typeof v === 'string') addTags.push(v);
      } else if (picks.length > 0) {
        metadata[t.field] = fields.get(t.field)?.type === 'MultiSelect' ? picks : picks[0];
      }
    });

    await this.commitFileChange(ctx, (f) => {
      const patch: Partial<FileRecord> = {};
      if (addTags.length > 0 || removeTags.size > 0) {
        const merged = [...new Set([...(f.tags ?? []), ...addTags])].filter((t) => !removeTags.has(t));
        let tags: string[];
        try {
          tags = validateTags(merged);
        } catch (e) {
          throw new ExtensionFailure(`ai-tasks could not set the tags: ${(e as Error).message}`);
        }
        patch.tags = tags.length > 0 ? tags : null;
      }
      if (Object.keys(metadata).length > 0) {
        try {
          patch.customMetadata = rules!.validate(metadata, { mode: 'update', existing: f.customMetadata });
        } catch (e) {
          throw new ExtensionFailure(`ai-tasks could not set custom metadata: ${(e as Error).message}`);
        }
      }
      return patch;
    });
  }

  private async removeBg(ctx: JobContext<ExtensionJobParams, ExtensionJobProgress>, file: FileRecord, ext: Extract<ExtensionConfig, { name: 'remove-bg' }>): Promise<void> {
    const lib = this.d.lib;
    const original = await this.readBytes(file);
    let input: ProviderImage;
    if (REMOVE_BG_DIRECT.has(file.format) && original.length <= REMOVE_BG_MAX_DIRECT_BYTES) {
      input = { bytes: original, mime: file.mime };
    } else {
      input = {
        bytes: await this.decode(() =>
          sharp(original, { failOn: 'none' }).rotate().resize({ width: REMOVE_BG_MAX_SIDE, height: REMOVE_BG_MAX_SIDE, fit: 'inside', withoutEnlargement: true }).png().toBuffer(),
        ),
        mime: 'image/png',
      };
    }
    const out = await this.d.providers.removeBg!.removeBackground(input, ext.options ?? {}, { signal: ctx.signal });
    try {
      await sharp(out.bytes).metadata();
    } catch {
      throw new ExtensionProviderError('The remove-bg service answered with bytes that are not a readable image.', false);
    }

    const spooled = await this.d.spool.write(Readable.from([out.bytes]));
    try {
      const probed = await this.d.probe.probe(spooled.path, file.name);
      const analysis = await this.d.probe.analyze(spooled.path, probed, spooled.size);
      const blobKey = lib.newBlobKey();
      await lib.journalAndPlace([blobKey], () => lib.blobs.putFile(blobKey, spooled.path));
      try {
        await ctx.step(async (tx) => {
          const f = await tx.getFile(file.id);
          if (!f) throw new ExtensionFailure('The file was deleted while its background was being removed.');
          if ((await tx.listVersions(f.id)).length >= MAX_VERSIONS) {
            throw new ExtensionFailure(`The file already has ${MAX_VERSIONS} versions; delete older versions before removing its background.`);
          }
          const now = lib.now();
          const version: VersionRecord = {
            ...stateOf(f),
            id: newId(),
            fileId: f.id,
            fileType: probed.fileType,
            mime: probed.mime,
            format: probed.format,
            size: spooled.size,
            width: probed.width,
            height: probed.height,
            hasAlpha: probed.hasAlpha,
            bitRate: null,
            duration: null,
            audioCodec: null,
            videoCodec: null,
            metadata: analysis.metadata,
            embeddedMetadata: analysis.embeddedMetadata,
            blobKey,
            checksum: spooled.sha256,
            versionNumber: (await tx.maxVersionNumber(f.id)) + 1,
            createdAt: now,
            updatedAt: now,
          };
          await tx.insertVersion(version);
          await tx.updateFile(f.id, fileFromVersion(f, version, now));
          await tx.unjournalBlobs([blobKey]);
          return { progress: { phase: 'notify' as const, outcome: { status: 'success' as const } }, result: undefined };
        });
      } catch (e) {
        await lib.discardBlobs([blobKey]);
        throw e;
      }
    } finally {
      await this.d.spool.remove(spooled.path);
    }
  }

  /** Sends the final status to the request's webhookUrl, and a success to the account endpoint as a file event. */
  private async notify(jobId: string, params: ExtensionJobParams, outcome: NonNullable<ExtensionJobProgress['outcome']>, resend = false): Promise<void> {
    const file = await this.d.lib.store.repo.getFile(params.fileId);
    const ok = outcome.status === 'success' && file !== undefined;
    if (params.webhookUrl) {
      const payload = ok
        ? { service: params.extension.name, status: 'SUCCESS', fileObject: this.d.present(file) }
        : {
            service: params.extension.name,
            status: 'FAILURE',
            fileId: params.fileId,
            error: { message: outcome.message ?? 'The file no longer exists.' },
          };
      // Ids derived from the job: a notify phase resumed after a crash re-sends the same event.
      await this.d.webhooks.enqueue(params.webhookUrl, `${jobId}-status`, 'extension.status', payload, { resend });
    }
    if (ok) {
      await this.d.webhooks.emit(params.extension.name === 'remove-bg' ? 'file-version.created' : 'file.updated', this.d.present(file), `${jobId}-file`, { resend });
    }
  }

  // ---- bytes ----

  private async readBytes(file: FileRecord): Promise<Buffer> {
    if (file.size > this.maxImageBytes) {
      throw new ExtensionFailure(`The file is larger than the ${Math.round(this.maxImageBytes / 1048576)} MiB extensions read.`);
    }
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of await this.d.lib.blobs.get(file.blobKey)) {
      n += (c as Buffer).length;
      if (n > this.maxImageBytes) throw new ExtensionFailure(`The file is larger than the ${Math.round(this.maxImageBytes / 1048576)} MiB extensions read.`);
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks);
  }

  private async decode(fn: () => Promise<Buffer>): Promise<Buffer> {
    try {
      return await fn();
    } catch {
      throw new ExtensionFailure('The file could not be read as an image.');
    }
  }

  /** The image as analysis services want it: upright, at most ANALYSIS_SIDE on its long side, JPEG. */
  private async analysisImage(file: FileRecord): Promise<ProviderImage> {
    const bytes = await this.readBytes(file);
    const out = await this.decode(() =>
      sharp(bytes, { failOn: 'none' })
        .rotate()
        .resize({ width: ANALYSIS_SIDE, height: ANALYSIS_SIDE, fit: 'inside', withoutEnlargement: true })
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: 85 })
        .toBuffer(),
    );
    return { bytes: out, mime: 'image/jpeg' };
  }
}
