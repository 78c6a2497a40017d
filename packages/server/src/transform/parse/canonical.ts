import { PARAMETERS, type ParamEntry } from './table.js';
import type { Layer, TransformStep } from './types.js';
import { encodeBase64 } from './values.js';

/**
 * The canonical text of parsed steps: parameters in table order with normalised values, named
 * transformations already expanded, layers in their (meaningful) written order. Two strings that
 * mean the same thing give the same canonical text, so it can key a variant cache. The result is
 * itself a valid transformation string.
 */
export function canonicalTransformation(steps: readonly TransformStep[]): string {
  return steps.map(canonicalStep).filter((s) => s !== '').join(':');
}

const STEP_ENTRIES = PARAMETERS.filter((p) => p.read && p.format && !p.refuse);
const LAYER_ENTRIES = PARAMETERS.filter((p) => p.layer && p.format);

function param(entry: ParamEntry, value: unknown): string {
  const text = (entry.format as (v: unknown) => string | null)(value);
  return text === null ? entry.key : `${entry.key}-${text}`;
}

function canonicalStep(step: TransformStep): string {
  const parts: string[] = [];
  for (const entry of STEP_ENTRIES) {
    const value = (entry.read as NonNullable<ParamEntry['read']>)(step.params);
    if (value !== undefined) parts.push(param(entry, value));
  }
  for (const layer of step.layers) parts.push(canonicalLayer(layer));
  return parts.join(',');
}

function canonicalLayer(layer: Layer): string {
  const parts: string[] = [`l-${layer.type}`];
  const input = layer.input;
  if (input.kind === 'canvas') parts.push('i-ik_canvas');
  else if (input.kind === 'path') parts.push(`i-${encodeURIComponent(input.path.slice(1)).replace(/%2F/g, '@@')}`);
  else parts.push(`ie-${encodeBase64(input.text)}`);
  const inner = canonicalTransformation(layer.steps);
  if (inner !== '') parts.push(inner);
  for (const entry of LAYER_ENTRIES) {
    let value: unknown;
    if (entry.layer === 'mode') value = layer.mode;
    else if (entry.layer === 'timing') value = layer.timing?.[entry.key];
    else value = (layer.position as Record<string, unknown>)[entry.layer as string];
    if (value !== undefined) parts.push(param(entry, value));
  }
  parts.push('l-end');
  return parts.join(',');
}
