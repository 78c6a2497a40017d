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

export interface MediaProbe {
  probe(localPath: string, fileNameHint: string): Promise<ProbeResult>;
}
