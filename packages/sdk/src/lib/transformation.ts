import { toBase64, utf8 } from './crypto.js';
import type { Overlay, OverlayEncoding, Transformation } from './types.js';

/**
 * Option name → ImageKit URL parameter. One table serves the main steps and the nested steps of
 * text, subtitle and solid-color layers (their names are disjoint or map to the same key).
 * Source: https://imagekit.io/docs/transformations and the spec's `Transformation` schema.
 */
const PARAMETER_KEYS: Readonly<Record<string, string>> = {
  // resize, crop, focus
  width: 'w',
  height: 'h',
  aspectRatio: 'ar',
  crop: 'c',
  cropMode: 'cm',
  focus: 'fo',
  x: 'x',
  y: 'y',
  xCenter: 'xc',
  yCenter: 'yc',
  zoom: 'z',
  dpr: 'dpr',
  // look
  background: 'bg',
  border: 'b',
  radius: 'r',
  rotation: 'rt',
  blur: 'bl',
  flip: 'fl',
  opacity: 'o',
  trim: 't',
  colorReplace: 'cr',
  // delivery and optimisation
  quality: 'q',
  format: 'f',
  progressive: 'pr',
  lossless: 'lo',
  colorProfile: 'cp',
  metadata: 'md',
  named: 'n',
  defaultImage: 'di',
  original: 'orig',
  page: 'pg',
  // video
  videoCodec: 'vc',
  audioCodec: 'ac',
  startOffset: 'so',
  endOffset: 'eo',
  duration: 'du',
  streamingResolutions: 'sr',
  // effects (e-…)
  grayscale: 'e-grayscale',
  contrastStretch: 'e-contrast',
  sharpen: 'e-sharpen',
  unsharpMask: 'e-usm',
  shadow: 'e-shadow',
  gradient: 'e-gradient',
  colorize: 'e-colorize',
  distort: 'e-distort',
  aiUpscale: 'e-upscale',
  aiRetouch: 'e-retouch',
  aiVariation: 'e-genvar',
  aiDropShadow: 'e-dropshadow',
  aiChangeBackground: 'e-changebg',
  aiEdit: 'e-edit',
  aiRemoveBackground: 'e-bgremove',
  aiRemoveBackgroundExternal: 'e-removedotbg',
  // text layer styling
  fontSize: 'fs',
  fontFamily: 'ff',
  fontColor: 'co',
  innerAlignment: 'ia',
  padding: 'pa',
  alpha: 'al',
  typography: 'tg',
  lineHeight: 'lh',
  // subtitle layer styling
  color: 'co',
  fontOutline: 'fol',
  fontShadow: 'fsh',
};

/** Effects that take no value: present when `true`, absent otherwise. */
const SWITCH_EFFECTS = new Set([
  'e-grayscale',
  'e-contrast',
  'e-upscale',
  'e-retouch',
  'e-genvar',
  'e-bgremove',
  'e-removedotbg',
]);

/** Effects that may stand alone (`true`) or carry a value (`e-sharpen-10`). */
const OPTIONAL_VALUE_EFFECTS = new Set(['e-sharpen', 'e-usm', 'e-shadow', 'e-gradient', 'e-dropshadow']);

/** Parameters holding a path, where ImageKit wants `@@` for `/` and no outer slashes. */
const PATH_VALUED = new Set(['di', 'ff']);

// Inputs made only of these characters go in as plain `i-…`; anything else is base64 (`ie-…`) so
// that commas, colons or non-ASCII cannot break the transformation syntax.
const PLAIN_PATH = /^[A-Za-z0-9._ /-]*$/;
const PLAIN_TEXT = /^[A-Za-z0-9._ -]*$/;

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** Drops one leading and one trailing slash, as ImageKit's layer and path parameters expect. */
function trimOuterSlashes(path: string): string {
  return path.replace(/^\//, '').replace(/\/$/, '');
}

function base64Param(text: string): string {
  return `ie-${encodeURIComponent(toBase64(utf8(text)))}`;
}

function layerInput(path: string, encoding: OverlayEncoding): string {
  const trimmed = trimOuterSlashes(path);
  const plain = encoding === 'plain' || (encoding !== 'base64' && PLAIN_PATH.test(trimmed));
  return plain ? `i-${trimmed.replace(/\//g, '@@')}` : base64Param(trimmed);
}

function layerText(text: string, encoding: OverlayEncoding): string {
  const plain = encoding === 'plain' || (encoding !== 'base64' && PLAIN_TEXT.test(text));
  return plain ? `i-${encodeURIComponent(text)}` : base64Param(text);
}

function nonEmpty(value: number | string | undefined): value is number | string {
  // Falsy values are left out, as the official SDKs do: a zero offset is the default position anyway.
  return Boolean(value);
}

/** Renders one layer as `l-…,…,l-end`, or '' when it lacks its required input. */
function renderOverlay(overlay: Overlay): string {
  const parts: string[] = [];
  switch (overlay.type) {
    case 'text':
      if (!overlay.text) return '';
      parts.push('l-text', layerText(overlay.text, overlay.encoding ?? 'auto'));
      break;
    case 'image':
    case 'video':
    case 'subtitle': {
      if (!overlay.input) return '';
      const kind = overlay.type === 'subtitle' ? 'subtitles' : overlay.type;
      parts.push(`l-${kind}`, layerInput(overlay.input, overlay.encoding ?? 'auto'));
      break;
    }
    case 'solidColor':
      if (!overlay.color) return '';
      // ImageKit draws solid blocks as an image layer over its built-in blank canvas.
      parts.push('l-image', 'i-ik_canvas', `bg-${overlay.color}`);
      break;
    default:
      return '';
  }

  if (overlay.layerMode) parts.push(`lm-${overlay.layerMode}`);

  const position = overlay.position ?? {};
  if (nonEmpty(position.x)) parts.push(`lx-${position.x}`);
  if (nonEmpty(position.y)) parts.push(`ly-${position.y}`);
  if (nonEmpty(position.xCenter)) parts.push(`lxc-${position.xCenter}`);
  if (nonEmpty(position.yCenter)) parts.push(`lyc-${position.yCenter}`);
  if (position.focus) parts.push(`lfo-${position.focus}`);
  if (position.anchorPoint) parts.push(`lap-${position.anchorPoint}`);

  const timing = overlay.timing ?? {};
  if (nonEmpty(timing.start)) parts.push(`lso-${timing.start}`);
  if (nonEmpty(timing.end)) parts.push(`leo-${timing.end}`);
  if (nonEmpty(timing.duration)) parts.push(`ldu-${timing.duration}`);

  // Nested steps may be text/subtitle/solid styling; they share the one key table.
  const nested = buildTransformationString(overlay.transformation as Transformation[] | undefined);
  if (nested.trim() !== '') parts.push(nested);

  parts.push('l-end');
  return parts.join(',');
}

/** Renders one `key: value` of a step, or undefined when it contributes nothing. */
function renderParameter(name: string, value: unknown): string | undefined {
  // Unknown names pass through as `name-value`, so a newer ImageKit parameter can be used untyped.
  const key = PARAMETER_KEYS[name] ?? PARAMETER_KEYS[name.toLowerCase()] ?? name;
  if (key === '') return undefined;

  if (SWITCH_EFFECTS.has(key)) {
    return value === true || value === 'true' || value === '-' ? key : undefined;
  }
  if (OPTIONAL_VALUE_EFFECTS.has(key)) {
    if (value === true || value === 'true' || String(value).trim() === '') return key;
    // `false` means "do not apply"; emitting `e-sharpen-false` would only earn a 400.
    if (value === false) return undefined;
    return `${key}-${String(value)}`;
  }

  let text: string;
  if (PATH_VALUED.has(key)) text = trimOuterSlashes(String(value)).replace(/\//g, '@@');
  else if (key === 'sr' && Array.isArray(value)) text = value.join('_');
  else if (key === 't' && String(value).trim() === '') text = 'true';
  else text = String(value);
  return `${key}-${text}`;
}

/**
 * Turns transformation steps into ImageKit's transformation string: parameters of a step joined
 * by `,`, steps by `:`, layers as `l-…,l-end` blocks. Parameters keep the order they were written in.
 *
 * @example
 * buildTransformationString([{ width: 300, height: 200 }, { rotation: 90 }]);
 * // → 'w-300,h-200:rt-90'
 */
export function buildTransformationString(transformation: readonly Transformation[] | undefined): string {
  if (!Array.isArray(transformation)) return '';
  const steps: string[] = [];
  for (const step of transformation) {
    if (!step || typeof step !== 'object') continue;
    const parts: string[] = [];
    for (const [name, value] of Object.entries(step)) {
      if (!isSet(value)) continue;
      if (name === 'overlay') {
        if (typeof value === 'object') {
          const layer = renderOverlay(value as Overlay);
          if (layer.trim() !== '') parts.push(layer);
        }
        continue;
      }
      if (name === 'raw') {
        // Verbatim by contract; an empty raw would only leave a dangling comma.
        if (String(value) !== '') parts.push(String(value));
        continue;
      }
      const rendered = renderParameter(name, value);
      if (rendered !== undefined) parts.push(rendered);
    }
    if (parts.length > 0) steps.push(parts.join(','));
  }
  return steps.join(':');
}
