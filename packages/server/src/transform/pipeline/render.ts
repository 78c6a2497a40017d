import { readFile } from 'node:fs/promises';
import sharp, { type CreateText, type Metadata, type OverlayOptions, type Sharp, type SharpInput, type SharpOptions } from 'sharp';
import { badRequest, isApiError, serviceUnavailable } from '../../errors/index.js';
import type { Color, Layer, Radius, StepParams, TransformStep } from '../parse/types.js';
import { gradientSvg, pangoFamily, radiusMaskSvg, rgba, textMarkup } from './draw.js';
import { chooseFormat, type EncodedFormat, inputFormatName, MAX_SIDE, MIME, supportsAlpha } from './format.js';
import {
  clipPlacement,
  evalAmount,
  evalLength,
  needsSmartFocus,
  parseCustomCoordinates,
  placeLayer,
  planCrop,
  type Point,
  type Region,
  requestedSize,
  type ResizePlan,
  type Size,
  type Vars,
} from './geometry.js';

export interface RenderLimits {
  /** Largest decoded input (width × height) accepted; larger inputs are refused with 400. */
  maxInputPixels: number;
  /** Largest image any step may produce (width × height); larger requests are refused with 400. */
  maxOutputPixels: number;
  /** Wall-clock budget for the whole render, checked between steps and enforced by sharp. */
  timeoutMs: number;
}

export interface RenderOptions {
  /** The request's Accept header, for f-auto. */
  accept?: string;
  /** The file's customCoordinates ("x,y,width,height"), for fo-custom. */
  customCoordinates?: string | null;
  limits: RenderLimits;
  /** Loads a media-library file for l-image layers (path like "/folder/logo.png"); null if absent. */
  loadOverlay?: (path: string) => Promise<Buffer | null>;
  /** Client hints for w-auto and dpr-auto (Sec-CH-Width, Sec-CH-DPR); ignored when absent. */
  clientHints?: { width?: number; dpr?: number };
  /** Format when the URL has no f: ImageKit's default is automatic conversion. */
  defaultFormat?: 'auto' | 'orig';
  /** Whether f-auto may choose AVIF (slow to encode; ImageKit enables it per account). Default true. */
  autoAvif?: boolean;
  /** Quality when q is absent (ImageKit's default is 80). */
  defaultQuality?: number;
  /**
   * The input's header facts, as an earlier render of the same bytes returned them: the header is
   * then not read again (reading it from a file costs 1–3% of the CPU of a 720 px resize of a photo).
   */
  facts?: SourceFacts;
}

/**
 * What a render needs to know of its input before opening it, read from the header. It depends on
 * the bytes alone, so it may be kept per content checksum and reused for any input with those bytes.
 */
export type SourceFacts = Readonly<
  Pick<Metadata, 'format' | 'compression' | 'width' | 'height' | 'pageHeight' | 'pages' | 'orientation' | 'channels' | 'hasAlpha' | 'autoOrient'>
>;

export interface RenderResult {
  data: Buffer;
  /** jpg, png, webp, avif, gif — or the original's format for orig-true / SVG pass-through. */
  format: string;
  mime: string;
  width: number;
  height: number;
  /** The bytes are the original file, unchanged (orig-true, or an SVG without a raster f). */
  original: boolean;
  /** The format was chosen from the Accept header: the response must carry Vary: Accept. */
  negotiated: boolean;
  /** The input's header facts, for RenderOptions.facts of a later render of the same bytes. */
  facts: SourceFacts;
}

export type RenderInput = { path: string } | { buffer: Buffer };

const BLACK: Color = { r: 0, g: 0, b: 0, alpha: 1, text: 'black' };
const TRANSPARENT: Color = { r: 0, g: 0, b: 0, alpha: 0, text: '00000000' };
const DEFAULT_FONT_SIZE = 45;
/** ImageKit refuses e-shadow above 2 megapixels. */
const SHADOW_MAX_PIXELS = 2_000_000;
/** Grey by luma (Rec. 601 weights) keeping three bands, so later colour work still has RGB. */
const GREY: [[number, number, number], [number, number, number], [number, number, number]] = [
  [0.299, 0.587, 0.114],
  [0.299, 0.587, 0.114],
  [0.299, 0.587, 0.114],
];

/**
 * An image being worked on: a sharp pipeline plus what we know of its result. `stage` says which
 * operations are pending in the pipeline; operations that sharp would not run in our order force
 * a materialisation (decode to raw pixels) first. A fresh image can be re-opened by `source`.
 */
interface Img {
  s: Sharp;
  width: number;
  height: number;
  alpha: boolean;
  /** One or two bands (grey originals): colours must not be drawn on it before converting to sRGB. */
  grey?: boolean;
  stage: 'none' | 'geometry' | 'effects' | 'other';
  source?: () => Sharp;
}

interface Raw {
  data: Buffer;
  width: number;
  height: number;
}

interface Scope {
  initial: Size;
  base?: Size;
  custom?: Region;
}

class Ctx {
  readonly deadline: number;
  readonly maxIntermediatePixels: number;
  constructor(readonly opts: RenderOptions) {
    this.deadline = Date.now() + opts.limits.timeoutMs;
    this.maxIntermediatePixels = Math.max(opts.limits.maxOutputPixels * 4, 16_000_000);
  }

  get limits(): RenderLimits {
    return this.opts.limits;
  }

  check(): void {
    if (Date.now() > this.deadline) throw timeoutError(this.opts.limits.timeoutMs);
  }

  /** A sharp pipeline that stops when the render's time is up. */
  sharp(input: SharpInput, options?: SharpOptions): Sharp {
    this.check();
    return sharp(input, options).timeout({ seconds: this.seconds() });
  }

  /** A pipeline over a created image (`create`, `text`). */
  create(options: SharpOptions): Sharp {
    this.check();
    return sharp(options).timeout({ seconds: this.seconds() });
  }

  private seconds(): number {
    return Math.min(3600, Math.max(1, Math.ceil((this.deadline - Date.now()) / 1000)));
  }

  checkOutput(size: Size, what = 'The requested output'): void {
    const max = this.opts.limits.maxOutputPixels;
    if (size.width * size.height > max) {
      throw badRequest(`${what} (${size.width}x${size.height}) is larger than this server produces (${max} pixels at most).`);
    }
  }
}

function timeoutError(ms: number): Error {
  return serviceUnavailable(`The transformation took longer than the ${ms} ms this server allows; try a smaller output or fewer steps.`);
}

function wrapError(e: unknown, ctx: Ctx): Error {
  if (isApiError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (/timeout/i.test(message)) return timeoutError(ctx.limits.timeoutMs);
  if (/pixel limit/i.test(message)) {
    return badRequest(`The image is larger than this server transforms (${ctx.limits.maxInputPixels} pixels at most).`, { cause: e });
  }
  return badRequest('The image could not be transformed: it is not a supported image, or the transformation cannot be applied to it.', {
    cause: e,
  });
}

/**
 * Renders `steps` (from parseTransformation) on an image. Steps run in order; inside a step the
 * operations always run in the same fixed order, whatever the order of parameters in the URL:
 * rotate, flip, trim, crop/resize/pad (w, h, ar, dpr, c, cm, fo, x, y, xc, yc, z), background,
 * effects (contrast, sharpen, unsharp mask, blur, grayscale), opacity, border, radius, gradient,
 * shadow, layers. Output options (f, q, pr, lo, md, cp) apply to the final image, the last value
 * written winning. Any failure is a 400 (ApiError); running out of time is a 503.
 */
export async function renderImage(input: RenderInput, steps: readonly TransformStep[], opts: RenderOptions): Promise<RenderResult> {
  const ctx = new Ctx(opts);
  const work = render(input, steps, ctx).catch((e: unknown) => {
    throw wrapError(e, ctx);
  });
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError(opts.limits.timeoutMs)), opts.limits.timeoutMs);
  });
  guard.catch(() => undefined);
  try {
    return await Promise.race([work, guard]);
  } finally {
    clearTimeout(timer);
  }
}

interface Output {
  format?: StepParams['format'];
  quality?: number;
  progressive?: boolean;
  lossless?: boolean;
  metadata?: boolean;
  colorProfile?: boolean;
  background?: Color;
  page?: number;
}

function outputSettings(steps: readonly TransformStep[]): Output {
  const out: Output = {};
  for (const { params: p } of steps) {
    if (p.format !== undefined) out.format = p.format;
    if (p.quality !== undefined) out.quality = p.quality;
    if (p.progressive !== undefined) out.progressive = p.progressive;
    if (p.lossless !== undefined) out.lossless = p.lossless;
    if (p.metadata !== undefined) out.metadata = p.metadata;
    if (p.colorProfile !== undefined) out.colorProfile = p.colorProfile;
    if (p.background?.kind === 'color') out.background = p.background.color;
  }
  const page = steps[0]?.params.page;
  if (page !== undefined) out.page = page;
  return out;
}

async function render(input: RenderInput, steps: readonly TransformStep[], ctx: Ctx): Promise<RenderResult> {
  const src = 'path' in input ? input.path : input.buffer;
  const meta = ctx.opts.facts ?? factsOf(await sharp(src as Buffer, { limitInputPixels: false }).metadata());
  const inputFormat = inputFormatName(meta.format, meta.compression);
  const out = outputSettings(steps);

  const passThrough = async (): Promise<RenderResult> => ({
    data: 'buffer' in input ? input.buffer : await readFile(input.path),
    format: inputFormat,
    mime: MIME[inputFormat] ?? 'application/octet-stream',
    width: meta.autoOrient?.width ?? meta.width ?? 0,
    height: meta.autoOrient?.height ?? meta.height ?? 0,
    original: true,
    negotiated: false,
    facts: meta,
  });
  if (steps.some((s) => s.params.original === true)) return passThrough();
  // ImageKit serves SVGs as they are unless a raster format is asked for explicitly.
  if (inputFormat === 'svg' && (out.format === undefined || out.format === 'auto' || out.format === 'orig' || out.format === 'svg')) {
    return passThrough();
  }

  // An SVG opened from a path could pull in files next to it (other blobs) through relative
  // references; from a buffer it has no base directory to resolve them against.
  const pixelsFrom = inputFormat === 'svg' && typeof src === 'string' ? await readFile(src) : src;
  const { img, size } = await open(pixelsFrom, meta, ctx, out.page);
  const scope: Scope = { initial: size };
  const custom = parseCustomCoordinates(ctx.opts.customCoordinates);
  if (custom) scope.custom = custom;
  const result = await runSteps(img, steps, ctx, scope);
  return { ...(await encode(result, out, inputFormat, ctx)), facts: meta };
}

/** The fields of a header read that rendering uses (not the EXIF, ICC and XMP blobs: facts are kept). */
function factsOf(m: Metadata): SourceFacts {
  const f: { -readonly [K in keyof SourceFacts]: SourceFacts[K] } = {
    format: m.format,
    width: m.width,
    height: m.height,
    channels: m.channels,
    hasAlpha: m.hasAlpha,
    autoOrient: { width: m.autoOrient.width, height: m.autoOrient.height },
  };
  if (m.compression !== undefined) f.compression = m.compression;
  if (m.pageHeight !== undefined) f.pageHeight = m.pageHeight;
  if (m.pages !== undefined) f.pages = m.pages;
  if (m.orientation !== undefined) f.orientation = m.orientation;
  return f;
}

async function open(src: string | Buffer, meta: SourceFacts, ctx: Ctx, page?: number): Promise<{ img: Img; size: Size }> {
  const rawW = meta.width ?? 0;
  const rawH = meta.pageHeight ?? meta.height ?? 0;
  if (rawW <= 0 || rawH <= 0) throw badRequest('The file is not an image this server can transform.');
  if (rawW * rawH > ctx.limits.maxInputPixels) {
    throw badRequest(
      `The image is ${rawW}x${rawH} pixels, larger than this server transforms (${ctx.limits.maxInputPixels} pixels at most).`,
    );
  }
  if (page !== undefined && page > (meta.pages ?? 1)) {
    throw badRequest(`The image has ${meta.pages ?? 1} page(s); pg-${page} does not exist.`);
  }
  const swap = (meta.orientation ?? 1) >= 5;
  const size = swap ? { width: rawH, height: rawW } : { width: rawW, height: rawH };
  const options: SharpOptions = { limitInputPixels: ctx.limits.maxInputPixels, autoOrient: true, failOn: 'error' };
  if (page !== undefined) options.page = page - 1;
  const source = () => ctx.sharp(src, options);
  const grey = (meta.channels ?? 3) <= 2;
  return { img: { s: source(), ...size, alpha: meta.hasAlpha === true, grey, stage: 'none', source }, size };
}

function fromRaw(raw: Raw, ctx: Ctx, alpha = true): Img {
  const source = () => ctx.sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 4 }, limitInputPixels: false });
  return { s: source(), width: raw.width, height: raw.height, alpha, stage: 'none', source };
}

/**
 * Runs the pending pipeline and returns a fresh image over its pixels. With `colour`, a grey
 * image is also converted to sRGB, so colours drawn on it next (padding, borders…) stay colours.
 */
async function fresh(img: Img, ctx: Ctx, colour = false): Promise<Img> {
  if (img.stage === 'none' && !(colour && img.grey)) return img;
  ctx.check();
  const { data, info } = await img.s.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const channels = info.channels as 1 | 2 | 3 | 4;
  const source = () => ctx.sharp(data, { raw: { width: info.width, height: info.height, channels }, limitInputPixels: false });
  return { s: source(), width: info.width, height: info.height, alpha: channels === 2 || channels === 4, stage: 'none', source };
}

/** The image as 8-bit sRGB + alpha pixels. */
async function rgbaRaw(img: Img, ctx: Ctx): Promise<Raw> {
  ctx.check();
  const { data, info } = await img.s.toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 4) throw new Error(`expected 4 channels, got ${info.channels}`);
  return { data, width: info.width, height: info.height };
}

function cropRaw(raw: Raw, r: Region): Raw {
  if (r.left === 0 && r.top === 0 && r.width === raw.width && r.height === raw.height) return raw;
  const out = Buffer.alloc(r.width * r.height * 4);
  for (let y = 0; y < r.height; y++) {
    const from = ((r.top + y) * raw.width + r.left) * 4;
    raw.data.copy(out, y * r.width * 4, from, from + r.width * 4);
  }
  return { data: out, width: r.width, height: r.height };
}

function varsFor(img: Size, scope: Scope): Vars {
  const v: Vars = {
    iw: scope.initial.width,
    ih: scope.initial.height,
    iar: scope.initial.width / scope.initial.height,
    cw: img.width,
    ch: img.height,
    car: img.width / img.height,
  };
  if (scope.base) {
    v.bw = scope.base.width;
    v.bh = scope.base.height;
    v.bar = scope.base.width / scope.base.height;
  }
  return v;
}

async function runSteps(img: Img, steps: readonly TransformStep[], ctx: Ctx, scope: Scope): Promise<Img> {
  let current = img;
  for (const step of steps) current = await runStep(current, step, ctx, scope);
  return current;
}

async function backgroundColor(img: Img, p: StepParams, ctx: Ctx): Promise<Color | undefined> {
  if (!p.background) return undefined;
  if (p.background.kind === 'color') return p.background.color;
  const f = await fresh(img, ctx);
  const { dominant } = await (f.source as () => Sharp)().stats();
  return { ...dominant, alpha: 1, text: 'dominant' };
}

async function runStep(input: Img, step: TransformStep, ctx: Ctx, scope: Scope): Promise<Img> {
  const p = step.params;
  let img = input;
  ctx.check();

  // 1. rotation (rt-auto is the EXIF orientation, which every image gets when it is opened)
  if (p.rotation?.kind === 'angle' && p.rotation.degrees !== 0) {
    const deg = p.rotation.degrees;
    const bg = p.background?.kind === 'color' ? p.background.color : TRANSPARENT;
    img = await fresh(img, ctx, true);
    img.s.rotate(deg, { background: rgba(bg) });
    img.stage = 'other';
    img = await fresh(img, ctx);
    if (deg % 90 !== 0) img.alpha = img.alpha || bg.alpha < 1;
  }

  // 2. flip
  if (p.flip) {
    img = await fresh(img, ctx);
    if (p.flip.horizontal) img.s.flop();
    if (p.flip.vertical) img.s.flip();
    img.stage = 'other';
  }

  // 3. trim
  if (p.trim?.enabled) img = await trim(img, p.trim.threshold, ctx);

  // 4. crop, resize, pad
  const vars = varsFor(img, scope);
  const requested = requestedSize(p, img, vars, ctx.opts.clientHints);
  let focalPoint: Point | undefined;
  if (needsSmartFocus(p, requested)) {
    img = await fresh(img, ctx);
    focalPoint = await smartFocus(img, requested as Size, ctx);
  } else if (p.focus === 'custom' && scope.custom) {
    const c = scope.custom;
    focalPoint = {
      x: (c.left + c.width / 2) * (img.width / scope.initial.width),
      y: (c.top + c.height / 2) * (img.height / scope.initial.height),
    };
  }
  const plan = planCrop({ params: p, size: img, requested, vars, maxIntermediatePixels: ctx.maxIntermediatePixels, ...(focalPoint ? { focalPoint } : {}) });
  if (plan && (plan.extractBefore || plan.resize || plan.extractAfter || plan.extend)) {
    const padColor = plan.extend ? (await backgroundColor(img, p, ctx)) ?? BLACK : BLACK;
    img = await applyPlan(img, plan, padColor, ctx);
  }

  // 5. background behind transparent pixels
  if (p.background && img.alpha) {
    const color = (await backgroundColor(img, p, ctx)) as Color;
    img = await flattenOnto(img, color, ctx);
  }

  // 6. effects: sharp runs these after resizing and padding, in its own fixed order
  if (p.contrast || p.sharpen || p.blur || p.grayscale || p.unsharpMask) {
    if (img.stage !== 'none' && img.stage !== 'geometry') img = await fresh(img, ctx);
    if (p.contrast) img.s.normalise();
    if (p.sharpen) img.s.sharpen(p.sharpen.amount === null ? undefined : { sigma: 0.5 + p.sharpen.amount / 20 });
    if (p.unsharpMask) {
      if (p.sharpen) img = await fresh({ ...img, stage: 'effects' }, ctx);
      const u = p.unsharpMask;
      // USM: no sharpening below the threshold, `amount` gain above it.
      img.s.sharpen({ sigma: Math.max(0.3, u.sigma || u.radius / 2), m1: 0, m2: u.amount, x1: u.threshold * 100 });
    }
    if (p.blur) img.s.blur(Math.max(0.3, p.blur / 2));
    if (p.grayscale && !img.grey) img.s.recomb(GREY);
    img.stage = 'effects';
    delete img.source;
  }
  if (p.opacity !== undefined && p.opacity < 100) img = await scaleAlpha(img, p.opacity / 100, ctx);

  // 7. border
  if (p.border) {
    const width = Math.round(evalAmount('b', p.border.width, varsFor(img, scope)));
    if (width > 0) {
      ctx.checkOutput({ width: img.width + 2 * width, height: img.height + 2 * width });
      img = await fresh(img, ctx, true);
      img.s.extend({ top: width, bottom: width, left: width, right: width, background: rgba(p.border.color) });
      img = { ...img, width: img.width + 2 * width, height: img.height + 2 * width, alpha: img.alpha || p.border.color.alpha < 1, stage: 'other' };
      delete img.source;
    }
  }

  // 8. radius
  if (p.radius) img = await roundCorners(img, p.radius, ctx);

  // 9. gradient
  if (p.gradient) {
    const stop = evalAmount('e-gradient', p.gradient.stop, varsFor(img, scope));
    img = await fresh(img, ctx, true);
    img.s.composite([{ input: gradientSvg(img, p.gradient, stop) }]);
    img.stage = 'other';
    delete img.source;
  }

  // 10. shadow
  if (p.shadow) img = await shadow(img, p.shadow, ctx);

  // 11. layers, in written order (later layers on top)
  if (step.layers.length > 0) img = await drawLayers(img, step.layers, ctx, scope);

  return img;
}

async function trim(img: Img, threshold: number, ctx: Ctx): Promise<Img> {
  const f = await fresh(img, ctx);
  const { data, info } = await (f.source as () => Sharp)()
    .trim({ threshold })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return fromRaw({ data, width: info.width, height: info.height }, ctx, f.alpha);
}

/** Centre of interest (sharp's attention strategy) in the image's pixels, for fo-auto / fo-face. */
async function smartFocus(img: Img, box: Size, ctx: Ctx): Promise<Point> {
  const aspect = box.width / box.height;
  const probe = aspect >= 1 ? { width: 256, height: Math.max(1, Math.round(256 / aspect)) } : { width: Math.max(1, Math.round(256 * aspect)), height: 256 };
  const { info } = await (img.source as () => Sharp)()
    .resize(probe.width, probe.height, { fit: 'cover', position: sharp.strategy.attention })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const scale = Math.max(probe.width / img.width, probe.height / img.height);
  if (info.attentionX === undefined || info.attentionY === undefined) return { x: img.width / 2, y: img.height / 2 };
  return { x: info.attentionX / scale, y: info.attentionY / scale };
}

async function applyPlan(input: Img, plan: ResizePlan, padColor: Color, ctx: Ctx): Promise<Img> {
  ctx.checkOutput(plan.output);
  if (plan.resize) ctx.checkOutput(plan.resize, 'An intermediate resize');
  const img = await fresh(input, ctx, plan.extend !== undefined);
  if (plan.extractBefore) img.s.extract(plan.extractBefore);
  if (plan.resize) img.s.resize(plan.resize.width, plan.resize.height, { fit: 'fill' });
  if (plan.extractAfter) img.s.extract(plan.extractAfter);
  if (plan.extend) img.s.extend({ ...plan.extend, background: rgba(padColor) });
  const out: Img = {
    s: img.s,
    ...plan.output,
    alpha: img.alpha || (plan.extend !== undefined && padColor.alpha < 1),
    stage: 'geometry',
  };
  if (img.grey) out.grey = true;
  return out;
}

async function flattenOnto(input: Img, color: Color, ctx: Ctx): Promise<Img> {
  const img = await fresh(input, ctx, true);
  if (color.alpha >= 1) {
    img.s.flatten({ background: rgba(color) });
    return { s: img.s, width: img.width, height: img.height, alpha: false, stage: 'other' };
  }
  const raw = await rgbaRaw(img, ctx);
  const canvas = ctx.create({ create: { width: raw.width, height: raw.height, channels: 4, background: rgba(color) } })
    .composite([{ input: raw.data, raw: { width: raw.width, height: raw.height, channels: 4 } }]);
  return { s: canvas, width: raw.width, height: raw.height, alpha: true, stage: 'other' };
}

async function scaleAlpha(input: Img, factor: number, ctx: Ctx): Promise<Img> {
  const raw = await rgbaRaw(await fresh(input, ctx), ctx);
  for (let i = 3; i < raw.data.length; i += 4) raw.data[i] = Math.round((raw.data[i] as number) * factor);
  return fromRaw(raw, ctx);
}

async function roundCorners(input: Img, radius: Radius, ctx: Ctx): Promise<Img> {
  const raw = await rgbaRaw(await fresh(input, ctx), ctx);
  const mask = await ctx.sharp(radiusMaskSvg(raw, radius)).ensureAlpha().extractChannel(3).raw().toBuffer();
  for (let i = 0, p = 0; p < mask.length; i += 4, p++) {
    raw.data[i + 3] = Math.round(((raw.data[i + 3] as number) * (mask[p] as number)) / 255);
  }
  return fromRaw(raw, ctx);
}

async function shadow(input: Img, s: NonNullable<StepParams['shadow']>, ctx: Ctx): Promise<Img> {
  if (input.width * input.height > SHADOW_MAX_PIXELS) {
    throw badRequest('e-shadow works on images of at most 2 megapixels; resize the image first (for example w-500,e-shadow).');
  }
  const raw = await rgbaRaw(await fresh(input, ctx), ctx);
  const { width, height } = raw;
  const shade = Buffer.alloc(raw.data.length);
  for (let i = 3; i < raw.data.length; i += 4) shade[i] = Math.round(((raw.data[i] as number) * s.saturation) / 100);
  let shadowPixels = shade;
  if (s.blur > 0) {
    shadowPixels = await ctx
      .sharp(shade, { raw: { width, height, channels: 4 } })
      .blur(Math.max(0.3, s.blur / 2))
      .raw()
      .toBuffer();
  }
  const at = { x: Math.round((s.x / 100) * width), y: Math.round((s.y / 100) * height) };
  const clip = clipPlacement(at, raw, raw);
  const layers: OverlayOptions[] = [];
  if (clip) {
    const part = cropRaw({ data: shadowPixels, width, height }, clip.source);
    layers.push({ input: part.data, raw: { width: part.width, height: part.height, channels: 4 }, left: clip.target.x, top: clip.target.y });
  }
  layers.push({ input: raw.data, raw: { width, height, channels: 4 }, left: 0, top: 0 });
  const canvas = ctx.create({ create: { width, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).composite(layers);
  return { s: canvas, width, height, alpha: true, stage: 'other' };
}

// ── layers ────────────────────────────────────────────────────────────────────────────────────

async function drawLayers(input: Img, layers: readonly Layer[], ctx: Ctx, scope: Scope): Promise<Img> {
  let base = await rgbaRaw(await fresh(input, ctx), ctx);
  for (const layer of layers) {
    const art = await renderLayer(layer, base, ctx);
    const vars: Vars = {
      ...varsFor(base, scope),
      bw: base.width,
      bh: base.height,
      bar: base.width / base.height,
      cw: art.width,
      ch: art.height,
      car: art.width / art.height,
    };
    const at = placeLayer(layer.position, base, art, vars);
    const clip = clipPlacement(at, art, base);
    if (layer.mode === 'displace') throw badRequest('The layer mode lm-displace is not supported by Tessera.');
    if (!clip) {
      if (layer.mode === 'cutter') throw badRequest('The cutter layer lies entirely outside its base image.');
      continue;
    }
    const part = cropRaw(art, clip.source);
    const blend = layer.mode === 'multiply' ? 'multiply' : layer.mode === 'cutter' ? 'dest-in' : layer.mode === 'cutout' ? 'dest-out' : 'over';
    let s = ctx
      .sharp(base.data, { raw: { width: base.width, height: base.height, channels: 4 }, limitInputPixels: false })
      .composite([{ input: part.data, raw: { width: part.width, height: part.height, channels: 4 }, left: clip.target.x, top: clip.target.y, blend }]);
    if (layer.mode === 'cutter') {
      // The cookie-cutter keeps only the layer's footprint.
      const done = await s.raw().toBuffer({ resolveWithObject: true });
      s = ctx
        .sharp(done.data, { raw: { width: base.width, height: base.height, channels: 4 } })
        .extract({ left: clip.target.x, top: clip.target.y, width: part.width, height: part.height });
    }
    const { data, info } = await s.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    base = { data, width: info.width, height: info.height };
  }
  return fromRaw(base, ctx);
}

async function renderLayer(layer: Layer, base: Size, ctx: Ctx): Promise<Raw> {
  ctx.check();
  if (layer.type === 'video' || layer.type === 'subtitles') {
    throw badRequest(`l-${layer.type} layers need a video base; they cannot be drawn on an image.`);
  }
  if (layer.input.kind === 'canvas') return solidLayer(layer, base, ctx);
  if (layer.input.kind === 'text') return textLayer(layer, layer.input.text, base, ctx);
  return imageLayer(layer, layer.input.path, base, ctx);
}

function mergedParams(layer: Layer): StepParams {
  return Object.assign({}, ...layer.steps.map((s) => s.params)) as StepParams;
}

function baseVars(base: Size): Vars {
  return { bw: base.width, bh: base.height, bar: base.width / base.height };
}

async function imageLayer(layer: Layer, path: string, base: Size, ctx: Ctx): Promise<Raw> {
  if (!ctx.opts.loadOverlay) throw badRequest('Image layers are not available here.');
  const bytes = await ctx.opts.loadOverlay(path);
  if (!bytes) throw badRequest(`The layer image "${path}" does not exist.`);
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw badRequest(`The layer file "${path}" is not an image.`, { cause: e });
  }
  const { img, size } = await open(bytes, meta, ctx);
  let current = img;
  // Image layers are trimmed by default, as ImageKit does; t-false keeps them whole.
  if (!layer.steps.some((s) => s.params.trim !== undefined)) current = await trim(current, 10, ctx);
  current = await runSteps(current, layer.steps, ctx, { initial: size, base });
  return rgbaRaw(await fresh(current, ctx), ctx);
}

async function solidLayer(layer: Layer, base: Size, ctx: Ctx): Promise<Raw> {
  const p = mergedParams(layer);
  const vars = baseVars(base);
  const width = p.width && p.width.kind !== 'auto' ? evalLength('w', p.width, base.width, vars) : base.width;
  const height = p.height ? evalLength('h', p.height, base.height, vars) : base.height;
  ctx.checkOutput({ width, height }, 'The solid colour layer');
  let color = p.background?.kind === 'color' ? p.background.color : p.gradient ? TRANSPARENT : BLACK;
  // al applies to hex colours without their own opacity; colour names ignore it (documented).
  const named = p.background?.kind === 'color' && /^[a-z]+$/.test(p.background.color.text);
  if (p.alpha !== undefined && color.alpha === 1 && !named) color = { ...color, alpha: p.alpha / 10 };
  let img: Img = {
    s: ctx.create({ create: { width, height, channels: 4, background: rgba(color) } }),
    width,
    height,
    alpha: true,
    stage: 'other',
  };
  if (p.gradient) {
    const stop = evalAmount('e-gradient', p.gradient.stop, { ...vars, cw: width, ch: height, car: width / height });
    img = await fresh(img, ctx);
    img.s.composite([{ input: gradientSvg(img, p.gradient, stop) }]);
    img.stage = 'other';
  }
  if (p.radius) img = await roundCorners(img, p.radius, ctx);
  return rgbaRaw(await fresh(img, ctx), ctx);
}

async function textLayer(layer: Layer, text: string, base: Size, ctx: Ctx): Promise<Raw> {
  const p = mergedParams(layer);
  const vars = baseVars(base);
  const fontSize = Math.round(p.fontSize ? evalAmount('fs', p.fontSize, vars) : DEFAULT_FONT_SIZE);
  if (fontSize < 1 || fontSize > 1000) throw badRequest(`The font size of a text layer must be between 1 and 1000 pixels (got ${fontSize}).`);
  const color = p.fontColor ?? BLACK;
  const wrapWidth = p.width && p.width.kind !== 'auto' ? evalLength('w', p.width, base.width, vars) : undefined;
  if (wrapWidth !== undefined) ctx.checkOutput({ width: wrapWidth, height: fontSize }, 'The text layer');
  const textOptions: CreateText = {
    text: textMarkup(text, color, p.typography),
    font: `${pangoFamily(p.fontFamily)} ${fontSize}`,
    dpi: 72,
    rgba: true,
    align: p.innerAlignment === 'left' ? 'left' : p.innerAlignment === 'right' ? 'right' : 'centre',
    wrap: 'word',
  };
  if (wrapWidth !== undefined) textOptions.width = wrapWidth;
  if (p.lineHeight) textOptions.spacing = Math.max(1, Math.round(evalAmount('lh', p.lineHeight, vars)));
  const rendered = await ctx.create({ text: textOptions }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  let raw: Raw = { data: rendered.data, width: rendered.info.width, height: rendered.info.height };
  if (rendered.info.channels !== 4) raw = await rgbaRaw(fromRaw(raw, ctx), ctx);

  const pad = p.padding
    ? {
        top: Math.round(evalAmount('pa', p.padding.top, vars)),
        right: Math.round(evalAmount('pa', p.padding.right, vars)),
        bottom: Math.round(evalAmount('pa', p.padding.bottom, vars)),
        left: Math.round(evalAmount('pa', p.padding.left, vars)),
      }
    : { top: 0, right: 0, bottom: 0, left: 0 };
  const boxW = raw.width + pad.left + pad.right;
  const boxH = raw.height + pad.top + pad.bottom;
  ctx.checkOutput({ width: boxW, height: boxH }, 'The text layer');
  const bg = p.background?.kind === 'color' ? p.background.color : TRANSPARENT;
  let img: Img = {
    s: ctx.create({ create: { width: boxW, height: boxH, channels: 4, background: rgba(bg) } })
      .composite([{ input: raw.data, raw: { width: raw.width, height: raw.height, channels: 4 }, left: pad.left, top: pad.top }]),
    width: boxW,
    height: boxH,
    alpha: true,
    stage: 'other',
  };
  if (p.radius) img = await roundCorners(img, p.radius, ctx);
  if (p.rotation?.kind === 'angle' && p.rotation.degrees !== 0) {
    img = await fresh(img, ctx);
    img.s.rotate(p.rotation.degrees, { background: { r: 0, g: 0, b: 0, alpha: 0 } });
    img.stage = 'other';
  }
  if (p.flip) {
    img = await fresh(img, ctx);
    if (p.flip.horizontal) img.s.flop();
    if (p.flip.vertical) img.s.flip();
    img.stage = 'other';
  }
  if (p.alpha !== undefined) img = await scaleAlpha(img, p.alpha / 10, ctx);
  return rgbaRaw(await fresh(img, ctx), ctx);
}

// ── output ────────────────────────────────────────────────────────────────────────────────────

async function encode(input: Img, out: Output, inputFormat: string, ctx: Ctx): Promise<Omit<RenderResult, 'facts'>> {
  ctx.checkOutput(input);
  const choice = chooseFormat(out.format, inputFormat, input.alpha, ctx.opts.accept, {
    defaultFormat: ctx.opts.defaultFormat ?? 'auto',
    avif: ctx.opts.autoAvif ?? true,
  });
  let format: EncodedFormat = choice.format;
  if (Math.max(input.width, input.height) > MAX_SIDE[format]) {
    if (!choice.negotiated) throw badRequest(`The output is too large for ${format} (${MAX_SIDE[format]} pixels per side at most).`);
    format = inputFormat === 'png' || input.alpha ? 'png' : 'jpg';
  }
  let img = input;
  if (!supportsAlpha(format) && img.alpha) {
    img = await fresh(img, ctx, true);
    img.s.flatten({ background: rgba(out.background ?? BLACK) });
  }
  const quality = out.quality ?? ctx.opts.defaultQuality ?? 80;
  const s = img.s;
  switch (format) {
    case 'jpg':
      s.jpeg({ quality, progressive: out.progressive === true });
      break;
    case 'png':
      s.png({ progressive: out.progressive === true });
      break;
    case 'webp':
      s.webp({ quality, lossless: out.lossless === true });
      break;
    case 'avif':
      s.avif({ quality, lossless: out.lossless === true, effort: 2 });
      break;
    case 'gif':
      s.gif();
      break;
  }
  if (out.metadata) s.keepMetadata();
  else if (out.colorProfile) s.keepIccProfile();
  ctx.check();
  const { data, info } = await s.toBuffer({ resolveWithObject: true });
  return {
    data,
    format,
    mime: MIME[format] as string,
    width: info.width,
    height: info.height,
    original: false,
    negotiated: choice.negotiated,
  };
}
