/**
 * The ImageKit OpenAPI document as a test oracle.
 *
 * The whole spec is registered with ajv (draft 2020-12, which is what OpenAPI 3.1 schemas are)
 * under one id, so any schema in it can be compiled by JSON pointer with its `$ref`s resolved:
 * `#/components/schemas/FileDetails`, or a response schema found with `responseSchemaFor()`.
 *
 * On top of ajv's type checks, `assertMatchesSchema` also refuses properties the schema does not
 * declare (unless the schema allows additional properties): the spec's schemas are open, so
 * without this a misspelt field (`fileID`, `aiTags`) would pass unnoticed.
 *
 * The spec lives outside the repository (`/work/shared/reference`, five levels up from here). When
 * it is missing, `specAvailable` is false and suites should `skip` — CI always has it.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { APIError, APIPromise } from '@imagekit/nodejs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

export const SPEC_PATH = fileURLToPath(
  new URL('../../../../../shared/reference/imagekit-openapi.yaml', import.meta.url),
);
export const specAvailable = existsSync(SPEC_PATH);
/** Message a suite passes to `skip` when the spec is absent. */
export const SPEC_MISSING_MESSAGE = `imagekit-openapi.yaml not found at ${SPEC_PATH}: spec-validated suites are SKIPPED`;

if (!specAvailable) {
  const bar = '!'.repeat(100);
  console.warn(`\n${bar}\n!!! ${SPEC_MISSING_MESSAGE}\n!!! CI always has it; locally, put the spec there to run these suites.\n${bar}\n`);
}

/** The id the whole document is registered under; `#/...` refs are resolved against it. */
export const SPEC_ID = 'https://tessera.invalid/imagekit-openapi.yaml';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

let specDoc: JsonObject | undefined;
let ajv: Ajv2020 | undefined;
const validators = new Map<string, ValidateFunction>();

/** The parsed OpenAPI document (throws if it is absent — check `specAvailable` first). */
export function spec(): JsonObject {
  if (!specDoc) {
    if (!specAvailable) throw new Error(SPEC_MISSING_MESSAGE);
    specDoc = normaliseNullTypes(parseYaml(readFileSync(SPEC_PATH, 'utf8')) as Json) as JsonObject;
  }
  return specDoc;
}

/**
 * YAML reads the unquoted `null` in `type: [string, null]` as a null value, but the author means
 * the JSON Schema type name "null" (as JSON would spell it, `"null"`). Rewrite it so ajv sees it.
 */
function normaliseNullTypes(node: Json): Json {
  if (Array.isArray(node)) return node.map(normaliseNullTypes);
  if (node && typeof node === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'type' && Array.isArray(v)) out[k] = v.map((t) => (t === null ? 'null' : t));
      else if (k === 'type' && v === null) out[k] = 'null';
      else out[k] = normaliseNullTypes(v);
    }
    return out;
  }
  return node;
}

// ajv-formats is CommonJS; depending on the loader its default export is the plugin or a namespace.
type FormatsPlugin = (a: Ajv2020) => Ajv2020;
const addFormats: FormatsPlugin =
  ((formatsModule as unknown as { default?: FormatsPlugin }).default ?? (formatsModule as unknown as FormatsPlugin));

function getAjv(): Ajv2020 {
  if (!ajv) {
    ajv = new Ajv2020({
      // The document mixes JSON Schema with OpenAPI-only keywords (`example`, `discriminator`,
      // `x-stainless-*`, `contentEncoding` …) and whole non-schema sections (paths, info).
      strict: false,
      allErrors: true,
      validateFormats: true,
    });
    addFormats(ajv);
    // OpenAPI annotations, declared so they are known rather than silently dropped.
    for (const k of ['example', 'xml', 'externalDocs']) ajv.addKeyword(k);
    ajv.addSchema(spec() as object, SPEC_ID);
  }
  return ajv;
}

function normaliseRef(schemaRef: string): string {
  if (schemaRef.startsWith('#')) return SPEC_ID + schemaRef;
  if (schemaRef.startsWith(SPEC_ID)) return schemaRef;
  // Bare component name: "FileDetails".
  return `${SPEC_ID}#/components/schemas/${schemaRef}`;
}

function validatorFor(schemaRef: string): ValidateFunction {
  const ref = normaliseRef(schemaRef);
  let v = validators.get(ref);
  if (!v) {
    v = getAjv().compile({ $ref: ref });
    validators.set(ref, v);
  }
  return v;
}

function escapePointer(segment: string): string {
  return encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));
}

function pointerGet(pointer: string): Json | undefined {
  let cur: Json | undefined = spec();
  for (const raw of pointer.replace(/^#\/?/, '').split('/')) {
    if (raw === '') continue;
    const seg = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) ? cur[Number(seg)] : cur[seg];
  }
  return cur;
}

/** Follows a `$ref` chain (within the document) to the referenced value and its pointer. */
function deref(pointer: string): { pointer: string; value: Json | undefined } {
  let value = pointerGet(pointer);
  for (let i = 0; i < 20 && value && typeof value === 'object' && !Array.isArray(value) && typeof value.$ref === 'string'; i++) {
    pointer = value.$ref;
    value = pointerGet(pointer);
  }
  return { pointer, value };
}

/**
 * The schema ref (usable with `assertMatchesSchema`) for the JSON body of `status` on
 * `method path`, where `path` is the spec's path template (`/v1/files/{fileId}/details`).
 * Returns null when the spec lists the status with no JSON body (a plain 204). Throws when the
 * spec does not list that status at all, so an unexpected status fails the test.
 */
export function responseSchemaFor(path: string, method: string, status: number): string | null {
  const base = `#/paths/${escapePointer(path)}/${method.toLowerCase()}`;
  const op = pointerGet(base);
  if (!op || typeof op !== 'object') throw new Error(`The spec has no operation ${method.toUpperCase()} ${path}`);
  const responses = pointerGet(`${base}/responses`) as JsonObject | undefined;
  const keys = Object.keys(responses ?? {});
  const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => keys.includes(k));
  if (!key) {
    throw new Error(
      `The spec lists no ${status} response for ${method.toUpperCase()} ${path} (it lists: ${keys.join(', ')})`,
    );
  }
  const resp = deref(`${base}/responses/${escapePointer(key)}`);
  const content = (resp.value as JsonObject | undefined)?.content as JsonObject | undefined;
  if (!content || !content['application/json']) return null;
  return `${resp.pointer}/content/${escapePointer('application/json')}/schema`;
}

export class SchemaMismatchError extends Error {
  constructor(
    message: string,
    readonly errors: readonly ErrorObject[] | readonly string[],
  ) {
    super(message);
    this.name = 'SchemaMismatchError';
  }
}

export interface MatchOptions {
  /**
   * Accept properties the schema does not declare: true for any, or a list of property names
   * (at any depth). Default: undeclared properties fail.
   */
  allowUndeclared?: boolean | readonly string[];
}

/**
 * Throws a readable `SchemaMismatchError` unless `value` matches the spec schema at `schemaRef`
 * (`#/components/schemas/X`, a bare component name, or a ref from `responseSchemaFor`).
 */
export function assertMatchesSchema(value: unknown, schemaRef: string, opts: MatchOptions = {}): void {
  const validate = validatorFor(schemaRef);
  const problems: string[] = [];
  if (!validate(value)) {
    const a = getAjv();
    problems.push(...a.errorsText(validate.errors, { dataVar: 'body', separator: '\n' }).split('\n'));
  }
  if (opts.allowUndeclared !== true) {
    const allowed = new Set(Array.isArray(opts.allowUndeclared) ? opts.allowUndeclared : []);
    problems.push(
      ...undeclaredProperties(value, normaliseRef(schemaRef).slice(SPEC_ID.length), 'body').filter(
        (p) => !allowed.has(p.key),
      ).map((p) => p.message),
    );
  }
  if (problems.length > 0) {
    const shown = JSON.stringify(value, null, 2);
    throw new SchemaMismatchError(
      `Response does not match ${schemaRef}:\n  - ${problems.join('\n  - ')}\nvalue: ${shown.length > 3000 ? `${shown.slice(0, 3000)}…` : shown}`,
      validate.errors ?? problems,
    );
  }
}

/** Boolean form of `assertMatchesSchema`. */
export function matchesSchema(value: unknown, schemaRef: string, opts: MatchOptions = {}): boolean {
  try {
    assertMatchesSchema(value, schemaRef, opts);
    return true;
  } catch (e) {
    if (e instanceof SchemaMismatchError) return false;
    throw e;
  }
}

/**
 * Validates an error body: against the spec's schema for that status (`responseSchemaFor`), and
 * as the `{message, help}` pair every Tessera error carries (the spec's error schemas declare both
 * but mark neither required).
 */
export function assertErrorBody(body: unknown, path: string, method: string, status: number, opts: MatchOptions = {}): void {
  const ref = responseSchemaFor(path, method, status);
  if (ref === null) throw new Error(`The spec lists ${status} for ${method.toUpperCase()} ${path} without a JSON body`);
  assertMatchesSchema(body, ref, opts);
  const b = body as Record<string, unknown> | null;
  if (!b || typeof b !== 'object' || typeof b.message !== 'string' || b.message.length === 0 || typeof b.help !== 'string') {
    throw new SchemaMismatchError(`Error body is not {message: string, help: string}: ${JSON.stringify(body)}`, []);
  }
}

// ---------------------------------------------------------------------------------------------
// Calls made with the official SDK (`@imagekit/nodejs`), checked against the spec.

/** Awaits an SDK call, checks the status and validates the JSON body against the spec (no body where it lists none). */
export async function expectSdkOk<T>(call: APIPromise<T>, specPath: string, method: string, status = 200): Promise<T> {
  const { data, response } = await call.withResponse();
  assert.equal(response.status, status, `${method.toUpperCase()} ${specPath}: status`);
  const ref = responseSchemaFor(specPath, method, status);
  if (ref === null || status === 204) {
    assert.ok(data === null || data === undefined || (typeof data === 'object' && Object.keys(data).length === 0), 'no body expected');
    return data;
  }
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/, 'JSON content-type');
  assertMatchesSchema(data, ref);
  return data;
}

/** Expects the SDK call to fail with `Err` and `status`; validates the error body against the spec. */
export async function expectSdkError<E extends APIError>(
  call: Promise<unknown>,
  Err: (abstract new (...args: never[]) => APIError) & (new (...args: never[]) => E),
  status: number,
  specPath: string,
  method: string,
  opts: MatchOptions = {},
): Promise<E & { error: Record<string, unknown> }> {
  let caught: unknown;
  try {
    await call;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught, `${method.toUpperCase()} ${specPath}: expected ${Err.name} (${status}), but the call succeeded`);
  assert.ok(
    caught instanceof Err,
    `${method.toUpperCase()} ${specPath}: expected ${Err.name}, got ${(caught as Error).name}: ${(caught as Error).message}`,
  );
  const err = caught as E & { error: Record<string, unknown> };
  assert.equal(err.status, status);
  assertErrorBody(err.error, specPath, method, status, opts);
  return err;
}

// ---------------------------------------------------------------------------------------------
// Undeclared-property check: walks value and schema together, resolving $ref / allOf / anyOf /
// oneOf, and reports object keys that no applicable schema declares.

interface Shape {
  /** Declared property name → sub-schemas that describe it. */
  props: Map<string, Json[]>;
  /** true when some applicable schema allows any other key. */
  open: boolean;
  /** Sub-schemas for additional properties (object schema as value). */
  additional: Json[];
  /** Sub-schemas for array items. */
  items: Json[];
  /** Whether any applicable schema says anything about keys or items; if none does, any key goes. */
  structured: boolean;
}

function resolveSchema(s: Json): Json {
  let cur = s;
  for (let i = 0; i < 20 && cur && typeof cur === 'object' && !Array.isArray(cur) && typeof cur.$ref === 'string'; i++) {
    const { $ref, ...rest } = cur;
    const target = pointerGet($ref as string);
    if (target === undefined) return cur;
    // Siblings of $ref apply too (2020-12); merge them as an allOf.
    cur = Object.keys(rest).length > 0 ? ({ allOf: [target, rest] } as Json) : target;
  }
  return cur;
}

function collectShape(schema: Json, shape: Shape, value: Json, depth = 0): void {
  if (depth > 30) return;
  const s = resolveSchema(schema);
  if (s === true || s === undefined || s === null) {
    shape.open = true;
    return;
  }
  if (typeof s !== 'object' || Array.isArray(s)) return;
  if (s.properties && typeof s.properties === 'object' && !Array.isArray(s.properties)) {
    for (const [k, sub] of Object.entries(s.properties)) {
      const list = shape.props.get(k) ?? [];
      list.push(sub);
      shape.props.set(k, list);
    }
  }
  if (s.additionalProperties !== undefined && s.additionalProperties !== false) {
    const ap = s.additionalProperties;
    if (ap === true || (ap !== null && typeof ap === 'object' && Object.keys(ap).length === 0)) {
      shape.open = true;
    } else shape.additional.push(s.additionalProperties);
  }
  if (s.patternProperties) shape.open = true;
  if (s.items !== undefined) shape.items.push(s.items);
  if (Array.isArray(s.allOf)) for (const sub of s.allOf) collectShape(sub, shape, value, depth + 1);
  // For unions, only the branches the value actually matches count.
  for (const kw of ['anyOf', 'oneOf'] as const) {
    const branches = s[kw];
    if (Array.isArray(branches)) {
      const matching = branches.filter((b) => branchMatches(b, value));
      for (const sub of matching.length > 0 ? matching : branches) collectShape(sub, shape, value, depth + 1);
    }
  }
  if (s.properties !== undefined || s.additionalProperties !== undefined || s.patternProperties !== undefined || s.items !== undefined) {
    shape.structured = true;
  }
}

const branchValidators = new Map<string, ValidateFunction>();

function branchMatches(branch: Json, value: Json): boolean {
  // Compiled standalone with absolute refs, so they resolve against the registered spec.
  const schema = rebase(resolveSchema(branch));
  const key = JSON.stringify(schema);
  let v = branchValidators.get(key);
  if (!v) {
    v = getAjv().compile(schema as object);
    branchValidators.set(key, v);
  }
  return v(value) as boolean;
}

/** Rewrites document-local refs (`#/...`) to absolute ones so a schema can be compiled standalone. */
function rebase(s: Json): Json {
  if (Array.isArray(s)) return s.map(rebase);
  if (s && typeof s === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(s)) {
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#') ? SPEC_ID + v : rebase(v);
    }
    return out;
  }
  return s;
}

interface Undeclared {
  key: string;
  message: string;
}

function undeclaredProperties(value: unknown, pointer: string, at: string): Undeclared[] {
  return walk(value as Json, [{ $ref: pointer } as Json], at);
}

function walk(value: Json, schemas: Json[], at: string): Undeclared[] {
  const shape: Shape = { props: new Map(), open: false, additional: [], items: [], structured: false };
  for (const s of schemas) collectShape(s, shape, value);
  // A schema that only says `type: object` (or nothing) declares no keys: everything is allowed.
  if (!shape.structured) shape.open = true;
  const out: Undeclared[] = [];
  if (Array.isArray(value)) {
    if (shape.items.length > 0) value.forEach((v, i) => out.push(...walk(v, shape.items, `${at}[${i}]`)));
    return out;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const declared = shape.props.get(k);
      if (declared) out.push(...walk(v, declared, `${at}.${k}`));
      else if (shape.additional.length > 0) out.push(...walk(v, shape.additional, `${at}.${k}`));
      else if (!shape.open) out.push({ key: k, message: `${at}.${k} is not a property the spec declares` });
    }
  }
  return out;
}

/** The spec's schema for each file event a webhook receiver may get. */
export const FILE_EVENT_SCHEMA: Readonly<Record<string, string>> = {
  'file.created': 'FileCreateEvent',
  'file.updated': 'FileUpdateEvent',
  'file.deleted': 'FileDeleteEvent',
  'file-version.created': 'FileVersionCreateEvent',
  'file-version.deleted': 'FileVersionDeleteEvent',
};
