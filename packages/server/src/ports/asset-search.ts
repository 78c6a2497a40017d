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

/**
 * A file as a page of results carries it: the fields FileDetails shows, with the JSON-valued
 * ones as JSON text. A page holds up to 1,000 files; the text goes into the response as it is,
 * instead of being parsed into objects only to be serialised again.
 */
export interface ListedFile
  extends Omit<FileRecord, 'tags' | 'aiTags' | 'customMetadata' | 'embeddedMetadata' | 'metadata' | 'folderPath' | 'format' | 'blobKey' | 'checksum'> {
  /** JSON text, each exactly what JSON.stringify gives for the FileRecord's field ('null' when absent). */
  json: { tags: string; aiTags: string; customMetadata: string; embeddedMetadata: string };
}

export type AssetListItem =
  | { type: 'folder'; folder: FolderRecord }
  | { type: 'file'; file: ListedFile }
  | { type: 'file-version'; file: FileRecord; version: VersionRecord };

export interface AssetSearch {
  list(q: AssetListQuery): Promise<AssetListItem[]>;
}
