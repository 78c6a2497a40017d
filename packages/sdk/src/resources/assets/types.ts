import type { FileDetails, FolderDetails } from '../files/types.js';

export type AssetsListRequestType = 'file' | 'file-version' | 'folder' | 'all';

export type AssetsListRequestSort =
  | 'ASC_NAME'
  | 'DESC_NAME'
  | 'ASC_CREATED'
  | 'DESC_CREATED'
  | 'ASC_UPDATED'
  | 'DESC_UPDATED'
  | 'ASC_HEIGHT'
  | 'DESC_HEIGHT'
  | 'ASC_WIDTH'
  | 'DESC_WIDTH'
  | 'ASC_SIZE'
  | 'DESC_SIZE'
  | 'ASC_RELEVANCE'
  | 'DESC_RELEVANCE';

export type AssetsListRequestFileType = 'all' | 'image' | 'non-image';

export interface AssetsListRequest {
  /** Default `file`. */
  type?: AssetsListRequestType;
  /** Default `ASC_CREATED`. */
  sort?: AssetsListRequestSort;
  /** Limit to one folder (not its subfolders), e.g. `/sales-banner/`. */
  path?: string;
  /** Lucene-like query, e.g. `createdAt > "7d"`; when set, `type`, `tags` and `name` filters are ignored. */
  searchQuery?: string;
  /** Default `all`. */
  fileType?: AssetsListRequestFileType;
  /** 1–1000, default 1000. */
  limit?: number;
  /** Default 0. */
  skip?: number;
}

/** A file, file version or folder; discriminate on `type`. */
export type AssetsListResponseItem = FileDetails | FolderDetails;
