import type { Kysely } from 'kysely';
import type { MetadataStore } from '../../ports/metadata-store.js';
import type { SavedExtensionRecord, SavedExtensionStore } from '../../ports/saved-extension-store.js';
import type { WebhookDeliveryRecord, WebhookLog } from '../../ports/webhook-log.js';
import { KyselyMetadataStore } from './kysely-store.js';
import type { Database, SavedExtensionsTable, WebhookDeliveriesTable } from './schema.js';

/** Saved extensions and the webhook delivery log over Kysely, on the metadata store's database. */

function savedFromRow(r: SavedExtensionsTable): SavedExtensionRecord {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(r.config) as Record<string, unknown>;
  } catch {
    config = {};
  }
  return { id: r.id, name: r.name, description: r.description, config, createdAt: r.created_at, updatedAt: r.updated_at };
}

class KyselySavedExtensionStore implements SavedExtensionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async list() {
    const rows = await this.db.selectFrom('saved_extensions').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(savedFromRow);
  }

  async get(id: string) {
    const r = await this.db.selectFrom('saved_extensions').selectAll().where('id', '=', id).executeTakeFirst();
    return r && savedFromRow(r);
  }

  async insertUnderLimit(rec: SavedExtensionRecord, limit: number) {
    return this.db.transaction().execute(async (trx) => {
      const { n } = await trx.selectFrom('saved_extensions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      if (Number(n) >= limit) return false;
      await trx
        .insertInto('saved_extensions')
        .values({
          id: rec.id,
          name: rec.name,
          description: rec.description,
          config: JSON.stringify(rec.config),
          created_at: rec.createdAt,
          updated_at: rec.updatedAt,
        })
        .execute();
      return true;
    });
  }

  async update(id: string, patch: Partial<Pick<SavedExtensionRecord, 'name' | 'description' | 'config' | 'updatedAt'>>) {
    const values: Partial<SavedExtensionsTable> = {};
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.description !== undefined) values.description = patch.description;
    if (patch.config !== undefined) values.config = JSON.stringify(patch.config);
    if (patch.updatedAt !== undefined) values.updated_at = patch.updatedAt;
    if (Object.keys(values).length === 0) return (await this.get(id)) !== undefined;
    const res = await this.db.updateTable('saved_extensions').set(values).where('id', '=', id).executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  async delete(id: string) {
    const res = await this.db.deleteFrom('saved_extensions').where('id', '=', id).executeTakeFirst();
    return res.numDeletedRows > 0n;
  }
}

function deliveryFromRow(r: WebhookDeliveriesTable): WebhookDeliveryRecord {
  return {
    id: r.id,
    eventId: r.event_id,
    eventType: r.event_type,
    url: r.url,
    attempt: Number(r.attempt),
    statusCode: r.status_code === null ? null : Number(r.status_code),
    error: r.error,
    durationMs: Number(r.duration_ms),
    createdAt: r.created_at,
  };
}

class KyselyWebhookLog implements WebhookLog {
  constructor(private readonly db: Kysely<Database>) {}

  async record(rec: WebhookDeliveryRecord) {
    await this.db
      .insertInto('webhook_deliveries')
      .values({
        id: rec.id,
        event_id: rec.eventId,
        event_type: rec.eventType,
        url: rec.url,
        attempt: rec.attempt,
        status_code: rec.statusCode,
        error: rec.error,
        duration_ms: rec.durationMs,
        created_at: rec.createdAt,
      })
      .execute();
  }

  async delivered(eventId: string, url: string) {
    const r = await this.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('event_id', '=', eventId)
      .where('url', '=', url)
      .where('status_code', '>=', 200)
      .where('status_code', '<', 300)
      .limit(1)
      .executeTakeFirst();
    return r !== undefined;
  }

  async list(opts: { eventId?: string; limit?: number }) {
    let q = this.db.selectFrom('webhook_deliveries').selectAll();
    if (opts.eventId !== undefined) {
      const rows = await q.where('event_id', '=', opts.eventId).orderBy('created_at').orderBy('attempt').execute();
      return rows.map(deliveryFromRow);
    }
    q = q.orderBy('created_at', 'desc').limit(opts.limit ?? 100);
    return (await q.execute()).map(deliveryFromRow).reverse();
  }
}

function kyselyOf(store: MetadataStore): Kysely<Database> {
  if (!(store instanceof KyselyMetadataStore)) throw new Error('saved extensions and the webhook log need the Kysely metadata store');
  return store.kysely;
}

export function savedExtensionStoreFor(store: MetadataStore): SavedExtensionStore {
  return new KyselySavedExtensionStore(kyselyOf(store));
}

export function webhookLogFor(store: MetadataStore): WebhookLog {
  return new KyselyWebhookLog(kyselyOf(store));
}
