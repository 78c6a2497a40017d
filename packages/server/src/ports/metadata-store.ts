/**
 * The metadata store port: rows for files, their versions, folders and single-use upload tokens.
 * One implementation per backend (SQLite now, PostgreSQL later) behind this interface.
 */

export interface AITag {
  name: string;
  confidence: number;
  source: string;
}

/** Everything a file version carries; the current version's state is mirrored on the file row. */
export interface AssetState {
  name: string;
  /** '/folder/sub/name.jpg' */
  filePath: string;
  /** '/', '/folder/', '/folder/sub/' (always with a trailing slash) */
  folderPath: string;
  fileType: 'image' | 'non-image';
  mime: string;
  /** Lowercase format/extension, e.g. 'jpg', 'png', 'pdf'. */
  format: string;
  size: number;
  width: number | null;
  height: number | null;
  hasAlpha: boolean;
  bitRate: number | null;
  duration: number | null;
  audioCodec: string | null;
  videoCodec: string | null;
  tags: string[] | null;
  aiTags: AITag[] | null;
  customCoordinates: string | null;
  customMetadata: Record<string, unknown>;
  embeddedMetadata: Record<string, unknown> | null;
  /**
   * The spec's `Metadata` object, computed once from the bytes at upload. Absent or null on rows
   * written before it existed; readers fall back to the columns above.
   */
  metadata?: Record<string, unknown> | null;
  description: string | null;
  isPrivate: boolean;
  isPublished: boolean;
  blobKey: string;
  /** sha256 hex of the bytes */
  checksum: string;
  versionNumber: number;
  createdAt: string;
  updatedAt: string;
}

export interface FileRecord extends AssetState {
  id: string;
  currentVersionId: string;
}

export interface VersionRecord extends AssetState {
  id: string;
  fileId: string;
}

export interface FolderRecord {
  id: string;
  /** '/a/b/' */
  path: string;
  name: string;
  parentPath: string;
  createdAt: string;
  updatedAt: string;
}

export type FilePatch = Partial<Omit<FileRecord, 'id'>>;
export type VersionPatch = Partial<Omit<VersionRecord, 'id' | 'fileId'>>;

export interface MetadataRepo {
  getFile(id: string): Promise<FileRecord | undefined>;
  getFileByPath(filePath: string): Promise<FileRecord | undefined>;
  getFiles(ids: readonly string[]): Promise<FileRecord[]>;
  insertFile(rec: FileRecord): Promise<void>;
  updateFile(id: string, patch: FilePatch): Promise<void>;
  deleteFile(id: string): Promise<void>;

  listVersions(fileId: string): Promise<VersionRecord[]>;
  getVersion(fileId: string, versionId: string): Promise<VersionRecord | undefined>;
  insertVersion(rec: VersionRecord): Promise<void>;
  updateVersion(id: string, patch: VersionPatch): Promise<void>;
  updateVersionsOfFile(fileId: string, patch: VersionPatch): Promise<void>;
  deleteVersion(id: string): Promise<void>;
  /** Highest versionNumber used for the file (deleted versions still count, so names never repeat). */
  maxVersionNumber(fileId: string): Promise<number>;

  getFolder(path: string): Promise<FolderRecord | undefined>;
  insertFolder(rec: FolderRecord): Promise<void>;

  // A folder's subtree ('/a/' holds '/a/x.jpg', '/a/b/y.jpg'), read in keyset batches so a
  // folder of any size is processed without loading it whole.
  /** Files whose path starts with the folder path, ordered by filePath, after `afterPath` (exclusive). */
  listFilesUnder(folderPath: string, afterPath: string | null, limit: number): Promise<FileRecord[]>;
  /** The folder itself and every nested folder, ordered by path, after `afterPath` (exclusive). */
  listFoldersUnder(folderPath: string, afterPath: string | null, limit: number): Promise<FolderRecord[]>;
  /** Files + their versions + folders in the subtree (the folder itself included), counting at most `cap`. */
  countUnder(folderPath: string, cap: number): Promise<number>;
  updateFolder(path: string, patch: Partial<Omit<FolderRecord, 'id'>>): Promise<void>;
  deleteFolders(paths: readonly string[]): Promise<void>;

  /** Records a client-side upload token; false when it was seen before (replay). */
  consumeUploadToken(token: string, expiresAt: string, now: string): Promise<boolean>;
  /** Whether any version row points at this blob key. */
  blobKeyInUse(key: string): Promise<boolean>;

  /**
   * The blob journal: keys whose bytes may exist without a row (written before their row
   * commits, or about to be deleted after it). The start-up sweep settles each entry.
   */
  journalBlobs(keys: readonly string[], now: string): Promise<void>;
  unjournalBlobs(keys: readonly string[]): Promise<void>;
  /** Up to `limit` journaled keys; with createdBefore (ISO time), only entries journaled before it. */
  journaledBlobs(limit: number, createdBefore?: string): Promise<string[]>;
}

export interface StoreCapabilities {
  readonly dialect: 'sqlite' | 'postgres';
}

export interface MetadataStore {
  readonly capabilities: StoreCapabilities;
  /** Non-transactional access. */
  readonly repo: MetadataRepo;
  /** Runs fn in one transaction; everything commits or nothing does. */
  transaction<T>(fn: (tx: MetadataRepo) => Promise<T>): Promise<T>;
  /** Drops expired upload tokens. */
  pruneUploadTokens(now: string): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
