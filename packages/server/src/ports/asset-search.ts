import type { CheckedExpr, SortDir, SortKey } from '../search/index.js';
import type { FileRecord, FolderRecord, VersionRecord } from './metadata-store.js';

/**
 * The list-and-search port: pages through files, older file versions and folders that match an
 * analysed searchQuery. One implementation per backend, next to its MetadataStore.
 */

export type ListSource = 'folder' | 'file' | 'version';

export interface AssetListQuery {
  /** Which kinds of rows to return, in the order they are listed (each kind sorted on its own). */
  sources: ListSource[];
  /** Everything the rows must match (path, searchQuery, legacy filters); null matches all. */
  filter: CheckedExpr | null;
  /** Applies to files and versions; folders are not files and are never filtered by it. */
  fileType: 'all' | 'image' | 'non-image';
  sort: { key: SortKey; dir: SortDir };
  skip: number;
  limit: number;
}

export type AssetListItem =
  | { type: 'folder'; folder: FolderRecord }
  | { type: 'file'; file: FileRecord }
  | { type: 'file-version'; file: FileRecord; version: VersionRecord };

export interface AssetSearch {
  list(q: AssetListQuery): Promise<AssetListItem[]>;
}
