import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import exifr from 'exifr';
import sharp from 'sharp';
import type { MediaAnalysis, ProbeResult } from '../../ports/media-probe.js';
import { estimateJpegQuality } from './jpeg-quality.js';
import { phashOfFile } from './phash.js';

/**
 * The media analysis run once per upload: the spec's `Metadata` object and `embeddedMetadata`.
 *
 * - Pixels (hasTransparency, pHash) come from sharp; dimensions, density and the colour profile
 *   from the probe that identified the file (sharp's header read).
 * - `quality`: estimated for JPEG from its quantisation tables (jpeg-quality.ts); 0 for other
 *   images, the value ImageKit's own samples show when it has no estimate.
 * - `exif`: the raw EXIF values grouped as ImageKit documents them (image = IFD0, thumbnail = IFD1,
 *   exif, gps, interoperability, makernote), read with exifr without translating values, so
 *   numbers stay numbers and dates stay "YYYY:MM:DD hh:mm:ss" as in the file.
 * - `embeddedMetadata`: EXIF, IPTC and XMP consolidated under flat exiftool-style tag names with
 *   readable values (see `consolidate`).
 * - Video and audio: ffprobe (a static binary shipped in the @ffprobe-installer npm package, or
 *   `ffprobe` on PATH) for dimensions, duration, bit rate and codecs.
 *
 * Every part is best-effort: unreadable metadata never fails an upload, it is just left out.
 */

export interface AnalyzerOptions {
  limitInputPixels?: number;
  /** ffprobe binary; undefined: the npm-shipped one, else `ffprobe` on PATH; null: no video probing. */
  ffprobePath?: string | null;
  ffprobeTimeoutMs?: number;
}

type Json = Record<string, unknown>;

export class MediaAnalyzer {
  private readonly limitInputPixels: number;
  private readonly ffprobe: string | null;
  private readonly ffprobeTimeoutMs: number;

  constructor(opts: AnalyzerOptions = {}) {
    this.limitInputPixels = opts.limitInputPixels ?? 268_402_689;
    this.ffprobe = opts.ffprobePath === undefined ? defaultFfprobePath() : opts.ffprobePath;
    this.ffprobeTimeoutMs = opts.ffprobeTimeoutMs ?? 30_000;
  }

  async analyze(path: string, probe: ProbeResult, size: number): Promise<MediaAnalysis> {
    if (probe.fileType === 'image') return this.image(path, probe, size);
    if (isAudioVisual(probe.mime)) return this.audioVisual(path, probe, size);
    return { metadata: { size, format: probe.format }, embeddedMetadata: {}, av: null };
  }

  private async image(path: string, probe: ProbeResult, size: number): Promise<MediaAnalysis> {
    const [quality, hasTransparency, pHash, exif, embeddedMetadata] = await Promise.all([
      probe.mime === 'image/jpeg' ? estimateJpegQuality(path).catch(() => null) : Promise.resolve(null),
      probe.hasAlpha ? hasTransparentPixels(path, this.limitInputPixels).catch(() => probe.hasAlpha) : Promise.resolve(false),
      phashOfFile(path, this.limitInputPixels).catch(() => null),
      readExifGroups(path).catch(() => null),
      readEmbeddedMetadata(path).catch(() => ({})),
    ]);
    // Key order follows ImageKit's documented sample.
    const metadata: Json = {};
    if (probe.height !== null) metadata.height = probe.height;
    if (probe.width !== null) metadata.width = probe.width;
    metadata.size = size;
    metadata.format = probe.format;
    metadata.hasColorProfile = probe.hasColorProfile;
    metadata.quality = quality ?? 0;
    if (probe.density !== null) metadata.density = Math.round(probe.density);
    metadata.hasTransparency = hasTransparency;
    if (pHash !== null) metadata.pHash = pHash;
    metadata.exif = exif ?? {};
    return { metadata, embeddedMetadata, av: null };
  }

  private async audioVisual(path: string, probe: ProbeResult, size: number): Promise<MediaAnalysis> {
    const info = this.ffprobe ? await runFfprobe(this.ffprobe, path, this.ffprobeTimeoutMs).catch(() => null) : null;
    const av = info ? avFacts(info, size) : null;
    const metadata: Json = {};
    if (av?.height != null) metadata.height = av.height;
    if (av?.width != null) metadata.width = av.width;
    if (av?.bitRate != null) metadata.bitRate = av.bitRate;
    if (av?.duration != null) metadata.duration = av.duration;
    if (av?.audioCodec) metadata.audioCodec = av.audioCodec;
    if (av?.videoCodec) metadata.videoCodec = av.videoCodec;
    metadata.size = size;
    metadata.format = probe.format;
    return { metadata, embeddedMetadata: info ? containerTags(info) : {}, av };
  }
}

function isAudioVisual(mime: string): boolean {
  return mime.startsWith('video/') || mime.startsWith('audio/');
}

/** "Contains transparent areas": an alpha channel whose minimum is below fully opaque. */
async function hasTransparentPixels(path: string, limitInputPixels: number): Promise<boolean> {
  const img = sharp(path, { limitInputPixels, sequentialRead: true });
  const [meta, stats] = await Promise.all([img.metadata(), img.stats()]);
  const alpha = stats.channels[stats.channels.length - 1];
  if (!alpha || !meta.hasAlpha) return false;
  const opaque = meta.depth === 'ushort' ? 65535 : 255;
  return alpha.min < opaque;
}

// ------------------------------------------------------------------------------------------
// EXIF as the `exif` object of Metadata.

const EXIF_GROUPS: ReadonlyArray<[string, string]> = [
  ['ifd0', 'image'],
  ['ifd1', 'thumbnail'],
  ['exif', 'exif'],
  ['gps', 'gps'],
  ['interop', 'interoperability'],
];

/** exifr's names for the IFD pointer tags → the exiftool names ImageKit shows. */
const POINTER_NAMES: Record<string, string> = { ExifIFD: 'ExifOffset', GpsIFD: 'GPSInfo', InteropIFD: 'InteropOffset' };

/** Binary blobs longer than this (maker notes, embedded XMP/IPTC/ICC copies) are left out. */
const MAX_BINARY = 64;

export async function readExifGroups(path: string): Promise<Json> {
  const raw = (await exifr.parse(path, {
    tiff: true,
    ifd0: {},
    ifd1: true,
    exif: true,
    gps: true,
    interop: true,
    makerNote: false,
    userComment: false,
    xmp: false,
    iptc: false,
    icc: false,
    jfif: false,
    ihdr: false,
    translateKeys: true,
    translateValues: false,
    reviveValues: false,
    sanitize: false,
    mergeOutput: false,
  })) as Record<string, Json> | undefined;
  if (!raw || !EXIF_GROUPS.some(([g]) => raw[g])) return {};
  const out: Json = {};
  for (const [group, name] of EXIF_GROUPS) {
    const src = raw[group] ?? {};
    const dst: Json = {};
    for (const [key, value] of Object.entries(src)) {
      // exifr adds decimal coordinates to the GPS block; they are not tags of the file.
      if (group === 'gps' && (key === 'latitude' || key === 'longitude')) continue;
      const v = rawExifValue(group, key, value);
      if (v !== undefined) dst[POINTER_NAMES[key] ?? key] = v;
    }
    out[name] = dst;
  }
  out.makernote = {};
  return out;
}

function rawExifValue(group: string, key: string, v: unknown): unknown {
  if (v instanceof Uint8Array) {
    if (group === 'gps' && key === 'GPSVersionID') return Array.from(v);
    if (v.length === 1) return v[0];
    if (v.length > MAX_BINARY) return undefined;
    // UNDEFINED-typed values such as ExifVersion ("0221") read as their bytes.
    return Buffer.from(v).toString('latin1');
  }
  return plainValue(v);
}

function plainValue(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') {
    const s = v.replace(/[\0\s]+$/, '');
    return s === '' ? undefined : s.length > MAX_STRING ? s.slice(0, MAX_STRING) : s;
  }
  if (typeof v === 'boolean') return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.toISOString();
  if (Array.isArray(v)) {
    const items = v.slice(0, MAX_ARRAY).map(plainValue).filter((x) => x !== undefined);
    return items.length === 0 ? undefined : items;
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------
// embeddedMetadata: EXIF + IPTC + XMP, consolidated.

const MAX_STRING = 4096;
const MAX_ARRAY = 200;
const MAX_KEYS = 1000;

/**
 * IPTC IIM datasets whose exifr name differs from the exiftool name ImageKit uses (exiftool's
 * name with its punctuation dropped: "Province-State" → "ProvinceState").
 */
const IPTC_NAMES: Record<string, string> = {
  State: 'ProvinceState',
  CountryCode: 'CountryPrimaryLocationCode',
  Country: 'CountryPrimaryLocationName',
  Caption: 'CaptionAbstract',
  Writer: 'WriterEditor',
};

/** IPTC Core's CreatorContactInfo fields → the flattened names exiftool gives them. */
const CREATOR_CONTACT: Record<string, string> = {
  CiAdrExtadr: 'CreatorAddress',
  CiAdrCity: 'CreatorCity',
  CiAdrRegion: 'CreatorRegion',
  CiAdrPcode: 'CreatorPostalCode',
  CiAdrCtry: 'CreatorCountry',
  CiEmailWork: 'CreatorWorkEmail',
  CiTelWork: 'CreatorWorkTelephone',
  CiUrlWork: 'CreatorWorkURL',
};

const IPTC_SHORTS = new Set(['ApplicationRecordVersion', 'ObjectPreviewFileFormat', 'ObjectPreviewFileVersion']);
const COLOR_SPACES: Record<number, string> = { 1: 'sRGB', 2: 'Adobe RGB', 65533: 'Wide Gamut RGB', 65534: 'ICC Profile', 65535: 'Uncalibrated' };
const COMPONENTS = ['-', 'Y', 'Cb', 'Cr', 'R', 'G', 'B'];

export async function readEmbeddedMetadata(path: string): Promise<Json> {
  const common = { icc: false, jfif: false, ihdr: false, translateKeys: true, reviveValues: false, mergeOutput: false } as const;
  const [tiffIptc, xmp] = await Promise.all([
    exifr
      .parse(path, { ...common, tiff: true, ifd0: {}, ifd1: false, exif: true, gps: true, interop: true, makerNote: false, userComment: true, iptc: true, xmp: false, translateValues: true })
      .catch(() => undefined) as Promise<Record<string, Json> | undefined>,
    exifr
      .parse(path, { ...common, tiff: false, iptc: false, xmp: true })
      .catch(() => undefined) as Promise<Record<string, Json> | undefined>,
  ]);
  return consolidate(tiffIptc ?? {}, xmp ?? {});
}

/**
 * Builds the flat object. Tag names are exiftool's (what ImageKit documents): EXIF and IPTC
 * names as exifr reads them (IPTC renamed per IPTC_NAMES), XMP properties capitalised, with
 * structures flattened as parent + field ("LocationCreated" / "City" → "LocationCreatedCity").
 * When two sources carry the same name, EXIF wins over IPTC, and IPTC over XMP.
 * Values are readable: enumerations translated ("Horizontal (normal)", "inches"), dates as ISO
 * 8601 UTC strings (EXIF has no zone; its OffsetTime* tags are kept alongside), GPS positions
 * as signed decimal degrees, versions as their four characters ("0232").
 */
export function consolidate(tiffIptc: Record<string, Json>, xmp: Record<string, Json>): Json {
  const out: Json = {};
  let keys = 0;
  const put = (key: string, value: unknown) => {
    if (value === undefined || key in out || keys >= MAX_KEYS) return;
    out[key] = value;
    keys++;
  };

  for (const group of ['ifd0', 'exif', 'gps', 'interop']) {
    const src = tiffIptc[group];
    if (!src) continue;
    for (const [key, value] of Object.entries(src)) {
      if (group === 'gps' && (key === 'latitude' || key === 'longitude')) continue;
      if (group === 'gps' && (key === 'GPSLatitude' || key === 'GPSLongitude')) {
        const decimal = src[key === 'GPSLatitude' ? 'latitude' : 'longitude'];
        if (typeof decimal === 'number' && Number.isFinite(decimal)) {
          put(key, Math.round(decimal * 1e7) / 1e7);
          continue;
        }
      }
      put(key, exifValue(key, value));
    }
  }

  const iptc = tiffIptc.iptc;
  if (iptc) {
    for (const [key, value] of Object.entries(iptc)) put(IPTC_NAMES[key] ?? key, iptcValue(key, value));
  }

  for (const [ns, props] of Object.entries(xmp)) {
    if (!props || typeof props !== 'object' || ns === 'rdf' || ns === 'x') continue;
    for (const [prop, value] of Object.entries(props)) {
      if (prop === 'about' || prop.startsWith('xmlns')) continue;
      const leaves = new Map<string, unknown[]>();
      xmpLeaves(capitalise(prop), value, leaves);
      for (const [k, vs] of leaves) {
        const vals = vs.map(xmpValue).filter((v) => v !== undefined).slice(0, MAX_ARRAY);
        if (vals.length > 0) put(k, vals.length === 1 && !Array.isArray(value) ? vals[0] : vals);
      }
    }
  }
  return out;
}

function exifValue(key: string, v: unknown): unknown {
  if (v instanceof Uint8Array) {
    if (key === 'ComponentsConfiguration') return Array.from(v, (b) => COMPONENTS[b] ?? String(b)).join(',');
    if (key === 'GPSVersionID') return Array.from(v).join('.');
    if (v.length === 1) return v[0];
    if (v.length <= 8 && /Version$/.test(key)) return Buffer.from(v).toString('latin1');
    return undefined;
  }
  if (key === 'ColorSpace' && typeof v === 'number') return COLOR_SPACES[v] ?? v;
  if (typeof v === 'string') {
    const m = /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(v.trim());
    if (m) return isoUtc(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) ?? plainValue(v);
  }
  return plainValue(v);
}

function iptcValue(key: string, v: unknown): unknown {
  if (Array.isArray(v)) {
    const items = v.slice(0, MAX_ARRAY).map((x) => iptcValue(key, x)).filter((x) => x !== undefined);
    return items.length === 0 ? undefined : items;
  }
  if (typeof v === 'string') {
    // Binary 2-byte integer datasets, which exifr hands over as two characters.
    if (IPTC_SHORTS.has(key) && v.length === 2) return v.charCodeAt(0) * 256 + v.charCodeAt(1);
    const s = v.trim();
    if (key.includes('Date')) {
      const m = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
      if (m) return isoUtc(`${m[1]}-${m[2]}-${m[3]}T00:00:00Z`) ?? plainValue(s);
    }
    if (key.includes('Time')) {
      const m = /^(\d{2})(\d{2})(\d{2})([+-]\d{2})(\d{2})$/.exec(s);
      if (m) return `${m[1]}:${m[2]}:${m[3]}${m[4]}:${m[5]}`;
    }
  }
  if (v instanceof Uint8Array) return undefined;
  return plainValue(v);
}

function xmpLeaves(name: string, v: unknown, into: Map<string, unknown[]>): void {
  if (v === null || v === undefined) return;
  if (Array.isArray(v)) {
    for (const el of v) xmpLeaves(name, el, into);
    return;
  }
  if (typeof v === 'object' && !(v instanceof Date)) {
    const o = v as Record<string, unknown>;
    // A language alternative: { lang, value }.
    if ('value' in o && (typeof o.value !== 'object' || o.value === null)) {
      xmpLeaves(name, o.value, into);
      return;
    }
    for (const [field, child] of Object.entries(o)) {
      if (field === 'parseType' || field === 'lang' || field === 'about') continue;
      const flat = name === 'CreatorContactInfo' ? (CREATOR_CONTACT[field] ?? `Creator${capitalise(field)}`) : name + capitalise(field);
      xmpLeaves(flat, child, into);
    }
    return;
  }
  const list = into.get(name) ?? [];
  list.push(v);
  into.set(name, list);
}

const XMP_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

function xmpValue(v: unknown): unknown {
  if (typeof v === 'string' && XMP_DATE.test(v.trim())) {
    const s = v.trim();
    // No zone: read as UTC, like EXIF dates.
    const withTime = s.length === 10 ? `${s}T00:00:00` : s;
    const zoned = /(Z|[+-]\d{2}:\d{2})$/.test(withTime) ? withTime : `${withTime}Z`;
    return isoUtc(zoned) ?? plainValue(v);
  }
  return plainValue(v);
}

function isoUtc(s: string): string | undefined {
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// ------------------------------------------------------------------------------------------
// Video and audio: ffprobe.

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  duration?: string;
  bit_rate?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: Array<{ rotation?: number }>;
}

export interface FfprobeInfo {
  streams?: FfprobeStream[];
  format?: { duration?: string; bit_rate?: string; tags?: Record<string, string> };
}

let resolvedFfprobe: string | null | undefined;

/** The ffprobe shipped in the npm package for this platform, else `ffprobe` on PATH. */
export function defaultFfprobePath(): string | null {
  if (resolvedFfprobe !== undefined) return resolvedFfprobe;
  try {
    // CommonJS, and it throws on platforms it has no binary for: load it only when needed.
    const mod = createRequire(import.meta.url)('@ffprobe-installer/ffprobe') as { path?: string };
    resolvedFfprobe = mod.path ?? 'ffprobe';
  } catch {
    resolvedFfprobe = 'ffprobe';
  }
  return resolvedFfprobe;
}

export function runFfprobe(bin: string, path: string, timeoutMs: number): Promise<FfprobeInfo> {
  // Only local files: a playlist-like input must not make ffprobe open network or other URLs.
  const args = ['-v', 'error', '-protocol_whitelist', 'file', '-print_format', 'json', '-show_format', '-show_streams', `file:${path}`];
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024, windowsHide: true }, (err, stdout) => {
      if (err) return reject(err);
      try {
        resolve(JSON.parse(stdout) as FfprobeInfo);
      } catch (e) {
        reject(e);
      }
    });
  });
}

/**
 * Dimensions of the first real video stream (cover art in audio files is not one), shown as
 * displayed (a 90° rotation swaps them); duration in whole seconds, truncated as in ImageKit's
 * sample (1378305 bytes at 1453966 bit/s, 7.58 s, reported as 7); bit rate in bits per second,
 * the unit of ImageKit's samples despite the spec's "kbps" wording.
 */
export function avFacts(info: FfprobeInfo, size: number): NonNullable<MediaAnalysis['av']> {
  const streams = info.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const audio = streams.find((s) => s.codec_type === 'audio');
  const seconds = num(info.format?.duration) ?? num(video?.duration) ?? num(audio?.duration);
  let bitRate = num(info.format?.bit_rate);
  if (bitRate === null && seconds) bitRate = (size * 8) / seconds;
  let width = video?.width ?? null;
  let height = video?.height ?? null;
  const rotation = Number(video?.tags?.rotate ?? video?.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? 0);
  if (Math.abs(rotation) % 180 === 90) [width, height] = [height, width];
  return {
    width,
    height,
    duration: seconds === null ? null : Math.floor(seconds),
    bitRate: bitRate === null ? null : Math.round(bitRate),
    videoCodec: video?.codec_name ?? null,
    audioCodec: audio?.codec_name ?? null,
  };
}

function num(s: string | undefined): number | null {
  if (s === undefined) return null;
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** Container tags (ID3 title/artist, QuickTime creation time …) under capitalised names. */
function containerTags(info: FfprobeInfo): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(info.format?.tags ?? {})) {
    const key = k
      .split(/[_\s-]+/)
      .filter(Boolean)
      .map(capitalise)
      .join('');
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(key) || key in out) continue;
    out[key] = key === 'CreationTime' ? (isoUtc(v) ?? plainValue(v)) : plainValue(v);
  }
  return out;
}
