import { badRequest } from '../errors/index.js';
import type { RemoveBgOptions } from '../ports/extension-providers.js';
import { isPlainObject, validateExtensions, validateTags } from './field-rules.js';

/**
 * The extension configs (the spec's ExtensionConfig) in their checked, normalised form, and the
 * rules that check them: used for the `extensions` of upload and update, and for the `config` of
 * saved extensions. Only the fields the spec defines are kept.
 */

export type ExtensionName = 'remove-bg' | 'google-auto-tagging' | 'aws-auto-tagging' | 'ai-auto-description' | 'ai-tasks';

export type SelectValue = string | number | boolean;

export interface AiTaskAction {
  add_tags?: string[];
  remove_tags?: string[];
  set_metadata?: Array<{ field: string; value: SelectValue | SelectValue[] }>;
  unset_metadata?: Array<{ field: string }>;
}

export type AiTask =
  | { type: 'select_tags'; instruction: string; vocabulary?: string[]; min_selections?: number; max_selections?: number }
  | { type: 'select_metadata'; instruction: string; field: string; vocabulary?: SelectValue[]; min_selections?: number; max_selections?: number }
  | { type: 'yes_no'; instruction: string; on_yes?: AiTaskAction; on_no?: AiTaskAction; on_unknown?: AiTaskAction };

export type ExtensionConfig =
  | { name: 'remove-bg'; options?: RemoveBgOptions }
  | { name: 'google-auto-tagging' | 'aws-auto-tagging'; minConfidence: number; maxTags: number }
  | { name: 'ai-auto-description' }
  | { name: 'ai-tasks'; tasks: AiTask[] };

/** An entry of the `extensions` array: a config, or a reference to a saved one. */
export type ExtensionEntry = ExtensionConfig | { name: 'saved-extension'; id: string };

/**
 * Extension units a successful run counts. remove-bg, google- and aws-auto-tagging are ImageKit's
 * documented figures; ImageKit publishes none for the AI description and AI tasks, so those count
 * one unit per model call (ai-tasks: per task).
 */
export function extensionUnits(ext: ExtensionConfig): number {
  switch (ext.name) {
    case 'remove-bg':
      return 130;
    case 'google-auto-tagging':
      return 1;
    case 'aws-auto-tagging':
      return 2;
    case 'ai-auto-description':
      return 1;
    case 'ai-tasks':
      return ext.tasks.length;
  }
}

/** Documented bound of maxTags. */
export const MAX_AUTO_TAGS = 30;
const MAX_INSTRUCTION = 2000;
const MAX_VOCABULARY = 30;
const MAX_VOCABULARY_CHARS = 500;

const bad = (why: string) => badRequest(`Your request contains invalid extensions parameter. ${why}`);

const COLOR_NAME = /^[a-z]{3,30}$/i;
const HEX_COLOR = /^#?([0-9a-f]{3}|[0-9a-f]{4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;

function normaliseRemoveBg(raw: Record<string, unknown>): ExtensionConfig {
  if (raw.options === undefined) return { name: 'remove-bg' };
  const o = raw.options as Record<string, unknown>;
  const options: RemoveBgOptions = {};
  if (typeof o.add_shadow === 'boolean') options.add_shadow = o.add_shadow;
  if (typeof o.semitransparency === 'boolean') options.semitransparency = o.semitransparency;
  if (typeof o.bg_color === 'string' && o.bg_color !== '') {
    if (!HEX_COLOR.test(o.bg_color) && !COLOR_NAME.test(o.bg_color)) {
      throw bad('"remove-bg" option bg_color must be a hex colour such as "81d4fa" or "fff", or a colour name such as "green".');
    }
    options.bg_color = o.bg_color.replace(/^#/, '');
  }
  if (typeof o.bg_image_url === 'string' && o.bg_image_url !== '') {
    let u: URL;
    try {
      u = new URL(o.bg_image_url);
    } catch {
      throw bad('"remove-bg" option bg_image_url must be an absolute http(s) URL.');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad('"remove-bg" option bg_image_url must be an absolute http(s) URL.');
    options.bg_image_url = u.toString();
  }
  return { name: 'remove-bg', options };
}

function instruction(t: Record<string, unknown>, i: number): string {
  if (typeof t.instruction !== 'string' || t.instruction.trim() === '' || [...t.instruction].length > MAX_INSTRUCTION) {
    throw bad(`"ai-tasks" task ${i} needs an instruction of 1 to ${MAX_INSTRUCTION} characters.`);
  }
  return t.instruction;
}

function selections(t: Record<string, unknown>, i: number): { min_selections?: number; max_selections?: number } {
  const out: { min_selections?: number; max_selections?: number } = {};
  for (const [k, min] of [['min_selections', 0], ['max_selections', 1]] as const) {
    const v = t[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw bad(`"ai-tasks" task ${i}: ${k} must be a whole number of at least ${min}.`);
    out[k] = v;
  }
  if (out.min_selections !== undefined && out.max_selections !== undefined && out.min_selections > out.max_selections) {
    throw bad(`"ai-tasks" task ${i}: min_selections is larger than max_selections.`);
  }
  return out;
}

function fieldName(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw bad(`${where} needs a custom metadata field name.`);
  return v;
}

function action(raw: unknown, where: string): AiTaskAction | undefined {
  if (raw === undefined) return undefined;
  if (!isPlainObject(raw)) throw bad(`${where} must be an object.`);
  const out: AiTaskAction = {};
  for (const k of ['add_tags', 'remove_tags'] as const) {
    const v = raw[k];
    if (v === undefined) continue;
    if (!Array.isArray(v) || v.some((t) => typeof t !== 'string')) throw bad(`${where}.${k} must be an array of strings.`);
    try {
      out[k] = validateTags(v as string[], k);
    } catch {
      throw bad(`${where}.${k}: tags may not contain "%" and must be at most 500 characters together.`);
    }
  }
  if (raw.set_metadata !== undefined) {
    if (!Array.isArray(raw.set_metadata)) throw bad(`${where}.set_metadata must be an array.`);
    out.set_metadata = raw.set_metadata.map((m, j) => {
      if (!isPlainObject(m)) throw bad(`${where}.set_metadata[${j}] must be an object.`);
      const ok = (x: unknown) => ['string', 'number', 'boolean'].includes(typeof x);
      if (!(ok(m.value) || (Array.isArray(m.value) && m.value.every(ok)))) {
        throw bad(`${where}.set_metadata[${j}].value must be a string, number, boolean or an array of them.`);
      }
      return { field: fieldName(m.field, `${where}.set_metadata[${j}]`), value: m.value as SelectValue | SelectValue[] };
    });
  }
  if (raw.unset_metadata !== undefined) {
    if (!Array.isArray(raw.unset_metadata)) throw bad(`${where}.unset_metadata must be an array.`);
    out.unset_metadata = raw.unset_metadata.map((m, j) => {
      if (!isPlainObject(m)) throw bad(`${where}.unset_metadata[${j}] must be an object.`);
      return { field: fieldName(m.field, `${where}.unset_metadata[${j}]`) };
    });
  }
  return out;
}

function aiTask(raw: unknown, i: number): AiTask {
  if (!isPlainObject(raw)) throw bad(`"ai-tasks" task ${i} must be an object.`);
  const text = instruction(raw, i);
  switch (raw.type) {
    case 'select_tags': {
      const task: AiTask = { type: 'select_tags', instruction: text, ...selections(raw, i) };
      if (raw.vocabulary !== undefined) {
        const v = raw.vocabulary;
        if (!Array.isArray(v) || v.length < 1 || v.length > MAX_VOCABULARY || v.some((x) => typeof x !== 'string' || x.trim() === '')) {
          throw bad(`"ai-tasks" task ${i}: vocabulary must hold 1 to ${MAX_VOCABULARY} non-empty strings.`);
        }
        if (v.some((x) => (x as string).includes('%'))) throw bad(`"ai-tasks" task ${i}: vocabulary values cannot include "%".`);
        if ((v as string[]).reduce((n, x) => n + [...x].length, 0) > MAX_VOCABULARY_CHARS) {
          throw bad(`"ai-tasks" task ${i}: the vocabulary's values add up to more than ${MAX_VOCABULARY_CHARS} characters.`);
        }
        task.vocabulary = [...new Set(v as string[])];
      }
      return task;
    }
    case 'select_metadata': {
      const task: AiTask = { type: 'select_metadata', instruction: text, field: fieldName(raw.field, `"ai-tasks" task ${i}`), ...selections(raw, i) };
      if (raw.vocabulary !== undefined) {
        const v = raw.vocabulary;
        if (!Array.isArray(v) || v.length < 1 || v.length > MAX_VOCABULARY || v.some((x) => !['string', 'number', 'boolean'].includes(typeof x))) {
          throw bad(`"ai-tasks" task ${i}: vocabulary must hold 1 to ${MAX_VOCABULARY} strings, numbers or booleans.`);
        }
        task.vocabulary = v as SelectValue[];
      }
      return task;
    }
    case 'yes_no': {
      const task: AiTask = { type: 'yes_no', instruction: text };
      for (const k of ['on_yes', 'on_no', 'on_unknown'] as const) {
        const a = action(raw[k], `"ai-tasks" task ${i}.${k}`);
        if (a) task[k] = a;
      }
      return task;
    }
    default:
      throw bad(`"ai-tasks" task ${i} has an unknown type; use select_tags, select_metadata or yes_no.`);
  }
}

/** Checks one extension entry as the spec's `Extensions` items and returns its normalised form. */
function normaliseEntry(raw: Record<string, unknown>): ExtensionEntry {
  switch (raw.name) {
    case 'remove-bg':
      return normaliseRemoveBg(raw);
    case 'google-auto-tagging':
    case 'aws-auto-tagging': {
      const maxTags = raw.maxTags as number;
      if (maxTags > MAX_AUTO_TAGS) throw bad(`"${raw.name}" maxTags must be between 0 and ${MAX_AUTO_TAGS}.`);
      return { name: raw.name, minConfidence: raw.minConfidence as number, maxTags };
    }
    case 'ai-auto-description':
      return { name: 'ai-auto-description' };
    case 'ai-tasks':
      return { name: 'ai-tasks', tasks: (raw.tasks as unknown[]).map((t, i) => aiTask(t, i)) };
    default:
      return { name: 'saved-extension', id: String(raw.id) };
  }
}

/** The `extensions` field of upload and update, checked: configs and saved-extension references. */
export function parseExtensionEntries(v: unknown): ExtensionEntry[] {
  return validateExtensions(v).map((e) => normaliseEntry(e));
}

/** A saved extension's `config`: exactly one extension config; references to saved ones are refused. */
export function parseExtensionConfig(v: unknown): ExtensionConfig {
  const invalid = (why: string) => badRequest(`Invalid extension configuration. ${why}`);
  if (!isPlainObject(v)) throw invalid('config must be an extension object such as {"name": "google-auto-tagging", "minConfidence": 80, "maxTags": 10}.');
  if (v.name === 'saved-extension') throw invalid('A saved extension cannot refer to another saved extension.');
  let entry: ExtensionEntry;
  try {
    entry = parseExtensionEntries([v])[0]!;
  } catch (e) {
    throw invalid((e as Error).message.replace(/^Your request contains invalid extensions parameter\. /, '').replace(/^Item 0 /, 'The config '));
  }
  return entry as ExtensionConfig;
}
