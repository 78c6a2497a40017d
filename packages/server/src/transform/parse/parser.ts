import { badRequest } from '../../errors/index.js';
import { BY_KEY, EFFECT_KEYS, type ParamEntry, SUPPORTED_KEYS } from './table.js';
import type { Layer, LayerInput, LayerPosition, LayerType, ParseLimits, ParseOptions, StepParams, TransformStep } from './types.js';
import { type Context, type ValueContext, base64Text, decodeValue, libraryPath } from './values.js';

export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = Object.freeze({
  maxLength: 4096,
  maxSteps: 24,
  maxLayers: 16,
  maxLayerDepth: 3,
  maxDimension: 10000,
});

/**
 * Built-in named transformations. `ik_ml_thumbnail` is what ImageKit's media library (and every
 * `thumbnail`/`thumbnailUrl` of the API) uses: ImageKit does not publish its definition, so we
 * define it as a small box the image fits in without upscaling or cropping. Config may override it.
 */
export const DEFAULT_NAMED_TRANSFORMATIONS: Readonly<Record<string, string>> = Object.freeze({
  ik_ml_thumbnail: 'w-300,h-300,c-at_max',
});

const LAYER_TYPES: readonly LayerType[] = ['image', 'text', 'video', 'subtitles'];
/** ImageKit's text layers truncate base64 input beyond this many characters. */
const MAX_ENCODED_TEXT = 144;
const MAX_TEXT = 1000;
const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

interface RawParam {
  key: string;
  value: string;
  token: string;
  entry: ParamEntry;
}

interface DraftStep {
  params: RawParam[];
  layers: Layer[];
}

interface Frame {
  type: LayerType | 'top';
  steps: DraftStep[];
}

interface State {
  limits: ParseLimits;
  named: (name: string) => string | undefined;
  layers: number;
  namedDepth: number;
  namedStack: string[];
}

/**
 * Parses an ImageKit transformation string (`w-300,h-200,c-at_max:e-grayscale`) into typed,
 * validated steps. Pass the string still percent-encoded: values are decoded after splitting, so
 * an encoded `,` or `:` inside a text layer stays text. Throws a 400 ApiError naming the offending
 * key and the accepted values.
 */
export function parseTransformation(tr: string, options: ParseOptions = {}): TransformStep[] {
  const limits: ParseLimits = { ...DEFAULT_PARSE_LIMITS, ...(options.limits ?? {}) };
  const namedSource = options.named;
  const lookup = (name: string): string | undefined => {
    let found: string | undefined;
    if (namedSource instanceof Map) found = namedSource.get(name);
    else if (namedSource) found = (namedSource as Readonly<Record<string, string>>)[name];
    if (found === undefined && Object.prototype.hasOwnProperty.call(DEFAULT_NAMED_TRANSFORMATIONS, name)) {
      found = DEFAULT_NAMED_TRANSFORMATIONS[name];
    }
    return found;
  };
  const state: State = { limits, named: lookup, layers: 0, namedDepth: 0, namedStack: [] };
  const steps = parseSteps(tr, 'top', state);
  const total = countSteps(steps);
  if (total > limits.maxSteps) {
    throw badRequest(`The transformation has ${total} steps; at most ${limits.maxSteps} are allowed (named transformations and layers included).`);
  }
  return steps;
}

function countSteps(steps: TransformStep[]): number {
  return steps.reduce((n, s) => n + 1 + s.layers.reduce((m, l) => m + countSteps(l.steps), 0), 0);
}

function parseSteps(input: string, context: Context, state: State): TransformStep[] {
  let tr = input.trim();
  if (tr.startsWith('tr:') || tr.startsWith('tr=')) tr = tr.slice(3);
  if (tr.length > state.limits.maxLength) {
    throw badRequest(`The transformation string is ${tr.length} characters long; at most ${state.limits.maxLength} are allowed.`);
  }
  const root: Frame = { type: 'top', steps: [{ params: [], layers: [] }] };
  const stack: Frame[] = [root];
  let token = '';
  const flush = () => {
    const t = token.trim();
    token = '';
    if (t === '') return;
    const frame = stack[stack.length - 1] as Frame;
    const current = frame.steps[frame.steps.length - 1] as DraftStep;
    if (t.startsWith('l-')) {
      const kind = t.slice(2);
      if (kind === 'end') {
        if (stack.length === 1) throw badRequest('Unexpected "l-end": no layer is open.');
        stack.pop();
        const parent = stack[stack.length - 1] as Frame;
        const layer = finishLayer(frame, state);
        (parent.steps[parent.steps.length - 1] as DraftStep).layers.push(layer);
        return;
      }
      if (kind === 'solid') {
        throw badRequest('Unknown layer type "l-solid": ImageKit draws solid colour blocks as l-image,i-ik_canvas,bg-<colour>,w-…,h-…,l-end.');
      }
      if (!(LAYER_TYPES as readonly string[]).includes(kind)) {
        throw badRequest(`Unknown layer type "${t}": expected one of ${LAYER_TYPES.map((x) => `l-${x}`).join(', ')}, closed by l-end.`);
      }
      if (stack.length > state.limits.maxLayerDepth) {
        throw badRequest(`Layers can be nested at most ${state.limits.maxLayerDepth} levels deep.`);
      }
      state.layers++;
      if (state.layers > state.limits.maxLayers) {
        throw badRequest(`The transformation has more than ${state.limits.maxLayers} layers.`);
      }
      stack.push({ type: kind as LayerType, steps: [{ params: [], layers: [] }] });
      return;
    }
    current.params.push(splitToken(t));
  };
  for (const ch of tr) {
    if (ch === ',') {
      flush();
    } else if (ch === ':') {
      flush();
      const frame = stack[stack.length - 1] as Frame;
      frame.steps.push({ params: [], layers: [] });
    } else {
      token += ch;
    }
  }
  flush();
  if (stack.length > 1) {
    throw badRequest(`A layer opened with "l-${(stack[stack.length - 1] as Frame).type}" is not closed with "l-end".`);
  }
  return finishSteps(root.steps, context, state);
}

/** `e-sharpen-10` → key e-sharpen, value 10; `ar-4-3` → key ar, value 4-3. */
function splitToken(token: string): RawParam {
  let key: string;
  let value: string;
  if (token.startsWith('e-')) {
    const effect = EFFECT_KEYS.find((k) => token === k || token.startsWith(`${k}-`));
    if (!effect) {
      throw badRequest(
        `Unknown transformation parameter "${token}". Supported effects: ${EFFECT_KEYS.filter((k) => !BY_KEY.get(k)?.refuse).join(', ')}.`,
      );
    }
    key = effect;
    value = token.slice(effect.length + 1);
  } else {
    const dash = token.indexOf('-');
    key = dash === -1 ? token : token.slice(0, dash);
    value = dash === -1 ? '' : token.slice(dash + 1);
  }
  const entry = BY_KEY.get(key);
  if (!entry) {
    throw badRequest(`Unknown transformation parameter "${key}" in "${token}". Supported parameters: ${SUPPORTED_KEYS.join(', ')}.`);
  }
  if (entry.refuse) throw badRequest(`The transformation parameter "${key}" ${entry.refuse}.`);
  if (entry.flag && value !== '') throw badRequest(`The transformation parameter "${key}" takes no value (got "${token}").`);
  if (!entry.flag && !entry.optionalValue && value === '') {
    throw badRequest(`The transformation parameter "${key}" needs a value, as in "${key}-<value>".`);
  }
  return { key, value, token, entry };
}

const CONTEXT_NAMES: Record<Context, string> = {
  top: 'outside layers',
  image: 'in an image layer',
  text: 'in a text layer',
  solid: 'in a solid-colour layer (i-ik_canvas)',
  media: 'in a video or subtitle layer',
};

function finishSteps(drafts: DraftStep[], context: Context, state: State): TransformStep[] {
  const out: TransformStep[] = [];
  for (const draft of drafts) {
    if (draft.params.length === 0 && draft.layers.length === 0) continue;
    const named = draft.params.filter((p) => p.entry.named);
    const rest = draft.params.filter((p) => !p.entry.named);
    const params = readParams(rest, context, state);
    if (named.length > 1) throw badRequest('A step can use only one named transformation (n-…).');
    if (named.length === 1) {
      const expanded = expandNamed((named[0] as RawParam).value, context, state);
      if (expanded.length === 0) expanded.push({ params: {}, layers: [] });
      // Parameters written beside n-… refine the last step of the named transformation.
      const last = expanded[expanded.length - 1] as TransformStep;
      last.params = { ...last.params, ...params };
      last.layers.push(...draft.layers);
      out.push(...expanded);
    } else {
      out.push({ params, layers: draft.layers });
    }
  }
  return out;
}

function expandNamed(name: string, context: Context, state: State): TransformStep[] {
  if (!NAME.test(name)) throw badRequest(`Invalid named transformation "n-${name}".`);
  const source = state.named(name);
  if (source === undefined) throw badRequest(`The named transformation "${name}" does not exist.`);
  if (state.namedStack.includes(name) || state.namedStack.length >= 3) {
    throw badRequest(`The named transformation "${name}" refers to itself or nests named transformations too deeply.`);
  }
  state.namedStack.push(name);
  try {
    return parseSteps(source, context, state);
  } finally {
    state.namedStack.pop();
  }
}

function valueContext(key: string, context: Context, state: State): ValueContext {
  return { key, context, maxDimension: state.limits.maxDimension };
}

function readParams(raw: RawParam[], context: Context, state: State): StepParams {
  const params: StepParams = {};
  const seen = new Set<string>();
  for (const p of raw) {
    if (p.entry.layer) {
      throw badRequest(`The transformation parameter "${p.key}" is only valid inside a layer (between l-image/l-text and l-end).`);
    }
    checkContext(p, context);
    if (seen.has(p.key)) throw badRequest(`The transformation parameter "${p.key}" is given twice in one step.`);
    seen.add(p.key);
    const value = (p.entry.parse as NonNullable<ParamEntry['parse']>)(decodeValue(p.value), valueContext(p.key, context, state));
    (p.entry.write as NonNullable<ParamEntry['write']>)(params, value);
  }
  if (params.aspectRatio && !params.width && !params.height) {
    throw badRequest('The transformation parameter "ar" must be used together with "w" or "h".');
  }
  return params;
}

function checkContext(p: RawParam, context: Context): void {
  if (context === 'media' || p.entry.contexts.includes(context)) return;
  const where = p.entry.contexts.map((c) => CONTEXT_NAMES[c]).join(', ');
  throw badRequest(`The transformation parameter "${p.key}" is not supported ${CONTEXT_NAMES[context]}; it is valid ${where}.`);
}

/** Separates the layer's own parameters (input, position, mode) from its inner steps, then parses those. */
function finishLayer(frame: Frame, state: State): Layer {
  const type = frame.type as LayerType;
  const position: LayerPosition = {};
  const timing: Record<string, string> = {};
  let mode: Layer['mode'];
  let input: { base64: boolean; value: string } | undefined;
  const seen = new Set<string>();
  for (const step of frame.steps) {
    step.params = step.params.filter((p) => {
      const slot = p.entry.layer;
      if (!slot) return true;
      if (seen.has(p.key) || ((p.key === 'i' || p.key === 'ie') && input)) {
        throw badRequest(`The layer parameter "${p.key}" is given twice in one layer.`);
      }
      seen.add(p.key);
      if (slot === 'input' || slot === 'inputBase64') {
        input = { base64: slot === 'inputBase64', value: p.value };
        return false;
      }
      if (p.value === '') throw badRequest(`The layer parameter "${p.key}" needs a value.`);
      const c = valueContext(p.key, type === 'image' ? 'image' : type === 'text' ? 'text' : 'media', state);
      const v = (p.entry.parse as NonNullable<ParamEntry['parse']>)(decodeValue(p.value), c);
      if (slot === 'timing') timing[p.key] = v as string;
      else if (slot === 'mode') mode = v as Layer['mode'];
      else (position as Record<string, unknown>)[slot] = v;
      return false;
    });
  }
  if (!input) {
    throw badRequest(`The layer "l-${type}" needs an input: i-<${type === 'text' ? 'text' : 'path'}> or ie-<base64>.`);
  }
  if (position.x && position.xCenter) throw badRequest('A layer cannot use both lx and lxc.');
  if (position.y && position.yCenter) throw badRequest('A layer cannot use both ly and lyc.');
  const layerInput = readInput(type, input.base64, input.value);
  const context: Context = layerInput.kind === 'canvas' ? 'solid' : type === 'text' ? 'text' : type === 'image' ? 'image' : 'media';
  const steps = finishSteps(frame.steps, context, state);
  const layer: Layer = { type, input: layerInput, position, steps };
  if (mode) layer.mode = mode;
  if (Object.keys(timing).length > 0) layer.timing = timing;
  return layer;
}

function readInput(type: LayerType, base64: boolean, raw: string): LayerInput {
  const key = base64 ? 'ie' : 'i';
  if (raw === '') throw badRequest(`The layer parameter "${key}" needs a value.`);
  const decoded = base64 ? base64Text(key, decodeValue(raw)) : decodeValue(raw);
  if (type === 'text') {
    let text = decoded;
    if (base64 && [...text].length > MAX_ENCODED_TEXT) text = [...text].slice(0, MAX_ENCODED_TEXT).join('');
    if (text.length > MAX_TEXT) throw badRequest(`The text of a text layer is limited to ${MAX_TEXT} characters.`);
    if (/[\u0000-\u0008\u000b-\u001f]/.test(text)) throw badRequest('The text of a text layer contains control characters.');
    return { kind: 'text', text, encoded: base64 };
  }
  if (type === 'image' && !base64 && decoded === 'ik_canvas') return { kind: 'canvas' };
  return { kind: 'path', path: libraryPath(key, base64 ? decoded.replace(/\//g, '@@') : decoded), encoded: base64 };
}
