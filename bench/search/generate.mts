// bench/search/generate — fills a Tessera data dir with a synthetic library through the metadata
// store (the same rows and search side tables an upload writes), in batched transactions.
// Deterministic: the same --count and --seed give the same library. No blobs are written; the
// search bench never reads bytes. SQLite: no ANALYZE, as on a fresh deployment; PostgreSQL: the
// VACUUM (ANALYZE) autovacuum would run soon after the load (see generatePostgres).
import { mkdirSync } from 'node:fs';
import { sql } from 'kysely';
import pg from 'pg';
import { join } from 'node:path';
import { customFieldStoreFor } from '../../packages/server/src/adapters/db/custom-field-repo.js';
import { openPostgresStore } from '../../packages/server/src/adapters/db/postgres/index.js';
import { openSqliteStore } from '../../packages/server/src/adapters/db/sqlite/index.js';
import { wordsText } from '../../packages/server/src/search/index.js';
import { searchRows, toColumns, type KyselyMetadataStore } from '../../packages/server/src/adapters/db/kysely-store.js';
import type { AssetColumns } from '../../packages/server/src/adapters/db/schema.js';
import type { FileRecord, VersionRecord } from '../../packages/server/src/ports/metadata-store.js';

export const WORDS = (
  'red blue green black white yellow orange purple silver golden summer winter spring autumn beach ' +
  'mountain river forest ocean desert city street market garden sunset sunrise night morning cloud storm ' +
  'dress shirt jacket shoe boot hat scarf bag watch ring necklace sofa chair table lamp bed desk ' +
  'kitchen bottle cup plate bowl coffee tea bread cake apple banana cherry lemon mango grape pizza ' +
  'burger salad pasta cheese chocolate flower rose tulip daisy tree leaf grass stone rock sand wave ' +
  'boat car bike train plane bridge tower castle church house door window roof wall floor stair ' +
  'dog cat horse bird fish lion tiger bear wolf fox rabbit deer eagle owl duck cow sheep ' +
  'portrait landscape studio product banner poster logo icon hero thumbnail cover header footer ' +
  'sale promo offer discount new vintage modern classic retro urban rustic minimal bold bright dark ' +
  'soft warm cool fresh wild calm happy smile family friend child baby woman man team office ' +
  'laptop phone camera screen keyboard mouse book paper pen letter map globe star moon sun sky'
).split(' ');

export const BRANDS = ['Nike', 'Adidas', 'Puma', 'Reebok', 'Asics', 'Fila', 'Vans', 'Converse', 'Levis', 'Zara',
  'Gucci', 'Prada', 'Uniqlo', 'Gap', 'Mango', 'Lacoste', 'Diesel', 'Guess', 'Armani', 'Others'];

export const TAGS = Array.from({ length: 300 }, (_, i) => `tag${String(i).padStart(3, '0')}`);

const FORMATS: Array<[string, string, 'image' | 'non-image', number]> = [
  ['jpg', 'image/jpeg', 'image', 40],
  ['png', 'image/png', 'image', 25],
  ['webp', 'image/webp', 'image', 15],
  ['gif', 'image/gif', 'image', 5],
  ['svg', 'image/svg+xml', 'image', 5],
  ['pdf', 'application/pdf', 'non-image', 5],
  ['mp4', 'video/mp4', 'non-image', 5],
];

/** mulberry32: small, fast, seedable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Layout {
  top: number;
  sub: number;
}

export const folderPathOf = (t: number, s: number) => `/f${String(t).padStart(3, '0')}/s${String(s).padStart(3, '0')}/`;

const hex24 = (n: number, salt: number) => (salt.toString(16).padStart(8, '0') + n.toString(16).padStart(16, '0')).slice(-24);

/** The search side-table rows of a file: the store's own derivation (KyselyRepo.reindex uses it too). */
function sideRows(f: FileRecord) {
  return searchRows(f.id, f);
}

/**
 * The library's files, one per call in order j = 0, 1, …: a pure function of the seed, the layout
 * and `now` (both backends get the same rows from the same seed).
 */
export function fileMaker(seed: number, layout: Layout, now: number): (j: number) => { f: FileRecord; v: VersionRecord } {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  // Zipf-like tag popularity: a few tags are common, most are rare.
  const zipfTag = () => TAGS[Math.min(TAGS.length - 1, Math.floor(Math.pow(r(), 2.2) * TAGS.length))]!;

  return (j: number): { f: FileRecord; v: VersionRecord } => {
    const folderPath = folderPathOf(Math.floor(r() * layout.top), Math.floor(r() * layout.sub));
    let roll = r() * 100;
    let fmt = FORMATS[0]!;
    for (const f of FORMATS) {
      if (roll < f[3]) {
        fmt = f;
        break;
      }
      roll -= f[3];
    }
    const [format, mime, fileType] = fmt;
    const words = [pick(WORDS), pick(WORDS), ...(r() < 0.5 ? [pick(WORDS)] : [])];
    const name = `${words.join('-')}-${j}.${format}`;
    // Sizes spread log-uniformly from 2 KB to 20 MB.
    const size = Math.round(2048 * Math.pow(10_000, r()));
    const image = fileType === 'image' && format !== 'svg';
    const created = now - Math.floor(r() * 730 * 86_400_000);
    const createdAt = new Date(created).toISOString();
    const updatedAt = new Date(created + Math.floor(r() * 86_400_000)).toISOString();
    const tagCount = Math.floor(r() * 5);
    const tags = tagCount === 0 ? null : [...new Set(Array.from({ length: tagCount }, zipfTag))];
    // Ids scrambled (a bijection on j) so that id order says nothing about insertion order.
    const id = hex24(Math.imul(j, 0x9e3779b1) >>> 0, seed);
    const versionId = hex24(Math.imul(j, 0x85ebca6b) >>> 0, seed ^ 0x5a5a5a);
    const state = {
      name,
      filePath: folderPath + name,
      folderPath,
      fileType,
      mime,
      format,
      size,
      width: image ? 200 + Math.floor(r() * 4000) : null,
      height: image ? 200 + Math.floor(r() * 3000) : null,
      hasAlpha: format === 'png' && r() < 0.3,
      bitRate: null,
      duration: null,
      audioCodec: null,
      videoCodec: null,
      tags,
      aiTags: r() < 0.2 ? [{ name: pick(WORDS), confidence: 90, source: 'google-auto-tagging' }] : null,
      customCoordinates: null,
      customMetadata: { brand: pick(BRANDS), price: Math.round(r() * 100_000) / 100 },
      embeddedMetadata: null,
      description: r() < 0.1 ? `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)}` : null,
      isPrivate: r() < 0.05,
      isPublished: r() < 0.98,
      blobKey: versionId,
      checksum: '0'.repeat(64),
      versionNumber: 1,
      createdAt,
      updatedAt,
    } as const;
    return { f: { ...state, id, currentVersionId: versionId }, v: { ...state, id: versionId, fileId: id } };
  };
}

/** The two custom metadata fields and the 3,060 folders, through the store. */
async function addFieldsAndFolders(store: KyselyMetadataStore, layout: Layout, nowIso: string): Promise<void> {
  const fields = customFieldStoreFor(store);
  for (const [k, [name, type]] of ([['brand', 'Text'], ['price', 'Number']] as const).entries()) {
    if (!(await fields.getByName(name))) {
      await fields.insert({ id: hex24(k, 0xcf), name, label: name, schema: { type }, isDeleted: false, createdAt: nowIso, updatedAt: nowIso });
    }
  }

  await store.transaction(async (tx) => {
    for (let t = 0; t < layout.top; t++) {
      const top = `/f${String(t).padStart(3, '0')}/`;
      await tx.insertFolder({ id: hex24(t, 0xf0), path: top, name: top.slice(1, -1), parentPath: '/', createdAt: nowIso, updatedAt: nowIso });
      for (let s = 0; s < layout.sub; s++) {
        const path = folderPathOf(t, s);
        await tx.insertFolder({ id: hex24(t * 1000 + s, 0xf1), path, name: `s${String(s).padStart(3, '0')}`, parentPath: top, createdAt: nowIso, updatedAt: nowIso });
      }
    }
  });
}

export async function generate(dataDir: string, count: number, seed: number, layout: Layout, log: (s: string) => void): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const store = await openSqliteStore(join(dataDir, 'tessera.db'));
  // Generation only: a big page cache, and no fsync per commit (a crash here just means regenerating).
  await sql`PRAGMA cache_size = -1000000`.execute(store.kysely);
  await sql`PRAGMA synchronous = OFF`.execute(store.kysely);
  const now = Date.now();
  const nowIso = new Date(now).toISOString();
  const makeFile = fileMaker(seed, layout, now);
  await addFieldsAndFolders(store, layout, nowIso);

  // The first CANONICAL files go through the store's own insertFile/insertVersion; the rest in
  // multi-row INSERTs built with the store's own row mappers (toColumns, metadataPairs, fieldRow).
  // At the end the bulk derivation is checked against what the store wrote for the canonical files.
  const CANONICAL = Math.min(count, 1000);
  const BATCH = 2000;
  const started = Date.now();
  const db = store.kysely;
  let ftsRowid = 0;
  // Bulk load: the secondary indexes of the bulk-loaded tables are dropped first and rebuilt from
  // their own saved definitions afterwards (one sorted build instead of a million random inserts).
  const BULK_TABLES = ['files', 'file_versions', 'file_tags', 'file_field_values', 'version_counters', 'files_fts_map'];
  const indexes = (
    await sql<{ name: string; sql: string }>`select name, sql from sqlite_master where type = 'index' and sql is not null and tbl_name in (${sql.join(BULK_TABLES)})`.execute(db)
  ).rows;
  let dropped = false;
  const canonical: FileRecord[] = [];
  for (let i = 0; i < count; i += BATCH) {
    const batch: Array<{ f: FileRecord; v: VersionRecord }> = [];
    for (let j = i; j < Math.min(count, i + BATCH); j++) batch.push(makeFile(j));
    const viaStore = batch.filter((_, k) => i + k < CANONICAL);
    const bulk = batch.filter((_, k) => i + k >= CANONICAL);
    await store.transaction(async (tx) => {
      for (const { f, v } of viaStore) {
        await tx.insertFile(f);
        await tx.insertVersion(v);
        canonical.push(f);
      }
    });
    if (bulk.length > 0) {
      if (!dropped) {
        for (const ix of indexes) await sql`drop index ${sql.ref(ix.name)}`.execute(db);
        dropped = true;
        const last = (await sql<{ r: number }>`select rowid as r from files_fts order by rowid desc limit 1`.execute(db)).rows[0]?.r ?? 0;
        ftsRowid = Number(last);
      }
      await db.transaction().execute(async (trx) => {
        for (let k = 0; k < bulk.length; k += 400) {
          const part = bulk.slice(k, k + 400);
          const rows = part.map(({ f }) => sideRows(f));
          await trx.insertInto('files').values(part.map(({ f }) => ({ ...(toColumns(f) as AssetColumns), id: f.id, current_version_id: f.currentVersionId }))).execute();
          await trx.insertInto('file_versions').values(part.map(({ v }) => ({ ...(toColumns(v) as AssetColumns), id: v.id, file_id: v.fileId }))).execute();
          await trx.insertInto('version_counters').values(part.map(({ v }) => ({ file_id: v.fileId, max_version: v.versionNumber }))).execute();
          const tags = rows.flatMap((r) => r.tags);
          if (tags.length > 0) await trx.insertInto('file_tags').values(tags).execute();
          const values = rows.flatMap((r) => r.values);
          for (let x = 0; x < values.length; x += 2000) await trx.insertInto('file_field_values').values(values.slice(x, x + 2000)).execute();
          const docs = rows.map((r) => ({ ...r.doc, rowid: ++ftsRowid }));
          await sql`insert into files_fts (rowid, file_id, name, tags, description, custom) values ${sql.join(
            docs.map((d) => sql`(${d.rowid}, ${d.file_id}, ${d.name}, ${d.tags}, ${d.description}, ${d.custom})`),
          )}`.execute(trx);
          await trx.insertInto('files_fts_map').values(docs.map((d) => ({ file_id: d.file_id, fts_rowid: d.rowid }))).execute();
        }
      });
    }
    const done = Math.min(count, i + BATCH);
    if (done % 50_000 === 0 || done === count) {
      const rate = done / ((Date.now() - started) / 1000);
      log(`  ${done.toLocaleString('en')} files (${Math.round(rate).toLocaleString('en')}/s)`);
    }
  }

  if (dropped) {
    log('  rebuilding indexes …');
    for (const ix of indexes) await sql.raw(ix.sql).execute(db);
  }

  // The bulk rows must be exactly what the store writes: compare for the canonical files.
  for (const f of canonical) {
    const want = sideRows(f);
    const tags = await db.selectFrom('file_tags').selectAll().where('file_id', '=', f.id).orderBy('kind').orderBy('tag').execute();
    const values = await db.selectFrom('file_field_values').selectAll().where('file_id', '=', f.id).orderBy('source').orderBy('field').orderBy('value_text').execute();
    const doc = (await sql`select file_id, name, tags, description, custom from files_fts where rowid = (select fts_rowid from files_fts_map where file_id = ${f.id})`.execute(db)).rows[0];
    const sortRows = <T extends object>(xs: T[]) => xs.map((x) => JSON.stringify(x)).sort();
    const same =
      JSON.stringify(sortRows(tags)) === JSON.stringify(sortRows(want.tags)) &&
      JSON.stringify(sortRows(values)) === JSON.stringify(sortRows(want.values)) &&
      JSON.stringify(doc) === JSON.stringify(want.doc);
    if (!same) throw new Error(`bulk rows differ from the store's for file ${f.id}; update sideRows() in bench/search/generate.mts`);
  }
  // No ANALYZE: a deployed server has no statistics unless an operator runs it, so neither does the bench.
  await store.close();
}

/**
 * The same library in a PostgreSQL database (created empty by the caller): the first 1,000 files
 * through the store, the rest as one INSERT … SELECT FROM unnest(column arrays) per table and batch,
 * built with the store's row mappers, with the bulk-loaded tables' secondary indexes dropped during
 * the load and rebuilt from their saved definitions. Then VACUUM (ANALYZE): see the note at the end.
 */
export async function generatePostgres(url: string, count: number, seed: number, layout: Layout, log: (s: string) => void): Promise<void> {
  const store = await openPostgresStore({ url, poolMax: 2 });
  const now = Date.now();
  const nowIso = new Date(now).toISOString();
  const makeFile = fileMaker(seed, layout, now);
  await addFieldsAndFolders(store, layout, nowIso);

  const CANONICAL = Math.min(count, 1000);
  const BATCH = 5000;
  const canonical: FileRecord[] = [];
  for (let i = 0; i < CANONICAL; i += 250) {
    const part = Array.from({ length: Math.min(CANONICAL, i + 250) - i }, (_, k) => makeFile(i + k));
    await store.transaction(async (tx) => {
      for (const { f, v } of part) {
        await tx.insertFile(f);
        await tx.insertVersion(v);
      }
    });
    canonical.push(...part.map((x) => x.f));
  }

  // One plain connection for the load: commits need not wait for the WAL flush (a crash here just
  // means regenerating), and index builds get a sort area large enough to stay in memory.
  const client = new pg.Client({ connectionString: url, application_name: 'tessera-bench-search' });
  await client.connect();
  try {
    await client.query(`set synchronous_commit = off`);
    await client.query(`set maintenance_work_mem = '512MB'`);
    const BULK_TABLES = ['files', 'file_versions', 'version_counters', 'file_tags', 'file_field_values', 'files_fts'];
    const types = new Map<string, string>();
    for (const r of (
      await client.query<{ t: string; col: string; ty: string }>(
        `select c.relname t, a.attname col, format_type(a.atttypid, a.atttypmod) ty from pg_attribute a
           join pg_class c on c.oid = a.attrelid where c.relnamespace = current_schema()::regnamespace
           and c.relname = any($1) and a.attnum > 0 and not a.attisdropped`,
        [BULK_TABLES],
      )
    ).rows) {
      types.set(`${r.t}.${r.col}`, r.ty);
    }
    // Secondary indexes only: the primary keys stay (they are constraints, and cheap to keep).
    const indexes = (
      await client.query<{ name: string; def: string }>(
        `select i.relname name, pg_get_indexdef(i.oid) def from pg_index x join pg_class i on i.oid = x.indexrelid
           join pg_class t on t.oid = x.indrelid where t.relnamespace = current_schema()::regnamespace and t.relname = any($1)
           and not exists (select 1 from pg_constraint c where c.conindid = i.oid)`,
        [BULK_TABLES],
      )
    ).rows;
    for (const ix of indexes) await client.query(`drop index ${pg.escapeIdentifier(ix.name)}`);

    /** INSERT … SELECT * FROM unnest($1::type[], …): one parameter per column, any number of rows. */
    const insert = async (table: string, rows: ReadonlyArray<Record<string, unknown>>) => {
      if (rows.length === 0) return;
      const cols = Object.keys(rows[0]!);
      const casts = cols.map((c, k) => {
        const ty = types.get(`${table}.${c}`);
        if (!ty) throw new Error(`no column ${table}.${c}`);
        return `$${k + 1}::${ty}[]`;
      });
      await client.query(
        `insert into ${table} (${cols.map((c) => pg.escapeIdentifier(c)).join(', ')}) select * from unnest(${casts.join(', ')})`,
        cols.map((c) => rows.map((r) => r[c] ?? null)),
      );
    };

    const started = Date.now();
    // Batches end on multiples of BATCH (the first one is shorter), so progress reads in round numbers.
    for (let i = CANONICAL, end = 0; i < count; i = end) {
      end = Math.min(count, (Math.floor(i / BATCH) + 1) * BATCH);
      const part: Array<{ f: FileRecord; v: VersionRecord }> = [];
      for (let j = i; j < end; j++) part.push(makeFile(j));
      const rows = part.map(({ f }) => sideRows(f));
      await client.query('begin');
      await insert('files', part.map(({ f }) => ({ ...toColumns(f), id: f.id, current_version_id: f.currentVersionId })));
      await insert('file_versions', part.map(({ v }) => ({ ...toColumns(v), id: v.id, file_id: v.fileId })));
      await insert('version_counters', part.map(({ v }) => ({ file_id: v.fileId, max_version: v.versionNumber })));
      await insert('file_tags', rows.flatMap((r) => r.tags));
      await insert('file_field_values', rows.flatMap((r) => r.values));
      await client.query(`insert into files_fts (file_id, name, tags, description, custom, document) ${ftsSelect}`, ftsParams(rows.map((r) => r.doc)));
      await client.query('commit');
      const done = end;
      if (done % 50_000 === 0 || done === count) {
        log(`  ${done.toLocaleString('en')} files (${Math.round((done - CANONICAL) / ((Date.now() - started) / 1000)).toLocaleString('en')}/s)`);
      }
    }
    log(`  rebuilding ${indexes.length} indexes …`);
    for (const ix of indexes) await client.query(ix.def);

    // The bulk rows must be exactly what the store writes: compare for the canonical files.
    const db = store.kysely;
    const sortRows = <T extends object>(xs: T[]) => xs.map((x) => JSON.stringify(x)).sort();
    for (const f of canonical) {
      const want = sideRows(f);
      const tags = await db.selectFrom('file_tags').selectAll().where('file_id', '=', f.id).execute();
      const values = await db.selectFrom('file_field_values').selectAll().where('file_id', '=', f.id).execute();
      const doc = (await client.query(`select file_id, name, tags, description, custom, document::text from files_fts where file_id = $1`, [f.id])).rows;
      const wantDoc = (await client.query(`select * from (${ftsSelect}) d`, ftsParams([want.doc]))).rows.map((d: Record<string, unknown>) => ({ ...d, document: String(d.document) }));
      const same =
        JSON.stringify(sortRows(tags)) === JSON.stringify(sortRows(want.tags)) &&
        JSON.stringify(sortRows(values)) === JSON.stringify(sortRows(want.values)) &&
        JSON.stringify(doc) === JSON.stringify(wantDoc);
      if (!same) throw new Error(`bulk rows differ from the store's for file ${f.id}; update generatePostgres() in bench/search/generate.mts`);
    }

    // Unlike SQLite's, PostgreSQL's statistics are not an operator's chore: with autovacuum on (the
    // default), a table that has taken more than 1,000 + 20% inserts is vacuumed and analysed
    // within a minute or so (autovacuum_naptime), so a deployment that has just been bulk-loaded
    // has statistics and an all-visible map soon after. The bench does that work itself rather than
    // wait for it (and this machine may run with autovacuum off).
    log('  VACUUM (ANALYZE) …');
    await client.query('vacuum (analyze)');
  } finally {
    await client.end();
    await store.close();
  }
}

/**
 * A file's full-text row as the PostgreSQL store writes it (KyselyRepo.reindex): the analyser's
 * word form of each column, and one weighted tsvector. Parameters: ftsParams(docs).
 */
const ftsSelect = `select u.file_id, u.name, u.tags, u.description, u.custom,
    setweight(to_tsvector('simple', u.name), 'A') || setweight(to_tsvector('simple', u.tags), 'B')
      || setweight(to_tsvector('simple', u.description), 'C') || setweight(to_tsvector('simple', u.custom), 'D') as document
  from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) as u (file_id, name, tags, description, custom)`;
function ftsParams(docs: ReadonlyArray<ReturnType<typeof searchRows>['doc']>): string[][] {
  return [
    docs.map((d) => d.file_id),
    docs.map((d) => wordsText(d.name)),
    docs.map((d) => wordsText(d.tags)),
    docs.map((d) => wordsText(d.description)),
    docs.map((d) => wordsText(d.custom)),
  ];
}
