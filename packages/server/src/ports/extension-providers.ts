/**
 * Provider ports of the extensions: the third-party (or local) services that tag, describe and cut
 * out images. The extension service decides what to ask and what to keep (minConfidence, maxTags,
 * vocabularies); a provider only speaks its service's wire format and reports what came back.
 *
 * Every failure a provider reports is an ExtensionProviderError that says whether trying again
 * later may help (network trouble, 429, 5xx) or not (bad credentials, an image the service refuses).
 */

/** An image handed to a provider: bytes already prepared (oriented, sized) for that provider. */
export interface ProviderImage {
  bytes: Buffer;
  /** image/jpeg, image/png or image/webp */
  mime: string;
}

export interface CallOptions {
  /** Aborted when the job runner stops; the provider call should give up promptly. */
  signal?: AbortSignal;
}

/** One label as the service scored it; confidence on a 0–100 scale. */
export interface DetectedLabel {
  name: string;
  confidence: number;
}

export interface Tagger {
  /** Labels for the image, best first. `maxLabels` and `minConfidence` are hints the service may apply itself. */
  detectLabels(image: ProviderImage, opts: CallOptions & { maxLabels: number; minConfidence: number }): Promise<DetectedLabel[]>;
}

/** One AI task put to a vision-language model (ai-tasks), in the form the model answers. */
export type VisionTaskQuestion =
  /** An empty `options` list lets the model choose its own values (select_tags without a vocabulary). */
  | { kind: 'select'; instruction: string; options: ReadonlyArray<string | number | boolean>; min: number; max: number }
  | { kind: 'yes_no'; instruction: string };

/** The model's answer to one task: the chosen options, or yes / no / unknown. */
export type VisionTaskAnswer = { kind: 'select'; selected: Array<string | number | boolean> } | { kind: 'yes_no'; answer: 'yes' | 'no' | 'unknown' };

export interface Describer {
  /** A short plain-text description of the image (alt text). */
  describe(image: ProviderImage, opts: CallOptions): Promise<string>;
  /** Answers each question about the image, in order. */
  answer(image: ProviderImage, questions: readonly VisionTaskQuestion[], opts: CallOptions): Promise<VisionTaskAnswer[]>;
}

/** remove-bg options as the spec names them. */
export interface RemoveBgOptions {
  add_shadow?: boolean;
  semitransparency?: boolean;
  bg_color?: string;
  bg_image_url?: string;
}

export interface BackgroundRemover {
  /** The cut-out image (PNG with alpha, unless a background colour or image was asked for). */
  removeBackground(image: ProviderImage, options: RemoveBgOptions, opts: CallOptions): Promise<{ bytes: Buffer; mime: string }>;
}

/** The providers this server was configured with; a missing one makes its extension fail. */
export interface ExtensionProviders {
  google: Tagger | null;
  aws: Tagger | null;
  describer: Describer | null;
  removeBg: BackgroundRemover | null;
}

export class ExtensionProviderError extends Error {
  override name = 'ExtensionProviderError';
  constructor(
    message: string,
    /** True when the same call may succeed later (network, timeouts, 429, 5xx). */
    readonly retryable: boolean,
    /** The provider's HTTP status, when there was one. */
    readonly status?: number,
  ) {
    super(message);
  }
}
