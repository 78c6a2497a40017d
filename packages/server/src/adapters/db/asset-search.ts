import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { AssetListItem, AssetListQuery, AssetSearch, ListSource, ListedFile } from '../../ports/asset-search.js';
import type { FileRecord, FolderRecord, MetadataStore } from '../../ports/metadata-store.js';
import {
  andAll,
  compileFilter,
  orderBy,
  pickDriver,
  relevanceQuery,
  rowKey,
  toSql,
  type CompileOptions,
  type Compiled,
  type Dialect,
  type Driver,
  type FtsColumn,
} from '../../search/index.js';
import { KyselyMetadataStore, fileFromRow, versionFromRow, type ArrayRowQuery } from './kysely-store.js';
import type { Database, FileVersionsTable, FilesTable, FoldersTable } from './schema.js';

/**
 * List and search over Kysely. Each kind of row (folders, files, older versions) is queried on its
 * own with its own WHERE, ORDER BY and LIMIT/OFFSET; the kinds are listed one after another, so a
 * page never needs more than `limit` rows from each, and a count only when `skip` runs past a
 * whole kind.
 *
 * A page is read in two steps: first the keys of the page's rows in order (a query that can run
 * on indexes alone), then those rows by key. Sorting or filtering many candidates then never
 * drags whole rows along. Searches sorted by creation date whose filter has one tag or metadata
 * value to start from read candidates in order from that value's index (see search/plan.ts).
 */

const FROM: Record<ListSource, RawBuilder<unknown>> = {
  file: sql`files AS f`,
  // Older versions only: the current version is the file itself.
  version: sql`file_versions AS v JOIN files AS vf ON vf.id = v.file_id AND vf.current_version_id <> v.id`,
  folder: sql`folders AS d`,
};
const TABLE: Record<ListSource, RawBuilder<unknown>> = { file: sql`files AS f`, version: sql`file_versions AS v`, folder: sql`folders AS d` };
/** The columns of `files` a listed file shows (FileDetails): a page of 1,000 never reads the others. */
const LISTED_COLUMNS = [
  'id', 'current_version_id', 'name', 'file_path', 'file_type', 'mime', 'size', 'width', 'height', 'has_alpha', 'bit_rate',
  'duration', 'audio_codec', 'video_codec', 'tags', 'ai_tags', 'custom_coordinates', 'custom_metadata', 'embedded_metadata',
  'description', 'is_private', 'is_published', 'version_number', 'created_at', 'updated_at',
] as const satisfies ReadonlyArray<keyof FilesTable>;
/**
 * JSON columns come back as text from SQLite and already parsed (jsonb) from PostgreSQL. (Asking
 * PostgreSQL for jsonb's text form instead saved no measurable time, and that text differs from
 * JSON.stringify's in spacing and number form, so a listed file would no longer be byte for byte
 * its details.)
 */
export type ListedFileRow = Omit<Pick<FilesTable, (typeof LISTED_COLUMNS)[number]>, 'tags' | 'ai_tags' | 'custom_metadata' | 'embedded_metadata'> &
  Record<'tags' | 'ai_tags' | 'custom_metadata' | 'embedded_metadata', string | object | null>;
/** A listed file's row as an array, in LISTED_COLUMNS order (array rows skip a keyed object per row). */
type ValuesOf<T extends ReadonlyArray<keyof ListedFileRow>> = { -readonly [I in keyof T]: ListedFileRow[T[I]] };
type ListedFileValues = ValuesOf<typeof LISTED_COLUMNS>;
/** Where an array row from listedFileSelect holds its key (after the listed columns). */
const KEY_AT = LISTED_COLUMNS.length;
/** The listed columns then the row's key (`k__`, last). */
function listedFileSelect(dialect: Dialect): RawBuilder<unknown> {
  return sql`${sql.join(LISTED_COLUMNS.map((c) => sql.ref(`f.${c}`)))}, ${rowKey('file', dialect)} AS k__`;
}
const ALL_OF: Record<Exclude<ListSource, 'file'>, RawBuilder<unknown>> = { version: sql`v.*`, folder: sql`d.*` };
const SOURCE_OF = { file: 'file', version: 'version', folder: 'folder' } as const;
/** Keys per statement in the second step (well under every dialect's parameter limit). */
const FETCH_CHUNK = 500;
/** Candidates read per step of a driven search. */
const DRIVER_CHUNK_MIN = 200;
const DRIVER_CHUNK_MAX = 5000;
/** Up to this many values, each value's index range is read separately and merged. */
const DRIVER_MERGE_MAX = 16;

type Key = string | number;

/**
 * Keys in FETCH_CHUNK pieces. The pieces of one page are fetched at once: on PostgreSQL each goes
 * to its own pooled connection and the server reads them in parallel; SQLite runs them in turn.
 */
function chunksOf<T>(keys: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < keys.length; i += FETCH_CHUNK) out.push(keys.slice(i, i + FETCH_CHUNK));
  return out;
}

/**
 * A JSON column as JSON text. SQLite's text goes out as stored: the store writes these columns
 * only through JSON.stringify (toColumns), so the text is what parsing and re-serialising would
 * give. PostgreSQL's jsonb arrives parsed and is serialised as the single-file path does.
 */
function jsonText(v: string | object | null, absent: string): string {
  return v === null ? absent : typeof v === 'string' ? v : JSON.stringify(v);
}

/** The same conversions as the store's fileFromRow, for the listed columns (exported for tests). */
export function listedFileFromRow(r: ListedFileRow): ListedFile {
  return listedFileFromValues(LISTED_COLUMNS.map((c) => r[c]) as unknown as ListedFileValues);
}

/** listedFileFromRow over an array row; the indexes are LISTED_COLUMNS' (list-json.test.ts goes through here). */
function listedFileFromValues(v: ListedFileValues): ListedFile {
  return {
    id: v[0],
    currentVersionId: v[1],
    name: v[2],
    filePath: v[3],
    fileType: v[4] === 'image' ? 'image' : 'non-image',
    mime: v[5],
    size: Number(v[6]),
    width: v[7],
    height: v[8],
    hasAlpha: v[9] === 1,
    bitRate: v[10],
    duration: v[11],
    audioCodec: v[12],
    videoCodec: v[13],
    customCoordinates: v[16],
    description: v[19],
    isPrivate: v[20] === 1,
    isPublished: v[21] === 1,
    versionNumber: v[22],
    createdAt: v[23],
    updatedAt: v[24],
    json: {
      tags: jsonText(v[14], 'null'),
      aiTags: jsonText(v[15], 'null'),
      customMetadata: jsonText(v[17], '{}'),
      embeddedMetadata: jsonText(v[18], 'null'),
    },
  };
}

/**
 * PostgreSQL's stand-in for FTS5's bm25 over the columns a query names: the document weights each
 * column (name A, tags B, description C, custom D; see the store's reindex), ts_rank counts only
 * the named columns' matches and, with normalisation 2, divides by the whole document's length.
 * ts_rank takes the weights in the order D, C, B, A.
 */
function rankWeights(columns: readonly FtsColumn[]): number[] {
  return (['custom', 'description', 'tags', 'name'] as const).map((c) => (columns.includes(c) ? 1 : 0));
}

function folderFromRow(r: FoldersTable): FolderRecord {
  return { id: r.id, path: r.path, name: r.name, parentPath: r.parent_path, createdAt: r.created_at, updatedAt: r.updated_at };
}

export class KyselyAssetSearch implements AssetSearch {
  private readonly listedFile: RawBuilder<unknown>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    /** The store's array-row query, when it has one (see ArrayRowQuery). */
    private readonly arrayRows?: ArrayRowQuery,
  ) {
    this.listedFile = listedFileSelect(dialect);
  }

  async list(q: AssetListQuery): Promise<AssetListItem[]> {
    const out: AssetListItem[] = [];
    let skip = q.skip;
    let remaining = q.limit;
    for (const source of q.sources) {
      if (remaining <= 0) break;
      const where = this.where(q, source);
      if (where === false) continue;
      const items = await this.page(source, where, q, skip, remaining);
      if (items.length > 0) {
        out.push(...items);
        remaining -= items.length;
        skip = 0;
      } else if (skip > 0) {
        skip = Math.max(0, skip - (await this.count(source, where)));
      }
    }
    return out;
  }

  private where(q: AssetListQuery, source: ListSource, opts: CompileOptions = {}): Compiled {
    const parts: Compiled[] = [q.filter ? compileFilter(q.filter, SOURCE_OF[source], this.dialect, opts) : true];
    if (source !== 'folder' && q.fileType !== 'all') {
      parts.push(sql`${sql.ref(`${source === 'file' ? 'f' : 'v'}.file_type`)} = ${q.fileType}` as RawBuilder<never>);
    }
    return andAll(parts);
  }

  private async page(source: ListSource, where: Compiled, q: AssetListQuery, skip: number, limit: number): Promise<AssetListItem[]> {
    if (source === 'file' && q.sort.key === 'created' && q.filter) {
      const driver = pickDriver(q.filter);
      if (driver) return (await this.drivenFiles(driver, where, q, skip, limit)).map((file) => ({ type: 'file', file }));
    }
    const keys = await this.pageKeys(source, where, q, skip, limit);
    if (source === 'folder') {
      const rows = await this.byKeys<FoldersTable>('folder', keys);
      return rows.map((r) => ({ type: 'folder', folder: folderFromRow(r) }));
    }
    if (source === 'file') {
      const rows = await this.filesByKey(keys);
      return rows.map((r) => ({ type: 'file', file: listedFileFromValues(r) }));
    }
    const versions = (await this.byKeys<FileVersionsTable>('version', keys)).map(versionFromRow);
    const parents = new Map<string, FileRecord>();
    const parentIds = [...new Set(versions.map((v) => v.fileId))];
    for (let i = 0; i < parentIds.length; i += FETCH_CHUNK) {
      const chunk = await this.db.selectFrom('files').selectAll().where('id', 'in', parentIds.slice(i, i + FETCH_CHUNK)).execute();
      for (const r of chunk) parents.set(r.id, fileFromRow(r));
    }
    const items: AssetListItem[] = [];
    for (const v of versions) {
      const file = parents.get(v.fileId);
      if (file) items.push({ type: 'file-version', file, version: v });
    }
    return items;
  }

  /** Step one: the keys of the page's rows, in order. */
  private async pageKeys(source: ListSource, where: Compiled, q: AssetListQuery, skip: number, limit: number): Promise<Key[]> {
    let join = sql``;
    let relevance: RawBuilder<unknown> | undefined;
    if (source === 'file' && q.sort.key === 'relevance' && q.filter) {
      const r = relevanceQuery(q.filter);
      if (r) {
        join =
          this.dialect === 'sqlite'
            ? sql`LEFT JOIN (SELECT file_id AS rid, bm25(files_fts) AS score FROM files_fts WHERE files_fts MATCH ${r.match}) AS r ON r.rid = f.id`
            : sql`LEFT JOIN (SELECT file_id AS rid, -ts_rank(${rankWeights(r.columns)}::float4[], document, to_tsquery('simple', ${r.words.join(' | ')}), 2) AS score FROM files_fts WHERE document @@ to_tsquery('simple', ${r.words.join(' | ')})) AS r ON r.rid = f.id`;
        relevance = sql`coalesce(r.score, 0)`;
      }
    }
    const order = orderBy(SOURCE_OF[source], q.sort.key, q.sort.dir, this.dialect, relevance);
    const { rows } = await sql<{ k: Key }>`SELECT ${rowKey(SOURCE_OF[source], this.dialect)} AS k FROM ${FROM[source]} ${join} WHERE ${toSql(where)} ORDER BY ${order} LIMIT ${limit} OFFSET ${skip}`.execute(this.db);
    return rows.map((r) => r.k);
  }

  /** A listed-file query's rows as arrays: LISTED_COLUMNS (as listedFileSelect selects them), then the key. */
  private async listedValues(query: RawBuilder<unknown>): Promise<ListedFileValues[]> {
    let rows: unknown[][];
    if (this.arrayRows) {
      const compiled = query.compile(this.db);
      rows = await this.arrayRows(compiled.sql, compiled.parameters);
    } else {
      const result = await query.execute(this.db);
      rows = (result.rows as Record<string, unknown>[]).map((r) => [...LISTED_COLUMNS.map((c) => r[c]), r.k__]);
    }
    return rows as unknown as ListedFileValues[];
  }

  /** Step two for files: listed rows for keys, in the keys' order. */
  private async filesByKey(keys: Key[]): Promise<ListedFileValues[]> {
    const found = new Map<unknown, ListedFileValues>();
    const keyRef = rowKey('file', this.dialect);
    const chunks = await Promise.all(
      chunksOf(keys).map((part) => this.listedValues(sql`SELECT ${this.listedFile} FROM files AS f WHERE ${keyRef} IN (${sql.join(part)})`)),
    );
    for (const rows of chunks) for (const r of rows) found.set((r as unknown[])[KEY_AT], r);
    const out: ListedFileValues[] = [];
    for (const k of keys) {
      const r = found.get(k);
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  /** Step two: whole rows for keys, in the keys' order. */
  private async byKeys<R>(source: Exclude<ListSource, 'file'>, keys: Key[]): Promise<R[]> {
    const found = new Map<Key, R>();
    const keyRef = rowKey(SOURCE_OF[source], this.dialect);
    for (let i = 0; i < keys.length; i += FETCH_CHUNK) {
      const part = keys.slice(i, i + FETCH_CHUNK);
      const { rows } = await sql<R & { k__: Key }>`SELECT ${ALL_OF[source]}, ${keyRef} AS k__ FROM ${TABLE[source]} WHERE ${keyRef} IN (${sql.join(part)})`.execute(
        this.db,
      );
      for (const r of rows) found.set(r.k__, r);
    }
    const out: R[] = [];
    for (const k of keys) {
      const r = found.get(k);
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  /**
   * A search sorted by creation date, started from one tag or metadata value: candidates come in
   * order from the (value, created_at, file_id) index a chunk at a time, the whole filter is
   * applied to each chunk, and reading stops once the page is full.
   */
  private async drivenFiles(driver: Driver, where: Compiled, q: AssetListQuery, skip: number, limit: number): Promise<ListedFile[]> {
    const table = driver.kind === 'tags' ? sql`file_tags` : sql`file_field_values`;
    const match = (keys: RawBuilder<unknown>) =>
      driver.kind === 'tags' ? sql`tag_lower IN (${keys})` : sql`source = ${driver.source} AND field = ${driver.field} AND value_lower IN (${keys})`;
    const dir = sql.raw(q.sort.dir);
    const past = sql.raw(q.sort.dir === 'ASC' ? '>' : '<');
    const chunk = Math.min(DRIVER_CHUNK_MAX, Math.max(DRIVER_CHUNK_MIN, skip + limit));
    // The filter again, checked on a chunk of known ids: fenced EXISTS (see CompileOptions).
    const fenced = this.dialect === 'postgres' && q.filter ? this.where(q, 'file', { fenceSubqueries: true }) : where;
    const out: ListedFile[] = [];
    let toSkip = skip;
    let cursor: { c: string; fid: string } | undefined;
    for (;;) {
      const after = cursor ? sql`AND (created_at, file_id) ${past} (${cursor.c}, ${cursor.fid})` : sql``;
      const range = (keys: RawBuilder<unknown>) =>
        sql`SELECT DISTINCT created_at AS c, file_id AS fid FROM ${table} WHERE ${match(keys)} AND created_at IS NOT NULL ${after} ORDER BY created_at ${dir}, file_id ${dir} LIMIT ${chunk}`;
      // Several values: each value's range is read in order up to one chunk of distinct files and
      // the results merged, instead of sorting every match of every value. The first `chunk` of
      // the merge is exact (no value can hide a smaller file past its own first chunk), and fewer
      // than `chunk` means every range is exhausted.
      const source =
        driver.keys.length === 1 || driver.keys.length > DRIVER_MERGE_MAX
          ? range(sql.join(driver.keys))
          : sql.join(
              driver.keys.map((k) => sql`SELECT * FROM (${range(sql`${k}`)}) AS r`),
              sql` UNION ALL `,
            );
      const { rows: cands } = await sql<{ c: string; fid: string }>`SELECT DISTINCT c, fid FROM (${source}) AS u ORDER BY c ${dir}, fid ${dir} LIMIT ${chunk}`.execute(
        this.db,
      );
      if (cands.length === 0) break;
      const rows = await this.filesById(
        cands.map((c) => c.fid),
        fenced,
      );
      for (const r of rows) {
        if (toSkip > 0) {
          toSkip--;
          continue;
        }
        out.push(listedFileFromValues(r));
        if (out.length >= limit) return out;
      }
      cursor = cands[cands.length - 1];
      if (cands.length < chunk) break;
    }
    return out;
  }

  /**
   * Files by id that also match `where`. On SQLite the ids come from json_each rather than an
   * IN list: with `f.id IN (list)`, SQLite carries the list into every correlated EXISTS on
   * file_id and probes each side table once per list entry per row (quadratic). CROSS JOIN keeps
   * the ids as the outer loop: without statistics the planner would rather scan an index of files
   * (say, every jpg) and look each one up in the id list.
   */
  private async filesById(ids: string[], where: Compiled): Promise<ListedFileValues[]> {
    const found = new Map<string, ListedFileValues>();
    const chunks = await Promise.all(
      chunksOf(ids).map((part) =>
        this.listedValues(
          this.dialect === 'sqlite'
            ? sql`SELECT ${this.listedFile} FROM json_each(${JSON.stringify(part)}) AS k CROSS JOIN files AS f ON f.id = k.value WHERE ${toSql(where)}`
            : sql`SELECT ${this.listedFile} FROM files AS f WHERE f.id = ANY(${part}::text[]) AND ${toSql(where)}`,
        ),
      ),
    );
    for (const rows of chunks) for (const r of rows) found.set(r[0], r);
    const out: ListedFileValues[] = [];
    for (const id of ids) {
      const r = found.get(id);
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  private async count(source: ListSource, where: Compiled): Promise<number> {
    const { rows } = await sql<{ n: number | string }>`SELECT count(*) AS n FROM ${FROM[source]} WHERE ${toSql(where)}`.execute(this.db);
    return Number(rows[0]?.n ?? 0);
  }
}

/** The list-and-search adapter on the same database as a Kysely-backed metadata store. */
export function assetSearchFor(store: MetadataStore): AssetSearch {
  if (store instanceof KyselyMetadataStore) return new KyselyAssetSearch(store.kysely, store.capabilities.dialect, store.arrayRows);
  throw new Error('list and search need a Kysely-backed metadata store');
}
