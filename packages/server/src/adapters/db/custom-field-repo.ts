import { sql, type Kysely, type Transaction } from 'kysely';
import type {
  CustomFieldRecord,
  CustomFieldRepo,
  CustomFieldSchema,
  CustomFieldStore,
  StoredFieldValue,
} from '../../ports/custom-field-store.js';
import type { MetadataStore } from '../../ports/metadata-store.js';
import { KyselyMetadataStore } from './kysely-store.js';
import type { CustomMetadataFieldsTable, Database } from './schema.js';

/**
 * Custom metadata field definitions over Kysely, on the same database as the metadata store.
 * Dialect-neutral: plain query builder calls only.
 */

function fromRow(r: CustomMetadataFieldsTable): CustomFieldRecord {
  let schema: CustomFieldSchema;
  try {
    schema = JSON.parse(r.schema) as CustomFieldSchema;
  } catch {
    // A row is only ever written by this repository; an unreadable schema is treated as plain text.
    schema = { type: 'Text' };
  }
  return {
    id: r.id,
    name: r.name,
    label: r.label,
    schema,
    isDeleted: r.is_deleted === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

class KyselyCustomFieldRepo implements CustomFieldRepo {
  constructor(protected readonly db: Kysely<Database> | Transaction<Database>) {}

  async list(opts: { includeDeleted: boolean }) {
    let q = this.db.selectFrom('custom_metadata_fields').selectAll();
    if (!opts.includeDeleted) q = q.where('is_deleted', '=', 0);
    const rows = await q.orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
    return rows.map(fromRow);
  }

  async get(id: string) {
    const r = await this.db.selectFrom('custom_metadata_fields').selectAll().where('id', '=', id).executeTakeFirst();
    return r && fromRow(r);
  }

  async getByName(name: string) {
    const r = await this.db.selectFrom('custom_metadata_fields').selectAll().where('name', '=', name).executeTakeFirst();
    return r && fromRow(r);
  }

  async getLiveByLabel(label: string) {
    const r = await this.db
      .selectFrom('custom_metadata_fields')
      .selectAll()
      .where('label', '=', label)
      .where('is_deleted', '=', 0)
      .executeTakeFirst();
    return r && fromRow(r);
  }

  async insert(rec: CustomFieldRecord) {
    const res = await this.db
      .insertInto('custom_metadata_fields')
      .values({
        id: rec.id,
        name: rec.name,
        label: rec.label,
        schema: JSON.stringify(rec.schema),
        is_deleted: rec.isDeleted ? 1 : 0,
        created_at: rec.createdAt,
        updated_at: rec.updatedAt,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async update(id: string, patch: { label?: string; schema?: CustomFieldSchema; updatedAt: string }) {
    const values: Partial<CustomMetadataFieldsTable> = { updated_at: patch.updatedAt };
    if (patch.label !== undefined) values.label = patch.label;
    if (patch.schema !== undefined) values.schema = JSON.stringify(patch.schema);
    await this.db.updateTable('custom_metadata_fields').set(values).where('id', '=', id).execute();
  }

  async markDeleted(id: string, now: string) {
    await this.db.updateTable('custom_metadata_fields').set({ is_deleted: 1, updated_at: now }).where('id', '=', id).execute();
  }

  async storedValues(name: string, cursor: string | null, limit: number) {
    // The search side table has a row per scalar leaf: `name` itself, one per array element, and
    // `name.sub` for a nested object (which no field type accepts, but older writes may hold).
    // '/' sorts right after '.', so the range picks every `name.…` key through the index.
    let q = this.db
      .selectFrom('file_field_values')
      .select('file_id')
      .distinct()
      .where('source', '=', 'custom')
      .where((eb) => eb.or([eb('field', '=', name), eb.and([eb('field', '>', `${name}.`), eb('field', '<', `${name}/`)])]));
    if (cursor !== null) q = q.where('file_id', '>', cursor);
    const ids = (await q.orderBy('file_id').limit(limit).execute()).map((r) => r.file_id);
    if (ids.length === 0) return { values: [], next: null };
    const rows = await this.db.selectFrom('files').select(['id', 'custom_metadata']).where('id', 'in', ids).orderBy('id').execute();
    const values: StoredFieldValue[] = [];
    for (const r of rows) {
      // Text on SQLite; jsonb on PostgreSQL, which pg hands back parsed.
      let cm: unknown = r.custom_metadata;
      if (typeof cm === 'string') {
        try {
          cm = JSON.parse(cm);
        } catch {
          continue;
        }
      }
      if (cm !== null && typeof cm === 'object' && Object.hasOwn(cm, name)) {
        values.push({ fileId: r.id, value: (cm as Record<string, unknown>)[name] });
      }
    }
    return { values, next: ids.length < limit ? null : ids[ids.length - 1]! };
  }
}

/** pg_advisory_xact_lock key that serialises custom field writes across connections and nodes. */
const FIELD_WRITE_LOCK_KEY = 0x7e55cf1;

export class KyselyCustomFieldStore extends KyselyCustomFieldRepo implements CustomFieldStore {
  constructor(
    db: Kysely<Database>,
    private readonly dialect: 'sqlite' | 'postgres' = 'sqlite',
  ) {
    super(db);
  }

  /**
   * The service checks (a live label is unique) and writes inside this transaction. SQLite's one
   * connection serialises such transactions; on PostgreSQL (READ COMMITTED, several connections
   * and nodes) an advisory lock does, so two racing creates cannot both pass the check.
   */
  transaction<T>(fn: (tx: CustomFieldRepo) => Promise<T>): Promise<T> {
    return (this.db as Kysely<Database>).transaction().execute(async (trx) => {
      if (this.dialect === 'postgres') await sql`select pg_advisory_xact_lock(${FIELD_WRITE_LOCK_KEY}::bigint)`.execute(trx);
      return fn(new KyselyCustomFieldRepo(trx));
    });
  }
}

/** The custom field store on the same database as a Kysely-backed metadata store. */
export function customFieldStoreFor(store: MetadataStore): CustomFieldStore {
  if (store instanceof KyselyMetadataStore) {
    return new KyselyCustomFieldStore(store.kysely, store.capabilities.dialect === 'postgres' ? 'postgres' : 'sqlite');
  }
  throw new Error('custom metadata fields need a Kysely-backed metadata store');
}
