// bench/search — list and search latency at scale, through the HTTP API of the real server.
//   1. generates a synthetic library (default 1,000,000 files in 3,060 folders) in a data dir through
//      the metadata store (bench/search/generate.mts); the dir is kept and reused by later runs;
//   2. starts the real server (child process) on that data dir;
//   3. times each query over HTTP (sequential requests, after a warm-up; the value in each query
//      varies per request so no two consecutive requests are identical) and prints p50/p95.
// With --backend postgres the library lives in a PostgreSQL database instead (kept the same way)
// and the server runs on it; --explain prints the plans of the queries instead of timing them.
// Run by hand: `npm run bench:search` (or `node --import tsx bench/search/run.mts --help`).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, type LogEvent } from 'kysely';
import pg from 'pg';
import { KyselyAssetSearch } from '../../packages/server/src/adapters/db/asset-search.js';
import { customFieldStoreFor } from '../../packages/server/src/adapters/db/custom-field-repo.js';
import { KyselyMetadataStore } from '../../packages/server/src/adapters/db/kysely-store.js';
import { createPool } from '../../packages/server/src/adapters/db/postgres/index.js';
import type { Database } from '../../packages/server/src/adapters/db/schema.js';
import { ListService } from '../../packages/server/src/services/list-service.js';
import { BRANDS, TAGS, WORDS, folderPathOf, generate, generatePostgres, rng, type Layout } from './generate.mts';

const TESSERA_BIN = fileURLToPath(new URL('../../packages/server/bin/tessera.mjs', import.meta.url));
const GENERATOR_VERSION = 3;

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '1000000' },
    top: { type: 'string', default: '60' },
    sub: { type: 'string', default: '50' },
    seed: { type: 'string', default: '42' },
    dir: { type: 'string' },
    rounds: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
    limits: { type: 'string', default: '1000,100' },
    only: { type: 'string' },
    backend: { type: 'string', default: 'sqlite' },
    'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/tessera_bench_search' },
    explain: { type: 'boolean', default: false },
    'server-node-args': { type: 'string' },
    regenerate: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(`usage: node --import tsx bench/search/run.mts [options]
  --count N        files in the library (default 1000000)
  --top N --sub N  folders: N top-level folders with N subfolders each; files go in subfolders (default 60 × 50)
  --seed N         generator seed (default 42)
  --dir DIR        data dir (default: <tmp>/tessera-bench-search-<count>); kept and reused between runs
  --rounds N       timed requests per query (default 200)
  --warmup N       untimed requests per query first (default 20)
  --limits LIST    page sizes to time each query with (default 1000,100; 1000 is the API's default)
  --only LIST      comma list of query ids to run (folder,filter,tags,prefix,has,custom)
  --regenerate     throw away the data dir (or the bench database) and generate it again
  --backend B      sqlite (default) or postgres
  --database-url U with --backend postgres: the bench database, created and kept like the data dir
                   (default postgres://postgres@127.0.0.1:5432/tessera_bench_search); the script only
                   ever drops a database it created itself
  --server-node-args='A B'  extra node options for the server process, e.g. --server-node-args='--cpu-prof --cpu-prof-dir=/tmp/p'
                   (the server is stopped with SIGTERM, so a CPU profile is written)
  --explain        PostgreSQL only: instead of timing, run each query once through the server's list
                   code and print EXPLAIN (ANALYZE, BUFFERS) of every SQL statement it sends
`);
  process.exit(0);
}

if (args.backend !== 'sqlite' && args.backend !== 'postgres') {
  process.stderr.write(`--backend must be sqlite or postgres, got "${args.backend}"\n`);
  process.exit(2);
}
if (args.explain && args.backend !== 'postgres') {
  process.stderr.write('--explain needs --backend postgres\n');
  process.exit(2);
}
const POSTGRES = args.backend === 'postgres';
const DATABASE_URL = args['database-url'];
const COUNT = Number(args.count);
const SEED = Number(args.seed);
const LAYOUT: Layout = { top: Number(args.top), sub: Number(args.sub) };
const ROUNDS = Number(args.rounds);
const WARMUP = Number(args.warmup);
const LIMITS = args.limits.split(',').map(Number);
// With PostgreSQL the data dir only holds what the server keeps on disk (no blobs are read).
const DIR = args.dir ?? join(tmpdir(), `tessera-bench-search-${POSTGRES ? 'pg-' : ''}${COUNT}`);
const PRIVATE_KEY = 'private_bench_search';
const META = join(DIR, 'bench-meta.json');

const log = (s: string) => process.stderr.write(`${s}\n`);

/** Marks a database as this bench's own: only such a database is ever dropped. */
const BENCH_MARK = 'tessera-bench-search';

/** The bench database: kept while its comment says it holds the wanted library, else made again. */
async function ensurePostgresLibrary(want: object): Promise<void> {
  const target = new URL(DATABASE_URL);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!name) throw new Error('--database-url needs a database name');
  const admin = new URL(DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = (await client.query<{ note: string | null }>(`select shobj_description(oid, 'pg_database') note from pg_database where datname = $1`, [name])).rows[0];
    let note: { bench?: string; library?: unknown } | undefined;
    try {
      note = found?.note ? (JSON.parse(found.note) as typeof note) : undefined;
    } catch {
      note = undefined;
    }
    if (found && note?.bench !== BENCH_MARK) {
      throw new Error(`database "${name}" exists and was not created by this bench; choose another --database-url`);
    }
    if (found && !args.regenerate && JSON.stringify(note?.library) === JSON.stringify(want)) {
      log(`reusing ${redact(DATABASE_URL)}`);
      return;
    }
    const ident = pg.escapeIdentifier(name);
    if (found) await client.query(`drop database ${ident} with (force)`);
    await client.query(`create database ${ident} template template0 encoding 'UTF8'`);
    // Marked as ours (incomplete) before anything else, so a failed generation may be dropped next time.
    await client.query(`comment on database ${ident} is ${pg.escapeLiteral(JSON.stringify({ bench: BENCH_MARK, library: null }))}`);
    log(`generating ${COUNT.toLocaleString('en')} files in ${LAYOUT.top * (LAYOUT.sub + 1)} folders into ${redact(DATABASE_URL)} …`);
    const t = Date.now();
    await generatePostgres(DATABASE_URL, COUNT, SEED, LAYOUT, log);
    log(`generated in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    await client.query(`comment on database ${ident} is ${pg.escapeLiteral(JSON.stringify({ bench: BENCH_MARK, library: want }))}`);
  } finally {
    await client.end();
  }
}

const redact = (url: string) => {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
};

async function ensureLibrary(): Promise<void> {
  const want = { generator: GENERATOR_VERSION, count: COUNT, seed: SEED, ...LAYOUT };
  if (POSTGRES) return ensurePostgresLibrary(want);
  if (!args.regenerate && existsSync(META) && JSON.stringify(JSON.parse(readFileSync(META, 'utf8'))) === JSON.stringify(want)) {
    log(`reusing ${DIR}`);
    return;
  }
  rmSync(DIR, { recursive: true, force: true });
  log(`generating ${COUNT.toLocaleString('en')} files in ${LAYOUT.top * (LAYOUT.sub + 1)} folders into ${DIR} …`);
  const t = Date.now();
  await generate(DIR, COUNT, SEED, LAYOUT, log);
  log(`generated in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  writeFileSync(META, JSON.stringify(want));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function startServer(): Promise<{ base: string; child: ChildProcess }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const nodeArgs = args['server-node-args']?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, TESSERA_BIN, 'serve'], {
    env: {
      ...process.env,
      TESSERA_PORT: String(port),
      TESSERA_HOST: '127.0.0.1',
      TESSERA_DATA_DIR: DIR,
      ...(POSTGRES ? { TESSERA_DATABASE_URL: DATABASE_URL, TESSERA_WEBHOOK_SECRET: 'bench_search_webhooks' } : {}),
      TESSERA_PUBLIC_URL: base,
      TESSERA_PRIVATE_KEY: PRIVATE_KEY,
      TESSERA_PUBLIC_KEY: 'public_bench_search',
      TESSERA_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { base, child };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('server did not start');
}

interface Scenario {
  id: string;
  label: string;
  params: (i: number) => Record<string, string>;
}

const r = rng(7);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
const randomFolder = () => folderPathOf(Math.floor(r() * LAYOUT.top), Math.floor(r() * LAYOUT.sub));
// Mid-popularity tags (the generator's tag popularity is Zipf-like: low numbers are common).
const midTag = () => TAGS[20 + Math.floor(r() * 60)]!;

const SCENARIOS: Scenario[] = [
  {
    id: 'folder',
    label: 'folder listing (type=all), sorted by name',
    params: () => ({ path: randomFolder(), type: 'all', sort: 'ASC_NAME' }),
  },
  {
    id: 'filter',
    label: '`format = "jpg" AND size < "1mb" AND createdAt > "7d"`',
    params: (i) => ({ searchQuery: `format = "${i % 2 ? 'jpg' : 'png'}" AND size < "1mb" AND createdAt > "7d"` }),
  },
  {
    id: 'tags',
    label: '`tags IN ["tag0NN", "tag0MM"]` (two mid-popularity tags)',
    params: () => ({ searchQuery: `tags IN ["${midTag()}", "${midTag()}"]` }),
  },
  {
    id: 'prefix',
    label: '`name : "<word>"` (names that start with a word)',
    params: () => ({ searchQuery: `name : "${pick(WORDS)}"` }),
  },
  {
    id: 'has',
    label: '`name HAS "<word> <word>"`',
    params: () => ({ searchQuery: `name HAS "${pick(WORDS)} ${pick(WORDS)}"` }),
  },
  {
    id: 'custom',
    label: '`"customMetadata.brand" = "<brand>"`',
    params: () => ({ searchQuery: `"customMetadata.brand" = "${pick(BRANDS)}"` }),
  },
];

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const median = (xs: number[]) => pct(xs, 50);

async function measure(base: string, s: Scenario, limit: number) {
  const auth = `Basic ${Buffer.from(`${PRIVATE_KEY}:`).toString('base64')}`;
  const times: number[] = [];
  const counts: number[] = [];
  const sizes: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    const qs = new URLSearchParams({ ...s.params(i), limit: String(limit) });
    const t0 = performance.now();
    const res = await fetch(`${base}/v1/files?${qs}`, { headers: { authorization: auth } });
    const text = await res.text();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`${s.id}: HTTP ${res.status} ${text.slice(0, 300)}`);
    if (i < WARMUP) continue;
    times.push(ms);
    counts.push((JSON.parse(text) as unknown[]).length);
    sizes.push(text.length);
  }
  return { min: Math.min(...times), p50: median(times), p95: pct(times, 95), results: median(counts), kb: median(sizes) / 1024 };
}

async function main(): Promise<void> {
  await ensureLibrary();
  if (args.explain) return explainAll();
  const { files, folders, engine } = POSTGRES ? await postgresFacts() : sqliteFacts();
  const { base, child } = await startServer();
  const load0 = loadavg()[0]!;
  const rows: string[] = [];
  try {
    const only = args.only?.split(',');
    for (const s of SCENARIOS.filter((x) => !only || only.includes(x.id))) {
      for (const limit of LIMITS) {
        const m = await measure(base, s, limit);
        const row = `| ${s.label} | ${limit} | ${m.min.toFixed(1)} | ${m.p50.toFixed(1)} | ${m.p95.toFixed(1)} | ${m.results} | ${m.kb.toFixed(0)} |`;
        log(row);
        rows.push(row);
      }
    }
  } finally {
    child.kill('SIGTERM');
  }
  const load1 = loadavg()[0]!;
  const cpu = cpus();
  process.stdout.write(
    [
      `${files.toLocaleString('en')} files in ${folders.toLocaleString('en')} folders; ${ROUNDS} timed requests per row after ${WARMUP} warm-up, one at a time, over loopback HTTP`,
      `(client-side time to the last byte of the JSON body). ${new Date().toISOString()}; ${cpu.length} × ${cpu[0]?.model ?? '?'},`,
      `${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${engine}; load average ${load0.toFixed(1)} → ${load1.toFixed(1)}.`,
      '',
      '| query | limit | min ms | p50 ms | p95 ms | results | body KiB |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
    ].join('\n'),
  );
}

function sqliteFacts(): { files: number; folders: number; engine: string } {
  const db = new BetterSqlite3(join(DIR, 'tessera.db'), { readonly: true });
  const files = (db.prepare('select count(*) n from files').get() as { n: number }).n;
  const folders = (db.prepare('select count(*) n from folders').get() as { n: number }).n;
  const sqliteVersion = (db.prepare('select sqlite_version() v').get() as { v: string }).v;
  db.close();
  return { files, folders, engine: `SQLite ${sqliteVersion}` };
}

async function postgresFacts(): Promise<{ files: number; folders: number; engine: string }> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const one = async (q: string) => String(Object.values((await client.query(q)).rows[0] as object)[0]);
    const files = Number(await one('select count(*) from files'));
    const folders = Number(await one('select count(*) from folders'));
    const version = await one('show server_version');
    const settings: string[] = [];
    for (const k of ['shared_buffers', 'work_mem', 'random_page_cost', 'autovacuum']) settings.push(`${k} ${await one(`show ${k}`)}`);
    // VACUUM (ANALYZE) ran after generating (see generatePostgres); say when, for the record.
    const analyzed = await one(`select to_char(max(greatest(last_analyze, last_autoanalyze)) at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"') from pg_stat_user_tables where relname = 'files'`);
    return {
      files,
      folders,
      engine: `PostgreSQL ${version} (${settings.join(', ')}); statistics: VACUUM (ANALYZE) after generating, as autovacuum does soon after a bulk load (files last analysed ${analyzed})`,
    };
  } finally {
    await client.end();
  }
}

/**
 * The plans behind each query, on PostgreSQL: the server's own list code (ListService over
 * KyselyAssetSearch) runs each scenario once per limit on a Kysely that records every statement,
 * and each statement is then run again under EXPLAIN (ANALYZE, BUFFERS) with the same parameters.
 */
async function explainAll(): Promise<void> {
  const pool = createPool({ url: DATABASE_URL, poolMax: 2 });
  const sent: Array<{ sql: string; parameters: readonly unknown[] }> = [];
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: (e: LogEvent) => {
      if (e.level === 'query') sent.push({ sql: e.query.sql, parameters: e.query.parameters });
    },
  });
  const store = new KyselyMetadataStore(db, { dialect: 'postgres' });
  const fields = customFieldStoreFor(store);
  const list = new ListService({
    search: new KyselyAssetSearch(db, 'postgres'),
    customFieldTypes: async () => new Map((await fields.list({ includeDeleted: false })).map((f) => [f.name, f.schema.type])),
  });
  try {
    const only = args.only?.split(',');
    for (const s of SCENARIOS.filter((x) => !only || only.includes(x.id))) {
      for (const limit of LIMITS) {
        const params = { ...s.params(1), limit: String(limit) };
        await list.list(params);
        sent.length = 0;
        const t0 = performance.now();
        const items = await list.list(params);
        const ms = performance.now() - t0;
        const statements = sent.filter((q) => !/custom_metadata_fields/.test(q.sql));
        process.stdout.write(`\n## ${s.id}, limit ${limit}: ${new URLSearchParams(params)} → ${items.length} results, ${ms.toFixed(1)} ms in the list code, ${statements.length} statement(s)\n`);
        for (const q of statements) {
          const shown = q.parameters.map((p) => (Array.isArray(p) ? `[${p.length} ids]` : JSON.stringify(p))).join(', ');
          // Long key lists are shortened in what is printed (never in what is run).
          const sqlShown = q.sql.replace(/\((\$\d+)(?:, \$\d+){8,}, (\$\d+)\)/g, '($1, …, $2)');
          process.stdout.write(`\n${sqlShown}\n-- parameters: ${shown.length > 300 ? `${shown.slice(0, 300)}…` : shown}\n`);
          const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${q.sql}`, [...q.parameters]);
          const plan = rows.map((r) => r['QUERY PLAN'].replace(/'\{([^}']{200,})\}'/g, (_m, keys: string) => `'{${keys.split(',').length} keys}'`));
          process.stdout.write(`${plan.join('\n')}\n`);
        }
      }
    }
  } finally {
    await db.destroy();
  }
}

await main();
