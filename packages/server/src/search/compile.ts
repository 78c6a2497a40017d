import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { SQLITE_WORDS_FUNCTION, type CheckedCondition, type CheckedExpr, type Operand } from './analyze.js';

/**
 * Compiles an analysed searchQuery into a SQL condition for one kind of row:
 *
 *   file     `files AS f` — the current state of every file; tags, metadata values and full text
 *            come from the side tables the store keeps in step (file_tags, file_field_values,
 *            files_fts), so every condition is an index lookup;
 *   version  `file_versions AS v` — older versions; their tags and metadata are read from the
 *            version row's JSON (there are few versions next to files, and they are only
 *            searched when the query asks for type "file-version");
 *   folder   `folders AS d` — name, id, dates and path; every other field is absent on a folder.
 *
 * Every value is a bound parameter; identifiers come only from the fixed tables below; the only
 * raw SQL text is operator and direction keywords from fixed lists. A field a row kind does not
 * have makes the positive condition false (so its NOT is true): NOT always means "everything
 * the condition does not match". Conditions never evaluate to NULL, so NOT is an exact complement.
 * Constant conditions fold away, so a source whose filter is constant false is never queried.
 */

export type Source = 'file' | 'version' | 'folder';
export type Dialect = 'sqlite' | 'postgres';
/** A compiled condition: a constant or a SQL boolean expression. */
export type Compiled = boolean | RawBuilder<SqlBool>;

type Sql = RawBuilder<unknown>;

const ALIAS: Record<Source, string> = { file: 'f', version: 'v', folder: 'd' };
const TYPE_OF: Record<Source, string> = { file: 'file', version: 'file-version', folder: 'folder' };

type AssetColumn =
  | 'id'
  | 'file_id'
  | 'name'
  | 'folder_path'
  | 'created_at'
  | 'updated_at'
  | 'width'
  | 'height'
  | 'size'
  | 'format'
  | 'file_type'
  | 'is_private'
  | 'is_published'
  | 'has_alpha'
  | 'description'
  | 'tags'
  | 'ai_tags'
  | 'custom_metadata'
  | 'embedded_metadata';
type FolderColumn = 'id' | 'name' | 'parent_path' | 'path' | 'created_at' | 'updated_at';
/** SQLite's row key: in every index, so ties broken by it keep index order (PostgreSQL uses id). */
type RowKey = 'rowid';

/** A column of the source's table; only names from the unions above reach SQL. */
function col(source: Source, column: AssetColumn | FolderColumn | RowKey): Sql {
  return sql.ref(`${ALIAS[source]}.${column}`);
}

const asBool = (s: Sql): RawBuilder<SqlBool> => s as RawBuilder<SqlBool>;

export function andAll(parts: Compiled[]): Compiled {
  const rest: RawBuilder<SqlBool>[] = [];
  for (const p of parts) {
    if (p === false) return false;
    if (p !== true) rest.push(p);
  }
  if (rest.length === 0) return true;
  if (rest.length === 1) return rest[0]!;
  return asBool(sql`(${sql.join(rest, sql` AND `)})`);
}

export function orAll(parts: Compiled[]): Compiled {
  const rest: RawBuilder<SqlBool>[] = [];
  for (const p of parts) {
    if (p === true) return true;
    if (p !== false) rest.push(p);
  }
  if (rest.length === 0) return false;
  if (rest.length === 1) return rest[0]!;
  return asBool(sql`(${sql.join(rest, sql` OR `)})`);
}

function negate(c: Compiled): Compiled {
  return typeof c === 'boolean' ? !c : asBool(sql`(NOT ${c})`);
}

/** A compiled condition as SQL, constants included (for a WHERE that needs one). */
export function toSql(c: Compiled): RawBuilder<SqlBool> {
  if (c === true) return asBool(sql`${1} = ${1}`);
  if (c === false) return asBool(sql`${1} = ${0}`);
  return c;
}

/**
 * The smallest string greater than every string that starts with p, in code point order (which is
 * SQLite's BINARY collation and PostgreSQL's "C" collation over UTF-8); undefined when p has none.
 */
export function prefixUpperBound(p: string): string | undefined {
  const cps = Array.from(p);
  while (cps.length > 0) {
    let next = cps.pop()!.codePointAt(0)! + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
    if (next <= 0x10ffff) return cps.join('') + String.fromCodePoint(next);
  }
  return undefined;
}

function bytewise(ref: Sql, dialect: Dialect): Sql {
  return dialect === 'postgres' ? sql`${ref} COLLATE "C"` : ref;
}

/** ref starts with p (case-sensitive), as an index range. */
function startsWith(ref: Sql, p: string, dialect: Dialect): Compiled {
  if (p === '') return asBool(sql`${ref} IS NOT NULL`);
  const r = bytewise(ref, dialect);
  const up = prefixUpperBound(p);
  return asBool(up === undefined ? sql`${r} >= ${p}` : sql`(${r} >= ${p} AND ${r} < ${up})`);
}

function inList(ref: Sql, values: readonly (string | number)[]): RawBuilder<SqlBool> {
  if (values.length === 1) return asBool(sql`${ref} = ${values[0]}`);
  return asBool(sql`${ref} IN (${sql.join(values.map((v) => sql`${v}`))})`);
}

const CMP_SQL: Record<string, string> = { '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

function cmp(ref: Sql, op: string, value: string | number): RawBuilder<SqlBool> {
  const o = CMP_SQL[op];
  if (!o) throw new Error(`not a comparison: ${op}`);
  return asBool(sql`${ref} ${sql.raw(o)} ${value}`);
}

// --- full text -------------------------------------------------------------------------------

export type FtsColumn = 'name' | 'tags' | 'description' | 'custom';

/** An FTS5 MATCH string: every word, quoted, in one column. */
export function ftsMatch(column: FtsColumn, words: readonly string[]): string {
  return `${column} : (${words.map((w) => `"${w.replace(/"/g, '""')}"`).join(' AND ')})`;
}

function fullText(source: Source, column: FtsColumn, words: readonly string[], dialect: Dialect): Compiled {
  if (dialect === 'sqlite') {
    return asBool(sql`${col(source, 'id')} IN (SELECT file_id FROM files_fts WHERE files_fts MATCH ${ftsMatch(column, words)})`);
  }
  const text = words.join(' ');
  const field = sql.ref(`files_fts.${column}`);
  return asBool(
    sql`${col(source, 'id')} IN (SELECT file_id FROM files_fts WHERE document @@ plainto_tsquery('simple', ${text}) AND to_tsvector('simple', coalesce(${field}, '')) @@ plainto_tsquery('simple', ${text}))`,
  );
}

/**
 * Word matching without the full-text index (versions, folders, one metadata field): each word
 * must appear between spaces in the text's word form. On SQLite that form comes from a function
 * the adapter registers (exactly the analyser's split: accents removed, lower case, letters and
 * digits). PostgreSQL approximates it in SQL: lower case, common Latin accents folded, common
 * separators made spaces. The fold table is fixed text of ours, so it is inlined as literals.
 */
const FOLD: ReadonlyArray<readonly [string, string]> = [
  ...[...'-_.,/\\"\'[]{}():;!?&+@#|=*<>~\t\n\r'].map((c) => [c, ' '] as const),
  ...(
    [
      ['àáâãäåāÀÁÂÃÄÅĀ', 'a'],
      ['çćčÇĆČ', 'c'],
      ['ďđĎĐ', 'd'],
      ['èéêëēėęěÈÉÊËĒĖĘĚ', 'e'],
      ['ğĞ', 'g'],
      ['ìíîïīįÌÍÎÏĪĮ', 'i'],
      ['łŁ', 'l'],
      ['ñńňÑŃŇ', 'n'],
      ['òóôõöøōÒÓÔÕÖØŌ', 'o'],
      ['řŕŘŔ', 'r'],
      ['śšşŚŠŞ', 's'],
      ['ťţŤŢ', 't'],
      ['ùúûüūůűÙÚÛÜŪŮŰ', 'u'],
      ['ýÿÝŸ', 'y'],
      ['źżžŹŻŽ', 'z'],
    ] as const
  ).flatMap(([from, to]) => [...from].map((c) => [c, to] as const)),
  ['ß', 'ss'],
  ['æ', 'ae'],
  ['Æ', 'ae'],
  ['œ', 'oe'],
  ['Œ', 'oe'],
];

function wordsIn(text: Sql, words: readonly string[], dialect: Dialect): Compiled {
  const raw = sql`coalesce(${text}, ${sql.lit('')})`;
  let padded: Sql;
  if (dialect === 'sqlite') {
    // The adapter registers this function: the same word split as the analyser (wordsText).
    padded = sql`${sql.raw(SQLITE_WORDS_FUNCTION)}(${raw})`;
  } else {
    let norm: Sql = sql`lower(${raw})`;
    for (const [from, to] of FOLD) norm = sql`replace(${norm}, ${sql.lit(from)}, ${sql.lit(to)})`;
    padded = sql`(${sql.lit(' ')} || ${norm} || ${sql.lit(' ')})`;
  }
  const exact = andAll(words.map((w) => asBool(sql`${padded} LIKE ${`% ${w} %`}`)));
  // A cheap necessary test first, so most rows never reach the fold chain: ASCII text must
  // contain every word as a substring; text with other characters goes to the exact test.
  const contains = andAll(
    words.map((w) => asBool(dialect === 'sqlite' ? sql`instr(lower(${raw}), ${w}) > 0` : sql`strpos(lower(${raw}), ${w}) > 0`)),
  );
  const nonAscii = asBool(dialect === 'sqlite' ? sql`${raw} GLOB ${'*[^\u0001-\u007f]*'}` : sql`${raw} ~ ${'[^\u0001-\u007f]'}`);
  return andAll([orAll([contains, nonAscii]), exact]);
}

// --- conditions --------------------------------------------------------------------------------

const texts = (ops: Operand[]) => ops.map((o) => (o.t === 'text' ? o.v : String((o as { v: unknown }).v)));
const words = (ops: Operand[]) => (ops[0]?.t === 'words' ? ops[0].words : []);

function dateRange(ref: Sql, o: Operand): Compiled {
  if (o.t !== 'date') return false;
  return asBool(sql`(${ref} >= ${o.start} AND ${ref} < ${o.end})`);
}

/** A condition on a plain column: =, IN, comparisons and `:` over text, numbers and dates. */
function columnCondition(ref: Sql, c: CheckedCondition, dialect: Dialect, nullable: boolean): Compiled {
  let positive: Compiled;
  const o = c.operands;
  if (c.op === '=' || c.op === 'IN') {
    if (o[0]?.t === 'date') positive = orAll(o.map((x) => dateRange(ref, x)));
    else positive = inList(ref, o.map((x) => (x.t === 'num' ? x.v : x.t === 'text' ? x.v : String(x.t === 'bool' ? x.v : ''))));
  } else if (c.op === ':') {
    positive = startsWith(ref, texts(o)[0] ?? '', dialect);
  } else {
    const x = o[0]!;
    positive = cmp(ref, c.op, x.t === 'date' ? x.start : x.t === 'num' ? x.v : x.t === 'text' ? x.v : 0);
  }
  return nullable && positive !== true && positive !== false ? andAll([asBool(sql`${ref} IS NOT NULL`), positive]) : positive;
}

/** The positive form of a condition (NOT is applied by the caller). */
function positive(c: CheckedCondition, source: Source, dialect: Dialect, opts: CompileOptions): Compiled {
  const t = c.target;
  const isFolder = source === 'folder';
  switch (t.kind) {
    case 'type':
      return texts(c.operands).includes(TYPE_OF[source]);
    case 'createdBy':
      // Tessera records no creator: every asset was made with the account's API key.
      return false;
    case 'name':
      if (c.op === 'HAS') {
        return source === 'file' ? fullText(source, 'name', words(c.operands), dialect) : wordsIn(col(source, 'name'), words(c.operands), dialect);
      }
      return columnCondition(col(source, 'name'), c, dialect, false);
    case 'id':
      return columnCondition(col(source, source === 'version' ? 'file_id' : 'id'), c, dialect, false);
    case 'date':
      return columnCondition(col(source, t.column), c, dialect, false);
    case 'path': {
      const ref = col(source, isFolder ? 'parent_path' : 'folder_path');
      const p = texts(c.operands)[0] ?? '/';
      if (c.op === ':') return p === '/' ? true : startsWith(ref, p, dialect);
      return asBool(sql`${ref} = ${p}`);
    }
    case 'num':
      if (isFolder) return false;
      return columnCondition(col(source, t.column), c, dialect, t.column !== 'size');
    case 'format':
      if (isFolder) return false;
      return columnCondition(col(source, 'format'), c, dialect, false);
    case 'bool': {
      if (isFolder) return false;
      const want = c.operands[0]?.t === 'bool' && c.operands[0].v ? 1 : 0;
      if (t.column === 'has_alpha') {
        // Transparency is a property of images only.
        return asBool(sql`(${col(source, 'file_type')} = ${'image'} AND ${col(source, 'has_alpha')} = ${want})`);
      }
      return asBool(sql`${col(source, t.column)} = ${want}`);
    }
    case 'description': {
      if (isFolder) return false;
      const ref = col(source, 'description');
      if (c.op === 'EXISTS') return asBool(sql`(${ref} IS NOT NULL AND ${ref} <> ${''})`);
      return source === 'file' ? fullText(source, 'description', words(c.operands), dialect) : wordsIn(ref, words(c.operands), dialect);
    }
    case 'tags':
      if (isFolder) return false;
      return source === 'file' ? fileTags(c, dialect, opts) : versionTags(c, dialect);
    case 'meta':
      if (isFolder) return false;
      return source === 'file' ? fileMeta(c, dialect, opts) : versionMeta(c, dialect);
  }
}

/** Ends a side-table EXISTS subquery: OFFSET 0 when asked to fence it (see CompileOptions). */
const fence = (opts: CompileOptions): Sql => (opts.fenceSubqueries ? sql` OFFSET 0` : sql``);

function fileTags(c: CheckedCondition, dialect: Dialect, opts: CompileOptions): Compiled {
  const id = col('file', 'id');
  if (c.op === 'HAS') return fullText('file', 'tags', words(c.operands), dialect);
  if (c.op === 'EXISTS') return asBool(sql`EXISTS (SELECT 1 FROM file_tags AS t WHERE t.file_id = ${id}${fence(opts)})`);
  // SQLite without statistics picks the (file_id, kind, tag) key and reads every tag row of the
  // file for tag_lower; (tag_lower, file_id) answers from the index alone (half the cost per file).
  const from = dialect === 'sqlite' ? sql`file_tags AS t INDEXED BY file_tags_lower_idx` : sql`file_tags AS t`;
  return asBool(sql`EXISTS (SELECT 1 FROM ${from} WHERE t.file_id = ${id} AND ${inList(sql.ref('t.tag_lower'), texts(c.operands))}${fence(opts)})`);
}

function versionTags(c: CheckedCondition, dialect: Dialect): Compiled {
  const tags = col('version', 'tags');
  const ai = col('version', 'ai_tags');
  if (dialect === 'sqlite') {
    const aiNames = sql`(SELECT group_concat(json_extract(value, ${'$.name'}), ${' '}) FROM json_each(${ai}))`;
    if (c.op === 'EXISTS') {
      return asBool(sql`(json_array_length(coalesce(${tags}, ${'[]'})) > 0 OR json_array_length(coalesce(${ai}, ${'[]'})) > 0)`);
    }
    if (c.op === 'HAS') {
      return wordsIn(sql`(coalesce((SELECT group_concat(value, ${' '}) FROM json_each(${tags})), ${''}) || ${' '} || coalesce(${aiNames}, ${''}))`, words(c.operands), dialect);
    }
    const list = sql.join(texts(c.operands).map((v) => sql`${v}`));
    return asBool(
      sql`(EXISTS (SELECT 1 FROM json_each(${tags}) WHERE lower(value) IN (${list})) OR EXISTS (SELECT 1 FROM json_each(${ai}) WHERE lower(json_extract(value, ${'$.name'})) IN (${list})))`,
    );
  }
  const tagsJson = sql`coalesce(${tags}::jsonb, ${'[]'}::jsonb)`;
  const aiJson = sql`coalesce(${ai}::jsonb, ${'[]'}::jsonb)`;
  if (c.op === 'EXISTS') return asBool(sql`(jsonb_array_length(${tagsJson}) > 0 OR jsonb_array_length(${aiJson}) > 0)`);
  if (c.op === 'HAS') {
    return wordsIn(
      sql`(coalesce((SELECT string_agg(x, ${' '}) FROM jsonb_array_elements_text(${tagsJson}) AS e(x)), ${''}) || ${' '} || coalesce((SELECT string_agg(x ->> ${'name'}, ${' '}) FROM jsonb_array_elements(${aiJson}) AS e(x)), ${''}))`,
      words(c.operands),
      dialect,
    );
  }
  const list = sql.join(texts(c.operands).map((v) => sql`${v}`));
  return asBool(
    sql`(EXISTS (SELECT 1 FROM jsonb_array_elements_text(${tagsJson}) AS e(x) WHERE lower(x) IN (${list})) OR EXISTS (SELECT 1 FROM jsonb_array_elements(${aiJson}) AS e(x) WHERE lower(x ->> ${'name'}) IN (${list})))`,
  );
}

const isAscii = (s: string) => /^[\x00-\x7f]*$/.test(s);

/** One operand against a file_field_values row `m`. */
function valuePred(op: string, o: Operand, dialect: Dialect): Compiled {
  const text = sql.ref('m.value_text');
  const lower = sql.ref('m.value_lower');
  const num = sql.ref('m.value_num');
  const notBool = sql`${text} NOT IN (${'true'}, ${'false'})`;
  if (op === '=' || op === 'IN') {
    switch (o.t) {
      case 'text':
        return asBool(sql`(${num} IS NULL AND ${lower} = ${o.v.toLowerCase()} AND ${text} = ${o.v})`);
      case 'num':
        return asBool(sql`(${num} = ${o.v} AND ${notBool})`);
      case 'bool':
        return asBool(sql`(${num} = ${o.v ? 1 : 0} AND ${text} = ${o.v ? 'true' : 'false'})`);
      case 'date':
        return asBool(sql`(${num} IS NULL AND ${text} >= ${o.start} AND ${text} < ${o.end})`);
      default:
        return false;
    }
  }
  if (op === ':') {
    if (o.t !== 'text') return false;
    const parts: Compiled[] = [asBool(sql`${num} IS NULL`)];
    // The lower-cased range lets the (source, field, value_lower) index narrow the scan.
    if (isAscii(o.v)) parts.push(startsWith(lower, o.v.toLowerCase(), dialect));
    parts.push(startsWith(text, o.v, dialect));
    return andAll(parts);
  }
  if (op === 'HAS') return o.t === 'words' ? andAll([asBool(sql`${num} IS NULL`), wordsIn(text, o.words, dialect)]) : false;
  if (o.t === 'num') return andAll([cmp(num, op, o.v), asBool(notBool)]);
  if (o.t === 'date') return andAll([asBool(sql`${num} IS NULL`), cmp(text, op, o.start)]);
  return false;
}

function fileMeta(c: CheckedCondition, dialect: Dialect, opts: CompileOptions): Compiled {
  if (c.target.kind !== 'meta') return false;
  const { source, field } = c.target;
  const pred = c.op === 'EXISTS' ? asBool(sql`m.value_text IS NOT NULL`) : orAll(c.operands.map((o) => valuePred(c.op, o, dialect)));
  if (pred === false) return false;
  const exists = asBool(
    sql`EXISTS (SELECT 1 FROM file_field_values AS m WHERE m.file_id = ${col('file', 'id')} AND m.source = ${source} AND m.field = ${field} AND ${toSql(pred)}${fence(opts)})`,
  );
  // HAS on a text field: the full-text index finds candidates, the field's own value confirms.
  return c.op === 'HAS' ? andAll([fullText('file', 'custom', words(c.operands), dialect), exists]) : exists;
}

/** One operand against a JSON value: SQLite json_each row `j` (type, atom) or PostgreSQL jsonb `j.x`. */
function jsonPred(op: string, o: Operand, dialect: Dialect): Compiled {
  const sqlite = dialect === 'sqlite';
  const type = sqlite ? sql.ref('j.type') : sql`jsonb_typeof(j.x)`;
  const atom = sqlite ? sql.ref('j.atom') : sql`(j.x #>> ${'{}'}::text[])`;
  const numAtom = sqlite ? atom : sql`(j.x #>> ${'{}'}::text[])::double precision`;
  const isText = asBool(sql`${type} = ${sqlite ? 'text' : 'string'}`);
  const isNum = asBool(sqlite ? sql`${type} IN (${'integer'}, ${'real'})` : sql`${type} = ${'number'}`);
  if (op === '=' || op === 'IN') {
    switch (o.t) {
      case 'text':
        return andAll([isText, asBool(sql`${atom} = ${o.v}`)]);
      case 'num':
        return andAll([isNum, asBool(sql`${numAtom} = ${o.v}`)]);
      case 'bool':
        return sqlite
          ? asBool(sql`${type} = ${o.v ? 'true' : 'false'}`)
          : asBool(sql`(${type} = ${'boolean'} AND ${atom} = ${o.v ? 'true' : 'false'})`);
      case 'date':
        return andAll([isText, dateRange(atom, o)]);
      default:
        return false;
    }
  }
  if (op === ':') return o.t === 'text' ? andAll([isText, startsWith(atom, o.v, dialect)]) : false;
  if (op === 'HAS') return o.t === 'words' ? andAll([isText, wordsIn(atom, o.words, dialect)]) : false;
  if (op === 'EXISTS') return asBool(sql`${type} <> ${'null'}`);
  if (o.t === 'num') return andAll([isNum, cmp(numAtom, op, o.v)]);
  if (o.t === 'date') return andAll([isText, cmp(atom, op, o.start)]);
  return false;
}

function versionMeta(c: CheckedCondition, dialect: Dialect): Compiled {
  if (c.target.kind !== 'meta') return false;
  const { source, field } = c.target;
  const doc = col('version', source === 'custom' ? 'custom_metadata' : 'embedded_metadata');
  // Custom field names are flat keys; embedded names use dots for nesting (as the store flattens them).
  const keys = source === 'custom' ? [field] : field.split('.');
  const pred = c.op === 'EXISTS' ? jsonPred('EXISTS', { t: 'text', v: '' }, dialect) : orAll(c.operands.map((o) => jsonPred(c.op, o, dialect)));
  if (pred === false) return false;
  if (dialect === 'sqlite') {
    const path = `$${keys.map((k) => `."${k}"`).join('')}`;
    return asBool(
      sql`EXISTS (SELECT 1 FROM json_each(${doc}, ${path}) AS j WHERE j.type NOT IN (${'object'}, ${'array'}) AND ${toSql(pred)})`,
    );
  }
  const at = sql`(${doc}::jsonb #> ${keys}::text[])`;
  return asBool(
    sql`EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(${at}) = ${'array'} THEN ${at} ELSE jsonb_build_array(${at}) END) AS j(x) WHERE jsonb_typeof(j.x) NOT IN (${'object'}, ${'array'}) AND ${toSql(pred)})`,
  );
}

export interface CompileOptions {
  /**
   * PostgreSQL, for a condition checked on a known handful of rows (files by id): OFFSET 0 keeps
   * each EXISTS on a side table a per-row probe. Without it, and without statistics, the planner
   * may turn the EXISTS into a join that starts from every row with that tag or value (seconds).
   * Not for key queries or counts, where that join is the right plan.
   */
  readonly fenceSubqueries?: boolean;
}

/** Compiles an analysed query for one source. */
export function compileFilter(e: CheckedExpr, source: Source, dialect: Dialect, opts: CompileOptions = {}): Compiled {
  if (e.kind === 'and') return andAll(e.items.map((x) => compileFilter(x, source, dialect, opts)));
  if (e.kind === 'or') return orAll(e.items.map((x) => compileFilter(x, source, dialect, opts)));
  const p = positive(e, source, dialect, opts);
  return e.negated ? negate(p) : p;
}

// --- ordering ---------------------------------------------------------------------------------

export type SortKey = 'name' | 'created' | 'updated' | 'height' | 'width' | 'size' | 'relevance';
export type SortDir = 'ASC' | 'DESC';

const SORT_COLUMN: Record<Exclude<SortKey, 'relevance'>, AssetColumn> = {
  name: 'name',
  created: 'created_at',
  updated: 'updated_at',
  height: 'height',
  width: 'width',
  size: 'size',
};

/** The unique key that breaks ties: SQLite's rowid (in every index, so no extra sort), else id. */
export function rowKey(source: Source, dialect: Dialect): Sql {
  return col(source, dialect === 'sqlite' ? 'rowid' : 'id');
}

/**
 * ORDER BY for one source, with a unique row key as the last key so that pages never overlap.
 * NULLs (width/height of non-images) sort first ascending and last descending on both dialects.
 * Folders have no size or dimensions: they sort by name for those keys. `relevance` is an
 * expression the caller joined in (files only); without one, relevance order is the default order.
 */
export function orderBy(source: Source, key: SortKey, dir: SortDir, dialect: Dialect, relevance?: Sql): Sql {
  const d = sql.raw(dir);
  const pg = dialect === 'postgres';
  const idRef = rowKey(source, dialect);
  if (key === 'relevance') {
    const fallback = sql`${col(source, 'created_at')} ASC, ${idRef} ASC`;
    // bm25 / negated ts_rank: lower is more relevant, so descending relevance is ascending score.
    if (!relevance) return fallback;
    return sql`${relevance} ${sql.raw(dir === 'DESC' ? 'ASC' : 'DESC')}, ${fallback}`;
  }
  let k: Exclude<SortKey, 'relevance'> = key;
  if (source === 'folder' && (k === 'height' || k === 'width' || k === 'size')) k = 'name';
  const ref = k === 'name' ? bytewise(col(source, 'name'), dialect) : col(source, SORT_COLUMN[k]);
  const nulls = pg && (k === 'height' || k === 'width') ? sql.raw(dir === 'ASC' ? ' NULLS FIRST' : ' NULLS LAST') : sql``;
  return sql`${ref} ${d}${nulls}, ${idRef} ${d}`;
}

/**
 * The full-text match behind relevance: every positive HAS on an indexed column, ORed.
 * SQLite: an FTS5 MATCH string; PostgreSQL: the words for plainto_tsquery.
 */
export function relevanceQuery(e: CheckedExpr): { match: string; words: string[]; columns: FtsColumn[] } | undefined {
  const matches: string[] = [];
  const all: string[] = [];
  const columns = new Set<FtsColumn>();
  const walk = (x: CheckedExpr) => {
    if (x.kind !== 'cond') return x.items.forEach(walk);
    if (x.op !== 'HAS' || x.negated) return;
    const w = words(x.operands);
    const column: FtsColumn | undefined =
      x.target.kind === 'name' ? 'name' : x.target.kind === 'tags' ? 'tags' : x.target.kind === 'description' ? 'description' : x.target.kind === 'meta' ? 'custom' : undefined;
    if (!column || w.length === 0) return;
    matches.push(`(${ftsMatch(column, w)})`);
    all.push(...w);
    columns.add(column);
  };
  walk(e);
  return matches.length === 0 ? undefined : { match: matches.join(' OR '), words: all, columns: [...columns] };
}
