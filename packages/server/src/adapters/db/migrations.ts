import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { sql } from 'kysely';

/**
 * Versioned migrations, written with Kysely's schema builder so both dialects run the same ones.
 * Never edit a migration that has shipped: add a new one.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run against an untyped schema */
type Db = Kysely<any>;

function assetColumns<T extends { addColumn: (...args: any[]) => T }>(t: T): T {
  return t
    .addColumn('name', 'text', (c: any) => c.notNull())
    .addColumn('file_path', 'text', (c: any) => c.notNull())
    .addColumn('folder_path', 'text', (c: any) => c.notNull())
    .addColumn('file_type', 'text', (c: any) => c.notNull())
    .addColumn('mime', 'text', (c: any) => c.notNull())
    .addColumn('format', 'text', (c: any) => c.notNull())
    .addColumn('size', 'bigint', (c: any) => c.notNull())
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('has_alpha', 'integer', (c: any) => c.notNull().defaultTo(0))
    .addColumn('bit_rate', 'integer')
    .addColumn('duration', 'integer')
    .addColumn('audio_codec', 'text')
    .addColumn('video_codec', 'text')
    .addColumn('tags', 'text')
    .addColumn('ai_tags', 'text')
    .addColumn('custom_coordinates', 'text')
    .addColumn('custom_metadata', 'text', (c: any) => c.notNull().defaultTo('{}'))
    .addColumn('embedded_metadata', 'text')
    .addColumn('description', 'text')
    .addColumn('is_private', 'integer', (c: any) => c.notNull().defaultTo(0))
    .addColumn('is_published', 'integer', (c: any) => c.notNull().defaultTo(1))
    .addColumn('blob_key', 'text', (c: any) => c.notNull())
    .addColumn('checksum', 'text', (c: any) => c.notNull())
    .addColumn('version_number', 'integer', (c: any) => c.notNull())
    .addColumn('created_at', 'text', (c: any) => c.notNull())
    .addColumn('updated_at', 'text', (c: any) => c.notNull());
}

const m0001_initial: Migration = {
  async up(db: Db) {
    await assetColumns(
      db.schema
        .createTable('files')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('current_version_id', 'text', (c) => c.notNull()),
    ).execute();
    await db.schema.createIndex('files_file_path_uq').unique().on('files').column('file_path').execute();
    await db.schema.createIndex('files_folder_name_idx').on('files').columns(['folder_path', 'name']).execute();
    await db.schema.createIndex('files_created_idx').on('files').column('created_at').execute();

    await assetColumns(
      db.schema
        .createTable('file_versions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('file_id', 'text', (c) => c.notNull()),
    ).execute();
    await db.schema.createIndex('file_versions_file_idx').on('file_versions').columns(['file_id', 'version_number']).execute();
    await db.schema.createIndex('file_versions_blob_idx').on('file_versions').column('blob_key').execute();

    await db.schema
      .createTable('version_counters')
      .addColumn('file_id', 'text', (c) => c.primaryKey())
      .addColumn('max_version', 'integer', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('folders')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('parent_path', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('folders_path_uq').unique().on('folders').column('path').execute();
    await db.schema.createIndex('folders_parent_idx').on('folders').columns(['parent_path', 'name']).execute();

    await db.schema
      .createTable('upload_tokens')
      .addColumn('token', 'text', (c) => c.primaryKey())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('used_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('upload_tokens_expires_idx').on('upload_tokens').column('expires_at').execute();

    await db.schema
      .createTable('blob_journal')
      .addColumn('blob_key', 'text', (c) => c.primaryKey())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
  },
  async down(db: Db) {
    for (const t of ['blob_journal', 'upload_tokens', 'folders', 'version_counters', 'file_versions', 'files']) {
      await db.schema.dropTable(t).execute();
    }
  },
};

export const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': m0001_initial,
};

export class StaticMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

/** Used by health checks; cheap on both dialects. */
export async function pingDb(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
