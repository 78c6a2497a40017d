/**
 * Typed, validated transformation steps: what `parseTransformation` produces and the pipeline
 * consumes. Values are already checked; numbers that depend on the image (fractions, arithmetic
 * expressions) stay symbolic until the pipeline knows the dimensions.
 */

/** Variables of ImageKit's arithmetic expressions (initial, current and base width/height/ratio). */
export type ExprVariable = 'iw' | 'ih' | 'iar' | 'cw' | 'ch' | 'car' | 'bw' | 'bh' | 'bar';
export type ExprOperator = 'add' | 'sub' | 'mul' | 'div' | 'mod' | 'pow';

/** `iw_div_2`, `bh_mul_0.8_add_10`: operands and operators in written order. */
export interface Expression {
  kind: 'expr';
  operands: Array<number | ExprVariable>;
  operators: ExprOperator[];
}

/** A size: pixels, a fraction (0 < f < 1) of the current size, or an expression. */
export type Length =
  | { kind: 'px'; value: number }
  | { kind: 'fraction'; value: number }
  | Expression;

/** A plain number or an expression (coordinates, font sizes, padding…). */
export type Amount = { kind: 'num'; value: number } | Expression;

/** A coordinate that may be written `N<value>` (measured from the far edge). */
export interface SignedAmount {
  negative: boolean;
  amount: Amount;
}

/** Colour with alpha 0..1; `hex` is the canonical 8-digit RRGGBBAA (upper case). */
export interface Color {
  r: number;
  g: number;
  b: number;
  alpha: number;
  /** How it is written in canonical strings: a lowercase name or upper-case hex. */
  text: string;
}

export type Background = { kind: 'color'; color: Color } | { kind: 'dominant' };

export type CropStrategy =
  | 'maintain_ratio'
  | 'maintain_ratio_no_enlarge'
  | 'force'
  | 'at_max'
  | 'at_max_enlarge'
  | 'at_least';

export type CropMode = 'pad_resize' | 'pad_resize_no_enlarge' | 'extract' | 'pad_extract' | 'pad_extract_no_shrink';

export type RelativePosition =
  | 'center'
  | 'top'
  | 'left'
  | 'bottom'
  | 'right'
  | 'top_left'
  | 'top_right'
  | 'bottom_left'
  | 'bottom_right';

export type Focus = RelativePosition | 'auto' | 'face' | 'custom';

export type OutputFormat = 'auto' | 'jpg' | 'png' | 'webp' | 'avif' | 'gif' | 'orig' | 'svg' | 'mp4' | 'webm';

export type Radius = { kind: 'max' } | { kind: 'corners'; tl: number; tr: number; br: number; bl: number };

export interface UnsharpMask {
  radius: number;
  sigma: number;
  amount: number;
  threshold: number;
}

export interface ShadowOptions {
  /** Blur 0–15 (default 10). */
  blur: number;
  /** Saturation (darkness) 0–100 (default 30). */
  saturation: number;
  /** Offsets in percent of the image size, −100…100 (default 2). */
  x: number;
  y: number;
}

export interface GradientOptions {
  /** Direction in degrees, 0 = towards the top, clockwise (default 180 = towards the bottom). */
  direction: number;
  from: Color;
  to: Color;
  /** Where `to` reaches full strength: fraction (≤ 1), pixels (> 1) or an expression. */
  stop: Amount;
}

export interface Padding {
  top: Amount;
  right: Amount;
  bottom: Amount;
  left: Amount;
}

export interface Typography {
  bold: boolean;
  italic: boolean;
  strikethrough: boolean;
}

export type LayerMode = 'multiply' | 'cutter' | 'cutout' | 'displace';

/** The parameters of one step, keyed by meaning. Every field is optional. */
export interface StepParams {
  // resize, crop, focus
  width?: Length | { kind: 'auto' };
  height?: Length;
  aspectRatio?: { kind: 'ratio'; value: number; text: string } | Expression;
  crop?: CropStrategy;
  cropMode?: CropMode;
  focus?: Focus;
  x?: Amount;
  y?: Amount;
  xCenter?: Amount;
  yCenter?: Amount;
  zoom?: number;
  dpr?: { kind: 'num'; value: number } | { kind: 'auto' } | Expression;
  // look
  background?: Background;
  border?: { width: Amount; color: Color };
  radius?: Radius;
  rotation?: { kind: 'auto' } | { kind: 'angle'; degrees: number };
  flip?: { horizontal: boolean; vertical: boolean };
  blur?: number;
  trim?: { enabled: false } | { enabled: true; threshold: number };
  opacity?: number;
  grayscale?: true;
  contrast?: true;
  sharpen?: { amount: number | null };
  unsharpMask?: UnsharpMask | null;
  shadow?: ShadowOptions;
  gradient?: GradientOptions;
  // delivery
  quality?: number;
  format?: OutputFormat;
  progressive?: boolean;
  lossless?: boolean;
  metadata?: boolean;
  colorProfile?: boolean;
  original?: boolean;
  defaultImage?: string;
  page?: number;
  /** Video-only parameters (vc, ac, so, eo, du, sr): validated, kept for video delivery, ignored for images. */
  video?: Readonly<Record<string, string>>;
  // text layer styling
  fontSize?: Amount;
  fontFamily?: string;
  fontColor?: Color;
  innerAlignment?: 'left' | 'right' | 'center';
  padding?: Padding;
  alpha?: number;
  typography?: Typography;
  lineHeight?: Amount;
}

export type LayerType = 'image' | 'text' | 'video' | 'subtitles';

export type LayerInput =
  | { kind: 'path'; path: string; encoded: boolean }
  | { kind: 'text'; text: string; encoded: boolean }
  | { kind: 'canvas' };

export interface LayerPosition {
  x?: SignedAmount;
  y?: SignedAmount;
  xCenter?: SignedAmount;
  yCenter?: SignedAmount;
  focus?: RelativePosition;
  anchor?: RelativePosition;
}

/** `l-<type>,…,l-end`: an asset drawn over its parent, with its own steps and nested layers. */
export interface Layer {
  type: LayerType;
  input: LayerInput;
  position: LayerPosition;
  mode?: LayerMode;
  /** Video timing (lso/leo/ldu): kept for video delivery, ignored on images. */
  timing?: Readonly<Record<string, string>>;
  steps: TransformStep[];
}

export interface TransformStep {
  params: StepParams;
  /** Layers in the order they were written: later layers are drawn on top. */
  layers: Layer[];
}

export interface ParseLimits {
  /** Longest transformation string accepted (characters, as received). */
  maxLength: number;
  /** Most steps after named transformations are expanded (layers' inner steps included). */
  maxSteps: number;
  /** Most layers in the whole transformation. */
  maxLayers: number;
  /** Deepest layer nesting (ImageKit documents 3). */
  maxLayerDepth: number;
  /** Largest pixel value accepted for w, h and other sizes written in pixels. */
  maxDimension: number;
}

export interface ParseOptions {
  /** Named transformations (`n-<name>`) by name; values are transformation strings (`tr:` optional). */
  named?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  limits?: Partial<ParseLimits>;
}
