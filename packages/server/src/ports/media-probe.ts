/** What the bytes say about themselves; never what the client claimed. */
export interface ProbeResult {
  fileType: 'image' | 'non-image';
  mime: string;
  /** lowercase format/extension: jpg, png, webp, gif, avif, svg, pdf, mp4 … */
  format: string;
  width: number | null;
  height: number | null;
  hasAlpha: boolean;
  /** Facts for the legacy `metadata` response field. */
  density: number | null;
  hasColorProfile: boolean;
}

/**
 * Everything read from the bytes once, at upload, and stored: the endpoints and responses that
 * show it never read the bytes again.
 */
export interface MediaAnalysis {
  /** The spec's `Metadata` object (images: pixels, quality, pHash, exif; video/audio: ffprobe facts). */
  metadata: Record<string, unknown>;
  /** EXIF, IPTC and XMP consolidated under flat tag names, as `embeddedMetadata`; {} when there is none. */
  embeddedMetadata: Record<string, unknown>;
  /** Container facts of video and audio files; null for anything else (or when ffprobe is unavailable). */
  av: {
    width: number | null;
    height: number | null;
    /** Whole seconds. */
    duration: number | null;
    /** Bits per second. */
    bitRate: number | null;
    videoCodec: string | null;
    audioCodec: string | null;
  } | null;
}

export interface MediaProbe {
  probe(localPath: string, fileNameHint: string): Promise<ProbeResult>;
  /** The full analysis; never throws for unreadable or odd files (those get what could be read). */
  analyze(localPath: string, probe: ProbeResult, size: number): Promise<MediaAnalysis>;
}
