

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
}

export interface FileFieldValuesTable {
  file_id: string;
  source: 'custom' | 'embedded';
  field: string;
  value_text: string | null;
  value_lower: string | null;
  value_num: number | null;
}

/** SQLite: an FTS5 table; PostgreSQL: a table with a tsvector `document` column. */
export interface FilesFtsTable {
  file_id: string;
  name: string;
  tags: string;
  description: string;
  custom: string;
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

export interface Database {
  file_tags: FileTagsTable;
  file_field_values: FileFieldValuesTable;
  files_fts: FilesFtsTable;
  custom_metadata_fields: CustomMetadataFieldsTable;
  jobs: JobsTable;
  purge_requests: PurgeRequestsTable;
  blob_journal: BlobJournalTable;
  files: FilesTable;
  file_versions: FileVersionsTable;
  folders: FoldersTable;
  upload_tokens: UploadTokensTable;
  version_counters: VersionCountersTable;
}
