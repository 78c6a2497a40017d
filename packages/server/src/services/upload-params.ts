import { badRequest } from '../errors/index.js';
import {
  isPlainObject,
  validateCustomCoordinates,
  validateExtensions,
  validateTags,
  validateUploadTransformation,
  validateWebhookUrl,
  type ExtensionRequest,
} from './field-rules.js';
import { normalizeFolderPath, sanitizeFileName } from './paths.js';

/** Text fields of an upload request as received (a field may repeat, e.g. tags[]). */
export type RawUploadFields = Record<string, string[]>;

export const RESPONSE_FIELDS = [
  'tags',
  'customCoordinates',
  'isPrivateFile',
  'embeddedMetadata',
  'isPublished',
  'customMetadata',
  'metadata',
  'selectedFieldsSchema',
] as const;
export type ResponseField = (typeof RESPONSE_FIELDS)[number];

export interface UploadParams {
  fileName: string;
  folder: string;
  useUniqueFileName: boolean;
  tags: string[] | undefined;
  customCoordinates: string | undefined;
  isPrivateFile: boolean;
  isPublished: boolean;
  description: string | undefined;
  responseFields: Set<ResponseField>;
  overwriteFile: boolean;
  overwriteAITags: boolean;
  overwriteTags: boolean;
  overwriteCustomMetadata: boolean;
  customMetadata: Record<string, unknown> | undefined;
  extensions: ExtensionRequest[] | undefined;
  webhookUrl: string | undefined;
  transformation: { pre?: string; post?: Array<Record<string, string>> } | undefined;
  checks: string | undefined;
}

/** Fields that are not upload parameters: the payload and the client-side auth set. */
export const AUTH_FIELDS = new Set(['file', 'publicKey', 'signature', 'expire', 'token']);

const KNOWN_FIELDS = new Set([
  ...AUTH_FIELDS,
  'fileName',
  'folder',
  'useUniqueFileName',
  'tags',
  'customCoordinates',
  'isPrivateFile',
  'isPublished',
  'description',
  'responseFields',
  'overwriteFile',
  'overwriteAITags',
  'overwriteTags',
  'overwriteCustomMetadata',
  'customMetadata',
  'extensions',
  'webhookUrl',
  'transformation',
  'checks',
]);

/** Folds `tags[]`, `tags[0]` into `tags`, as form encoders differ. */
export function canonicalFieldName(name: string): string {
  return name.replace(/\[\d*\]$/, '');
}

function one(fields: RawUploadFields, name: string): string | undefined {
  const v = fields[name];
  if (v === undefined || v.length === 0) return undefined;
  if (v.length > 1) throw badRequest(`Your request contains the ${name} parameter more than once.`);
  return v[0];
}

function bool(fields: RawUploadFields, name: string, dflt: boolean): boolean {
  const v = one(fields, name);
  if (v === undefined || v === '') return dflt;
  const s = v.trim().toLowerCase();
  if (s === 'true') return true;
  if (s === 'false') return false;
  throw badRequest(`Your request contains invalid ${name} parameter. It should be true or false.`);
}

function json(fields: RawUploadFields, name: string): unknown {
  const v = one(fields, name);
  if (v === undefined || v.trim() === '') return undefined;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    throw badRequest(`Your request contains invalid ${name} parameter. It should be valid JSON.`);
  }
}

/** A list field sent as "a,b,c", as a JSON array, or as repeated fields. */
function list(fields: RawUploadFields, name: string): string[] | undefined {
  const v = fields[name];
  if (v === undefined || v.length === 0) return undefined;
  if (v.length === 1) {
    const s = v[0]!.trim();
    if (s.startsWith('[')) {
      try {
        const arr = JSON.parse(s) as unknown;
        if (Array.isArray(arr) && arr.every((x) => typeof x === 'string')) return arr as string[];
      } catch {
        /* treated as a comma list below */
      }
    }
    return s === '' ? [] : s.split(',');
  }
  return v;
}

export function parseUploadParams(fields: RawUploadFields): UploadParams {
  const unknown = Object.keys(fields).filter((k) => !KNOWN_FIELDS.has(k));
  if (unknown.length > 0) {
    throw badRequest(`Your request contains unknown parameter(s): ${unknown.slice(0, 5).join(', ')}.`);
  }
  const rawName = one(fields, 'fileName');
  if (rawName === undefined || rawName.trim() === '') throw badRequest('Your request is missing fileName parameter.');
  const fileName = sanitizeFileName(rawName);
  const folder = normalizeFolderPath(one(fields, 'folder'));

  const rawTags = list(fields, 'tags');
  const tags = rawTags === undefined ? undefined : validateTags(rawTags);

  const cc = one(fields, 'customCoordinates');
  const customCoordinates = cc === undefined || cc.trim() === '' ? undefined : validateCustomCoordinates(cc);

  const rf = list(fields, 'responseFields') ?? [];
  const responseFields = new Set<ResponseField>();
  for (const f of rf.map((s) => s.trim()).filter((s) => s !== '')) {
    if (!(RESPONSE_FIELDS as readonly string[]).includes(f)) {
      throw badRequest(`Your request contains invalid responseFields parameter. "${f}" is not one of ${RESPONSE_FIELDS.join(', ')}.`);
    }
    responseFields.add(f as ResponseField);
  }

  const cmRaw = json(fields, 'customMetadata');
  if (cmRaw !== undefined && !isPlainObject(cmRaw)) {
    throw badRequest('Your request contains invalid customMetadata parameter. It should be a JSON object.');
  }
  const extRaw = json(fields, 'extensions');
  const trRaw = json(fields, 'transformation');
  const hook = one(fields, 'webhookUrl');
  const checks = one(fields, 'checks');
  const description = one(fields, 'description');
  if (description !== undefined && [...description].length > 1000) {
    throw badRequest('Your request contains invalid description parameter. It is longer than 1000 characters.');
  }

  return {
    fileName,
    folder,
    useUniqueFileName: bool(fields, 'useUniqueFileName', true),
    tags,
    customCoordinates,
    isPrivateFile: bool(fields, 'isPrivateFile', false),
    isPublished: bool(fields, 'isPublished', true),
    description,
    responseFields,
    overwriteFile: bool(fields, 'overwriteFile', true),
    overwriteAITags: bool(fields, 'overwriteAITags', true),
    overwriteTags: bool(fields, 'overwriteTags', true),
    overwriteCustomMetadata: bool(fields, 'overwriteCustomMetadata', true),
    customMetadata: cmRaw as Record<string, unknown> | undefined,
    extensions: extRaw === undefined ? undefined : validateExtensions(extRaw),
    webhookUrl: hook === undefined || hook.trim() === '' ? undefined : validateWebhookUrl(hook),
    transformation: trRaw === undefined ? undefined : validateUploadTransformation(trRaw),
    checks: checks === undefined || checks.trim() === '' ? undefined : checks,
  };
}
