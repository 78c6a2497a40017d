import { badRequest } from '../../errors/index.js';
import { COLOR_FORMS, parseColor, tryParseColor } from './colors.js';
import { formatExpression, formatNumber, isNumberText, parseExpression } from './expression.js';
import type {
  Amount,
  Background,
  Color,
  CropMode,
  CropStrategy,
  Focus,
  GradientOptions,
  LayerMode,
  OutputFormat,
  Padding,
  Radius,
  RelativePosition,
  ShadowOptions,
  StepParams,
  UnsharpMask,
} from './types.js';
import {
  type Context,
  type ValueContext,
  amount,
  bool,
  checkExpression,
  EXPRESSION_FORM,
  formatAmount,
  formatLength,
  formatSigned,
  invalid,
  length,
  libraryPath,
  number,
  oneOf,
  RELATIVE_POSITIONS,
  signedAmount,
} from './values.js';

/**
 * THE table: every transformation key ImageKit documents (and every key our SDK's URL builder
 * emits), what it means, where it may appear, how its value is validated, and how it is written
 * back in canonical form. Order matters: it is the order of parameters in canonical strings.
 *
 * Sources (ImageKit public docs): RC = "Resize, crop and other common transformations",
 * EN = "Image enhancement & color manipulation", OL = "Overlay using layers", AE = "Arithmetic
 * expressions in transformations", FC = "Automatic image format conversion", NT = "Named
 * transformations", SPEC = ImageKit's OpenAPI `Transformation`/`Overlay` schemas.
 */

/** Where a layer-level parameter is stored. */
export type LayerSlot = 'input' | 'inputBase64' | 'x' | 'y' | 'xCenter' | 'yCenter' | 'focus' | 'anchor' | 'mode' | 'timing';

export interface ParamEntry {
  key: string;
  meaning: string;
  source: string;
  contexts: readonly Context[];
  /** Step parameters: read and write the typed value. */
  read?: (p: StepParams) => unknown;
  write?: (p: StepParams, v: unknown) => void;
  /** Layer parameters are collected onto the layer instead of a step. */
  layer?: LayerSlot;
  /** Takes no value (`e-grayscale`); a value, if given, is refused. */
  flag?: boolean;
  /** May stand alone or carry a value (`e-sharpen`, `e-sharpen-10`). */
  optionalValue?: boolean;
  parse?: (value: string, c: ValueContext) => unknown;
  /** Canonical value text; null writes the bare key. */
  format?: (v: never) => string | null;
  /** Recognised but not provided by Tessera: refused with this reason. */
  refuse?: string;
  /** `n-<name>`: expanded by the parser before the table is consulted. */
  named?: boolean;
}

const TOP: readonly Context[] = ['top'];
const IMAGES: readonly Context[] = ['top', 'image'];
const IMAGES_TEXT: readonly Context[] = ['top', 'image', 'text'];
const ALL: readonly Context[] = ['top', 'image', 'text', 'solid'];
const TEXT: readonly Context[] = ['text'];
const LAYERS: readonly Context[] = ['image', 'text', 'solid', 'media'];

function prop<K extends keyof StepParams>(k: K): Pick<ParamEntry, 'read' | 'write'> {
  return {
    read: (p) => p[k],
    write: (p, v) => {
      p[k] = v as StepParams[K];
    },
  };
}

function videoProp(key: string): Pick<ParamEntry, 'read' | 'write'> {
  return {
    read: (p) => p.video?.[key],
    write: (p, v) => {
      p.video = { ...(p.video ?? {}), [key]: v as string };
    },
  };
}

const fmtBool = (v: boolean) => String(v);
const fmtNum = (v: number) => formatNumber(v);
const fmtColor = (c: Color) => c.text;
const identity = (v: string) => v;

// ── value parsers that are specific to one parameter ─────────────────────────────────────────

function aspectRatio(value: string, c: ValueContext): StepParams['aspectRatio'] {
  const m = /^(\d+(?:\.\d+)?)[-_](\d+(?:\.\d+)?)$/.exec(value);
  if (m) {
    const w = Number(m[1]);
    const h = Number(m[2]);
    if (w > 0 && h > 0) return { kind: 'ratio', value: w / h, text: `${formatNumber(w)}-${formatNumber(h)}` };
  } else if (isNumberText(value) && Number(value) > 0) {
    return { kind: 'ratio', value: Number(value), text: formatNumber(Number(value)) };
  }
  const e = parseExpression(value);
  if (e) return checkExpression(c, e, value);
  throw invalid(c, value, `<width>-<height> such as 4-3, a positive number, or ${EXPRESSION_FORM}`);
}

const CROPS: readonly CropStrategy[] = ['maintain_ratio', 'maintain_ratio_no_enlarge', 'force', 'at_max', 'at_max_enlarge', 'at_least'];
const CROP_MODES: readonly CropMode[] = ['pad_resize', 'pad_resize_no_enlarge', 'extract', 'pad_extract', 'pad_extract_no_shrink'];
const FOCUSES: readonly Focus[] = [...RELATIVE_POSITIONS, 'auto', 'face', 'custom'];

function focus(value: string, c: ValueContext): Focus {
  const lower = value.toLowerCase();
  if ((FOCUSES as readonly string[]).includes(lower)) return lower as Focus;
  throw badRequest(
    `Invalid value "${value}" for transformation parameter "fo": expected one of ${FOCUSES.join(', ')}` +
      (c.context === 'top' && /^[a-z_]+$/.test(lower) ? ' (object-aware focus such as fo-person needs AI detection, which Tessera does not provide).' : '.'),
  );
}

function dpr(value: string, c: ValueContext): StepParams['dpr'] {
  if (value === 'auto') return { kind: 'auto' };
  if (isNumberText(value)) {
    const n = Number(value);
    if (n >= 0.1 && n <= 5) return { kind: 'num', value: n };
  } else {
    const e = parseExpression(value);
    if (e) return checkExpression(c, e, value);
  }
  throw invalid(c, value, `a number from 0.1 to 5, auto, or ${EXPRESSION_FORM}`);
}

const FORMATS: readonly OutputFormat[] = ['auto', 'jpg', 'png', 'webp', 'avif', 'gif', 'orig', 'svg', 'mp4', 'webm'];

function background(value: string, c: ValueContext): Background {
  if (value === 'dominant') return { kind: 'dominant' };
  if (/^(gradient_dominant|blurred|genfill)/.test(value)) {
    throw badRequest(`Unsupported value "${value}" for transformation parameter "bg": Tessera supports solid colours and "dominant" only.`);
  }
  const color = tryParseColor(value);
  if (!color) throw invalid(c, value, `${COLOR_FORMS}, or dominant`);
  return { kind: 'color', color };
}

function border(value: string, c: ValueContext): StepParams['border'] {
  const cut = value.lastIndexOf('_');
  if (cut <= 0) throw invalid(c, value, '<width>_<colour> such as 5_FF0000');
  const widthText = value.slice(0, cut);
  const color = tryParseColor(value.slice(cut + 1));
  if (!color) throw invalid(c, value, `<width>_<colour> where the colour is ${COLOR_FORMS}`);
  return { width: amount(c, widthText, 1000), color };
}

function radius(value: string, c: ValueContext): Radius {
  if (value === 'max') return { kind: 'max' };
  const parts = value.split('_');
  const expected = 'a positive integer, max, or four underscore-separated integers (top-left, top-right, bottom-right, bottom-left)';
  if ((parts.length !== 1 && parts.length !== 4) || parts.some((p) => !/^\d+$/.test(p) || Number(p) > c.maxDimension)) {
    throw invalid(c, value, expected);
  }
  const [tl, tr = tl, br = tl, bl = tl] = parts.map(Number) as [number, number?, number?, number?];
  return { kind: 'corners', tl, tr, br, bl };
}

function formatRadius(r: Radius): string {
  if (r.kind === 'max') return 'max';
  return r.tl === r.tr && r.tl === r.br && r.tl === r.bl ? String(r.tl) : `${r.tl}_${r.tr}_${r.br}_${r.bl}`;
}

function rotation(value: string, c: ValueContext): StepParams['rotation'] {
  if (value === 'auto') return { kind: 'auto' };
  const negative = value.startsWith('N');
  const text = negative ? value.slice(1) : value;
  if (!isNumberText(text) || Number(text) > 36000) {
    throw invalid(c, value, 'a number of degrees clockwise, N<degrees> for counter-clockwise, or auto');
  }
  const deg = ((negative ? -Number(text) : Number(text)) % 360 + 360) % 360;
  return { kind: 'angle', degrees: Number(deg.toFixed(4)) };
}

function flip(value: string, c: ValueContext): StepParams['flip'] {
  const v = oneOf(c, value, ['h', 'v', 'h_v', 'v_h'] as const);
  return { horizontal: v !== 'v', vertical: v !== 'h' };
}

function trim(value: string, c: ValueContext): StepParams['trim'] {
  if (value === 'true' || value === '') return { enabled: true, threshold: 10 };
  if (value === 'false') return { enabled: false };
  return { enabled: true, threshold: number(c, value, { min: 1, max: 99, integer: true }, 'true, false, or an integer threshold from 1 to 99') };
}

function formatTrim(t: NonNullable<StepParams['trim']>): string {
  if (!t.enabled) return 'false';
  return t.threshold === 10 ? 'true' : String(t.threshold);
}

function sharpen(value: string, c: ValueContext): StepParams['sharpen'] {
  if (value === '' || value === 'true') return { amount: null };
  return { amount: number(c, value, { min: 0, max: 100, minExclusive: true }, 'a number from 1 to 100, or nothing for the default sharpening') };
}

const DEFAULT_USM: UnsharpMask = { radius: 2, sigma: 2, amount: 0.8, threshold: 0.024 };

function unsharpMask(value: string, c: ValueContext): UnsharpMask {
  if (value === '' || value === 'true') return { ...DEFAULT_USM };
  const parts = value.split('-');
  const expected = '<radius>-<sigma>-<amount>-<threshold>, four positive numbers such as 2-2-0.8-0.024';
  if (parts.length !== 4 || parts.some((p) => !isNumberText(p) || Number(p) > 1000)) throw invalid(c, value, expected);
  const [radius, sigma, amountValue, threshold] = parts.map(Number) as [number, number, number, number];
  return { radius, sigma, amount: amountValue, threshold };
}

/** Splits `a-1_b-top_right_c-2` on the underscores that start a known sub-parameter. */
function subParams(value: string, names: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const splitter = new RegExp(`_(?=(?:${names.join('|')})-)`);
  for (const part of value.split(splitter)) {
    const dash = part.indexOf('-');
    if (dash <= 0) throw new Error(part);
    const name = part.slice(0, dash);
    if (!names.includes(name) || out.has(name)) throw new Error(part);
    out.set(name, part.slice(dash + 1));
  }
  return out;
}

function shadow(value: string, c: ValueContext): ShadowOptions {
  const opts: ShadowOptions = { blur: 10, saturation: 30, x: 2, y: 2 };
  if (value === '' || value === 'true') return opts;
  const expected = 'bl-<0–15>, st-<0–100>, x-<[N]0–100>, y-<[N]0–100> joined by underscores, e.g. bl-15_st-40_x-10_y-N5';
  let parts: Map<string, string>;
  try {
    parts = subParams(value, ['bl', 'st', 'x', 'y']);
  } catch {
    throw invalid(c, value, expected);
  }
  const signed = (t: string) => {
    const neg = t.startsWith('N');
    const n = number(c, neg ? t.slice(1) : t, { min: 0, max: 100 }, expected);
    return neg ? -n : n;
  };
  if (parts.has('bl')) opts.blur = number(c, parts.get('bl') as string, { min: 0, max: 15 }, expected);
  if (parts.has('st')) opts.saturation = number(c, parts.get('st') as string, { min: 0, max: 100 }, expected);
  if (parts.has('x')) opts.x = signed(parts.get('x') as string);
  if (parts.has('y')) opts.y = signed(parts.get('y') as string);
  return opts;
}

function formatShadow(s: ShadowOptions): string {
  const sign = (n: number) => (n < 0 ? `N${formatNumber(-n)}` : formatNumber(n));
  return `bl-${formatNumber(s.blur)}_st-${formatNumber(s.saturation)}_x-${sign(s.x)}_y-${sign(s.y)}`;
}

const DIRECTIONS: Record<string, number> = {
  top: 0,
  top_right: 45,
  right: 90,
  bottom_right: 135,
  bottom: 180,
  bottom_left: 225,
  left: 270,
  top_left: 315,
  topleft: 315,
};

function gradient(value: string, c: ValueContext): GradientOptions {
  const opts: GradientOptions = {
    direction: 180,
    from: tryParseColor('FFFFFF') as Color,
    to: tryParseColor('00000000') as Color,
    stop: { kind: 'num', value: 1 },
  };
  if (value === '' || value === 'true') return opts;
  const expected =
    'ld-<direction or 0–359>, from-<colour>, to-<colour>, sp-<stop point> joined by underscores, e.g. ld-top_from-FF000040_to-00FF0040_sp-0.9';
  let parts: Map<string, string>;
  try {
    parts = subParams(value, ['ld', 'from', 'to', 'sp']);
  } catch {
    throw invalid(c, value, expected);
  }
  const ld = parts.get('ld');
  if (ld !== undefined) {
    const named = DIRECTIONS[ld.toLowerCase()];
    opts.direction = named ?? number(c, ld, { min: 0, max: 359, integer: true }, expected);
  }
  const from = parts.get('from');
  if (from !== undefined) opts.from = parseColor(c.key, from);
  const to = parts.get('to');
  if (to !== undefined) opts.to = parseColor(c.key, to);
  const sp = parts.get('sp');
  if (sp !== undefined) {
    const stop = amount(c, sp);
    if (stop.kind === 'num' && (stop.value <= 0 || (stop.value > 1 && !Number.isInteger(stop.value)))) {
      throw invalid(c, sp, 'a stop point between 0.01 and 1, a whole number of pixels, or an expression');
    }
    opts.stop = stop;
  }
  return opts;
}

function formatGradient(g: GradientOptions): string {
  return `ld-${g.direction}_from-${g.from.text}_to-${g.to.text}_sp-${formatAmount(g.stop)}`;
}

const FONTS = [
  'AbrilFatFace',
  'Amaranth',
  'Arvo',
  'Audiowide',
  'Chivo',
  'Crimson Text',
  'exo',
  'Fredoka One',
  'Gravitas One',
  'Kanit',
  'Lato',
  'Lobster',
  'Lora',
  'Monoton',
  'Montserrat',
  'PT Mono',
  'PT_Serif',
  'Open Sans',
  'Roboto',
  'Old Standard',
  'Ubuntu',
  'Vollkorn',
];

function fontFamily(value: string, c: ValueContext): string {
  const found = FONTS.find((f) => f.toLowerCase() === value.toLowerCase());
  if (found) return found;
  if (/\.(ttf|otf|woff2?)$/i.test(value)) {
    throw badRequest(`Unsupported value "${value}" for transformation parameter "ff": custom font files are not supported by Tessera; use one of ${FONTS.join(', ')}.`);
  }
  throw invalid(c, value, `one of ${FONTS.join(', ')}`);
}

function padding(value: string, c: ValueContext): Padding {
  const e = parseExpression(value);
  if (e) {
    const a = checkExpression(c, e, value);
    return { top: a, right: a, bottom: a, left: a };
  }
  const parts = value.split('_');
  const expected = 'one to four underscore-separated non-negative integers (CSS shorthand order) or an expression';
  if (parts.length < 1 || parts.length > 4 || parts.some((p) => !/^\d+$/.test(p) || Number(p) > c.maxDimension)) {
    throw invalid(c, value, expected);
  }
  const n = parts.map((p): Amount => ({ kind: 'num', value: Number(p) }));
  const [t, r = t, b = t, l = r] = n as [Amount, Amount?, Amount?, Amount?];
  return { top: t, right: r as Amount, bottom: b as Amount, left: l as Amount };
}

function formatPadding(p: Padding): string {
  const parts = [p.top, p.right, p.bottom, p.left].map(formatAmount);
  if (parts.every((x) => x === parts[0])) return parts[0] as string;
  return parts.join('_');
}

function typography(value: string, c: ValueContext): NonNullable<StepParams['typography']> {
  const parts = value.toLowerCase().split('_');
  const allowed = ['b', 'i', 'strikethrough'];
  if (parts.some((p) => !allowed.includes(p)) || new Set(parts).size !== parts.length) {
    throw invalid(c, value, 'b, i, strikethrough, or an underscore-joined combination such as b_i');
  }
  return { bold: parts.includes('b'), italic: parts.includes('i'), strikethrough: parts.includes('strikethrough') };
}

function formatTypography(t: NonNullable<StepParams['typography']>): string {
  return [t.bold ? 'b' : '', t.italic ? 'i' : '', t.strikethrough ? 'strikethrough' : ''].filter(Boolean).join('_');
}

function page(value: string, c: ValueContext): number {
  if (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 10000) return Number(value);
  throw badRequest(`Unsupported value "${value}" for transformation parameter "pg": Tessera supports a page or frame number (1, 2, …) only.`);
}

function videoValue(pattern: RegExp, expected: string) {
  return (value: string, c: ValueContext) => {
    if (!pattern.test(value)) throw invalid(c, value, expected);
    return value;
  };
}

const AI = 'is an AI transformation, which Tessera does not provide';

// ── the table ─────────────────────────────────────────────────────────────────────────────────

export const PARAMETERS: readonly ParamEntry[] = [
  { key: 'n', named: true, meaning: 'named transformation, expanded in place', source: 'NT', contexts: [...ALL, 'media'] },
  // original and delivery
  { key: 'orig', meaning: 'serve the original file, ignoring everything else', source: 'RC', contexts: TOP, ...prop('original'), parse: (v, c) => bool(c, v), format: fmtBool },
  // resize and crop
  { key: 'w', meaning: 'width: pixels, fraction of the current width, expression, or auto (Sec-CH-Width)', source: 'RC, AE', contexts: ALL, ...prop('width'), parse: (v, c) => (v === 'auto' && c.context !== 'text' && c.context !== 'solid' ? { kind: 'auto' } : length(c, v)), format: (v: NonNullable<StepParams['width']>) => (v.kind === 'auto' ? 'auto' : formatLength(v)) },
  { key: 'h', meaning: 'height: pixels, fraction of the current height, or expression', source: 'RC, AE', contexts: ['top', 'image', 'solid'], ...prop('height'), parse: (v, c) => length(c, v), format: formatLength },
  { key: 'ar', meaning: 'aspect ratio <w>-<h> (used with one of w/h; ignored when both are given)', source: 'RC, AE', contexts: IMAGES, ...prop('aspectRatio'), parse: aspectRatio, format: (v: NonNullable<StepParams['aspectRatio']>) => (v.kind === 'expr' ? formatExpression(v) : v.text) },
  { key: 'c', meaning: 'crop strategy', source: 'RC, SPEC', contexts: IMAGES, ...prop('crop'), parse: (v, c) => oneOf(c, v, CROPS), format: identity },
  { key: 'cm', meaning: 'crop mode', source: 'RC, SPEC', contexts: IMAGES, ...prop('cropMode'), parse: (v, c) => oneOf(c, v, CROP_MODES), format: identity },
  { key: 'fo', meaning: 'focus for cropping and padding', source: 'RC', contexts: IMAGES, ...prop('focus'), parse: focus, format: identity },
  { key: 'x', meaning: 'extract: left edge of the region', source: 'RC, AE', contexts: IMAGES, ...prop('x'), parse: (v, c) => amount(c, v), format: formatAmount },
  { key: 'y', meaning: 'extract: top edge of the region', source: 'RC, AE', contexts: IMAGES, ...prop('y'), parse: (v, c) => amount(c, v), format: formatAmount },
  { key: 'xc', meaning: 'extract: horizontal centre of the region', source: 'RC, AE', contexts: IMAGES, ...prop('xCenter'), parse: (v, c) => amount(c, v), format: formatAmount },
  { key: 'yc', meaning: 'extract: vertical centre of the region', source: 'RC, AE', contexts: IMAGES, ...prop('yCenter'), parse: (v, c) => amount(c, v), format: formatAmount },
  { key: 'z', meaning: 'zoom around the focus of fo-face/fo-auto (<1 out, >1 in)', source: 'RC', contexts: IMAGES, ...prop('zoom'), parse: (v, c) => number(c, v, { min: 0, max: 100, minExclusive: true }, 'a positive number (below 1 zooms out, above 1 zooms in)'), format: fmtNum },
  { key: 'dpr', meaning: 'device pixel ratio multiplying w and h', source: 'RC, SPEC', contexts: IMAGES, ...prop('dpr'), parse: dpr, format: (v: NonNullable<StepParams['dpr']>) => (v.kind === 'auto' ? 'auto' : v.kind === 'num' ? formatNumber(v.value) : formatExpression(v)) },
  // orientation
  { key: 'rt', meaning: 'rotate clockwise by degrees, N<deg> counter-clockwise, auto (EXIF)', source: 'RC', contexts: IMAGES_TEXT, ...prop('rotation'), parse: rotation, format: (v: NonNullable<StepParams['rotation']>) => (v.kind === 'auto' ? 'auto' : formatNumber(v.degrees)) },
  { key: 'fl', meaning: 'flip h, v, h_v', source: 'SPEC', contexts: IMAGES_TEXT, ...prop('flip'), parse: flip, format: (v: NonNullable<StepParams['flip']>) => (v.horizontal && v.vertical ? 'h_v' : v.horizontal ? 'h' : 'v') },
  { key: 't', meaning: 'trim a uniform border: true, false or threshold 1–99', source: 'RC, OL', contexts: IMAGES, ...prop('trim'), parse: trim, format: formatTrim },
  // look
  { key: 'bg', meaning: 'background colour for padding and transparency (default black)', source: 'RC, OL, SPEC', contexts: ALL, ...prop('background'), parse: background, format: (v: Background) => (v.kind === 'dominant' ? 'dominant' : v.color.text) },
  { key: 'bl', meaning: 'Gaussian blur radius 1–100', source: 'RC', contexts: IMAGES, ...prop('blur'), parse: (v, c) => number(c, v, { min: 1, max: 100 }, 'a number from 1 to 100'), format: fmtNum },
  { key: 'e-grayscale', meaning: 'grayscale', source: 'RC', contexts: IMAGES, ...prop('grayscale'), flag: true, parse: () => true, format: () => null },
  { key: 'e-contrast', meaning: 'contrast stretch', source: 'EN', contexts: IMAGES, ...prop('contrast'), flag: true, parse: () => true, format: () => null },
  { key: 'e-sharpen', meaning: 'sharpen, optionally with an amount', source: 'EN', contexts: IMAGES, ...prop('sharpen'), optionalValue: true, parse: sharpen, format: (v: NonNullable<StepParams['sharpen']>) => (v.amount === null ? null : formatNumber(v.amount)) },
  { key: 'e-usm', meaning: 'unsharp mask <radius>-<sigma>-<amount>-<threshold>', source: 'EN', contexts: IMAGES, ...prop('unsharpMask'), optionalValue: true, parse: unsharpMask, format: (v: UnsharpMask) => [v.radius, v.sigma, v.amount, v.threshold].map(formatNumber).join('-') },
  { key: 'o', meaning: 'opacity 0–100', source: 'SPEC', contexts: IMAGES, ...prop('opacity'), parse: (v, c) => number(c, v, { min: 0, max: 100 }, 'a number from 0 to 100'), format: fmtNum },
  { key: 'b', meaning: 'border <width>_<colour>', source: 'RC, AE', contexts: IMAGES, ...prop('border'), parse: border, format: (v: NonNullable<StepParams['border']>) => `${formatAmount(v.width)}_${v.color.text}` },
  { key: 'r', meaning: 'corner radius, max (circle/oval), or four corners', source: 'RC, SPEC', contexts: ALL, ...prop('radius'), parse: radius, format: formatRadius },
  { key: 'e-gradient', meaning: 'linear gradient over the image', source: 'EN', contexts: ['top', 'image', 'solid'], ...prop('gradient'), optionalValue: true, parse: gradient, format: formatGradient },
  { key: 'e-shadow', meaning: 'shadow under the opaque pixels of a transparent image', source: 'EN', contexts: IMAGES, ...prop('shadow'), optionalValue: true, parse: shadow, format: formatShadow },
  // text layer styling
  { key: 'fs', meaning: 'text: font size in pixels (default 45)', source: 'OL, AE', contexts: TEXT, ...prop('fontSize'), parse: (v, c) => amount(c, v, 1000), format: formatAmount },
  { key: 'ff', meaning: 'text: font family from the in-built list', source: 'OL', contexts: TEXT, ...prop('fontFamily'), parse: fontFamily, format: identity },
  { key: 'co', meaning: 'text: colour', source: 'OL', contexts: TEXT, ...prop('fontColor'), parse: (v, c) => parseColor(c.key, v), format: fmtColor },
  { key: 'ia', meaning: 'text: inner alignment left, right, center', source: 'OL', contexts: TEXT, ...prop('innerAlignment'), parse: (v, c) => oneOf(c, v, ['left', 'right', 'center'] as const), format: identity },
  { key: 'pa', meaning: 'text: padding, CSS shorthand with underscores', source: 'OL, AE', contexts: TEXT, ...prop('padding'), parse: padding, format: formatPadding },
  { key: 'al', meaning: 'text/solid layer: alpha 1–9', source: 'OL', contexts: ['text', 'solid'], ...prop('alpha'), parse: (v, c) => number(c, v, { min: 1, max: 9, integer: true }, 'an integer from 1 to 9'), format: fmtNum },
  { key: 'tg', meaning: 'text: typography b, i, strikethrough, combinations', source: 'OL, SPEC', contexts: TEXT, ...prop('typography'), parse: typography, format: formatTypography },
  { key: 'lh', meaning: 'text: line height', source: 'SPEC', contexts: TEXT, ...prop('lineHeight'), parse: (v, c) => amount(c, v, 1000), format: formatAmount },
  // output
  { key: 'q', meaning: 'quality 1–100 (default 80)', source: 'RC', contexts: IMAGES, ...prop('quality'), parse: (v, c) => number(c, v, { min: 1, max: 100, integer: true }, 'an integer from 1 to 100'), format: fmtNum },
  { key: 'f', meaning: 'output format', source: 'RC, FC, SPEC', contexts: TOP, ...prop('format'), parse: (v, c) => oneOf(c, v, FORMATS, { jpeg: 'jpg' }), format: identity },
  { key: 'pr', meaning: 'progressive JPEG', source: 'RC', contexts: TOP, ...prop('progressive'), parse: (v, c) => bool(c, v), format: fmtBool },
  { key: 'lo', meaning: 'lossless compression', source: 'RC', contexts: TOP, ...prop('lossless'), parse: (v, c) => bool(c, v), format: fmtBool },
  { key: 'md', meaning: 'keep metadata', source: 'RC', contexts: TOP, ...prop('metadata'), parse: (v, c) => bool(c, v), format: fmtBool },
  { key: 'cp', meaning: 'keep the colour profile', source: 'RC', contexts: TOP, ...prop('colorProfile'), parse: (v, c) => bool(c, v), format: fmtBool },
  { key: 'di', meaning: 'default image served when the file does not exist (delivery)', source: 'RC', contexts: TOP, ...prop('defaultImage'), parse: (v, c) => libraryPath(c, v), format: (v: string) => v.slice(1).replace(/\//g, '@@') },
  { key: 'pg', meaning: 'page or frame of a multi-page file', source: 'SPEC', contexts: IMAGES, ...prop('page'), parse: page, format: fmtNum },
  // video parameters: validated and kept, ignored for images
  { key: 'vc', meaning: 'video codec (ignored for images)', source: 'SPEC', contexts: IMAGES, ...videoProp('vc'), parse: (v, c) => oneOf(c, v, ['h264', 'vp9', 'av1', 'none'] as const), format: identity },
  { key: 'ac', meaning: 'audio codec (ignored for images)', source: 'SPEC', contexts: IMAGES, ...videoProp('ac'), parse: (v, c) => oneOf(c, v, ['aac', 'opus', 'none'] as const), format: identity },
  { key: 'so', meaning: 'video start offset (ignored for images)', source: 'SPEC', contexts: IMAGES, ...videoProp('so'), parse: videoValue(/^[a-z0-9._]+$/, 'seconds or an expression'), format: identity },
  { key: 'eo', meaning: 'video end offset (ignored for images)', source: 'SPEC', contexts: IMAGES, ...videoProp('eo'), parse: videoValue(/^[a-z0-9._]+$/, 'seconds or an expression'), format: identity },
  { key: 'du', meaning: 'video duration (ignored for images)', source: 'SPEC', contexts: IMAGES, ...videoProp('du'), parse: videoValue(/^[a-z0-9._]+$/, 'seconds or an expression'), format: identity },
  { key: 'sr', meaning: 'streaming resolutions (ignored for images)', source: 'SPEC', contexts: TOP, ...videoProp('sr'), parse: videoValue(/^(240|360|480|720|1080|1440|2160)(_(240|360|480|720|1080|1440|2160))*$/, 'resolutions such as 240_360_720'), format: identity },
  // layers
  { key: 'i', meaning: 'layer input: a library path (@@ for /), ik_canvas, or the text of a text layer', source: 'OL', contexts: LAYERS, layer: 'input' },
  { key: 'ie', meaning: 'layer input, base64-encoded', source: 'OL', contexts: LAYERS, layer: 'inputBase64' },
  { key: 'lx', meaning: 'layer: x of its top-left corner (N = from the right)', source: 'OL, AE', contexts: LAYERS, layer: 'x', parse: (v, c) => signedAmount(c, v), format: formatSigned },
  { key: 'ly', meaning: 'layer: y of its top-left corner (N = from the bottom)', source: 'OL, AE', contexts: LAYERS, layer: 'y', parse: (v, c) => signedAmount(c, v), format: formatSigned },
  { key: 'lxc', meaning: 'layer: x of its centre', source: 'SPEC', contexts: LAYERS, layer: 'xCenter', parse: (v, c) => signedAmount(c, v), format: formatSigned },
  { key: 'lyc', meaning: 'layer: y of its centre', source: 'SPEC', contexts: LAYERS, layer: 'yCenter', parse: (v, c) => signedAmount(c, v), format: formatSigned },
  { key: 'lfo', meaning: 'layer: relative position (default center); ignored when coordinates are given', source: 'OL', contexts: LAYERS, layer: 'focus', parse: (v, c) => oneOf(c, v, RELATIVE_POSITIONS), format: identity },
  { key: 'lap', meaning: 'layer: corner of the base the offsets are measured from (default top_left)', source: 'SPEC', contexts: LAYERS, layer: 'anchor', parse: (v, c) => oneOf(c, v, RELATIVE_POSITIONS), format: identity },
  { key: 'lm', meaning: 'layer mode: multiply, cutter, cutout (displace is refused)', source: 'SPEC', contexts: LAYERS, layer: 'mode', parse: (v, c): LayerMode => oneOf(c, v, ['multiply', 'cutter', 'cutout', 'displace'] as const), format: identity },
  { key: 'lso', meaning: 'layer start time on a video base (ignored for images)', source: 'SPEC', contexts: LAYERS, layer: 'timing', parse: videoValue(/^[a-z0-9._]+$/, 'seconds or an expression'), format: identity },
  { key: 'leo', meaning: 'layer end time on a video base (ignored for images)', source: 'SPEC', contexts: LAYERS, layer: 'timing', parse: videoValue(/^[a-z0-9._]+$/, 'seconds or an expression'), format: identity },
  { key: 'ldu', meaning: 'layer duration on a video base (ignored for images)', source: 'SPEC', contexts: LAYERS, layer: 'timing', parse: videoValue(/^[a-z0-9._]+$/, 'seconds or an expression'), format: identity },
  // recognised, refused
  ...['e-upscale', 'e-retouch', 'e-genvar', 'e-dropshadow', 'e-changebg', 'e-edit', 'e-bgremove', 'e-removedotbg'].map(
    (key): ParamEntry => ({ key, meaning: 'AI transformation', source: 'SPEC', contexts: [...ALL, 'media'], refuse: AI }),
  ),
  { key: 'e-colorize', meaning: 'colour tint', source: 'SPEC', contexts: [...ALL, 'media'], refuse: 'is not supported by Tessera' },
  { key: 'e-distort', meaning: 'perspective/arc distortion', source: 'SPEC', contexts: [...ALL, 'media'], refuse: 'is not supported by Tessera' },
  { key: 'cr', meaning: 'colour replacement', source: 'SPEC', contexts: [...ALL, 'media'], refuse: 'is not supported by Tessera' },
  { key: 'if', meaning: 'conditional transformations', source: 'ImageKit docs, conditional transformations', contexts: [...ALL, 'media'], refuse: '(conditional transformations) is not supported by Tessera' },
  ...['oi', 'oie', 'ot', 'ote', 'ox', 'oy', 'ofo', 'oh', 'ow', 'oa', 'obg', 'otw', 'oth', 'ots', 'otf', 'otc', 'ott', 'otia', 'otp', 'or', 'oit', 'oiq'].map(
    (key): ParamEntry => ({
      key,
      meaning: 'legacy overlay syntax',
      source: 'ImageKit docs, overlay (deprecated)',
      contexts: [...ALL, 'media'],
      refuse: 'belongs to the legacy overlay syntax that ImageKit retired in 2023; use layers (l-image,i-…,l-end / l-text,i-…,l-end)',
    }),
  ),
];

export const BY_KEY: ReadonlyMap<string, ParamEntry> = new Map(PARAMETERS.map((p) => [p.key, p]));

/** The `e-…` effect names, for splitting `e-sharpen-10` into key and value. */
export const EFFECT_KEYS: readonly string[] = PARAMETERS.filter((p) => p.key.startsWith('e-')).map((p) => p.key);

export const SUPPORTED_KEYS: readonly string[] = PARAMETERS.filter((p) => !p.refuse).map((p) => p.key);

export const FONT_NAMES: readonly string[] = FONTS;

export type { RelativePosition };
