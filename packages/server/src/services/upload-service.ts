import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { badRequest, payloadTooLarge } from '../errors/index.js';
import type { MediaAnalysis, MediaProbe, ProbeResult } from '../ports/media-probe.js';
import type { AITag, FileRecord, VersionRecord } from '../ports/metadata-store.js';
import type { SpoolDir, SpooledFile } from '../util/spool.js';
import { newId } from '../util/ids.js';
import type { CustomMetadataRules, CustomMetadataRulesSource } from './custom-metadata-rules.js';
import { evaluateUploadChecks, parseUploadChecks } from './upload-checks.js';
import { Library, MAX_VERSIONS, fileFromVersion } from './library.js';
import { parseUploadParams, type RawUploadFields, type UploadParams } from './upload-params.js';
import { withUniqueSuffix } from './paths.js';

/** Where the bytes of an upload come from. */
export type UploadSource =
  | { kind: 'spooled'; file: SpooledFile; clientFileName: string | null }
  | { kind: 'text'; value: string };

/** Fetches a remote URL into a local file, applying the outbound address rules. */
export type UrlFetcher = (url: string, destPath: string) => Promise<{ bytes: number; contentType: string | null }>;

export interface UploadResult {
  file: FileRecord;
  params: UploadParams;
  probe: ProbeResult;
}

/** The upload staged on local disk after probing, before its row is written. */
export interface StagedUpload {
  spooled: SpooledFile;
  probe: ProbeResult;
  analysis: MediaAnalysis;
}

export interface UploadHooks {
  /**
   * Runs after probing and checks, before anything is stored; may refuse (throw) or replace the
   * staged bytes (the upload's pre-transformation). A replacement must keep the spool path.
   */
  beforeStore?: (staged: StagedUpload) => Promise<StagedUpload>;
}

const BASE62 = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function uniqueSuffix(): string {
  const bytes = randomBytes(10);
  return [...bytes].map((b) => BASE62[b % 62]).join('');
}

export class UploadService {
  constructor(
    private readonly lib: Library,
    private readonly spool: SpoolDir,
    private readonly probe: MediaProbe,
    private readonly fetchUrl: UrlFetcher,
    private readonly maxUploadBytes: number,
    /** Custom metadata field rules; without them customMetadata is stored unchecked. */
    private readonly customMetadata?: CustomMetadataRulesSource,
  ) {}

  /** Validates parameters only: used before bytes are trusted (auth runs between the two). */
  parse(fields: RawUploadFields): UploadParams {
    const params = parseUploadParams(fields);
    if (params.checks !== undefined) parseUploadChecks(params.checks);
    return params;
  }

  async upload(params: UploadParams, source: UploadSource, hooks: UploadHooks = {}): Promise<UploadResult> {
    const spooled = await this.materialise(source);
    try {
      if (spooled.size === 0) throw badRequest('Your request contains invalid file parameter. The file is empty.');
      const probed = await this.probe.probe(spooled.path, params.fileName);
      // Metadata is read from the bytes once, here, and stored; video dimensions come from ffprobe.
      const analysis = await this.probe.analyze(spooled.path, probed, spooled.size);
      const probe = analysis.av ? { ...probed, width: analysis.av.width, height: analysis.av.height } : probed;

      if (params.checks !== undefined) {
        const expr = parseUploadChecks(params.checks);
        const ok = evaluateUploadChecks(expr, {
          request: {
            fileName: params.fileName,
            folder: params.folder,
            useUniqueFileName: params.useUniqueFileName,
            tags: params.tags ?? [],
            isPrivateFile: params.isPrivateFile,
            isPublished: params.isPublished,
            customCoordinates: params.customCoordinates ?? '',
            customMetadata: params.customMetadata ?? {},
            description: params.description ?? '',
            webhookUrl: params.webhookUrl ?? '',
            overwriteFile: params.overwriteFile,
            overwriteAITags: params.overwriteAITags,
            overwriteTags: params.overwriteTags,
            overwriteCustomMetadata: params.overwriteCustomMetadata,
          },
          file: {
            size: spooled.size,
            mime: probe.mime,
            ...(probe.width !== null ? { width: probe.width } : {}),
            ...(probe.height !== null ? { height: probe.height } : {}),
          },
        });
        if (!ok) throw badRequest("Your request failed 'checks' validation.");
      }
      // Checked before any bytes are stored; defaults and overwrite rules are applied when the row is written.
      const rules = await this.customMetadata?.loadRules();
      if (rules && params.customMetadata !== undefined) rules.validate(params.customMetadata, { mode: 'upload' });
      const staged = hooks.beforeStore ? await hooks.beforeStore({ spooled, probe, analysis }) : { spooled, probe, analysis };
      const file = await this.store(params, staged.probe, staged.spooled, staged.analysis, rules);
      return { file, params, probe: staged.probe };
    } finally {
      await this.spool.remove(spooled.path);
    }
  }

  /** Turns the `file` field into bytes on local disk, under the size limit. */
  private async materialise(source: UploadSource): Promise<SpooledFile> {
    if (source.kind === 'spooled') return source.file;
    const value = source.value.trim();
    if (value === '') throw badRequest('Your request is missing file parameter.');
    if (/^https?:\/\//i.test(value)) {
      const path = this.spool.newPath();
      try {
        await this.fetchUrl(value, path);
        const { size, sha256 } = await this.spool.hashFile(path);
        return { path, size, sha256 };
      } catch (e) {
        await this.spool.remove(path);
        throw e;
      }
    }
    const m = /^data:([^;,]*)(;[^,]*)?,(.*)$/s.exec(value);
    const b64 = (m ? m[3]! : value).replace(/\s+/g, '');
    if (m && !(m[2] ?? '').includes('base64')) {
      throw badRequest('Your request contains invalid file parameter. Data URIs must be base64-encoded.');
    }
    if (b64 === '' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(b64) || b64.length % 4 === 1) {
      throw badRequest(
        'Your request contains invalid file parameter. Send the file as binary, as an http(s) URL, or as base64 (plain or a data URI).',
      );
    }
    if (Math.floor((b64.length * 3) / 4) > this.maxUploadBytes + 2) {
      throw payloadTooLarge(`Your request contains invalid file parameter. The file size exceeds limits (${this.maxUploadBytes} bytes).`);
    }
    const bytes = Buffer.from(b64, 'base64');
    if (bytes.length > this.maxUploadBytes) {
      throw payloadTooLarge(`Your request contains invalid file parameter. The file size exceeds limits (${this.maxUploadBytes} bytes).`);
    }
    return this.spool.write(Readable.from([bytes]));
  }

  private async store(
    params: UploadParams,
    probe: ProbeResult,
    spooled: SpooledFile,
    analysis: MediaAnalysis,
    rules?: CustomMetadataRules,
  ): Promise<FileRecord> {
    const lib = this.lib;
    // The request's values (or, for a new version that keeps them, the stored ones) with defaults applied.
    const customMetadataFor = (kept?: Record<string, unknown>) =>
      rules ? rules.validate(params.customMetadata, { mode: 'upload', existing: kept }) : (params.customMetadata ?? kept ?? {});
    const blobKey = lib.newBlobKey();
    await lib.journalAndPlace([blobKey], () => lib.blobs.putFile(blobKey, spooled.path));
    try {
      const file = await lib.store.transaction(async (tx) => {
        const now = lib.now();
        await lib.ensureFolders(tx, params.folder, now);
        let name = params.fileName;
        let existing: FileRecord | undefined;
        if (params.useUniqueFileName) {
          // A collision of a 10-character random suffix is unlikely; retry rather than assume.
          for (let i = 0; ; i++) {
            name = withUniqueSuffix(params.fileName, uniqueSuffix());
            if (!(await tx.getFileByPath(params.folder + name))) break;
            if (i > 5) throw new Error('could not find a unique file name');
          }
        } else {
          existing = await tx.getFileByPath(params.folder + name);
          if (existing && !params.overwriteFile) {
            throw badRequest(
              'A file with the same name already exists at the exact location. We could not overwrite it because both overwriteFile and useUniqueFileName are set to false.',
            );
          }
        }

        const state = {
          name,
          filePath: params.folder + name,
          folderPath: params.folder,
          fileType: probe.fileType,
          mime: probe.mime,
          format: probe.format,
          size: spooled.size,
          width: probe.width,
          height: probe.height,
          hasAlpha: probe.hasAlpha,
          bitRate: analysis.av?.bitRate ?? null,
          duration: analysis.av?.duration ?? null,
          audioCodec: analysis.av?.audioCodec ?? null,
          videoCodec: analysis.av?.videoCodec ?? null,
          customCoordinates: params.customCoordinates ?? null,
          embeddedMetadata: analysis.embeddedMetadata,
          metadata: analysis.metadata,
          description: params.description ?? null,
          isPrivate: params.isPrivateFile,
          isPublished: params.isPublished,
          blobKey,
          checksum: spooled.sha256,
          createdAt: now,
          updatedAt: now,
        };

        const versionId = newId();
        if (!existing) {
          const fileId = newId();
          const version: VersionRecord = {
            ...state,
            id: versionId,
            fileId,
            tags: params.tags && params.tags.length > 0 ? params.tags : null,
            aiTags: null,
            customMetadata: customMetadataFor(),
            versionNumber: 1,
          };
          const rec = fileFromVersion({ id: fileId, createdAt: now }, version, now);
          await tx.insertFile(rec);
          await tx.insertVersion(version);
          await tx.unjournalBlobs([blobKey]);
          return rec;
        }

        const versions = await tx.listVersions(existing.id);
        if (versions.length >= MAX_VERSIONS) {
          throw badRequest(`A file can have at most ${MAX_VERSIONS} versions. Delete older versions of ${existing.filePath} first.`);
        }
        // The documented overwrite rules: absent fields are cleared unless their overwrite flag is false.
        const tags: string[] | null =
          params.tags !== undefined ? (params.tags.length > 0 ? params.tags : null) : params.overwriteTags ? null : existing.tags;
        const customMetadata = customMetadataFor(params.overwriteCustomMetadata ? undefined : existing.customMetadata);
        const aiTags: AITag[] | null = params.overwriteAITags ? null : existing.aiTags;
        const version: VersionRecord = {
          ...state,
          id: versionId,
          fileId: existing.id,
          tags,
          aiTags,
          customMetadata,
          versionNumber: (await tx.maxVersionNumber(existing.id)) + 1,
        };
        await tx.insertVersion(version);
        const rec = fileFromVersion(existing, version, now);
        await tx.updateFile(existing.id, rec);
        await tx.unjournalBlobs([blobKey]);
        return rec;
      });
      return file;
    } catch (e) {
      await lib.discardBlobs([blobKey]);
      throw e;
    }
  }
}
