import { badRequest } from '../errors/index.js';

/** Validation rules shared by upload, update and bulk endpoints. */

export const MAX_TAGS_LENGTH = 500;

export function validateTags(tags: string[], field = 'tags'): string[] {
  const clean = tags.map((t) => t.trim()).filter((t) => t !== '');
  for (const t of clean) {
    if (t.includes('%')) throw badRequest(`Your request contains invalid value for ${field} parameter. The "%" character is not allowed in a tag.`);
  }
  const total = clean.reduce((n, t) => n + [...t].length, 0);
  if (total > MAX_TAGS_LENGTH) {
    throw badRequest(
      `Your request contains invalid value for ${field} parameter. Combined length of all tags should be less than or equal to ${MAX_TAGS_LENGTH}.`,
    );
  }
  return [...new Set(clean)];
}

/** Tags from a JSON body: an array of strings. */
export function tagsFromJson(v: unknown, field = 'tags'): string[] {
  if (!Array.isArray(v) || v.some((t) => typeof t !== 'string')) {
    throw badRequest(`Your request contains invalid value for ${field} parameter. It should be an array of strings.`);
  }
  return validateTags(v as string[], field);
}

export function validateCustomCoordinates(v: string): string {
  const m = /^\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*$/.exec(v);
  if (!m || Number(m[3]) === 0 || Number(m[4]) === 0) {
    throw badRequest(
      'Your request contains invalid customCoordinates parameter. Use "x,y,width,height" with whole numbers, width and height above 0.',
    );
  }
  return `${Number(m[1])},${Number(m[2])},${Number(m[3])},${Number(m[4])}`;
}

export function validateWebhookUrl(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw badRequest('Your request contains invalid webhookUrl parameter. It must be an absolute http(s) URL.');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw badRequest('Your request contains invalid webhookUrl parameter. It must be an absolute http(s) URL.');
  }
  return u.toString();
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const EXTENSION_NAMES = new Set(['remove-bg', 'google-auto-tagging', 'aws-auto-tagging', 'ai-auto-description', 'ai-tasks', 'saved-extension']);

export interface ExtensionRequest {
  name: string;
  [k: string]: unknown;
}

/** Validates the `extensions` array against the shapes in the spec (they run in a later stage). */
export function validateExtensions(v: unknown): ExtensionRequest[] {
  const bad = (why: string) => badRequest(`Your request contains invalid extensions parameter. ${why}`);
  if (!Array.isArray(v)) throw bad('It should be an array of extension objects.');
  const seen = new Set<string>();
  return v.map((ext, i) => {
    if (!isPlainObject(ext) || typeof ext.name !== 'string') throw bad(`Item ${i} needs a "name".`);
    if (!EXTENSION_NAMES.has(ext.name)) throw bad(`Unknown extension "${ext.name}".`);
    if (seen.has(ext.name) && ext.name !== 'saved-extension') throw bad(`Extension "${ext.name}" is listed twice.`);
    seen.add(ext.name);
    if (ext.name === 'google-auto-tagging' || ext.name === 'aws-auto-tagging') {
      for (const k of ['minConfidence', 'maxTags'] as const) {
        const n = ext[k];
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || (k === 'minConfidence' && n > 100)) {
          throw bad(`"${ext.name}" needs ${k} as a whole number${k === 'minConfidence' ? ' from 0 to 100' : ''}.`);
        }
      }
    }
    if (ext.name === 'remove-bg' && ext.options !== undefined) {
      if (!isPlainObject(ext.options)) throw bad('"remove-bg" options must be an object.');
      const o = ext.options;
      for (const k of ['add_shadow', 'semitransparency']) {
        if (o[k] !== undefined && typeof o[k] !== 'boolean') throw bad(`"remove-bg" option ${k} must be a boolean.`);
      }
      for (const k of ['bg_color', 'bg_image_url']) {
        if (o[k] !== undefined && typeof o[k] !== 'string') throw bad(`"remove-bg" option ${k} must be a string.`);
      }
      if (o.bg_color && o.bg_image_url) throw bad('"remove-bg" accepts bg_color or bg_image_url, not both.');
    }
    if (ext.name === 'ai-tasks') {
      if (!Array.isArray(ext.tasks) || ext.tasks.length < 1 || ext.tasks.length > 10) {
        throw bad('"ai-tasks" needs 1 to 10 tasks.');
      }
    }
    if (ext.name === 'saved-extension' && typeof ext.id !== 'string') throw bad('"saved-extension" needs an "id".');
    return ext as ExtensionRequest;
  });
}

/** Validates the upload `transformation` object ({ pre?, post? }) as the spec's TransformationObject. */
export function validateUploadTransformation(v: unknown): { pre?: string; post?: Array<Record<string, string>> } {
  const bad = (why: string) =>
    badRequest(`The file could not be uploaded because the transformation field is invalid. ${why}`);
  if (!isPlainObject(v)) throw bad('It should be an object with "pre" and/or "post".');
  for (const k of Object.keys(v)) if (k !== 'pre' && k !== 'post') throw bad(`Unknown key "${k}".`);
  if (v.pre !== undefined && (typeof v.pre !== 'string' || v.pre.trim() === '')) throw bad('"pre" must be a transformation string.');
  if (v.post !== undefined) {
    if (!Array.isArray(v.post)) throw bad('"post" must be an array.');
    v.post.forEach((p, i) => {
      if (!isPlainObject(p)) throw bad(`post[${i}] must be an object.`);
      const allowed: Record<string, string[]> = {
        transformation: ['type', 'value'],
        'gif-to-video': ['type', 'value'],
        thumbnail: ['type', 'value'],
        abs: ['type', 'value', 'protocol'],
      };
      const keys = typeof p.type === 'string' ? allowed[p.type] : undefined;
      if (!keys) throw bad(`post[${i}].type must be one of transformation, gif-to-video, thumbnail, abs.`);
      for (const k of Object.keys(p)) if (!keys.includes(k)) throw bad(`post[${i}] has unknown key "${k}".`);
      if (p.value !== undefined && typeof p.value !== 'string') throw bad(`post[${i}].value must be a string.`);
      if ((p.type === 'transformation' || p.type === 'abs') && typeof p.value !== 'string') throw bad(`post[${i}] needs a value.`);
      if (p.type === 'abs' && p.protocol !== 'hls' && p.protocol !== 'dash') throw bad(`post[${i}].protocol must be hls or dash.`);
    });
  }
  return v as { pre?: string; post?: Array<Record<string, string>> };
}
