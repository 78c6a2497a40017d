import { Migrator, sql, type AliasedSelectQueryBuilder, type Kysely, type Transaction } from 'kysely';
import type {
  AssetState,
  FilePatch,
  FileRecord,
  FolderRecord,
  MetadataRepo,
  MetadataStore,
  StoreCapabilities,
  VersionPatch,
  VersionRecord,
} from '../../ports/metadata-store.js';
import { serviceUnavailable } from '../../errors/index.js';
import { wordsText } from '../../search/index.js';
import { StaticMigrationProvider, pingDb } from './migrations.js';
import type { AssetColumns, Database, FileVersionsTable, FilesTable, FoldersTable } from './schema.js';

/**
 * The MetadataStore over Kysely. The queries are dialect-neutral; each backend only supplies
 * its Kysely instance (sqlite/, postgres/) and capability flags.
 */

const json = (v: unknown): string => JSON.stringify(v);

/**
 * PostgreSQL's text and jsonb cannot hold U+0000, which EXIF strings sometimes carry. On
 * PostgreSQL the searchable JSON columns (jsonb) and side-table values lose it; the `metadata`
 * column is `json` there (exact text, \u0000 allowed), so the Metadata API answers byte for byte.
 */
const JSON_NUL_ESCAPE = /(?<!\\)((?:\\\\)*)\\u0000/g;
const JSONB_COLUMNS = ['tags', 'ai_tags', 'custom_metadata', 'embedded_metadata'] as const;
function forPostgres<T extends Partial<AssetColumns>>(c: T): T {
  for (const k of JSONB_COLUMNS) {
    const v = c[k];
    if (typeof v === 'string' && v.includes('\\u0000')) (c as Partial<AssetColumns>)[k] = v.replace(JSON_NUL_ESCAPE, '$1');
  }
  return c;
}
const withoutNul = (s: string | null): string | null => (s !== null && s.includes('\u0000') ? s.replace(/\u0000/g, '') : s);
/** JSON columns: text on SQLite, jsonb on PostgreSQL (which pg hands back already parsed). */
function parseJson<T>(s: string | null | object, fallback: T): T {
  if (s === null) return fallback;
  if (typeof s !== 'string') return s as T;
  try {
    return JSON.parse(s) as T;
  } catch {
    return fallback;
  }
}

export function toColumns(a: Partial<AssetState>): Partial<AssetColumns> {
  const c: Partial<AssetColumns> = {};
  if (a.name !== undefined) c.name = a.name;
  if (a.filePath !== undefined) c.file_path = a.filePath;
  if (a.folderPath !== undefined) c.folder_path = a.folderPath;
  if (a.fileType !== undefined) c.file_type = a.fileType;
  if (a.mime !== undefined) c.mime = a.mime;
  if (a.format !== undefined) c.format = a.format;
  if (a.size !== undefined) c.size = a.size;
  if (a.width !== undefined) c.width = a.width;
  if (a.height !== undefined) c.height = a.height;
  if (a.hasAlpha !== undefined) c.has_alpha = a.hasAlpha ? 1 : 0;
  if (a.bitRate !== undefined) c.bit_rate = a.bitRate;
  if (a.duration !== undefined) c.duration = a.duration;
  if (a.audioCodec !== undefined) c.audio_codec = a.audioCodec;
  if (a.videoCodec !== undefined) c.video_codec = a.videoCodec;
  if (a.tags !== undefined) c.tags = a.tags === null ? null : json(a.tags);
  if (a.aiTags !== undefined) c.ai_tags = a.aiTags === null ? null : json(a.aiTags);
  if (a.customCoordinates !== undefined) c.custom_coordinates = a.customCoordinates;
  if (a.customMetadata !== undefined) c.custom_metadata = json(a.customMetadata);
  if (a.embeddedMetadata !== undefined) c.embedded_metadata = a.embeddedMetadata === null ? null : json(a.embeddedMetadata);
  if (a.metadata !== undefined) c.metadata = a.metadata === null ? null : json(a.metadata);
  if (a.description !== undefined) c.description = a.description;
  if (a.isPrivate !== undefined) c.is_private = a.isPrivate ? 1 : 0;
  if (a.isPublished !== undefined) c.is_published = a.isPublished ? 1 : 0;
  if (a.blobKey !== undefined) c.blob_key = a.blobKey;
  if (a.checksum !== undefined) c.checksum = a.checksum;
  if (a.versionNumber !== undefined) c.version_number = a.versionNumber;
  if (a.createdAt !== undefined) c.created_at = a.createdAt;
  if (a.updatedAt !== undefined) c.updated_at = a.updatedAt;
  return c;
}

function fromColumns(r: AssetColumns): AssetState {
  return {
    name: r.name,
    filePath: r.file_path,
    folderPath: r.folder_path,
    fileType: r.file_type === 'image' ? 'image' : 'non-image',
    mime: r.mime,
    format: r.format,
    size: Number(r.size),
    width: r.width,
    height: r.height,
    hasAlpha: r.has_alpha === 1,
    bitRate: r.bit_rate,
    duration: r.duration,
    audioCodec: r.audio_codec,
    videoCodec: r.video_codec,
    tags: parseJson<string[] | null>(r.tags, null),
    aiTags: parseJson(r.ai_tags, null),
    customCoordinates: r.custom_coordinates,
    customMetadata: parseJson<Record<string, unknown>>(r.custom_metadata, {}),
    embeddedMetadata: parseJson<Record<string, unknown> | null>(r.embedded_metadata, null),
    metadata: parseJson<Record<string, unknown> | null>(r.metadata ?? null, null),
    description: r.description,
    isPrivate: r.is_private === 1,
    isPublished: r.is_published === 1,
    blobKey: r.blob_key,
    checksum: r.checksum,
    versionNumber: r.version_number,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/**
 * The half-open key range [lo, hi) holding every path that starts with a folder path ('/a/' →
 * ['/a/', '/a0')): '0' is the character right after '/', so an index range scan finds the
 * subtree without LIKE and its escaping. Relies on binary collation (SQLite's default; PostgreSQL
 * needs COLLATE "C" on these columns).
 */
export function subtreeRange(folderPath: string): [string, string] {
  if (!folderPath.endsWith('/')) throw new Error(`not a folder path: ${folderPath}`);
  return [folderPath, `${folderPath.slice(0, -1)}0`];
}

export const fileFromRow = (r: FilesTable): FileRecord => ({ ...fromColumns(r), id: r.id, currentVersionId: r.current_version_id });
export const versionFromRow = (r: FileVersionsTable): VersionRecord => ({ ...fromColumns(r), id: r.id, fileId: r.file_id });

/** Fields whose change means the search side tables of a file must be rebuilt. */
const INDEXED_FIELDS: ReadonlyArray<keyof FilePatch> = ['name', 'tags', 'aiTags', 'customMetadata', 'embeddedMetadata', 'description', 'createdAt'];

/** Scalar leaves of a metadata object as (field, value) pairs; arrays give one pair per element. */
export function metadataPairs(obj: Record<string, unknown> | null, prefix = ''): Array<[string, unknown]> {
  if (!obj) return [];
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix + k;
    if (Array.isArray(v)) for (const el of v) out.push([key, el]);
    else if (v !== null && typeof v === 'object') out.push(...metadataPairs(v as Record<string, unknown>, `${key}.`));
    else out.push([key, v]);
  }
  return out;
}

export function fieldRow(fileId: string, source: 'custom' | 'embedded', field: string, v: unknown) {
  const num = typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'boolean' ? (v ? 1 : 0) : null;
  const text = v === null || v === undefined ? null : String(v);
  return { file_id: fileId, source, field, value_text: text, value_lower: text?.toLowerCase() ?? null, value_num: num };
}

/**
 * The search side-table rows of a file: its tags (own and AI), its metadata values and its
 * full-text document. Tag and value rows carry the file's created_at, so a search on one tag or
 * value can read matches in the default (creation) order straight from their index.
 */
export function searchRows(fileId: string, f: FileRecord) {
  const tags = [
    ...[...new Set(f.tags ?? [])].map((t) => ({ file_id: fileId, kind: 'tag' as const, tag: t, tag_lower: t.toLowerCase(), created_at: f.createdAt })),
    ...[...new Set((f.aiTags ?? []).map((t) => t.name))].map((t) => ({ file_id: fileId, kind: 'ai' as const, tag: t, tag_lower: t.toLowerCase(), created_at: f.createdAt })),
  ];
  const values = [
    ...metadataPairs(f.customMetadata).map(([k, v]) => ({ ...fieldRow(fileId, 'custom', k, v), created_at: f.createdAt })),
    ...metadataPairs(f.embeddedMetadata).map(([k, v]) => ({ ...fieldRow(fileId, 'embedded', k, v), created_at: f.createdAt })),
  ];
  const doc = {
    file_id: fileId,
    name: f.name,
    tags: [...(f.tags ?? []), ...(f.aiTags ?? []).map((t) => t.name)].join(' '),
    description: f.description ?? '',
    custom: metadataPairs(f.customMetadata)
      .filter(([, v]) => typeof v === 'string')
      .map(([, v]) => v as string)
      .join(' '),
  };
  return { tags, values, doc };
}

class KyselyRepo implements MetadataRepo {
  /**
   * @param lockFiles PostgreSQL, in a READ COMMITTED transaction: file rows read by id or path
   *   are locked (FOR UPDATE) until it ends, so a read-modify-write of a file (a job step adding
   *   AITags) waits for a concurrent one instead of overwriting it.
   */
  constructor(
    private readonly db: Kysely<Database> | Transaction<Database>,
    private readonly dialect: StoreCapabilities['dialect'],
    private readonly lockFiles = false,
  ) {}

  /**
   * Keeps the search side tables (tags, metadata values, full text) equal to the file's current
   * state (rows from `searchRows`). Called on every write that touches an indexed field.
   */
  private async reindex(f: FileRecord | undefined, fileId: string): Promise<void> {
    await this.db.deleteFrom('file_tags').where('file_id', '=', fileId).execute();
    await this.db.deleteFrom('file_field_values').where('file_id', '=', fileId).execute();
    await this.deleteFullText(fileId);
    if (!f) return;
    const { tags: tagRows, values: rawValues, doc } = searchRows(fileId, f);
    const values =
      this.dialect === 'postgres' ? rawValues.map((v) => ({ ...v, value_text: withoutNul(v.value_text), value_lower: withoutNul(v.value_lower) })) : rawValues;
    if (tagRows.length > 0) await this.db.insertInto('file_tags').values(tagRows).execute();
    for (let i = 0; i < values.length; i += 200) {
      await this.db.insertInto('file_field_values').values(values.slice(i, i + 200)).execute();
    }
    if (this.dialect === 'sqlite') {
      const ins = await this.db.insertInto('files_fts').values(doc).executeTakeFirst();
      await this.db.insertInto('files_fts_map').values({ file_id: fileId, fts_rowid: Number(ins.insertId) }).execute();
    } else {
      // Stored in the analyser's word form (accents folded, lower case, letters and digits), so
      // the 'simple' configuration finds the words searchQuery finds — not, say, 'photo.jpg' as
      // one file-name token.
      const name = wordsText(doc.name);
      const tags = wordsText(doc.tags);
      const description = wordsText(doc.description);
      const custom = wordsText(doc.custom);
      // Each column has its own weight, so relevance can count the columns a query names (asset-search.ts).
      await sql`insert into files_fts (file_id, name, tags, description, custom, document)
        values (${doc.file_id}, ${name}, ${tags}, ${description}, ${custom},
          setweight(to_tsvector('simple', ${name}::text), 'A') || setweight(to_tsvector('simple', ${tags}::text), 'B')
            || setweight(to_tsvector('simple', ${description}::text), 'C') || setweight(to_tsvector('simple', ${custom}::text), 'D'))`.execute(this.db);
    }
  }

  /**
   * SQLite's FTS5 table cannot index file_id, so finding a file's row by it would scan the whole
   * index; files_fts_map keeps each file's FTS rowid so the delete is a key lookup.
   */
  private async deleteFullText(fileId: string): Promise<void> {
    if (this.dialect !== 'sqlite') {
      await this.db.deleteFrom('files_fts').where('file_id', '=', fileId).execute();
      return;
    }
    const m = await this.db.selectFrom('files_fts_map').select('fts_rowid').where('file_id', '=', fileId).executeTakeFirst();
    if (!m) return;
    await sql`delete from files_fts where rowid = ${m.fts_rowid}`.execute(this.db);
    await this.db.deleteFrom('files_fts_map').where('file_id', '=', fileId).execute();
  }

  async getFile(id: string) {
    const q = this.db.selectFrom('files').selectAll().where('id', '=', id);
    const r = await (this.lockFiles ? q.forUpdate() : q).executeTakeFirst();
    return r && fileFromRow(r);
  }

  async getFileByPath(filePath: string) {
    const q = this.db.selectFrom('files').selectAll().where('file_path', '=', filePath);
    const r = await (this.lockFiles ? q.forUpdate() : q).executeTakeFirst();
    return r && fileFromRow(r);
  }

  async getFiles(ids: readonly string[]) {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('files').selectAll().where('id', 'in', [...ids]).execute();
    return rows.map(fileFromRow);
  }

  /** The columns of a write, as this dialect can store them. */
  private columns<T extends Partial<AssetColumns>>(c: T): T {
    return this.dialect === 'postgres' ? forPostgres(c) : c;
  }

  async insertFile(rec: FileRecord) {
    await this.db
      .insertInto('files')
      .values({ ...this.columns(toColumns(rec) as AssetColumns), id: rec.id, current_version_id: rec.currentVersionId })
      .execute();
    await this.reindex(rec, rec.id);
  }

  async updateFile(id: string, patch: FilePatch) {
    const values: Partial<FilesTable> = this.columns(toColumns(patch));
    if (patch.currentVersionId !== undefined) values.current_version_id = patch.currentVersionId;
    if (Object.keys(values).length === 0) return;
    await this.db.updateTable('files').set(values).where('id', '=', id).execute();
    if (INDEXED_FIELDS.some((k) => patch[k] !== undefined)) await this.reindex(await this.getFile(id), id);
  }

  async deleteFile(id: string) {
    await this.db.deleteFrom('file_versions').where('file_id', '=', id).execute();
    await this.db.deleteFrom('version_counters').where('file_id', '=', id).execute();
    await this.db.deleteFrom('files').where('id', '=', id).execute();
    await this.reindex(undefined, id);
  }

  async listVersions(fileId: string) {
    const rows = await this.db
      .selectFrom('file_versions')
      .selectAll()
      .where('file_id', '=', fileId)
      .orderBy('version_number', 'asc')
      .execute();
    return rows.map(versionFromRow);
  }

  async getVersion(fileId: string, versionId: string) {
    const r = await this.db
      .selectFrom('file_versions')
      .selectAll()
      .where('file_id', '=', fileId)
      .where('id', '=', versionId)
      .executeTakeFirst();
    return r && versionFromRow(r);
  }

  async insertVersion(rec: VersionRecord) {
    await this.db
      .insertInto('file_versions')
      .values({ ...this.columns(toColumns(rec) as AssetColumns), id: rec.id, file_id: rec.fileId })
      .execute();
    const counter = await this.db
      .selectFrom('version_counters')
      .select('max_version')
      .where('file_id', '=', rec.fileId)
      .executeTakeFirst();
    if (!counter) {
      await this.db.insertInto('version_counters').values({ file_id: rec.fileId, max_version: rec.versionNumber }).execute();
    } else if (counter.max_version < rec.versionNumber) {
      await this.db
        .updateTable('version_counters')
        .set({ max_version: rec.versionNumber })
        .where('file_id', '=', rec.fileId)
        .execute();
    }
  }

  async updateVersion(id: string, patch: VersionPatch) {
    const values = this.columns(toColumns(patch));
    if (Object.keys(values).length === 0) return;
    await this.db.updateTable('file_versions').set(values).where('id', '=', id).execute();
  }

  async updateVersionsOfFile(fileId: string, patch: VersionPatch) {
    const values = this.columns(toColumns(patch));
    if (Object.keys(values).length === 0) return;
    await this.db.updateTable('file_versions').set(values).where('file_id', '=', fileId).execute();
  }

  async deleteVersion(id: string) {
    await this.db.deleteFrom('file_versions').where('id', '=', id).execute();
  }

  async maxVersionNumber(fileId: string) {
    const r = await this.db
      .selectFrom('version_counters')
      .select('max_version')
      .where('file_id', '=', fileId)
      .executeTakeFirst();
    return r?.max_version ?? 0;
  }

  async getFolder(path: string) {
    const r = await this.db.selectFrom('folders').selectAll().where('path', '=', path).executeTakeFirst();
    return (
      r && {
        id: r.id,
        path: r.path,
        name: r.name,
        parentPath: r.parent_path,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      }
    );
  }

  async insertFolder(rec: FolderRecord) {
    await this.db
      .insertInto('folders')
      .values({
        id: rec.id,
        path: rec.path,
        name: rec.name,
        parent_path: rec.parentPath,
        created_at: rec.createdAt,
        updated_at: rec.updatedAt,
      })
      .onConflict((oc) => oc.column('path').doNothing())
      .execute();
  }

  async listFilesUnder(folderPath: string, afterPath: string | null, limit: number) {
    const [lo, hi] = subtreeRange(folderPath);
    const rows = await this.db
      .selectFrom('files')
      .selectAll()
      .where('file_path', afterPath === null ? '>=' : '>', afterPath ?? lo)
      .where('file_path', '<', hi)
      .orderBy('file_path')
      .limit(limit)
      .execute();
    return rows.map(fileFromRow);
  }

  async listFoldersUnder(folderPath: string, afterPath: string | null, limit: number) {
    const [lo, hi] = subtreeRange(folderPath);
    const rows = await this.db
      .selectFrom('folders')
      .selectAll()
      .where('path', afterPath === null ? '>=' : '>', afterPath ?? lo)
      .where('path', '<', hi)
      .orderBy('path')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, path: r.path, name: r.name, parentPath: r.parent_path, createdAt: r.created_at, updatedAt: r.updated_at }));
  }

  async countUnder(folderPath: string, cap: number) {
    const [lo, hi] = subtreeRange(folderPath);
    const db = this.db;
    const count = async (inner: AliasedSelectQueryBuilder<{ id: string }, 't'>) => {
      const r = await db.selectFrom(inner).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
      return Number(r?.n ?? 0);
    };
    const files = await count(db.selectFrom('files').select('id').where('file_path', '>=', lo).where('file_path', '<', hi).limit(cap).as('t'));
    const versions = await count(
      db
        .selectFrom('file_versions')
        .innerJoin('files', 'files.id', 'file_versions.file_id')
        .select('file_versions.id')
        .where('files.file_path', '>=', lo)
        .where('files.file_path', '<', hi)
        .limit(cap)
        .as('t'),
    );
    const folders = await count(db.selectFrom('folders').select('id').where('path', '>=', lo).where('path', '<', hi).limit(cap).as('t'));
    return Math.min(cap, files + versions + folders);
  }

  async updateFolder(path: string, patch: Partial<Omit<FolderRecord, 'id'>>) {
    const values: Partial<FoldersTable> = {};
    if (patch.path !== undefined) values.path = patch.path;
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.parentPath !== undefined) values.parent_path = patch.parentPath;
    if (patch.createdAt !== undefined) values.created_at = patch.createdAt;
    if (patch.updatedAt !== undefined) values.updated_at = patch.updatedAt;
    if (Object.keys(values).length === 0) return;
    await this.db.updateTable('folders').set(values).where('path', '=', path).execute();
  }

  async deleteFolders(paths: readonly string[]) {
    for (let i = 0; i < paths.length; i += 500) {
      await this.db.deleteFrom('folders').where('path', 'in', paths.slice(i, i + 500)).execute();
    }
  }

  async consumeUploadToken(token: string, expiresAt: string, now: string) {
    const res = await this.db
      .insertInto('upload_tokens')
      .values({ token, expires_at: expiresAt, used_at: now })
      .onConflict((oc) => oc.column('token').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async journalBlobs(keys: readonly string[], now: string) {
    if (keys.length === 0) return;
    await this.db
      .insertInto('blob_journal')
      .values(keys.map((key) => ({ blob_key: key, created_at: now })))
      .onConflict((oc) => oc.column('blob_key').doNothing())
      .execute();
  }

  async unjournalBlobs(keys: readonly string[]) {
    if (keys.length === 0) return;
    await this.db.deleteFrom('blob_journal').where('blob_key', 'in', [...keys]).execute();
  }

  async journaledBlobs(limit: number, createdBefore?: string) {
    let q = this.db.selectFrom('blob_journal').select('blob_key');
    if (createdBefore !== undefined) q = q.where('created_at', '<', createdBefore);
    const rows = await q.orderBy('blob_key').limit(limit).execute();
    return rows.map((r) => r.blob_key);
  }

  async blobKeyInUse(key: string) {
    const r = await this.db.selectFrom('file_versions').select('id').where('blob_key', '=', key).limit(1).executeTakeFirst();
    return r !== undefined;
  }
}

/** How often a PostgreSQL transaction is tried before a serialization failure is given up to the caller. */
const SERIALIZABLE_ATTEMPTS = 20;

/** PostgreSQL's serialization_failure and deadlock_detected: the transaction may simply be run again. */
function isSerializationFailure(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}

/**
 * Runs SQL compiled by Kysely and returns each row as an array of its column values, in SELECT
 * order: for the hot read of a list page (a thousand rows of 25 columns), where building one
 * object per row in the driver costs more than the query itself. Each dialect's opener supplies it.
 */
export type ArrayRowQuery = (sql: string, parameters: readonly unknown[]) => Promise<unknown[][]>;

export class KyselyMetadataStore implements MetadataStore {
  readonly repo: MetadataRepo;

  constructor(
    private readonly db: Kysely<Database>,
    readonly capabilities: StoreCapabilities,
    /** Absent: callers fall back to Kysely's object rows. */
    readonly arrayRows?: ArrayRowQuery,
  ) {
    this.repo = new KyselyRepo(db, capabilities.dialect);
  }

  /** The shared Kysely instance, for the other repositories of this adapter (same dialect, same pool). */
  get kysely(): Kysely<Database> {
    return this.db;
  }

  /** Brings the schema up to date and names the migrations it applied; fails loudly on a migration error. */
  async migrate(): Promise<string[]> {
    const migrator = new Migrator({ db: this.db, provider: new StaticMigrationProvider(this.capabilities.dialect) });
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (error || failed) {
      throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${String(error ?? 'unknown error')}`);
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  /**
   * SQLite runs one write transaction at a time, so every transaction sees the library as if alone
   * (read a path, then insert it; read the highest version, then add the next). On PostgreSQL the
   * same guarantee is SERIALIZABLE isolation: a transaction that would break it fails with a
   * serialization failure and is run again from the start. `fn` only touches the database (blob
   * bytes are placed before, see Library.journalAndPlace), so running it again is safe.
   */
  transaction<T>(fn: (tx: MetadataRepo) => Promise<T>): Promise<T> {
    return this.inTransaction((trx) => fn(new KyselyRepo(trx, this.capabilities.dialect)));
  }

  private async inTransaction<T>(fn: (trx: Transaction<Database>) => Promise<T>, isolation: 'serializable' | 'read committed' = 'serializable'): Promise<T> {
    if (this.capabilities.dialect !== 'postgres') return this.db.transaction().execute(fn);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().setIsolationLevel(isolation).execute(fn);
      } catch (e) {
        if (!isSerializationFailure(e)) throw e;
        if (attempt >= SERIALIZABLE_ATTEMPTS) {
          // Contention, not a fault: the caller may simply try again shortly.
          throw serviceUnavailable('The library is busy with conflicting changes; try again shortly.', {
            help: 'Other requests kept changing the same files while this one ran. Retry after the number of seconds in Retry-After.',
            headers: { 'Retry-After': '1' },
            cause: e,
          });
        }
        // Spread the retries out so the same transactions do not collide again in lockstep.
        await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
      }
    }
  }

  /**
   * A transaction that also hands out the raw Kysely transaction, for the other repositories of
   * this adapter that must commit their own rows with the library's (a job's progress).
   *
   * On PostgreSQL this one is READ COMMITTED with the files it reads locked, not SERIALIZABLE: a
   * job step also writes its job's row, which the job's heartbeat updates every few hundred
   * milliseconds, and under SERIALIZABLE every step longer than that would fail on the heartbeat's
   * update. Locking the files a step reads keeps its read-modify-writes whole; a deadlock is
   * retried like a serialization failure (a step only touches the database).
   */
  transactionWith<T>(fn: (tx: MetadataRepo, trx: Transaction<Database>) => Promise<T>): Promise<T> {
    const dialect = this.capabilities.dialect;
    return this.inTransaction((trx) => fn(new KyselyRepo(trx, dialect, dialect === 'postgres'), trx), 'read committed');
  }

  async pruneUploadTokens(now: string) {
    const res = await this.db.deleteFrom('upload_tokens').where('expires_at', '<', now).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  ping() {
    return pingDb(this.db);
  }

  close() {
    return this.db.destroy();
  }
}
