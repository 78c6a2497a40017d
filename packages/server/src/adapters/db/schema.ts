

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

export interface Database {
  blob_journal: BlobJournalTable;
  files: FilesTable;
  file_versions: FileVersionsTable;
  folders: FoldersTable;
  upload_tokens: UploadTokensTable;
  version_counters: VersionCountersTable;
}
