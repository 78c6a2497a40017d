

/**
 * Row types as stored. Booleans are 0/1 integers and JSON is text so the same queries run on
 * SQLite and PostgreSQL; times are ISO 8601 UTC strings (they sort as text).
 */
export interface AssetColumns {
  name: string;
  file_path: string;
  folder_path: string;
  file_type: string;
  mime: string;
  format: string;
  size: number;
  width: number | null;
  height: number | null;
  has_alpha: number;
  bit_rate: number | null;
  duration: number | null;
  audio_codec: string | null;
  video_codec: string | null;
  tags: string | null;
  ai_tags: string | null;
  custom_coordinates: string | null;
  custom_metadata: string;
  embedded_metadata: string | null;
  /** JSON: the Metadata object computed at upload (migration 0004). */
  metadata: string | null;
  description: string | null;
  is_private: number;
  is_published: number;
  blob_key: string;
  checksum: string;
  version_number: number;
  created_at: string;
  updated_at: string;
}

export interface FilesTable extends AssetColumns {
  id: string;
  current_version_id: string;
}

export interface FileVersionsTable extends AssetColumns {
  id: string;
  file_id: string;
}

export interface FoldersTable {
  id: string;
  path: string;
  name: string;
  parent_path: string;
  created_at: string;
  updated_at: string;
}

export interface UploadTokensTable {
  token: string;
  expires_at: string;
  used_at: string;
}

export interface VersionCountersTable {
  file_id: string;
  max_version: number;
}

export interface BlobJournalTable {
  blob_key: string;
  created_at: string;
}

export interface FileTagsTable {
  file_id: string;
  kind: 'tag' | 'ai';
  tag: string;
  tag_lower: string;
  /** The file's created_at (migration 0004), so tag matches read in creation order from the index. */
  created_at: string | null;
}

export interface FileFieldValuesTable {
  file_id: string;
  source: 'custom' | 'embedded';
  field: string;
  value_text: string | null;
  value_lower: string | null;
  value_num: number | null;
  /** The file's created_at (migration 0004). */
  created_at: string | null;
}

/** SQLite: an FTS5 table; PostgreSQL: a table with a tsvector `document` column. */
export interface FilesFtsTable {
  file_id: string;
  name: string;
  tags: string;
  description: string;
  custom: string;
}

/** SQLite only: the files_fts rowid of each file's full-text row (FTS5 cannot index file_id). */
export interface FilesFtsMapTable {
  file_id: string;
  fts_rowid: number;
}

export interface CustomMetadataFieldsTable {
  id: string;
  name: string;
  label: string;
  schema: string;
  is_deleted: number;
  created_at: string;
  updated_at: string;
}

export interface JobsTable {
  id: string;
  type: string;
  status: string;
  params: string;
  progress: string;
  attempts: number;
  error: string | null;
  run_after: string;
  locked_by: string | null;
  locked_until: string | null;
  created_at: string;
  updated_at: string;
}

export interface PurgeRequestsTable {
  id: string;
  status: string;
  target: string;
  created_at: string;
  updated_at: string;
}

export interface OriginsTable {
  id: string;
  name: string;
  type: string;
  /** JSON: the origin type's fields, secrets included. */
  config: string;
  created_at: string;
  updated_at: string;
}

export interface UrlEndpointsTable {
  id: string;
  description: string;
  url_prefix: string;
  url_rewriter: string | null;
  created_at: string;
  updated_at: string;
}

export interface UrlEndpointOriginsTable {
  endpoint_id: string;
  position: number;
  origin_id: string;
}

export interface UsageDailyTable {
  day: string;
  bandwidth_bytes: number;
  requests: number;
  extension_units: number;
  video_units: number;
  library_bytes: number | null;
  original_cache_bytes: number | null;
}

export interface SavedExtensionsTable {
  id: string;
  name: string;
  description: string;
  /** JSON: the ExtensionConfig */
  config: string;
  created_at: string;
  updated_at: string;
}

/** One row per webhook delivery attempt. */
export interface WebhookDeliveriesTable {
  id: string;
  event_id: string;
  event_type: string;
  url: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  created_at: string;
}

/** One row per rate-limited key: its current fixed window (ms since the epoch) and the hits in it. */
export interface RateLimitsTable {
  key: string;
  window_start: number;
  hits: number;
}

export interface Database {
  saved_extensions: SavedExtensionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  file_tags: FileTagsTable;
  file_field_values: FileFieldValuesTable;
  files_fts: FilesFtsTable;
  files_fts_map: FilesFtsMapTable;
  custom_metadata_fields: CustomMetadataFieldsTable;
  jobs: JobsTable;
  purge_requests: PurgeRequestsTable;
  blob_journal: BlobJournalTable;
  files: FilesTable;
  file_versions: FileVersionsTable;
  folders: FoldersTable;
  upload_tokens: UploadTokensTable;
  version_counters: VersionCountersTable;
  origins: OriginsTable;
  url_endpoints: UrlEndpointsTable;
  url_endpoint_origins: UrlEndpointOriginsTable;
  usage_daily: UsageDailyTable;
  rate_limits: RateLimitsTable;
}
