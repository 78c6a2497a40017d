import { badRequest } from '../errors/index.js';
import {
  CUSTOM_FIELD_TYPES,
  type CustomFieldRecord,
  type CustomFieldSchema,
  type CustomFieldType,
  type SelectOption,
} from '../ports/custom-field-store.js';
import { isPlainObject } from './field-rules.js';

/**
 * The rules of custom metadata fields, as pure functions: what a field schema may say, whether a
 * value satisfies a schema, and how an upload or an update turns a request's `customMetadata`
 * into what is stored (defaults applied, required fields enforced, null unsetting a key).
 */

export const MAX_SELECT_OPTIONS = 1000;
export const MAX_FIELD_NAME_LENGTH = 100;
export const MAX_FIELD_LABEL_LENGTH = 255;

const SCHEMA_KEYS = ['type', 'selectOptions', 'defaultValue', 'isValueRequired', 'minValue', 'maxValue', 'minLength', 'maxLength'] as const;
type SchemaKey = (typeof SCHEMA_KEYS)[number];

/** Which optional schema properties each type accepts (type, defaultValue and isValueRequired go with all). */
const TYPE_KEYS: Record<CustomFieldType, readonly SchemaKey[]> = {
  Text: ['minLength', 'maxLength'],
  Textarea: ['minLength', 'maxLength'],
  Number: ['minValue', 'maxValue'],
  Date: ['minValue', 'maxValue'],
  Boolean: [],
  SingleSelect: ['selectOptions'],
  MultiSelect: ['selectOptions'],
};

const isSelectType = (t: CustomFieldType) => t === 'SingleSelect' || t === 'MultiSelect';
const isTextType = (t: CustomFieldType) => t === 'Text' || t === 'Textarea';

// ---------------------------------------------------------------------------------------------
// Dates

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * Milliseconds since the epoch for an ISO 8601 date or date-time ("2024-06-01",
 * "2010-11-05T05:06:07", "2024-06-01T10:00:00.5+02:00"); null when it is not one or names a day
 * that does not exist. A date or time without an offset is taken as UTC.
 */
export function parseIsoDate(s: string): number | null {
  const m = ISO_DATE.exec(s);
  if (!m) return null;
  const num = (i: number) => (m[i] === undefined ? 0 : Number(m[i]));
  const [year, month, day, hour, minute, second] = [num(1), num(2), num(3), num(4), num(5), num(6)];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  // 2023-02-30 rolls over into March: not a real day.
  if (d.getUTCDate() !== day || d.getUTCMonth() !== month - 1) return null;
  let offsetMin = 0;
  const tz = m[8];
  if (tz && tz !== 'Z') {
    const digits = tz.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return null;
    offsetMin = (tz[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return d.getTime() - offsetMin * 60_000;
}

/** The canonical form a Date value is stored and returned in: UTC, milliseconds, `Z`. */
export function canonicalDate(s: string): string | null {
  const t = parseIsoDate(s);
  return t === null ? null : new Date(t).toISOString();
}

// ---------------------------------------------------------------------------------------------
// Values against a schema

const isOption = (v: unknown): v is SelectOption =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

const show = (v: unknown) => JSON.stringify(v);
const showOptions = (opts: readonly SelectOption[]) => {
  const shown = opts.slice(0, 20).map(show).join(', ');
  return opts.length > 20 ? `${shown}, …` : shown;
};

/**
 * Which rule of the schema the value breaks, in words ending with the rule's name in brackets
 * ("should be at most 3000 (maxValue)"); null when the value satisfies the schema.
 * Select options compare by type and value: 30 and "30" are different options.
 */
export function valueProblem(schema: CustomFieldSchema, value: unknown): string | null {
  switch (schema.type) {
    case 'Text':
    case 'Textarea': {
      if (typeof value !== 'string') return `should be a string (type ${schema.type})`;
      const len = [...value].length;
      if (schema.minLength !== undefined && len < schema.minLength) {
        return `should be at least ${schema.minLength} characters long, got ${len} (minLength)`;
      }
      if (schema.maxLength !== undefined && len > schema.maxLength) {
        return `should be at most ${schema.maxLength} characters long, got ${len} (maxLength)`;
      }
      return null;
    }
    case 'Number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'should be a number (type Number)';
      if (typeof schema.minValue === 'number' && value < schema.minValue) {
        return `should be greater than or equal to ${schema.minValue} (minValue)`;
      }
      if (typeof schema.maxValue === 'number' && value > schema.maxValue) {
        return `should be less than or equal to ${schema.maxValue} (maxValue)`;
      }
      return null;
    }
    case 'Date': {
      const t = typeof value === 'string' ? parseIsoDate(value) : null;
      if (t === null) return 'should be an ISO 8601 date string such as "2024-06-01" or "2024-06-01T10:00:00Z" (type Date)';
      const min = typeof schema.minValue === 'string' ? parseIsoDate(schema.minValue) : null;
      const max = typeof schema.maxValue === 'string' ? parseIsoDate(schema.maxValue) : null;
      if (min !== null && t < min) return `should be on or after ${schema.minValue} (minValue)`;
      if (max !== null && t > max) return `should be on or before ${schema.maxValue} (maxValue)`;
      return null;
    }
    case 'Boolean':
      return typeof value === 'boolean' ? null : 'should be true or false (type Boolean)';
    case 'SingleSelect': {
      const opts = schema.selectOptions ?? [];
      if (!isOption(value) || !opts.includes(value)) return `should be one of ${showOptions(opts)} (selectOptions)`;
      return null;
    }
    case 'MultiSelect': {
      const opts = schema.selectOptions ?? [];
      if (!Array.isArray(value)) return 'should be an array of options (type MultiSelect)';
      const bad = value.findIndex((v) => !isOption(v) || !opts.includes(v));
      if (bad >= 0) return `contains ${show(value[bad])}, which is not one of ${showOptions(opts)} (selectOptions)`;
      return null;
    }
    default:
      return 'has a type this server does not know (type)';
  }
}

/** The value as stored: Dates in canonical form, arrays copied; everything else as given. */
export function normalizeValue(schema: CustomFieldSchema, value: unknown): unknown {
  if (schema.type === 'Date' && typeof value === 'string') return canonicalDate(value) ?? value;
  if (Array.isArray(value)) return [...value];
  return value;
}

/** "" and [] count as no value for a required field. */
const isEmpty = (v: unknown) => v === undefined || v === '' || (Array.isArray(v) && v.length === 0);

// ---------------------------------------------------------------------------------------------
// Field definitions

/** Refuses a field schema: ImageKit's "Invalid schema object" with an `errors` map by property. */
function schemaError(errors: Record<string, string>): never {
  const detail = Object.entries(errors)
    .map(([k, v]) => `schema.${k} ${v}`)
    .join('; ');
  throw badRequest(`Invalid schema object: ${detail}.`, { extra: { errors } });
}

const isWhole = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/**
 * Validates a field schema and returns it in canonical form (known keys in a fixed order, Date
 * bounds and defaults as canonical ISO strings). With `fixedType` (an update), the stored type is
 * used and any `type` sent is ignored, as ImageKit documents.
 */
export function parseFieldSchema(raw: unknown, fixedType?: CustomFieldType): CustomFieldSchema {
  if (!isPlainObject(raw)) throw badRequest('Invalid schema object: schema should be an object.', { extra: { errors: { schema: 'should be an object' } } });
  const errors: Record<string, string> = {};
  if (!fixedType) {
    if (raw.type === undefined) schemaError({ type: 'is required' });
    if (typeof raw.type !== 'string' || !(CUSTOM_FIELD_TYPES as readonly string[]).includes(raw.type)) {
      schemaError({ type: `should be one of ${CUSTOM_FIELD_TYPES.join(', ')}` });
    }
  }
  const type: CustomFieldType = fixedType ?? (raw.type as CustomFieldType);

  const allowed = new Set<string>(['type', 'defaultValue', 'isValueRequired', ...TYPE_KEYS[type]]);
  for (const k of Object.keys(raw)) {
    if (!(SCHEMA_KEYS as readonly string[]).includes(k)) errors[k] = 'is not a schema property';
    else if (!allowed.has(k) && raw[k] !== undefined) errors[k] = `is not allowed for type ${type}`;
  }

  const out: CustomFieldSchema = { type };

  if (isSelectType(type)) {
    const opts = raw.selectOptions;
    if (opts === undefined) errors.selectOptions = `is required for type ${type}`;
    else if (!Array.isArray(opts) || opts.length === 0) errors.selectOptions = 'should be a non-empty array';
    else if (opts.length > MAX_SELECT_OPTIONS) errors.selectOptions = `should have at most ${MAX_SELECT_OPTIONS} options`;
    else if (!opts.every(isOption)) errors.selectOptions = 'should contain only strings, numbers or booleans';
    else if (new Set(opts).size !== opts.length) errors.selectOptions = 'should not contain the same option twice';
    else out.selectOptions = [...opts];
  }

  if (isTextType(type)) {
    for (const k of ['minLength', 'maxLength'] as const) {
      const v = raw[k];
      if (v === undefined) continue;
      if (!isWhole(v)) errors[k] = 'should be a whole number of 0 or more';
      else out[k] = v;
    }
    if (out.minLength !== undefined && out.maxLength !== undefined && out.minLength > out.maxLength) {
      errors.minLength = 'should be less than or equal to maxLength';
    }
  }

  if (type === 'Number') {
    for (const k of ['minValue', 'maxValue'] as const) {
      const v = raw[k];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) errors[k] = 'should be of type number';
      else out[k] = v;
    }
    if (typeof out.minValue === 'number' && typeof out.maxValue === 'number' && out.minValue > out.maxValue) {
      errors.minValue = 'should be less than or equal to maxValue';
    }
  }

  if (type === 'Date') {
    for (const k of ['minValue', 'maxValue'] as const) {
      const v = raw[k];
      if (v === undefined) continue;
      const c = typeof v === 'string' ? canonicalDate(v) : null;
      if (c === null) errors[k] = 'should be an ISO 8601 date string';
      else out[k] = c;
    }
    if (typeof out.minValue === 'string' && typeof out.maxValue === 'string' && out.minValue > out.maxValue) {
      errors.minValue = 'should be on or before maxValue';
    }
  }

  if (raw.isValueRequired !== undefined) {
    if (typeof raw.isValueRequired !== 'boolean') errors.isValueRequired = 'should be of type boolean';
    else out.isValueRequired = raw.isValueRequired;
  }

  // The default is checked against the finished schema, so only once the rest of it is sound.
  if (Object.keys(errors).length === 0) {
    if (raw.defaultValue !== undefined) {
      const problem = valueProblem(out, raw.defaultValue);
      if (problem) errors.defaultValue = problem;
      else if (out.isValueRequired && isEmpty(raw.defaultValue)) errors.defaultValue = 'cannot be empty when isValueRequired is true';
      else out.defaultValue = normalizeValue(out, raw.defaultValue) as SelectOption | SelectOption[];
    } else if (out.isValueRequired) {
      // ImageKit: defaultValue "is only required if isValueRequired is set to true" — it is what
      // a file gets when no value is given for a required field.
      errors.defaultValue = 'is required when isValueRequired is true';
    }
  }

  if (Object.keys(errors).length > 0) schemaError(errors);
  // A fixed key order, so the stored JSON and the response read the same way every time.
  const ordered: CustomFieldSchema = { type };
  for (const k of SCHEMA_KEYS) {
    if (k !== 'type' && out[k] !== undefined) (ordered as unknown as Record<string, unknown>)[k] = out[k];
  }
  return ordered;
}

const FIELD_NAME = /^[\p{L}\p{N}_-]+$/u;

/** The API name of a field: the key used in `customMetadata` and in search queries. */
export function validateFieldName(v: unknown): string {
  if (v === undefined || v === null || v === '') throw badRequest('Your request is missing name parameter.');
  if (typeof v !== 'string') throw badRequest('Your request contains invalid name parameter. It should be a string.');
  if ([...v].length > MAX_FIELD_NAME_LENGTH) {
    throw badRequest(`Your request contains invalid name parameter. It is longer than ${MAX_FIELD_NAME_LENGTH} characters.`);
  }
  // '.' would be ambiguous with nested keys in search ("customMetadata.a.b"); '__proto__' is not a safe object key.
  if (!FIELD_NAME.test(v) || v === '__proto__') {
    throw badRequest('Your request contains invalid name parameter. Use letters, digits, "_" and "-" only.');
  }
  return v;
}

export function validateFieldLabel(v: unknown): string {
  if (v === undefined || v === null) throw badRequest('Your request is missing label parameter.');
  if (typeof v !== 'string') throw badRequest('Your request contains invalid label parameter. It should be a string.');
  const label = v.trim();
  if (label === '') throw badRequest('Your request is missing label parameter.');
  if ([...label].length > MAX_FIELD_LABEL_LENGTH) {
    throw badRequest(`Your request contains invalid label parameter. It is longer than ${MAX_FIELD_LABEL_LENGTH} characters.`);
  }
  if (/\p{Cc}/u.test(label)) throw badRequest('Your request contains invalid label parameter. It contains control characters.');
  return label;
}

// ---------------------------------------------------------------------------------------------
// Values of an asset

export interface ValidateOptions {
  /**
   * upload: `values` (when given) replace what the asset had; without them `existing` is kept
   * (a new version with overwriteCustomMetadata=false). Defaults fill every field left without a value.
   * update: `values` are merged into `existing`; null unsets a key. Only required fields get their
   * default, when the asset has no value for them.
   */
  mode: 'upload' | 'update';
  existing?: Record<string, unknown>;
}

/** Anything that can produce the current rules (the custom metadata service). */
export interface CustomMetadataRulesSource {
  loadRules(): Promise<CustomMetadataRules>;
}

const invalid = (why: string) => badRequest(`Your request contains invalid customMetadata parameter: ${why}`);

/** The custom metadata rules in force: a snapshot of the fields, applied without further reads. */
export class CustomMetadataRules {
  private readonly live = new Map<string, CustomFieldRecord>();
  private readonly deleted = new Set<string>();

  constructor(fields: readonly CustomFieldRecord[]) {
    for (const f of fields) {
      if (f.isDeleted) this.deleted.add(f.name);
      else this.live.set(f.name, f);
    }
  }

  /** The customMetadata to store, or a 400 naming the field and the rule it breaks. */
  validate(values: Record<string, unknown> | undefined, opts: ValidateOptions): Record<string, unknown> {
    if (values !== undefined && !isPlainObject(values)) throw invalid('it should be an object.');
    const keepExisting = opts.mode === 'update' || values === undefined;
    const result = new Map<string, unknown>(keepExisting ? Object.entries(opts.existing ?? {}) : []);

    for (const [key, value] of Object.entries(values ?? {})) {
      const field = this.live.get(key);
      if (value === null) {
        if (opts.mode === 'upload') throw invalid(`"${key}" is null; leave a key out instead of sending null.`);
        if (field?.schema.isValueRequired) {
          throw invalid(`"${key}" is a required field (isValueRequired) and cannot be unset.`);
        }
        if (!field && !result.has(key)) throw this.unknownField(key);
        result.delete(key);
        continue;
      }
      if (!field) throw this.unknownField(key);
      const problem = valueProblem(field.schema, value);
      if (problem) throw invalid(`"${key}" ${problem}.`);
      if (field.schema.isValueRequired && isEmpty(value)) {
        throw invalid(`"${key}" is a required field (isValueRequired) and cannot be empty.`);
      }
      result.set(key, normalizeValue(field.schema, value));
    }

    for (const [name, field] of this.live) {
      if (result.get(name) !== undefined) continue;
      const s = field.schema;
      const wantsDefault = opts.mode === 'upload' || s.isValueRequired === true;
      if (wantsDefault && s.defaultValue !== undefined) result.set(name, normalizeValue(s, s.defaultValue));
      else if (s.isValueRequired) throw invalid(`"${name}" is a required field (isValueRequired) and has no value.`);
    }
    return Object.fromEntries(result);
  }

  private unknownField(key: string) {
    if (this.deleted.has(key)) return invalid(`the custom metadata field "${key}" has been deleted.`);
    return invalid(`"${key}" is not a custom metadata field. Create it with the custom metadata fields API first.`);
  }
}
