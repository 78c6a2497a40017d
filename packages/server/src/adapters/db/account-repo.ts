import type { Kysely, Transaction } from 'kysely';
import {
  DEFAULT_ENDPOINT_ID,
  type AccountRepo,
  type AccountStore,
  type OriginConfig,
  type OriginRecord,
  type UrlEndpointRecord,
  type UrlRewriter,
} from '../../ports/account-store.js';
import type { MetadataStore } from '../../ports/metadata-store.js';
import { KyselyMetadataStore } from './kysely-store.js';
import type { Database, OriginsTable, UrlEndpointsTable } from './schema.js';

/**
 * Origins and URL endpoints over Kysely, on the same database as the metadata store.
 * Dialect-neutral: plain query builder calls only. An origin's type-specific fields live in one
 * JSON column; an endpoint's origin list is rows (ordered by position) under foreign keys.
 */

type Db = Kysely<Database> | Transaction<Database>;

function originFromRow(r: OriginsTable): OriginRecord {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(r.config) as Record<string, unknown>;
  } catch {
    config = {};
  }
  // The columns are authoritative for what they hold.
  return { ...(config as unknown as OriginConfig), name: r.name, type: r.type, id: r.id, createdAt: r.created_at, updatedAt: r.updated_at } as OriginRecord;
}

function originToRow(rec: OriginRecord): OriginsTable {
  const { id, createdAt, updatedAt, ...config } = rec;
  return { id, name: config.name, type: config.type, config: JSON.stringify(config), created_at: createdAt, updated_at: updatedAt };
}

function parseRewriter(s: string | null): UrlRewriter | null {
  if (s === null) return null;
  try {
    return JSON.parse(s) as UrlRewriter;
  } catch {
    return null;
  }
}

function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  // SQLite: SQLITE_CONSTRAINT_UNIQUE; PostgreSQL: 23505.
  return err?.code === 'SQLITE_CONSTRAINT_UNIQUE' || err?.code === '23505' || /UNIQUE constraint failed/i.test(err?.message ?? '');
}

class KyselyAccountRepo implements AccountRepo {
  constructor(protected readonly db: Db) {}

  async listOrigins() {
    const rows = await this.db.selectFrom('origins').selectAll().orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
    return rows.map(originFromRow);
  }

  async getOrigin(id: string) {
    const r = await this.db.selectFrom('origins').selectAll().where('id', '=', id).executeTakeFirst();
    return r && originFromRow(r);
  }

  async getOrigins(ids: readonly string[]) {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('origins').selectAll().where('id', 'in', [...ids]).execute();
    return rows.map(originFromRow);
  }

  async insertOrigin(rec: OriginRecord) {
    await this.db.insertInto('origins').values(originToRow(rec)).execute();
  }

  async replaceOrigin(rec: OriginRecord) {
    const { id: _id, created_at: _c, ...values } = originToRow(rec);
    const res = await this.db.updateTable('origins').set(values).where('id', '=', rec.id).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async deleteOrigin(id: string) {
    const res = await this.db.deleteFrom('origins').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  }

  async endpointsUsingOrigin(id: string) {
    const rows = await this.db
      .selectFrom('url_endpoint_origins')
      .select('endpoint_id')
      .distinct()
      .where('origin_id', '=', id)
      .orderBy('endpoint_id')
      .execute();
    return rows.map((r) => r.endpoint_id);
  }

  private async withOrigins(rows: UrlEndpointsTable[]): Promise<UrlEndpointRecord[]> {
    if (rows.length === 0) return [];
    const links = await this.db
      .selectFrom('url_endpoint_origins')
      .select(['endpoint_id', 'origin_id'])
      .where(
        'endpoint_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('endpoint_id')
      .orderBy('position')
      .execute();
    const byEndpoint = new Map<string, string[]>();
    for (const l of links) {
      const list = byEndpoint.get(l.endpoint_id) ?? [];
      list.push(l.origin_id);
      byEndpoint.set(l.endpoint_id, list);
    }
    return rows.map((r) => ({
      id: r.id,
      description: r.description,
      urlPrefix: r.url_prefix,
      originIds: byEndpoint.get(r.id) ?? [],
      urlRewriter: parseRewriter(r.url_rewriter),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  async listEndpoints() {
    const rows = await this.db.selectFrom('url_endpoints').selectAll().orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
    // The default endpoint first, whatever the clock said when it was seeded.
    rows.sort((a, b) => Number(b.id === DEFAULT_ENDPOINT_ID) - Number(a.id === DEFAULT_ENDPOINT_ID));
    return this.withOrigins(rows);
  }

  async getEndpoint(id: string) {
    const r = await this.db.selectFrom('url_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? (await this.withOrigins([r]))[0] : undefined;
  }

  async getEndpointByPrefix(urlPrefix: string) {
    const r = await this.db.selectFrom('url_endpoints').selectAll().where('url_prefix', '=', urlPrefix).executeTakeFirst();
    return r ? (await this.withOrigins([r]))[0] : undefined;
  }

  private async writeOriginLinks(endpointId: string, originIds: readonly string[]) {
    await this.db.deleteFrom('url_endpoint_origins').where('endpoint_id', '=', endpointId).execute();
    if (originIds.length === 0) return;
    await this.db
      .insertInto('url_endpoint_origins')
      .values(originIds.map((originId, position) => ({ endpoint_id: endpointId, position, origin_id: originId })))
      .execute();
  }

  async insertEndpoint(rec: UrlEndpointRecord) {
    const res = await this.db
      .insertInto('url_endpoints')
      .values({
        id: rec.id,
        description: rec.description,
        url_prefix: rec.urlPrefix,
        url_rewriter: rec.urlRewriter === null ? null : JSON.stringify(rec.urlRewriter),
        created_at: rec.createdAt,
        updated_at: rec.updatedAt,
      })
      .onConflict((oc) => oc.column('url_prefix').doNothing())
      .executeTakeFirst();
    if (Number(res.numInsertedOrUpdatedRows ?? 0n) !== 1) return false;
    await this.writeOriginLinks(rec.id, rec.originIds);
    return true;
  }

  async replaceEndpoint(rec: UrlEndpointRecord) {
    try {
      await this.db
        .updateTable('url_endpoints')
        .set({
          description: rec.description,
          url_prefix: rec.urlPrefix,
          url_rewriter: rec.urlRewriter === null ? null : JSON.stringify(rec.urlRewriter),
          updated_at: rec.updatedAt,
        })
        .where('id', '=', rec.id)
        .execute();
    } catch (e) {
      if (isUniqueViolation(e)) return false;
      throw e;
    }
    await this.writeOriginLinks(rec.id, rec.originIds);
    return true;
  }

  async deleteEndpoint(id: string) {
    await this.db.deleteFrom('url_endpoint_origins').where('endpoint_id', '=', id).execute();
    const res = await this.db.deleteFrom('url_endpoints').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  }
}

export class KyselyAccountStore extends KyselyAccountRepo implements AccountStore {
  constructor(db: Kysely<Database>) {
    super(db);
  }

  transaction<T>(fn: (tx: AccountRepo) => Promise<T>): Promise<T> {
    return (this.db as Kysely<Database>).transaction().execute((trx) => fn(new KyselyAccountRepo(trx)));
  }
}

/** The account store on the same database as a Kysely-backed metadata store. */
export function accountStoreFor(store: MetadataStore): AccountStore {
  if (store instanceof KyselyMetadataStore) return new KyselyAccountStore(store.kysely);
  throw new Error('origins and URL endpoints need a Kysely-backed metadata store');
}
