import type { ProbeResult } from '../../ports/media-probe.js';
import type { AssetState, FileRecord, VersionRecord } from '../../ports/metadata-store.js';
import type { ResponseField } from '../../services/upload-params.js';

/** Turns stored records into ImageKit's wire shapes (FileDetails, Upload). */

export interface UrlContext {
  publicUrl: string;
  imagekitId: string;
}

export function encodeFilePath(filePath: string): string {
  return filePath
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

function deliveryUrl(ctx: UrlContext, a: AssetState, versionId?: string): string {
  const base = `${ctx.publicUrl}/${ctx.imagekitId}${encodeFilePath(a.filePath)}`;
  const q = new URLSearchParams();
  if (versionId) q.set('ik-obj-version', versionId);
  q.set('updatedAt', String(Date.parse(a.updatedAt)));
  return `${base}?${q.toString()}`;
}

function thumbnailOf(url: string, a: AssetState): string | undefined {
  return a.fileType === 'image' ? `${url}&tr=n-ik_ml_thumbnail` : undefined;
}

function mediaFields(a: AssetState): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (a.width !== null) o.width = a.width;
  if (a.height !== null) o.height = a.height;
  if (a.bitRate !== null) o.bitRate = a.bitRate;
  if (a.duration !== null) o.duration = a.duration;
  if (a.audioCodec !== null) o.audioCodec = a.audioCodec;
  if (a.videoCodec !== null) o.videoCodec = a.videoCodec;
  return o;
}

function details(ctx: UrlContext, fileId: string, a: AssetState, versionId: string, isCurrent: boolean) {
  const url = deliveryUrl(ctx, a, isCurrent ? undefined : versionId);
  const out: Record<string, unknown> = {
    fileId,
    type: isCurrent ? 'file' : 'file-version',
    name: a.name,
    filePath: a.filePath,
    tags: a.tags,
    AITags: a.aiTags,
    versionInfo: { id: versionId, name: `Version ${a.versionNumber}` },
    isPrivateFile: a.isPrivate,
    isPublished: a.isPublished,
    customCoordinates: a.customCoordinates,
    url,
    fileType: a.fileType,
    mime: a.mime,
    ...mediaFields(a),
    size: a.size,
    hasAlpha: a.hasAlpha,
    customMetadata: a.customMetadata,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
  const thumb = thumbnailOf(url, a);
  if (thumb) out.thumbnail = thumb;
  if (a.description !== null) out.description = a.description;
  if (a.embeddedMetadata !== null) out.embeddedMetadata = a.embeddedMetadata;
  return out;
}

export function fileDetails(ctx: UrlContext, f: FileRecord): Record<string, unknown> {
  return details(ctx, f.id, f, f.currentVersionId, true);
}

export function versionDetails(ctx: UrlContext, f: FileRecord, v: VersionRecord): Record<string, unknown> {
  return details(ctx, f.id, v, v.id, v.id === f.currentVersionId);
}

/**
 * The spec's Metadata object: as computed from the bytes at upload and stored. Rows written before
 * that existed get what their columns (and, at upload time, the probe) know; the bytes are never
 * read again here.
 */
export function metadataOf(a: AssetState, probe?: ProbeResult): Record<string, unknown> {
  if (a.metadata) return a.metadata;
  const m: Record<string, unknown> = {};
  if (a.height !== null) m.height = a.height;
  if (a.width !== null) m.width = a.width;
  if (a.bitRate !== null) m.bitRate = a.bitRate;
  if (a.duration !== null) m.duration = a.duration;
  if (a.audioCodec !== null) m.audioCodec = a.audioCodec;
  if (a.videoCodec !== null) m.videoCodec = a.videoCodec;
  m.size = a.size;
  m.format = a.format;
  if (a.fileType === 'image') {
    if (probe) m.hasColorProfile = probe.hasColorProfile;
    if (probe?.density != null) m.density = Math.round(probe.density);
    m.hasTransparency = a.hasAlpha;
  }
  return m;
}

/** The Upload response: always-present fields plus those asked for through responseFields. */
export function uploadResponse(
  ctx: UrlContext,
  f: FileRecord,
  probe: ProbeResult,
  responseFields: ReadonlySet<ResponseField>,
  extensionStatus?: Record<string, string>,
): Record<string, unknown> {
  const url = deliveryUrl(ctx, f);
  const out: Record<string, unknown> = {
    fileId: f.id,
    name: f.name,
    size: f.size,
    versionInfo: { id: f.currentVersionId, name: `Version ${f.versionNumber}` },
    filePath: f.filePath,
    url,
    fileType: f.fileType,
    ...mediaFields(f),
    AITags: f.aiTags,
  };
  const thumb = thumbnailOf(url, f);
  if (thumb) out.thumbnailUrl = thumb;
  if (f.description !== null) out.description = f.description;
  if (responseFields.has('tags')) out.tags = f.tags;
  if (responseFields.has('customCoordinates')) out.customCoordinates = f.customCoordinates;
  if (responseFields.has('isPrivateFile')) out.isPrivateFile = f.isPrivate;
  if (responseFields.has('isPublished')) out.isPublished = f.isPublished;
  if (responseFields.has('customMetadata')) out.customMetadata = f.customMetadata;
  if (responseFields.has('embeddedMetadata') && f.embeddedMetadata !== null) out.embeddedMetadata = f.embeddedMetadata;
  // The same object GET /v1/files/{fileId}/metadata returns, stored at upload.
  if (responseFields.has('metadata')) out.metadata = metadataOf(f, probe);
  if (extensionStatus) out.extensionStatus = extensionStatus;
  return out;
}
