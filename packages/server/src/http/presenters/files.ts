import type { ListedFile } from '../../ports/asset-search.js';
import type { ProbeResult } from '../../ports/media-probe.js';
import type { AssetState, FileRecord, VersionRecord } from '../../ports/metadata-store.js';
import type { ResponseField } from '../../services/upload-params.js';

/** Turns stored records into ImageKit's wire shapes (FileDetails, Upload). */

export interface UrlContext {
  publicUrl: string;
  imagekitId: string;
}

/** Only characters encodeURIComponent keeps, and '/': such a path (most are) is its own encoding. */
const ENCODED_PATH = /^[A-Za-z0-9\-_.!~*'()/]*$/;

export function encodeFilePath(filePath: string): string {
  if (ENCODED_PATH.test(filePath)) return filePath;
  return filePath
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

function deliveryUrl(ctx: UrlContext, a: Pick<AssetState, 'filePath' | 'updatedAt'>, versionId?: string): string {
  const base = `${ctx.publicUrl}/${ctx.imagekitId}${encodeFilePath(a.filePath)}`;
  // A number (or NaN) needs no escaping; list pages build a thousand of these.
  const updatedAt = `updatedAt=${Date.parse(a.updatedAt)}`;
  if (!versionId) return `${base}?${updatedAt}`;
  return `${base}?${new URLSearchParams({ 'ik-obj-version': versionId }).toString()}&${updatedAt}`;
}

function thumbnailOf(url: string, a: Pick<AssetState, 'fileType'>): string | undefined {
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

/** FileDetails. listedFileDetailsJson below writes the same fields in the same order: change both. */
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

const str = (s: string): string => JSON.stringify(s);
const num = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');

/**
 * A listed file's FileDetails as JSON text: exactly JSON.stringify(fileDetails(…)) of the same
 * file (same fields, same order; test/unit/list-json.test.ts holds the two together), built as a
 * string so that the JSON-valued fields go in as the stored text, never parsed.
 */
export function listedFileDetailsJson(ctx: UrlContext, f: ListedFile): string {
  const url = deliveryUrl(ctx, f);
  let out =
    `{"fileId":${str(f.id)},"type":"file","name":${str(f.name)},"filePath":${str(f.filePath)},"tags":${f.json.tags},"AITags":${f.json.aiTags}` +
    `,"versionInfo":{"id":${str(f.currentVersionId)},"name":${str(`Version ${f.versionNumber}`)}},"isPrivateFile":${f.isPrivate},"isPublished":${f.isPublished}` +
    `,"customCoordinates":${f.customCoordinates === null ? 'null' : str(f.customCoordinates)},"url":${str(url)},"fileType":${str(f.fileType)},"mime":${str(f.mime)}`;
  if (f.width !== null) out += `,"width":${num(f.width)}`;
  if (f.height !== null) out += `,"height":${num(f.height)}`;
  if (f.bitRate !== null) out += `,"bitRate":${num(f.bitRate)}`;
  if (f.duration !== null) out += `,"duration":${num(f.duration)}`;
  if (f.audioCodec !== null) out += `,"audioCodec":${str(f.audioCodec)}`;
  if (f.videoCodec !== null) out += `,"videoCodec":${str(f.videoCodec)}`;
  out += `,"size":${num(f.size)},"hasAlpha":${f.hasAlpha},"customMetadata":${f.json.customMetadata},"createdAt":${str(f.createdAt)},"updatedAt":${str(f.updatedAt)}`;
  const thumb = thumbnailOf(url, f);
  if (thumb) out += `,"thumbnail":${str(thumb)}`;
  if (f.description !== null) out += `,"description":${str(f.description)}`;
  if (f.json.embeddedMetadata !== 'null') out += `,"embeddedMetadata":${f.json.embeddedMetadata}`;
  return `${out}}`;
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
