/**
 * Types of the URL helpers, named and shaped as the `SrcOptions`, `Transformation`, `Overlay`…
 * schemas of ImageKit's OpenAPI spec, so code written against `@imagekit/nodejs` type-checks here.
 */

/**
 * A string type that still offers the listed literals in editor completion; `'max' | string` alone
 * would collapse to plain `string`.
 */
export type LiteralOrString<T extends string> = T | (string & Record<never, never>);

/** Where the transformation string goes: `?tr=…` (the default) or a `tr:…` path segment. */
export type TransformationPosition = 'path' | 'query';

/** Resolutions for adaptive bitrate streaming (`sr-240_360_…`). */
export type StreamingResolution = '240' | '360' | '480' | '720' | '1080' | '1440' | '2160';

/** How an overlay's `input`/`text` is put in the URL: `i-…` (plain), `ie-…` (base64) or chosen automatically. */
export type OverlayEncoding = 'auto' | 'plain' | 'base64';

/** One step of a transformation chain. Steps are joined with `:`; parameters within a step with `,`. */
export interface Transformation {
  /** `w`: pixels, a fraction (0–1) of the original, or an expression such as `iw_div_2`. */
  width?: number | string;
  /** `h`: pixels, a fraction (0–1) of the original, or an expression such as `ih_mul_0.5`. */
  height?: number | string;
  /** `ar`: e.g. `4-3`, or an expression. */
  aspectRatio?: number | string;
  /** `bg`: a color, `dominant`, `gradient_dominant`, `blurred…`, or `genfill…`. */
  background?: string;
  /** `b`: `<width>_<hex color>`, e.g. `5_FF0000`. */
  border?: string;
  /** `c`: crop strategy. */
  crop?: 'force' | 'at_max' | 'at_max_enlarge' | 'at_least' | 'maintain_ratio' | 'maintain_ratio_no_enlarge';
  /** `cm`: crop mode. */
  cropMode?: 'pad_resize' | 'extract' | 'pad_extract' | 'pad_resize_no_enlarge' | 'pad_extract_no_shrink';
  /** `dpr`: 0.1–5, `auto`, or an expression. */
  dpr?: number | LiteralOrString<'auto'>;
  /** `fo`: `center`, `top`, `left`, …, `auto`, `face`, `custom`, or an object name. */
  focus?: string;
  /** `q`: 1–100. */
  quality?: number;
  /** `x`: crop focus coordinate. */
  x?: number | string;
  /** `xc`: crop focus centre coordinate. */
  xCenter?: number | string;
  /** `y`: crop focus coordinate. */
  y?: number | string;
  /** `yc`: crop focus centre coordinate. */
  yCenter?: number | string;
  /** `f`: output format. */
  format?: 'auto' | 'webp' | 'jpg' | 'jpeg' | 'png' | 'gif' | 'svg' | 'mp4' | 'webm' | 'avif' | 'orig';
  /** `vc`: video codec. */
  videoCodec?: 'h264' | 'vp9' | 'av1' | 'none';
  /** `ac`: audio codec. */
  audioCodec?: 'aac' | 'opus' | 'none';
  /** `r`: a radius, `max`, or four `_`-separated corner radii. */
  radius?: number | LiteralOrString<'max'>;
  /** `rt`: degrees clockwise, `N<degrees>` counter-clockwise, or `auto`. */
  rotation?: number | string;
  /** `bl`: Gaussian blur 1–100. */
  blur?: number;
  /** `n`: a named transformation. */
  named?: string;
  /** `di`: fallback image path; slashes become `@@`. */
  defaultImage?: string;
  /** `fl`: flip. */
  flip?: 'h' | 'v' | 'h_v' | 'v_h';
  /** `orig`: serve the original file as-is. */
  original?: boolean;
  /** `so`: video trim start, seconds. */
  startOffset?: number | string;
  /** `eo`: video trim end, seconds. */
  endOffset?: number | string;
  /** `du`: video trim duration, seconds. */
  duration?: number | string;
  /** `sr`: adaptive bitrate streaming resolutions, joined with `_`. */
  streamingResolutions?: StreamingResolution[];
  /** `e-grayscale` */
  grayscale?: true;
  /** `e-upscale` */
  aiUpscale?: true;
  /** `e-retouch` */
  aiRetouch?: true;
  /** `e-genvar` */
  aiVariation?: true;
  /** `e-dropshadow`, optionally with parameters such as `az-45`. */
  aiDropShadow?: true | string;
  /** `e-changebg`: `prompt-…` or `prompte-…`. */
  aiChangeBackground?: string;
  /** `e-bgremove` */
  aiRemoveBackground?: true;
  /** `e-removedotbg` */
  aiRemoveBackgroundExternal?: true;
  /** `e-edit`: `prompt-…` or `prompte-…`. */
  aiEdit?: string;
  /** `e-contrast` */
  contrastStretch?: true;
  /** `e-shadow`, optionally with parameters. */
  shadow?: true | string;
  /** `e-sharpen`, optionally with an amount. */
  sharpen?: true | number;
  /** `e-usm`, optionally with parameters. */
  unsharpMask?: true | string;
  /** `e-gradient`, optionally with parameters. */
  gradient?: true | string;
  /** `pr`: progressive JPEG. */
  progressive?: boolean;
  /** `lo`: lossless compression. */
  lossless?: boolean;
  /** `cp`: keep the color profile. */
  colorProfile?: boolean;
  /** `md`: keep metadata. */
  metadata?: boolean;
  /** `o`: opacity 0–100. */
  opacity?: number;
  /** `t`: trim a solid background; `true` or a threshold. */
  trim?: true | number;
  /** `z`: zoom, used with `fo-face` / object focus. */
  zoom?: number;
  /** `pg`: page, layer range or `name-…` of a multi-page file. */
  page?: number | string;
  /** `cr`: `toColor[_tolerance[_fromColor]]`. */
  colorReplace?: string;
  /** `e-colorize`: `co-<color>_in-<intensity>`. */
  colorize?: string;
  /** `e-distort`: `p-x1_y1_…` or `a-<degrees>`. */
  distort?: string;
  /** Appended to the step verbatim, for parameters this type does not know yet. */
  raw?: string;
  /** A layer (`l-image`, `l-text`, `l-video`, `l-subtitles`, solid color) closed by `l-end`. */
  overlay?: Overlay;
}

/** Where a layer sits on its parent. Numbers and expressions (`bw_mul_0.4`) are accepted. */
export interface OverlayPosition {
  /** `lx` */
  x?: number | string;
  /** `ly` */
  y?: number | string;
  /** `lxc` */
  xCenter?: number | string;
  /** `lyc` */
  yCenter?: number | string;
  /** `lap`: the corner offsets are measured from. */
  anchorPoint?: 'top' | 'left' | 'right' | 'bottom' | 'top_left' | 'top_right' | 'bottom_left' | 'bottom_right' | 'center';
  /** `lfo`: ignored by ImageKit when any coordinate is given. */
  focus?: 'center' | 'top' | 'left' | 'bottom' | 'right' | 'top_left' | 'top_right' | 'bottom_left' | 'bottom_right';
}

/** When a layer shows on a video parent, in seconds or as expressions (`bdu_mul_0.4`). */
export interface OverlayTiming {
  /** `lso` */
  start?: number | string;
  /** `ldu` (ignored by ImageKit when `end` is set) */
  duration?: number | string;
  /** `leo` */
  end?: number | string;
}

/** Fields every layer kind shares. */
export interface BaseOverlay {
  position?: OverlayPosition;
  timing?: OverlayTiming;
  /** `lm`: how the layer blends with what is beneath it. */
  layerMode?: 'multiply' | 'cutter' | 'cutout' | 'displace';
}

/** Styling of a text layer. */
export interface TextOverlayTransformation {
  /** `w`: maximum width before wrapping. */
  width?: number | string;
  /** `fs` */
  fontSize?: number | string;
  /** `ff`: a supported font or a custom font path (slashes become `@@`). */
  fontFamily?: string;
  /** `co` */
  fontColor?: string;
  /** `ia` */
  innerAlignment?: 'left' | 'right' | 'center';
  /** `pa`: CSS-shorthand-like `_`-separated values. */
  padding?: number | string;
  /** `al`: 1–9. */
  alpha?: number;
  /** `tg`: `b`, `i`, `strikethrough` or `_`-joined combinations. */
  typography?: string;
  /** `bg` */
  background?: string;
  /** `r` */
  radius?: number | LiteralOrString<'max'>;
  /** `rt` */
  rotation?: number | string;
  /** `fl` */
  flip?: 'h' | 'v' | 'h_v' | 'v_h';
  /** `lh` */
  lineHeight?: number | string;
}

/** Styling of a subtitle layer. */
export interface SubtitleOverlayTransformation {
  /** `bg` */
  background?: string;
  /** `fs` */
  fontSize?: number;
  /** `ff` */
  fontFamily?: string;
  /** `co` */
  color?: string;
  /** `tg` */
  typography?: 'b' | 'i' | 'b_i';
  /** `fol`: `<width>_<color>`. */
  fontOutline?: string;
  /** `fsh`: `<color>_<indent>`. */
  fontShadow?: string;
}

/** Size and look of a solid color block. */
export interface SolidColorOverlayTransformation {
  /** `w` */
  width?: number | string;
  /** `h` */
  height?: number | string;
  /** `r` */
  radius?: number | LiteralOrString<'max'>;
  /** `al`: 1–9. */
  alpha?: number;
  /** `bg` */
  background?: string;
  /** `e-gradient` */
  gradient?: true | string;
}

/** `l-text`: text drawn on the parent. */
export interface TextOverlay extends BaseOverlay {
  type: 'text';
  text: string;
  encoding?: OverlayEncoding;
  transformation?: TextOverlayTransformation[];
}

/** `l-image`: another image from the media library drawn on the parent. */
export interface ImageOverlay extends BaseOverlay {
  type: 'image';
  /** Path of the layer image, relative to the URL endpoint. */
  input: string;
  encoding?: OverlayEncoding;
  transformation?: Transformation[];
}

/** `l-video`: a video layer on a video parent. */
export interface VideoOverlay extends BaseOverlay {
  type: 'video';
  input: string;
  encoding?: OverlayEncoding;
  transformation?: Transformation[];
}

/** `l-subtitles`: a subtitle file burnt into a video parent. */
export interface SubtitleOverlay extends BaseOverlay {
  type: 'subtitle';
  input: string;
  encoding?: OverlayEncoding;
  transformation?: SubtitleOverlayTransformation[];
}

/** A solid color block (`l-image,i-ik_canvas,bg-<color>`). */
export interface SolidColorOverlay extends BaseOverlay {
  type: 'solidColor';
  /** `RRGGBB`, `RRGGBBAA` or a color name. */
  color: string;
  transformation?: SolidColorOverlayTransformation[];
}

/** A layer; `type` tells the kinds apart. */
export type Overlay = TextOverlay | ImageOverlay | VideoOverlay | SubtitleOverlay | SolidColorOverlay;

/** Options of {@link buildSrc}. */
export interface SrcOptions {
  /** Your URL endpoint, e.g. `https://ik.imagekit.io/demo` or `https://media.example.com/tessera`. */
  urlEndpoint: string;
  /** A path relative to `urlEndpoint`, or an absolute `http(s)` URL (then `urlEndpoint` only matters for signing). */
  src: string;
  /** Chained transformation steps. */
  transformation?: Transformation[];
  /** `query` (default) or `path`. Absolute `src` URLs always get the query form. */
  transformationPosition?: TransformationPosition;
  /** Extra query parameters, e.g. a cache-busting version. */
  queryParameters?: Record<string, string | number | boolean>;
  /** Sign the URL with `privateKey`. Implied when an expiry is given. */
  signed?: boolean;
  /** Seconds until a signed URL expires (`ik-t`). Without it a signed URL never expires. */
  expiresIn?: number;
  /** Alias of `expiresIn`, the name older ImageKit SDKs used. `expiresIn` wins when both are set. */
  expireSeconds?: number;
  /** The private API key; required when the URL is signed. Never ship it to a browser. */
  privateKey?: string;
}

/** Options of {@link getResponsiveImageAttributes}. */
export interface GetImageAttributesOptions extends SrcOptions {
  /** Display width in CSS pixels; used only without `sizes`, it yields `1x`/`2x` candidates. */
  width?: number;
  /** The `sizes` attribute; switches to `w` descriptors and prunes breakpoints below the smallest `vw` share. */
  sizes?: string;
  /** Device-width breakpoints. Default `[640, 750, 828, 1080, 1200, 1920, 2048, 3840]`. */
  deviceBreakpoints?: number[];
  /** Extra small image breakpoints merged in for `sizes`/`width`. Default `[16, 32, 48, 64, 96, 128, 256, 384]`. */
  imageBreakpoints?: number[];
}

/** Attributes for an `<img>` element. */
export interface ResponsiveImageAttributes {
  /** URL of the largest candidate. */
  src: string;
  /** Candidates with `w` or `x` descriptors. */
  srcSet?: string;
  /** The `sizes` attribute (given, or `100vw` for width-descriptor sets). */
  sizes?: string;
  /** Echo of the `width` option, when given. */
  width?: number;
}
