import type { Kysely } from 'kysely';
import type { MetadataStore } from '../../ports/metadata-store.js';
import type { PurgeRecord, PurgeStatus, PurgeStore } from '../../ports/purge-store.js';
import { KyselyMetadataStore } from './kysely-store.js';
import type { Database } from './schema.js';

/** The purge_requests table (migration 0002) over Kysely. */
export class KyselyPurgeStore implements PurgeStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(rec: PurgeRecord): Promise<void> {
    await this.db
      .insertInto('purge_requests')
      .values({ id: rec.id, status: rec.status, target: rec.target, created_at: rec.createdAt, updated_at: rec.updatedAt })
      .execute();
  }

  async setStatus(id: string, status: PurgeStatus, updatedAt: string): Promise<void> {
    await this.db.updateTable('purge_requests').set({ status, updated_at: updatedAt }).where('id', '=', id).execute();
  }

  async get(id: string): Promise<PurgeRecord | undefined> {
    const r = await this.db.selectFrom('purge_requests').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) return undefined;
    return {
      id: r.id,
      status: r.status === 'Completed' ? 'Completed' : 'Pending',
      target: r.target,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  async completePending(updatedAt: string): Promise<number> {
    const res = await this.db
      .updateTable('purge_requests')
      .set({ status: 'Completed', updated_at: updatedAt })
      .where('status', '=', 'Pending')
      .executeTakeFirst();
    return Number(res.numUpdatedRows ?? 0);
  }
}

export function purgeStoreFor(store: MetadataStore): PurgeStore {
  if (store instanceof KyselyMetadataStore) return new KyselyPurgeStore(store.kysely);
  throw new Error('purge requests need a Kysely-backed metadata store');
}
