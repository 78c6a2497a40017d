import { fileTypeFromFile } from 'file-type';
import mime from 'mime-types';
import sharp from 'sharp';
import type { MediaAnalysis, MediaProbe, ProbeResult } from '../../ports/media-probe.js';
import { MediaAnalyzer } from './metadata.js';

/** sharp's format names → the extension-style names ImageKit reports. */
const SHARP_FORMATS: Record<string, { format: string; mime: string }> = {
  jpeg: { format: 'jpg', mime: 'image/jpeg' },
  png: { format: 'png', mime: 'image/png' },
  webp: { format: 'webp', mime: 'image/webp' },
  gif: { format: 'gif', mime: 'image/gif' },
  avif: { format: 'avif', mime: 'image/avif' },
  heif: { format: 'heif', mime: 'image/heif' },
  tiff: { format: 'tiff', mime: 'image/tiff' },
  svg: { format: 'svg', mime: 'image/svg+xml' },
};

function extOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot + 1).toLowerCase();
}

/**
 * Images are identified by sharp (which reads headers only); anything else by its magic bytes,
 * then by the file name's extension.
 */
export class SharpMediaProbe implements MediaProbe {
  /** Refuse to even read metadata of absurd images; delivery applies its own tighter limits. */
  constructor(private readonly limitInputPixels = 268_402_689) {}

  private analyzer: MediaAnalyzer | undefined;

  /** The full analysis (metadata.ts): pixels, EXIF/IPTC/XMP, and ffprobe for video and audio. */
  analyze(localPath: string, probe: ProbeResult, size: number): Promise<MediaAnalysis> {
    this.analyzer ??= new MediaAnalyzer({ limitInputPixels: this.limitInputPixels });
    return this.analyzer.analyze(localPath, probe, size);
  }

  async probe(localPath: string, fileNameHint: string): Promise<ProbeResult> {
    const detected = await fileTypeFromFile(localPath).catch(() => undefined);
    const sniffedImage = detected?.mime.startsWith('image/') ?? false;
    const maybeSvg = !detected && (extOf(fileNameHint) === 'svg' || (await looksLikeSvg(localPath)));
    if (sniffedImage || maybeSvg) {
      try {
        const meta = await sharp(localPath, { limitInputPixels: this.limitInputPixels }).metadata();
        const known = meta.format ? SHARP_FORMATS[meta.format] : undefined;
        if (known && meta.width && meta.height) {
          // heif covers both HEIC and AVIF containers; trust the sniffed brand when it says avif.
          const fmt = meta.format === 'heif' && detected?.ext === 'avif' ? SHARP_FORMATS.avif! : known;
          return {
            fileType: 'image',
            mime: fmt.mime,
            format: fmt.format,
            width: meta.width,
            height: meta.height,
            hasAlpha: meta.hasAlpha ?? false,
            density: meta.density ?? null,
            hasColorProfile: Boolean(meta.icc),
          };
        }
      } catch {
        /* unreadable as an image: stored as a non-image file */
      }
    }
    const ext = detected?.ext ?? extOf(fileNameHint);
    let type = detected?.mime ?? (ext ? mime.lookup(ext) || 'application/octet-stream' : 'application/octet-stream');
    // The name alone must not make unreadable bytes an image (e.g. text saved as x.png).
    if (!detected && type.startsWith('image/')) type = 'application/octet-stream';
    return {
      fileType: 'non-image',
      mime: type,
      format: ext || 'bin',
      width: null,
      height: null,
      hasAlpha: false,
      density: null,
      hasColorProfile: false,
    };
  }
}

async function looksLikeSvg(path: string): Promise<boolean> {
  const { open } = await import('node:fs/promises');
  const h = await open(path, 'r');
  try {
    const buf = Buffer.alloc(1024);
    const { bytesRead } = await h.read(buf, 0, buf.length, 0);
    return /<svg[\s>]/i.test(buf.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await h.close();
  }
}
