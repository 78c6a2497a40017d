// bench/search — list and search latency at scale, through the HTTP API of the real server.
//   1. generates a synthetic library (default 1,000,000 files in 3,060 folders) in a data dir through
//      the metadata store (bench/search/generate.mts); the dir is kept and reused by later runs;
//   2. starts the real server (child process) on that data dir;
//   3. times each query over HTTP (sequential requests, after a warm-up; the value in each query
//      varies per request so no two consecutive requests are identical) and prints p50/p95.
// Run by hand: `npm run bench:search` (or `node --import tsx bench/search/run.mts --help`).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { BRANDS, TAGS, WORDS, folderPathOf, generate, rng, type Layout } from './generate.mts';

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
  --regenerate     throw away the data dir and generate it again
`);
  process.exit(0);
}

const COUNT = Number(args.count);
const SEED = Number(args.seed);
const LAYOUT: Layout = { top: Number(args.top), sub: Number(args.sub) };
const ROUNDS = Number(args.rounds);
const WARMUP = Number(args.warmup);
const LIMITS = args.limits.split(',').map(Number);
const DIR = args.dir ?? join(tmpdir(), `tessera-bench-search-${COUNT}`);
const PRIVATE_KEY = 'private_bench_search';
const META = join(DIR, 'bench-meta.json');

const log = (s: string) => process.stderr.write(`${s}\n`);

async function ensureLibrary(): Promise<void> {
  const want = { generator: GENERATOR_VERSION, count: COUNT, seed: SEED, ...LAYOUT };
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
  const child = spawn(process.execPath, [TESSERA_BIN, 'serve'], {
    env: {
      ...process.env,
      TESSERA_PORT: String(port),
      TESSERA_HOST: '127.0.0.1',
      TESSERA_DATA_DIR: DIR,
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
  const db = new BetterSqlite3(join(DIR, 'tessera.db'), { readonly: true });
  const files = (db.prepare('select count(*) n from files').get() as { n: number }).n;
  const folders = (db.prepare('select count(*) n from folders').get() as { n: number }).n;
  const sqliteVersion = (db.prepare('select sqlite_version() v').get() as { v: string }).v;
  db.close();
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
      `${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, SQLite ${sqliteVersion}; load average ${load0.toFixed(1)} → ${load1.toFixed(1)}.`,
      '',
      '| query | limit | min ms | p50 ms | p95 ms | results | body KiB |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
    ].join('\n'),
  );
}

await main();
