import { sql, type Kysely } from 'kysely';
import type { MetadataStore } from '../../ports/metadata-store.js';
import type { UsageCounters, UsageGauges, UsageStore } from '../../ports/usage-store.js';
import { KyselyMetadataStore } from './kysely-store.js';
import type { Database } from './schema.js';

/**
 * Usage per UTC day over Kysely. Counters are added with one upsert per day (`on conflict do
 * update set x = x + excluded.x`, which SQLite and PostgreSQL both speak), so a flush is a few
 * statements however many deliveries it carries.
 */

// PostgreSQL returns bigint and sum() as strings.
const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

export class KyselyUsageStore implements UsageStore {
  constructor(private readonly db: Kysely<Database>) {}

  async addCounters(byDay: ReadonlyMap<string, UsageCounters>) {
    if (byDay.size === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const [day, c] of byDay) {
        await trx
          .insertInto('usage_daily')
          .values({
            day,
            bandwidth_bytes: c.bandwidthBytes,
            requests: c.requests,
            extension_units: c.extensionUnits,
            video_units: c.videoUnits,
            library_bytes: null,
            original_cache_bytes: null,
          })
          .onConflict((oc) =>
            oc.column('day').doUpdateSet((eb) => ({
              bandwidth_bytes: eb('usage_daily.bandwidth_bytes', '+', eb.ref('excluded.bandwidth_bytes')),
              requests: eb('usage_daily.requests', '+', eb.ref('excluded.requests')),
              extension_units: eb('usage_daily.extension_units', '+', eb.ref('excluded.extension_units')),
              video_units: eb('usage_daily.video_units', '+', eb.ref('excluded.video_units')),
            })),
          )
          .execute();
      }
    });
  }

  async setGauges(day: string, g: UsageGauges) {
    const set: { library_bytes?: number; original_cache_bytes?: number } = {};
    if (g.mediaLibraryStorageBytes !== null) set.library_bytes = g.mediaLibraryStorageBytes;
    if (g.originalCacheStorageBytes !== null) set.original_cache_bytes = g.originalCacheStorageBytes;
    if (Object.keys(set).length === 0) return;
    await this.db
      .insertInto('usage_daily')
      .values({
        day,
        bandwidth_bytes: 0,
        requests: 0,
        extension_units: 0,
        video_units: 0,
        library_bytes: set.library_bytes ?? null,
        original_cache_bytes: set.original_cache_bytes ?? null,
      })
      .onConflict((oc) => oc.column('day').doUpdateSet(set))
      .execute();
  }

  async sumCounters(fromDay: string, toDay: string): Promise<UsageCounters> {
    const r = await this.db
      .selectFrom('usage_daily')
      .select((eb) => [
        eb.fn.sum<number>('bandwidth_bytes').as('bandwidth'),
        eb.fn.sum<number>('requests').as('requests'),
        eb.fn.sum<number>('extension_units').as('extension'),
        eb.fn.sum<number>('video_units').as('video'),
      ])
      .where('day', '>=', fromDay)
      .where('day', '<', toDay)
      .executeTakeFirst();
    return {
      bandwidthBytes: num(r?.bandwidth),
      requests: num(r?.requests),
      extensionUnits: num(r?.extension),
      videoUnits: num(r?.video),
    };
  }

  async latestGauges(beforeDay: string) {
    const latest = async (col: 'library_bytes' | 'original_cache_bytes') => {
      const r = await this.db
        .selectFrom('usage_daily')
        .select(col)
        .where('day', '<', beforeDay)
        .where(col, 'is not', null)
        .orderBy('day', 'desc')
        .limit(1)
        .executeTakeFirst();
      return num(r?.[col]);
    };
    return { mediaLibraryStorageBytes: await latest('library_bytes'), originalCacheStorageBytes: await latest('original_cache_bytes') };
  }

  async measureLibraryBytes() {
    const r = await sql<{ total: number | string | null }>`select sum(size) as total from file_versions`.execute(this.db);
    return num(r.rows[0]?.total);
  }
}

/** The usage store on the same database as a Kysely-backed metadata store. */
export function usageStoreFor(store: MetadataStore): UsageStore {
  if (store instanceof KyselyMetadataStore) return new KyselyUsageStore(store.kysely);
  throw new Error('usage needs a Kysely-backed metadata store');
}
