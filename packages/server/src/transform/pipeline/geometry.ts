import { badRequest } from '../../errors/index.js';
import { evaluateExpression } from '../parse/expression.js';
import type { Amount, ExprVariable, Focus, LayerPosition, Length, RelativePosition, SignedAmount, StepParams } from '../parse/types.js';

/**
 * Pure geometry: turns a step's size/crop parameters and the current image size into exact
 * pixel operations, following ImageKit's documented crop strategies. No sharp here, so every
 * rule can be tested by arithmetic alone.
 */

export interface Size {
  width: number;
  height: number;
}

export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface Pad {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

/**
 * Operations in the order sharp runs them in one pipeline: extract before resize, resize
 * (exact size, aspect ignored), extract after resize, then extend (padding).
 */
export interface ResizePlan {
  extractBefore?: Region;
  resize?: Size;
  extractAfter?: Region;
  extend?: Pad;
  output: Size;
}

export type Vars = Partial<Record<ExprVariable, number>>;

export interface Point {
  x: number;
  y: number;
}

/** A rectangle of interest in source pixels (customCoordinates: "x,y,width,height"). */
export function parseCustomCoordinates(text: string | null | undefined): Region | undefined {
  if (!text) return undefined;
  const parts = text.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n) || n < 0)) return undefined;
  const [left, top, width, height] = parts as [number, number, number, number];
  if (width <= 0 || height <= 0) return undefined;
  return { left, top, width, height };
}

export function evalAmount(key: string, a: Amount, vars: Vars): number {
  const v = a.kind === 'num' ? a.value : evaluateExpression(a, vars);
  if (!Number.isFinite(v)) throw badRequest(`The value of transformation parameter "${key}" could not be evaluated for this image.`);
  return v;
}

export function evalLength(key: string, l: Length, current: number, vars: Vars): number {
  let v: number;
  if (l.kind === 'px') v = l.value;
  else if (l.kind === 'fraction') v = l.value * current;
  else v = evaluateExpression(l, vars);
  if (!Number.isFinite(v)) throw badRequest(`The value of transformation parameter "${key}" could not be evaluated for this image.`);
  const r = Math.round(v);
  if (r < 1) throw badRequest(`The transformation parameter "${key}" evaluates to ${formatted(v)} pixels for this image; it must be at least 1.`);
  return r;
}

function formatted(v: number): string {
  return String(Math.round(v * 100) / 100);
}

export interface RequestedSize {
  width?: number;
  height?: number;
}

/**
 * w, h, ar and dpr → the requested box. ar completes the missing side and is ignored when both
 * are given; dpr multiplies both, but is dropped when either side would fall below 1 px or above
 * 5000 px (as documented); dpr without w or h has nothing to scale.
 */
export function requestedSize(params: StepParams, current: Size, vars: Vars, hints: { width?: number; dpr?: number } = {}): RequestedSize {
  let width: number | undefined;
  let height: number | undefined;
  if (params.width) {
    if (params.width.kind === 'auto') width = hints.width !== undefined && hints.width >= 1 ? Math.round(hints.width) : undefined;
    else width = evalLength('w', params.width, current.width, vars);
  }
  if (params.height) height = evalLength('h', params.height, current.height, vars);
  const ar = params.aspectRatio;
  if (ar && (width === undefined) !== (height === undefined)) {
    const ratio = ar.kind === 'ratio' ? ar.value : evaluateExpression(ar, vars);
    if (!Number.isFinite(ratio) || ratio <= 0) throw badRequest('The transformation parameter "ar" evaluates to an invalid aspect ratio for this image.');
    if (width !== undefined) height = Math.max(1, Math.round(width / ratio));
    else if (height !== undefined) width = Math.max(1, Math.round(height * ratio));
  }
  const dpr = params.dpr;
  if (dpr && (width !== undefined || height !== undefined)) {
    const d = dpr.kind === 'num' ? dpr.value : dpr.kind === 'auto' ? hints.dpr ?? 1 : evaluateExpression(dpr, vars);
    if (Number.isFinite(d) && d > 0) {
      const w2 = width === undefined ? undefined : width * d;
      const h2 = height === undefined ? undefined : height * d;
      const ok = [w2, h2].every((v) => v === undefined || (v >= 1 && v <= 5000));
      if (ok) {
        width = w2 === undefined ? undefined : Math.round(w2);
        height = h2 === undefined ? undefined : Math.round(h2);
      }
    }
  }
  const out: RequestedSize = {};
  if (width !== undefined) out.width = width;
  if (height !== undefined) out.height = height;
  return out;
}

/** Fraction (0 = start, 0.5 = middle, 1 = end) of the free space on each axis for a relative position. */
export function relativeFractions(p: RelativePosition): { fx: number; fy: number } {
  const fx = p.includes('left') ? 0 : p.includes('right') ? 1 : 0.5;
  const fy = p.includes('top') ? 0 : p.includes('bottom') ? 1 : 0.5;
  return { fx, fy };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

export interface CropInput {
  params: StepParams;
  size: Size;
  requested: RequestedSize;
  vars: Vars;
  /** Centre of interest in source pixels for fo-auto / fo-face / fo-custom, when known. */
  focalPoint?: Point;
  /** Largest intermediate (resized, not yet extracted) image allowed, in pixels. */
  maxIntermediatePixels: number;
}

/** Does this step need a centre of interest computed from the pixels (fo-auto / fo-face)? */
export function needsSmartFocus(params: StepParams, requested: RequestedSize): boolean {
  const f = params.focus;
  return (f === 'auto' || f === 'face') && requested.width !== undefined && requested.height !== undefined;
}

/**
 * The crop/resize/pad plan for one step. Follows ImageKit's documented strategies:
 * maintain_ratio (default: cover and crop by focus, enlarging), maintain_ratio_no_enlarge,
 * force (stretch), at_max (fit inside, never enlarge), at_max_enlarge, at_least (cover without
 * cropping), and the crop modes pad_resize(_no_enlarge), extract, pad_extract(_no_shrink).
 */
export function planCrop(input: CropInput): ResizePlan | undefined {
  const { params, size, requested } = input;
  const W = size.width;
  const H = size.height;
  const w = requested.width;
  const h = requested.height;
  if (w === undefined && h === undefined) return undefined;
  const mode = params.cropMode;

  if (mode === 'extract' || mode === 'pad_extract' || mode === 'pad_extract_no_shrink') {
    return planExtract(input, w ?? W, h ?? H, mode !== 'extract');
  }

  if (mode === 'pad_resize' || mode === 'pad_resize_no_enlarge') {
    if (w === undefined || h === undefined) return scaleBy(size, w !== undefined ? w / W : (h as number) / H, mode === 'pad_resize_no_enlarge');
    let s = Math.min(w / W, h / H);
    if (mode === 'pad_resize_no_enlarge') s = Math.min(s, 1);
    const inner = { width: clamp(Math.round(W * s), 1, w), height: clamp(Math.round(H * s), 1, h) };
    const pad = distribute(w - inner.width, h - inner.height, padPosition(params.focus));
    const plan: ResizePlan = { output: { width: w, height: h } };
    if (inner.width !== W || inner.height !== H) plan.resize = inner;
    if (pad.top + pad.right + pad.bottom + pad.left > 0) plan.extend = pad;
    return plan;
  }

  const crop = params.crop ?? 'maintain_ratio';
  switch (crop) {
    case 'force':
      return exact(size, { width: w ?? W, height: h ?? H });
    case 'at_max':
    case 'at_max_enlarge': {
      const s = Math.min(w !== undefined ? w / W : Infinity, h !== undefined ? h / H : Infinity);
      return scaleBy(size, s, crop === 'at_max');
    }
    case 'at_least': {
      const s = Math.max(w !== undefined ? w / W : 0, h !== undefined ? h / H : 0);
      return scaleBy(size, s, false);
    }
    case 'maintain_ratio':
    case 'maintain_ratio_no_enlarge': {
      const noEnlarge = crop === 'maintain_ratio_no_enlarge';
      if (w === undefined || h === undefined) return scaleBy(size, w !== undefined ? w / W : (h as number) / H, noEnlarge);
      return planCover(input, w, h, noEnlarge);
    }
  }
}

function exact(size: Size, out: Size): ResizePlan {
  if (out.width === size.width && out.height === size.height) return { output: out };
  return { resize: out, output: out };
}

function scaleBy(size: Size, s: number, noEnlarge: boolean): ResizePlan {
  const scale = noEnlarge ? Math.min(s, 1) : s;
  return exact(size, { width: Math.max(1, Math.round(size.width * scale)), height: Math.max(1, Math.round(size.height * scale)) });
}

function padPosition(f: Focus | undefined): { fx: number; fy: number } {
  if (!f || f === 'auto' || f === 'face' || f === 'custom') return { fx: 0.5, fy: 0.5 };
  return relativeFractions(f);
}

/** Splits free space so the content sits at (fx, fy): fo-left puts all padding on the right. */
function distribute(freeX: number, freeY: number, at: { fx: number; fy: number }): Pad {
  const left = Math.floor(freeX * at.fx);
  const top = Math.floor(freeY * at.fy);
  return { left, right: freeX - left, top, bottom: freeY - top };
}

/** Where the window's centre goes for the step's focus (relative positions are handled by callers). */
function focusCentre(input: CropInput): Point | undefined {
  return input.focalPoint;
}

/**
 * maintain_ratio with both sides: scale to cover w×h, then cut w×h out of it at the focus.
 * Resizing the whole image first and extracting afterwards keeps JPEG shrink-on-load.
 */
function planCover(input: CropInput, w: number, h: number, noEnlarge: boolean): ResizePlan {
  const { size } = input;
  const W = size.width;
  const H = size.height;
  let s = Math.max(w / W, h / H);
  let outW = w;
  let outH = h;
  if (noEnlarge && s > 1) {
    // Keep the requested shape, at the largest size the original allows.
    outW = Math.max(1, Math.min(W, Math.round(w / s)));
    outH = Math.max(1, Math.min(H, Math.round(h / s)));
    s = 1;
  }
  const zoom = input.params.zoom;
  const smart = input.params.focus === 'auto' || input.params.focus === 'face';
  if (zoom !== undefined && zoom > 1 && smart) s *= zoom; // zooming out cannot show more than the cover window
  const scaled = { width: Math.max(outW, Math.round(W * s)), height: Math.max(outH, Math.round(H * s)) };
  const centre = focusCentre(input);
  let left: number;
  let top: number;
  if (centre && input.params.focus !== undefined && !isRelative(input.params.focus)) {
    left = clamp(Math.round(centre.x * (scaled.width / W) - outW / 2), 0, scaled.width - outW);
    top = clamp(Math.round(centre.y * (scaled.height / H) - outH / 2), 0, scaled.height - outH);
  } else {
    const { fx, fy } = relativeFractions(isRelative(input.params.focus) ? input.params.focus : 'center');
    left = Math.round((scaled.width - outW) * fx);
    top = Math.round((scaled.height - outH) * fy);
  }
  const plan: ResizePlan = { output: { width: outW, height: outH } };
  const needsResize = scaled.width !== W || scaled.height !== H;
  const needsExtract = scaled.width !== outW || scaled.height !== outH;
  if (needsResize && needsExtract && scaled.width * scaled.height > input.maxIntermediatePixels) {
    // Very large zoom-ins: cut the window out of the original first, then scale it.
    plan.extractBefore = {
      left: clamp(Math.round(left / (scaled.width / W)), 0, W - 1),
      top: clamp(Math.round(top / (scaled.height / H)), 0, H - 1),
      width: 0,
      height: 0,
    };
    plan.extractBefore.width = clamp(Math.round(outW / (scaled.width / W)), 1, W - plan.extractBefore.left);
    plan.extractBefore.height = clamp(Math.round(outH / (scaled.height / H)), 1, H - plan.extractBefore.top);
    plan.resize = { width: outW, height: outH };
    return plan;
  }
  if (needsResize) plan.resize = scaled;
  if (needsExtract) plan.extractAfter = { left, top, width: outW, height: outH };
  return plan;
}

function isRelative(f: Focus | undefined): f is RelativePosition {
  return f !== undefined && f !== 'auto' && f !== 'face' && f !== 'custom';
}

/**
 * cm-extract: cut a w×h region at the original scale, placed by x/y (top-left), xc/yc (centre),
 * or the focus. pad_extract pads with bg where the original is smaller than the region.
 * With fo-auto/fo-face, z scales the region (z > 1 zooms in) before it is resized back to w×h.
 */
function planExtract(input: CropInput, ew: number, eh: number, pad: boolean): ResizePlan {
  const { params, size, vars } = input;
  const W = size.width;
  const H = size.height;
  const smart = params.focus === 'auto' || params.focus === 'face';
  const zoom = smart && params.zoom !== undefined ? params.zoom : 1;
  let rw = ew / zoom;
  let rh = eh / zoom;
  if (rw > W || rh > H) {
    if (zoom !== 1) {
      // Zooming out beyond the original: take the largest window of the same shape.
      const k = Math.min(W / rw, H / rh);
      rw *= k;
      rh *= k;
    }
  }
  const regionW = Math.max(1, Math.min(W, Math.round(rw)));
  const regionH = Math.max(1, Math.min(H, Math.round(rh)));

  const axis = (
    pos: Amount | undefined,
    centre: Amount | undefined,
    key: [string, string],
    total: number,
    region: number,
    fraction: number,
    focal: number | undefined,
  ): number => {
    if (pos) return clamp(Math.round(evalAmount(key[0], pos, vars)), 0, total - region);
    if (centre) {
      const c = evalAmount(key[1], centre, vars);
      const start = Math.round(c - region / 2);
      if (start < 0 || start + region > total) {
        throw badRequest(
          `The region centred by "${key[1]}-${formatted(c)}" extends beyond the image (${W}x${H}); choose a centre and size that fit.`,
        );
      }
      return start;
    }
    if (focal !== undefined) return clamp(Math.round(focal - region / 2), 0, total - region);
    return Math.round((total - region) * fraction);
  };
  const rel = relativeFractions(isRelative(params.focus) ? params.focus : 'center');
  const focal = params.focus !== undefined && !isRelative(params.focus) ? input.focalPoint : undefined;
  const left = axis(params.x, params.xCenter, ['x', 'xc'], W, regionW, rel.fx, focal?.x);
  const top = axis(params.y, params.yCenter, ['y', 'yc'], H, regionH, rel.fy, focal?.y);

  const plan: ResizePlan = { output: { width: regionW, height: regionH } };
  if (regionW !== W || regionH !== H || left !== 0 || top !== 0) plan.extractBefore = { left, top, width: regionW, height: regionH };
  if (zoom !== 1) {
    // Scale the window back to the requested size (or as much of it as fits the shape).
    const target = { width: Math.min(ew, Math.round(regionW * zoom)), height: Math.min(eh, Math.round(regionH * zoom)) };
    target.width = Math.max(1, target.width);
    target.height = Math.max(1, target.height);
    if (target.width !== regionW || target.height !== regionH) plan.resize = target;
    plan.output = target;
  }
  if (pad) {
    const out = plan.output;
    const freeX = Math.max(0, ew - out.width);
    const freeY = Math.max(0, eh - out.height);
    if (freeX + freeY > 0) {
      plan.extend = distribute(freeX, freeY, padPosition(params.focus));
      plan.output = { width: out.width + freeX, height: out.height + freeY };
    }
  }
  return plan;
}

/**
 * Where a layer of size `layer` goes on a base of size `base`. lx/ly place its top-left corner,
 * lxc/lyc its centre; `N` measures from the far edge; lap picks the base corner offsets are
 * measured from (default top_left). Without coordinates, lfo places it (default center).
 * Offsets beyond the base are clamped to the base, as documented.
 */
export function placeLayer(
  pos: LayerPosition,
  base: Size,
  layer: Size,
  vars: Vars,
): Point {
  const hasCoords = pos.x || pos.y || pos.xCenter || pos.yCenter;
  if (!hasCoords) {
    const { fx, fy } = relativeFractions(pos.focus ?? 'center');
    return { x: Math.round((base.width - layer.width) * fx), y: Math.round((base.height - layer.height) * fy) };
  }
  const anchor = relativeFractions(pos.anchor ?? 'top_left');
  const axis = (
    corner: SignedAmount | undefined,
    centre: SignedAmount | undefined,
    keys: [string, string],
    total: number,
    size: number,
    anchorFraction: number,
  ): number => {
    if (centre) {
      const v = clamp(evalAmount(keys[1], centre.amount, vars), 0, total);
      const c = centre.negative ? total - v : v;
      return Math.round(c - size / 2);
    }
    const v = corner ? clamp(evalAmount(keys[0], corner.amount, vars), 0, total) : 0;
    // N flips the direction the offset is measured in.
    const from = corner?.negative ? 1 - anchorFraction : anchorFraction;
    if (from === 0) return Math.round(v);
    if (from === 1) return Math.round(total - size - v);
    return Math.round((total - size) / 2 + (corner?.negative ? -v : v));
  };
  return {
    x: axis(pos.x, pos.xCenter, ['lx', 'lxc'], base.width, layer.width, anchor.fx),
    y: axis(pos.y, pos.yCenter, ['ly', 'lyc'], base.height, layer.height, anchor.fy),
  };
}

/** The visible part of a `size` rectangle placed at `at` on a `base`: what to cut and where to put it. */
export function clipPlacement(at: Point, size: Size, base: Size): { source: Region; target: Point } | undefined {
  const left = Math.max(0, at.x);
  const top = Math.max(0, at.y);
  const right = Math.min(base.width, at.x + size.width);
  const bottom = Math.min(base.height, at.y + size.height);
  if (right <= left || bottom <= top) return undefined;
  return {
    source: { left: left - at.x, top: top - at.y, width: right - left, height: bottom - top },
    target: { x: left, y: top },
  };
}
