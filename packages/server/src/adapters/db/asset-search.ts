import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { AssetListItem, AssetListQuery, AssetSearch, ListSource } from '../../ports/asset-search.js';
import type { FolderRecord, MetadataStore } from '../../ports/metadata-store.js';
import { andAll, compileFilter, orderBy, relevanceQuery, toSql, type Compiled, type Dialect } from '../../search/index.js';
import { KyselyMetadataStore, fileFromRow, versionFromRow } from './kysely-store.js';
import type { Database, FileVersionsTable, FilesTable, FoldersTable } from './schema.js';

/**
 * List and search over Kysely. Each kind of row (folders, files, older versions) is one indexed
 * query with its own WHERE, ORDER BY and LIMIT/OFFSET; the kinds are listed one after another,
 * so a page never needs more than `limit` rows from each, and a count only when `skip` runs past
 * a whole kind.
 */

const FROM: Record<ListSource, RawBuilder<unknown>> = {
  file: sql`files AS f`,
  // Older versions only: the current version is the file itself.
  version: sql`file_versions AS v JOIN files AS vf ON vf.id = v.file_id AND vf.current_version_id <> v.id`,
  folder: sql`folders AS d`,
};
const SELECT: Record<ListSource, RawBuilder<unknown>> = { file: sql`f.*`, version: sql`v.*`, folder: sql`d.*` };
const SOURCE_OF = { file: 'file', version: 'version', folder: 'folder' } as const;

function folderFromRow(r: FoldersTable): FolderRecord {
  return { id: r.id, path: r.path, name: r.name, parentPath: r.parent_path, createdAt: r.created_at, updatedAt: r.updated_at };
}

export class KyselyAssetSearch implements AssetSearch {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

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

  private where(q: AssetListQuery, source: ListSource): Compiled {
    const parts: Compiled[] = [q.filter ? compileFilter(q.filter, SOURCE_OF[source], this.dialect) : true];
    if (source !== 'folder' && q.fileType !== 'all') {
      parts.push(sql`${sql.ref(`${source === 'file' ? 'f' : 'v'}.file_type`)} = ${q.fileType}` as RawBuilder<never>);
    }
    return andAll(parts);
  }

  private async page(source: ListSource, where: Compiled, q: AssetListQuery, skip: number, limit: number): Promise<AssetListItem[]> {
    let join = sql``;
    let relevance: RawBuilder<unknown> | undefined;
    if (source === 'file' && q.sort.key === 'relevance' && q.filter) {
      const r = relevanceQuery(q.filter);
      if (r) {
        join =
          this.dialect === 'sqlite'
            ? sql`LEFT JOIN (SELECT file_id AS rid, bm25(files_fts) AS score FROM files_fts WHERE files_fts MATCH ${r.match}) AS r ON r.rid = f.id`
            : sql`LEFT JOIN (SELECT file_id AS rid, -ts_rank(document, to_tsquery('simple', ${r.words.join(' | ')})) AS score FROM files_fts WHERE document @@ to_tsquery('simple', ${r.words.join(' | ')})) AS r ON r.rid = f.id`;
        relevance = sql`coalesce(r.score, 0)`;
      }
    }
    const order = orderBy(SOURCE_OF[source], q.sort.key, q.sort.dir, this.dialect, relevance);
    const query = sql`SELECT ${SELECT[source]} FROM ${FROM[source]} ${join} WHERE ${toSql(where)} ORDER BY ${order} LIMIT ${limit} OFFSET ${skip}`;
    const { rows } = await query.execute(this.db);
    if (source === 'folder') return (rows as FoldersTable[]).map((r) => ({ type: 'folder', folder: folderFromRow(r) }));
    if (source === 'file') return (rows as FilesTable[]).map((r) => ({ type: 'file', file: fileFromRow(r) }));
    const versions = (rows as FileVersionsTable[]).map(versionFromRow);
    const parentIds = [...new Set(versions.map((v) => v.fileId))];
    const parents = new Map<string, ReturnType<typeof fileFromRow>>();
    for (let i = 0; i < parentIds.length; i += 500) {
      const chunk = await this.db.selectFrom('files').selectAll().where('id', 'in', parentIds.slice(i, i + 500)).execute();
      for (const r of chunk) parents.set(r.id, fileFromRow(r));
    }
    const items: AssetListItem[] = [];
    for (const v of versions) {
      const file = parents.get(v.fileId);
      if (file) items.push({ type: 'file-version', file, version: v });
    }
    return items;
  }

  private async count(source: ListSource, where: Compiled): Promise<number> {
    const { rows } = await sql<{ n: number | string }>`SELECT count(*) AS n FROM ${FROM[source]} WHERE ${toSql(where)}`.execute(this.db);
    return Number(rows[0]?.n ?? 0);
  }
}

/** The list-and-search adapter on the same database as a Kysely-backed metadata store. */
export function assetSearchFor(store: MetadataStore): AssetSearch {
  if (store instanceof KyselyMetadataStore) return new KyselyAssetSearch(store.kysely, store.capabilities.dialect);
  throw new Error('list and search need a Kysely-backed metadata store');
}
