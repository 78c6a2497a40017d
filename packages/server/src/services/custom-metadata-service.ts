import { badRequest, notFound } from '../errors/index.js';
import type { CustomFieldRecord, CustomFieldSchema, CustomFieldStore } from '../ports/custom-field-store.js';
import { newId } from '../util/ids.js';
import {
  CustomMetadataRules,
  parseFieldSchema,
  validateFieldLabel,
  validateFieldName,
  valueProblem,
  type CustomMetadataRulesSource,
  type ValidateOptions,
} from './custom-metadata-rules.js';
import { isPlainObject } from './field-rules.js';
import { normalizeFolderPath } from './paths.js';

/** The spec's CustomMetadataField. */
export interface CustomFieldView {
  id: string;
  name: string;
  label: string;
  schema: CustomFieldSchema;
}

export interface ListQuery {
  includeDeleted?: unknown;
  folderPath?: unknown;
}

const ID_RE = /^[0-9a-f]{24}$/;
/** Files checked per read when a schema is tested against the values already stored. */
const SCAN_BATCH = 500;

const view = (f: CustomFieldRecord): CustomFieldView => ({ id: f.id, name: f.name, label: f.label, schema: f.schema });

function assertFieldId(id: string): void {
  if (id === '') throw badRequest('Missing id parameter.');
  if (!ID_RE.test(id)) throw badRequest('Your request contains invalid ID parameter.');
}

const noSuchField = () => notFound('No such custom metadata field exists.');

function unknownParams(body: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw badRequest(`Your request contains unknown parameter(s): ${unknown.slice(0, 5).join(', ')}.`);
}

/**
 * Custom metadata fields: their definitions (create, list, update, delete) and the rules that
 * values on assets must follow.
 *
 * A schema never silently invalidates stored values: creating a field, or changing its schema, is
 * refused with 400 while any file holds a value under that name that the new schema would refuse
 * (the message says how many and gives examples). ImageKit documents nothing here; refusing is the
 * safe choice — the caller fixes or unsets those values, then retries.
 */
export class CustomMetadataService implements CustomMetadataRulesSource {
  constructor(
    private readonly store: CustomFieldStore,
    private readonly now: () => string = () => new Date().toISOString(),
  ) {}

  async list(query: ListQuery = {}): Promise<CustomFieldView[]> {
    const includeDeleted = parseBool(query.includeDeleted, 'includeDeleted');
    if (query.folderPath !== undefined) {
      if (typeof query.folderPath !== 'string') {
        throw badRequest('Your request contains invalid folderPath parameter. It should be a string.');
      }
      // Path policies (which narrow the fields offered under a folder) are not implemented, so
      // every field applies at every path; the path is still validated.
      normalizeFolderPath(query.folderPath, 'folderPath');
    }
    return (await this.store.list({ includeDeleted })).map(view);
  }

  async create(body: unknown): Promise<CustomFieldView> {
    if (!isPlainObject(body)) throw badRequest('Your request body should be a JSON object with name, label and schema.');
    unknownParams(body, ['name', 'label', 'schema']);
    const name = validateFieldName(body.name);
    const label = validateFieldLabel(body.label);
    if (body.schema === undefined || body.schema === null) throw badRequest('Your request is missing schema parameter.');
    const schema = parseFieldSchema(body.schema);

    if (await this.store.getByName(name)) throw nameTaken();
    // Values written under this key before the field existed must fit it too.
    await this.assertStoredValuesFit(name, schema, 'create');

    const now = this.now();
    const rec: CustomFieldRecord = { id: newId(), name, label, schema, isDeleted: false, createdAt: now, updatedAt: now };
    await this.store.transaction(async (tx) => {
      if (await tx.getLiveByLabel(label)) throw labelTaken();
      if (!(await tx.insert(rec))) throw nameTaken();
    });
    return view(rec);
  }

  async update(id: string, body: unknown): Promise<CustomFieldView> {
    assertFieldId(id);
    if (!isPlainObject(body)) throw badRequest('Either label or schema should be provided.');
    if (body.name !== undefined) throw badRequest('Name cannot be updated.');
    unknownParams(body, ['label', 'schema']);
    if (body.label === undefined && body.schema === undefined) throw badRequest('Either label or schema should be provided.');
    const label = body.label === undefined ? undefined : validateFieldLabel(body.label);

    const field = await this.store.get(id);
    if (!field) throw noSuchField();
    if (field.isDeleted) throw badRequest('Cannot update a deleted custom metadata field.');
    // The type is fixed at creation; the schema sent replaces the stored one and is validated
    // as a whole against that type.
    const schema = body.schema === undefined ? undefined : parseFieldSchema(body.schema, field.schema.type);
    if (schema) await this.assertStoredValuesFit(field.name, schema, 'update');

    return this.store.transaction(async (tx) => {
      const current = await tx.get(id);
      if (!current) throw noSuchField();
      if (current.isDeleted) throw badRequest('Cannot update a deleted custom metadata field.');
      if (label !== undefined) {
        const other = await tx.getLiveByLabel(label);
        if (other && other.id !== id) throw labelTaken();
      }
      const updatedAt = this.now();
      await tx.update(id, { ...(label !== undefined ? { label } : {}), ...(schema ? { schema } : {}), updatedAt });
      return view({ ...current, label: label ?? current.label, schema: schema ?? current.schema });
    });
  }

  /** Soft delete: the name stays taken; values stored on files are kept as they are. */
  async delete(id: string): Promise<void> {
    assertFieldId(id);
    await this.store.transaction(async (tx) => {
      const field = await tx.get(id);
      if (!field || field.isDeleted) throw noSuchField();
      await tx.markDeleted(id, this.now());
    });
  }

  /** The rules in force now, for callers that apply them inside their own transaction. */
  async loadRules(): Promise<CustomMetadataRules> {
    return new CustomMetadataRules(await this.store.list({ includeDeleted: true }));
  }

  /** Checks `values` against the fields and returns the customMetadata to store (see ValidateOptions). */
  async validateCustomMetadata(values: Record<string, unknown> | undefined, opts: ValidateOptions): Promise<Record<string, unknown>> {
    return (await this.loadRules()).validate(values, opts);
  }

  /**
   * Refuses a schema that values already stored under `name` would break. Pages through the files
   * holding the key, so the memory used does not grow with the library.
   */
  private async assertStoredValuesFit(name: string, schema: CustomFieldSchema, action: 'create' | 'update'): Promise<void> {
    let count = 0;
    const examples: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<CustomFieldStore['storedValues']>> = await this.store.storedValues(name, cursor, SCAN_BATCH);
      for (const { fileId, value } of page.values) {
        const problem = valueProblem(schema, value);
        if (problem === null) continue;
        count++;
        if (examples.length < 3) examples.push(`file ${fileId}: ${JSON.stringify(value)} ${problem}`);
      }
      cursor = page.next;
    } while (cursor !== null);
    if (count === 0) return;
    const what = action === 'create' ? 'This field cannot be created' : 'This schema change was refused';
    throw badRequest(
      `${what}: ${count} file(s) already hold a "${name}" value that the new schema does not accept (${examples.join('; ')}${count > examples.length ? '; …' : ''}). Update or unset those values first.`,
    );
  }
}

const nameTaken = () => badRequest('A custom metadata field with this name already exists.');
const labelTaken = () => badRequest('A custom metadata field with this label already exists.');

function parseBool(v: unknown, name: string): boolean {
  if (v === undefined || v === '') return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true') return true;
    if (s === 'false') return false;
  }
  throw badRequest(`Your request contains invalid ${name} parameter. It should be true or false.`);
}
