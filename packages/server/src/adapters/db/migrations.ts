import type { ColumnDataType, Expression, Kysely, Migration, MigrationProvider } from 'kysely';
import { sql } from 'kysely';

/**
 * Versioned migrations, written with Kysely's schema builder so both dialects run the same ones.
 * Never edit a migration that has shipped: add a new one.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run against an untyped schema */
type Db = Kysely<any>;

/**
 * Column types per dialect. PostgreSQL text columns use the "C" collation: paths are found by
 * byte-range scans (see subtreeRange), names sort bytewise and ISO times compare as text, exactly
 * as under SQLite's BINARY collation, whatever the database's locale. JSON of a file (metadata,
 * tags) is jsonb on PostgreSQL: parsed once, GIN-indexable; SQLite keeps it as text.
 */
type DataTypeExpression = ColumnDataType | Expression<unknown>;
interface ColumnTypes {
  text: DataTypeExpression;
  json: DataTypeExpression;
  /** JSON kept as its exact text: `json` on PostgreSQL (unlike jsonb it may hold \u0000, as EXIF does). */
  exactJson: DataTypeExpression;
}
function typesFor(dialect: Dialect): ColumnTypes {
  return dialect === 'postgres'
    ? { text: sql`text collate "C"`, json: 'jsonb', exactJson: 'json' }
    : { text: 'text', json: 'text', exactJson: 'text' };
}

function assetColumns<T extends { addColumn: (...args: any[]) => T }>(t: T, ty: ColumnTypes): T {
  return t
    .addColumn('name', ty.text, (c: any) => c.notNull())
    .addColumn('file_path', ty.text, (c: any) => c.notNull())
    .addColumn('folder_path', ty.text, (c: any) => c.notNull())
    .addColumn('file_type', ty.text, (c: any) => c.notNull())
    .addColumn('mime', ty.text, (c: any) => c.notNull())
    .addColumn('format', ty.text, (c: any) => c.notNull())
    .addColumn('size', 'bigint', (c: any) => c.notNull())
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('has_alpha', 'integer', (c: any) => c.notNull().defaultTo(0))
    .addColumn('bit_rate', 'integer')
    .addColumn('duration', 'integer')
    .addColumn('audio_codec', ty.text)
    .addColumn('video_codec', ty.text)
    .addColumn('tags', ty.json)
    .addColumn('ai_tags', ty.json)
    .addColumn('custom_coordinates', ty.text)
    .addColumn('custom_metadata', ty.json, (c: any) => c.notNull().defaultTo('{}'))
    .addColumn('embedded_metadata', ty.json)
    .addColumn('description', ty.text)
    .addColumn('is_private', 'integer', (c: any) => c.notNull().defaultTo(0))
    .addColumn('is_published', 'integer', (c: any) => c.notNull().defaultTo(1))
    .addColumn('blob_key', ty.text, (c: any) => c.notNull())
    .addColumn('checksum', ty.text, (c: any) => c.notNull())
    .addColumn('version_number', 'integer', (c: any) => c.notNull())
    .addColumn('created_at', ty.text, (c: any) => c.notNull())
    .addColumn('updated_at', ty.text, (c: any) => c.notNull());
}

function m0001_initial(dialect: Dialect): Migration {
  const ty = typesFor(dialect);
  return {
    async up(db: Db) {
      await assetColumns(
        db.schema
          .createTable('files')
          .addColumn('id', ty.text, (c) => c.primaryKey())
          .addColumn('current_version_id', ty.text, (c) => c.notNull()),
        ty,
      ).execute();
      await db.schema.createIndex('files_file_path_uq').unique().on('files').column('file_path').execute();
      await db.schema.createIndex('files_folder_name_idx').on('files').columns(['folder_path', 'name']).execute();
      await db.schema.createIndex('files_created_idx').on('files').column('created_at').execute();
      if (dialect === 'postgres') {
        // Containment queries on a file's metadata (custom_metadata @> '{"k": v}') use these.
        await sql`create index files_custom_metadata_gin on files using gin (custom_metadata jsonb_path_ops)`.execute(db);
        await sql`create index files_embedded_metadata_gin on files using gin (embedded_metadata jsonb_path_ops)`.execute(db);
      }

      await assetColumns(
        db.schema
          .createTable('file_versions')
          .addColumn('id', ty.text, (c) => c.primaryKey())
          .addColumn('file_id', ty.text, (c) => c.notNull()),
        ty,
      ).execute();
      await db.schema.createIndex('file_versions_file_idx').on('file_versions').columns(['file_id', 'version_number']).execute();
      await db.schema.createIndex('file_versions_blob_idx').on('file_versions').column('blob_key').execute();

      await db.schema
        .createTable('version_counters')
        .addColumn('file_id', ty.text, (c) => c.primaryKey())
        .addColumn('max_version', 'integer', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('folders')
        .addColumn('id', ty.text, (c) => c.primaryKey())
        .addColumn('path', ty.text, (c) => c.notNull())
        .addColumn('name', ty.text, (c) => c.notNull())
        .addColumn('parent_path', ty.text, (c) => c.notNull())
        .addColumn('created_at', ty.text, (c) => c.notNull())
        .addColumn('updated_at', ty.text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('folders_path_uq').unique().on('folders').column('path').execute();
      await db.schema.createIndex('folders_parent_idx').on('folders').columns(['parent_path', 'name']).execute();

      await db.schema
        .createTable('upload_tokens')
        .addColumn('token', ty.text, (c) => c.primaryKey())
        .addColumn('expires_at', ty.text, (c) => c.notNull())
        .addColumn('used_at', ty.text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('upload_tokens_expires_idx').on('upload_tokens').column('expires_at').execute();

      await db.schema
        .createTable('blob_journal')
        .addColumn('blob_key', ty.text, (c) => c.primaryKey())
        .addColumn('created_at', ty.text, (c) => c.notNull())
        .execute();
    },
    async down(db: Db) {
      for (const t of ['blob_journal', 'upload_tokens', 'folders', 'version_counters', 'file_versions', 'files']) {
        await db.schema.dropTable(t).execute();
      }
    },
  };
}

/**
 * The library and search: side tables that make searches index lookups (tags, custom and embedded
 * metadata values, a full-text index), custom metadata fields, background jobs and purge requests.
 */
function m0002_library(dialect: Dialect): Migration {
  const ty = typesFor(dialect);
  return {
    async up(db: Db) {
      await db.schema
        .createTable('file_tags')
        .addColumn('file_id', ty.text, (c) => c.notNull())
        .addColumn('kind', ty.text, (c) => c.notNull()) // 'tag' | 'ai'
        .addColumn('tag', ty.text, (c) => c.notNull())
        .addColumn('tag_lower', ty.text, (c) => c.notNull())
        .addPrimaryKeyConstraint('file_tags_pk', ['file_id', 'kind', 'tag'])
        .execute();
      await db.schema.createIndex('file_tags_lower_idx').on('file_tags').columns(['tag_lower', 'file_id']).execute();

      await db.schema
        .createTable('file_field_values')
        .addColumn('file_id', ty.text, (c) => c.notNull())
        .addColumn('source', ty.text, (c) => c.notNull()) // 'custom' | 'embedded'
        .addColumn('field', ty.text, (c) => c.notNull())
        .addColumn('value_text', ty.text)
        .addColumn('value_lower', ty.text)
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
        // The text columns hold the analyser's word form (wordsText), so to_tsvector splits them
        // into exactly the words searchQuery looks for.
        await sql`create table files_fts (file_id text collate "C" primary key, document tsvector not null, name text, tags text, description text, custom text)`.execute(db);
        await sql`create index files_fts_doc_idx on files_fts using gin (document)`.execute(db);
      }

      await db.schema
        .createTable('custom_metadata_fields')
        .addColumn('id', ty.text, (c) => c.primaryKey())
        .addColumn('name', ty.text, (c) => c.notNull())
        .addColumn('label', ty.text, (c) => c.notNull())
        .addColumn('schema', ty.text, (c) => c.notNull())
        .addColumn('is_deleted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', ty.text, (c) => c.notNull())
        .addColumn('updated_at', ty.text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('cmf_name_uq').unique().on('custom_metadata_fields').column('name').execute();

      await db.schema
        .createTable('jobs')
        .addColumn('id', ty.text, (c) => c.primaryKey())
        .addColumn('type', ty.text, (c) => c.notNull())
        .addColumn('status', ty.text, (c) => c.notNull())
        .addColumn('params', ty.text, (c) => c.notNull())
        .addColumn('progress', ty.text, (c) => c.notNull().defaultTo('{}'))
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error', ty.text)
        .addColumn('run_after', ty.text, (c) => c.notNull())
        .addColumn('locked_by', ty.text)
        .addColumn('locked_until', ty.text)
        .addColumn('created_at', ty.text, (c) => c.notNull())
        .addColumn('updated_at', ty.text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('jobs_status_idx').on('jobs').columns(['status', 'run_after']).execute();

      await db.schema
        .createTable('purge_requests')
        .addColumn('id', ty.text, (c) => c.primaryKey())
        .addColumn('status', ty.text, (c) => c.notNull())
        .addColumn('target', ty.text, (c) => c.notNull())
        .addColumn('created_at', ty.text, (c) => c.notNull())
        .addColumn('updated_at', ty.text, (c) => c.notNull())
        .execute();
    },
    async down(db: Db) {
      for (const t of ['purge_requests', 'jobs', 'custom_metadata_fields', 'files_fts', 'file_field_values', 'file_tags']) {
        await db.schema.dropTable(t).execute();
      }
    },
  };
}

/**
 * Accounts: origins, URL endpoints (with the default endpoint every account has) and the
 * per-day usage counters. An endpoint's origins are rows, so "is this origin in use" is an index
 * lookup and the foreign keys refuse a dangling or deleted origin even under concurrent writes.
 */
function m0003_accounts(dialect: Dialect): Migration {
  const ty = typesFor(dialect);
  return {
    async up(db: Db) {
      await db.schema
        .createTable('origins')
        .addColumn('id', ty.text, (c) => c.primaryKey())
        .addColumn('name', ty.text, (c) => c.notNull())
        .addColumn('type', ty.text, (c) => c.notNull())
        .addColumn('config', ty.text, (c) => c.notNull()) // JSON: the type's fields, secrets included
        .addColumn('created_at', ty.text, (c) => c.notNull())
        .addColumn('updated_at', ty.text, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('url_endpoints')
        .addColumn('id', ty.text, (c) => c.primaryKey())
        .addColumn('description', ty.text, (c) => c.notNull())
        .addColumn('url_prefix', ty.text, (c) => c.notNull())
        .addColumn('url_rewriter', ty.text) // JSON or null
        .addColumn('created_at', ty.text, (c) => c.notNull())
        .addColumn('updated_at', ty.text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('url_endpoints_prefix_uq').unique().on('url_endpoints').column('url_prefix').execute();

      await db.schema
        .createTable('url_endpoint_origins')
        .addColumn('endpoint_id', ty.text, (c) => c.notNull().references('url_endpoints.id').onDelete('cascade'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('origin_id', ty.text, (c) => c.notNull().references('origins.id'))
        .addPrimaryKeyConstraint('url_endpoint_origins_pk', ['endpoint_id', 'position'])
        .execute();
      await db.schema.createIndex('ueo_origin_idx').on('url_endpoint_origins').column('origin_id').execute();

      const now = new Date().toISOString();
      await db
        .insertInto('url_endpoints')
        .values({ id: 'default', description: 'Default URL-endpoint', url_prefix: '', url_rewriter: null, created_at: now, updated_at: now })
        .execute();

      await db.schema
        .createTable('usage_daily')
        .addColumn('day', ty.text, (c) => c.primaryKey()) // YYYY-MM-DD, UTC
        .addColumn('bandwidth_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('requests', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('extension_units', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('video_units', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('library_bytes', 'bigint') // last sample of the day, null when none
        .addColumn('original_cache_bytes', 'bigint')
        .execute();
    },
    async down(db: Db) {
      for (const t of ['usage_daily', 'url_endpoint_origins', 'url_endpoints', 'origins']) {
        await db.schema.dropTable(t).execute();
      }
    },
  };
}

/**
 * Search at a million files.
 * - SQLite: files_fts_map gives each file's FTS rowid, so rewriting a file's full-text row is a
 *   key lookup instead of a scan of the FTS table (FTS5 cannot index its file_id column).
 * - file_tags and file_field_values carry the file's created_at, indexed after the value: a search
 *   on one tag or metadata value reads its matches in the default (creation) order from the index
 *   and stops after one page, instead of sorting every match.
 * - The sort indexes of files also hold the id, so scans in sort order can test tag and metadata
 *   conditions (which join on the id) without reading each row; `name : "prefix"` sorted by
 *   creation reads (name, created_at) from one index.
 * - format and file_type are indexed with created_at: `format = "jpg" AND createdAt > "7d"` in
 *   the default order is one index range, and the planner needs no statistics to find it (alone,
 *   a low-cardinality index looks selective to SQLite without ANALYZE, and is not).
 */
function m0004_search(dialect: Dialect): Migration {
  const ty = typesFor(dialect);
  return {
    async up(db: Db) {
      if (dialect === 'sqlite') {
        await db.schema
          .createTable('files_fts_map')
          .addColumn('file_id', ty.text, (c) => c.primaryKey())
          .addColumn('fts_rowid', 'integer', (c) => c.notNull())
          .execute();
        await sql`insert into files_fts_map (file_id, fts_rowid) select file_id, max(rowid) from files_fts group by file_id`.execute(db);
      }
      for (const t of ['file_tags', 'file_field_values']) {
        await db.schema.alterTable(t).addColumn('created_at', ty.text).execute();
        await sql`update ${sql.table(t)} set created_at = (select f.created_at from files f where f.id = ${sql.ref(`${t}.file_id`)})`.execute(db);
      }
      await db.schema.createIndex('file_tags_created_idx').on('file_tags').columns(['tag_lower', 'created_at', 'file_id']).execute();
      await db.schema
        .createIndex('ffv_created_idx')
        .on('file_field_values')
        .columns(['source', 'field', 'value_lower', 'created_at', 'file_id'])
        .execute();
      for (const [old, name, cols] of [
        ['files_created_idx', 'files_created_id_idx', ['created_at', 'id']],
        ['files_updated_at_idx', 'files_updated_id_idx', ['updated_at', 'id']],
        ['files_name_idx', 'files_name_created_idx', ['name', 'created_at', 'id']],
        ['files_format_idx', 'files_format_created_idx', ['format', 'created_at', 'id']],
        ['files_file_type_idx', 'files_type_created_idx', ['file_type', 'created_at', 'id']],
      ] as const) {
        await db.schema.createIndex(name).on('files').columns([...cols]).execute();
        await db.schema.dropIndex(old).execute();
      }
    },
    async down(db: Db) {
      await db.schema.createIndex('files_created_idx').on('files').column('created_at').execute();
      await db.schema.createIndex('files_updated_at_idx').on('files').column('updated_at').execute();
      await db.schema.createIndex('files_name_idx').on('files').column('name').execute();
      await db.schema.createIndex('files_format_idx').on('files').column('format').execute();
      await db.schema.createIndex('files_file_type_idx').on('files').column('file_type').execute();
      for (const ix of [
        'files_created_id_idx',
        'files_updated_id_idx',
        'files_name_created_idx',
        'files_format_created_idx',
        'files_type_created_idx',
        'ffv_created_idx',
        'file_tags_created_idx',
      ]) {
        await db.schema.dropIndex(ix).execute();
      }
      for (const t of ['file_tags', 'file_field_values']) await db.schema.alterTable(t).dropColumn('created_at').execute();
      if (dialect === 'sqlite') await db.schema.dropTable('files_fts_map').execute();
    },
  };
}

function m0005_metadata(dialect: Dialect): Migration {
  const ty = typesFor(dialect);
  return {
    async up(db: Db) {
      await db.schema.alterTable('files').addColumn('metadata', ty.exactJson).execute();
      await db.schema.alterTable('file_versions').addColumn('metadata', ty.exactJson).execute();
    },
    async down(db: Db) {
      await db.schema.alterTable('file_versions').dropColumn('metadata').execute();
      await db.schema.alterTable('files').dropColumn('metadata').execute();
    },
  };
}

function m0006_extensions_webhooks(dialect: Dialect): Migration {
  const ty = typesFor(dialect);
  return {
    async up(db: Db) {
      await db.schema
        .createTable('saved_extensions')
        .addColumn('id', ty.text, (c) => c.primaryKey())
        .addColumn('name', ty.text, (c) => c.notNull())
        .addColumn('description', ty.text, (c) => c.notNull())
        .addColumn('config', ty.text, (c) => c.notNull())
        .addColumn('created_at', ty.text, (c) => c.notNull())
        .addColumn('updated_at', ty.text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('saved_extensions_created_idx').on('saved_extensions').columns(['created_at', 'id']).execute();
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', ty.text, (c) => c.primaryKey())
        .addColumn('event_id', ty.text, (c) => c.notNull())
        .addColumn('event_type', ty.text, (c) => c.notNull())
        .addColumn('url', ty.text, (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('error', ty.text)
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addColumn('created_at', ty.text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhook_deliveries_event_idx').on('webhook_deliveries').columns(['event_id', 'url']).execute();
      await db.schema.createIndex('webhook_deliveries_created_idx').on('webhook_deliveries').column('created_at').execute();
    },
    async down(db: Db) {
      await db.schema.dropTable('webhook_deliveries').execute();
      await db.schema.dropTable('saved_extensions').execute();
    },
  };
}

/**
 * Shared rate-limit counters (adapters/ratelimit/pg.ts): one row per key holding its current fixed
 * window, so every node of a scale-out deployment counts against the same limit.
 */
const m0007_rate_limits: Migration = {
  async up(db: Db) {
    await db.schema
      .createTable('rate_limits')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('window_start', 'bigint', (c) => c.notNull())
      .addColumn('hits', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('rate_limits_window_idx').on('rate_limits').column('window_start').execute();
  },
  async down(db: Db) {
    await db.schema.dropTable('rate_limits').execute();
  },
};

export type Dialect = 'sqlite' | 'postgres';

export function migrationsFor(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_initial': m0001_initial(dialect),
    '0002_library': m0002_library(dialect),
    '0003_accounts': m0003_accounts(dialect),
    '0004_search': m0004_search(dialect),
    '0005_metadata': m0005_metadata(dialect),
    '0006_extensions_webhooks': m0006_extensions_webhooks(dialect),
    '0007_rate_limits': m0007_rate_limits,
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
