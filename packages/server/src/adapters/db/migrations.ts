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

/**
 * The library and search: side tables that make searches index lookups (tags, custom and embedded
 * metadata values, a full-text index), custom metadata fields, background jobs and purge requests.
 */
function m0002_library(dialect: Dialect): Migration {
  return {
    async up(db: Db) {
      await db.schema
        .createTable('file_tags')
        .addColumn('file_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull()) // 'tag' | 'ai'
        .addColumn('tag', 'text', (c) => c.notNull())
        .addColumn('tag_lower', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('file_tags_pk', ['file_id', 'kind', 'tag'])
        .execute();
      await db.schema.createIndex('file_tags_lower_idx').on('file_tags').columns(['tag_lower', 'file_id']).execute();

      await db.schema
        .createTable('file_field_values')
        .addColumn('file_id', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull()) // 'custom' | 'embedded'
        .addColumn('field', 'text', (c) => c.notNull())
        .addColumn('value_text', 'text')
        .addColumn('value_lower', 'text')
        .addColumn('value_num', 'double precision')
        .execute();
      await db.schema.createIndex('ffv_file_idx').on('file_field_values').column('file_id').execute();
      await db.schema.createIndex('ffv_text_idx').on('file_field_values').columns(['source', 'field', 'value_lower', 'file_id']).execute();
      await db.schema.createIndex('ffv_num_idx').on('file_field_values').columns(['source', 'field', 'value_num', 'file_id']).execute();

      for (const col of ['format', 'size', 'width', 'height', 'updated_at', 'file_type', 'name']) {
        await db.schema.createIndex(`files_${col}_idx`).on('files').column(col).execute();
      }
      await db.schema.createIndex('files_folder_created_idx').on('files').columns(['folder_path', 'created_at']).execute();

      if (dialect === 'sqlite') {
        // Full text for HAS: one row per file, tokenised case- and accent-insensitively.
        await sql`create virtual table files_fts using fts5(file_id unindexed, name, tags, description, custom, tokenize = 'unicode61 remove_diacritics 2')`.execute(db);
      } else {
        await sql`create table files_fts (file_id text primary key, document tsvector not null, name text, tags text, description text, custom text)`.execute(db);
        await sql`create index files_fts_doc_idx on files_fts using gin (document)`.execute(db);
      }

      await db.schema
        .createTable('custom_metadata_fields')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('schema', 'text', (c) => c.notNull())
        .addColumn('is_deleted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('cmf_name_uq').unique().on('custom_metadata_fields').column('name').execute();

      await db.schema
        .createTable('jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('progress', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error', 'text')
        .addColumn('run_after', 'text', (c) => c.notNull())
        .addColumn('locked_by', 'text')
        .addColumn('locked_until', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('jobs_status_idx').on('jobs').columns(['status', 'run_after']).execute();

      await db.schema
        .createTable('purge_requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Db) {
      for (const t of ['purge_requests', 'jobs', 'custom_metadata_fields', 'files_fts', 'file_field_values', 'file_tags']) {
        await db.schema.dropTable(t).execute();
      }
    },
  };
}

export type Dialect = 'sqlite' | 'postgres';

export function migrationsFor(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_initial': m0001_initial,
    '0002_library': m0002_library(dialect),
  };
}

export class StaticMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    return migrationsFor(this.dialect);
  }
}

/** Used by health checks; cheap on both dialects. */
export async function pingDb(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
