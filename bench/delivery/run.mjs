#!/usr/bin/env node
// bench/delivery — delivery throughput, measured in one run on this machine, on a generated 2725×2225 JPEG
// resized to 720 px wide, every load sent by `wrk` (Debian) in its own process:
//   (a) uncached transforms: Tessera (every request carries a unique query, so each is a cache miss and a
//       render), a minimal Fastify + sharp handler doing the same resize per request (the ceiling for an HTTP
//       transform server here), ipx (npm) serving the same file, and a bare in-process sharp loop (no HTTP);
//   (b) cached delivery: Tessera answering the variant from its cache, beside nginx (Debian) serving the same
//       bytes from disk;
//   (c) the cost of a cache hit on a 1,000,000-entry variant cache: the index lookup in process, and the same
//       cached request against a Tessera whose cache holds a million other variants.
// Rounds interleave the servers so background load hits them alike; medians (and ranges) are reported.
// Run by hand: `npm run bench:delivery` (`--help` for options). Needs wrk and nginx (apt-get install wrk nginx-light).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { freePort, makePhoto, uploadPhoto } from './shared.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TESSERA_BIN = join(ROOT, 'packages/server/bin/tessera.mjs');

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    'uncached-connections': { type: 'string', default: '8' },
    'cached-connections': { type: 'string', default: '32' },
    width: { type: 'string', default: '720' },
    prefill: { type: 'string', default: '1000000' },
    scenarios: { type: 'string', default: 'a,b,c' },
    'nginx-workers': { type: 'string', default: 'auto,1' },
    'tessera-env': { type: 'string', default: '' },
    'tessera-workers': { type: 'string', default: '1,2' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(`usage: node bench/delivery/run.mjs [options]
  --seconds N                 length of each wrk run (default 10)
  --rounds N                  rounds per measurement, servers interleaved; medians reported (default 3)
  --uncached-connections N    wrk connections for (a) (default 8)
  --cached-connections N      wrk connections for (b) and (c) (default 32)
  --width N                   resize width (default 720)
  --prefill N                 entries in the big cache of (c) (default 1000000)
  --scenarios LIST            comma list of a, b, c (default all)
  --nginx-workers LIST        nginx worker_processes values, one nginx each (default auto,1: Debian's default, and one)
  --tessera-env K=V,K=V       extra environment for the Tessera servers (e.g. TESSERA_MAX_CONCURRENT_TRANSFORMS=3)
  --tessera-workers LIST      for (b): one Tessera per TESSERA_WORKERS value, on one data dir each (default 1,2:
                              one process, and a primary with two workers, as nginx's auto is two on 2 cores)
`);
  process.exit(0);
}
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const WIDTH = Number(args.width);
const SCENARIOS = new Set(args.scenarios.split(','));
const EXTRA_ENV = Object.fromEntries(
  args['tessera-env']
    .split(',')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const PRIVATE_KEY = 'private_bench_key';
const IMAGEKIT_ID = 'bench';

for (const tool of ['wrk', 'nginx']) {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    process.stderr.write(`bench/delivery needs ${tool}: apt-get install -y wrk nginx-light\n`);
    process.exit(2);
  }
}

const work = mkdtempSync(join(tmpdir(), 'tessera-bench-delivery-'));
let shmDir;
const children = [];
const log = (s) => process.stderr.write(`${s}\n`);

/** Spawns a child and resolves once it prints `ready` (or `listening`); stdout lines go to onLine. */
function start(cmd, argv, env = {}, onLine = () => {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let done = false;
    const timer = setTimeout(() => !done && reject(new Error(`${cmd} ${argv.join(' ')} did not start:\n${out}`)), 600_000);
    const onData = (d) => {
      out += d.toString();
      for (const line of d.toString().split('\n')) if (line.trim()) onLine(line.trim());
      if (!done && /(^|\n)(ready|tessera listening)/.test(out)) {
        done = true;
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => (out += d.toString()));
    child.on('exit', (code) => {
      if (!done) {
        clearTimeout(timer);
        reject(new Error(`${cmd} exited with ${code}:\n${out}`));
      }
    });
  });
}

async function stopAll() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
/** CPU ticks (user + system) used so far by these processes and their children (nginx workers). */
function cpuTicks(pids) {
  let t = 0;
  const all = new Set(pids);
  for (const pid of pids) {
    try {
      for (const c of execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n')) if (c.trim()) all.add(Number(c));
    } catch {
      /* no children */
    }
  }
  for (const pid of all) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      t += Number(rest[11]) + Number(rest[12]);
    } catch {
      /* gone */
    }
  }
  return t;
}

let runTag = 0;
function wrk(url, connections, script, pids = []) {
  const before = cpuTicks(pids);
  const argv = ['-t1', `-c${connections}`, `-d${SECONDS}s`, '--latency', '--timeout', '30s'];
  if (script) argv.push('-s', join(HERE, 'unique.lua'));
  const u = new URL(url);
  argv.push(`${u.origin}/`);
  if (script) argv.push('--', `${u.pathname}${u.search}`, `${process.pid}.${++runTag}`);
  else argv[argv.length - 1] = url;
  const out = execFileSync('wrk', argv, { encoding: 'utf8' });
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : NaN;
  };
  const ms = (label) => {
    const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return NaN;
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  };
  const requests = num(/(\d+) requests in/);
  const cpuUs = pids.length > 0 && requests > 0 ? ((cpuTicks(pids) - before) * 1e6) / CLK_TCK / requests : NaN;
  return { rps: num(/Requests\/sec:\s+([\d.]+)/), p50: ms('50'), p99: ms('99'), errors: num(/Non-2xx or 3xx responses:\s+(\d+)/) || 0, cpuUs, raw: out };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '—');

async function startTessera(name, dataDir, extraEnv = {}, script = TESSERA_BIN, scriptArgs = ['serve'], onLine) {
  const port = await freePort();
  const env = {
    TESSERA_PORT: String(port),
    TESSERA_HOST: '127.0.0.1',
    TESSERA_DATA_DIR: dataDir,
    TESSERA_PUBLIC_URL: `http://127.0.0.1:${port}`,
    TESSERA_PRIVATE_KEY: PRIVATE_KEY,
    TESSERA_PUBLIC_KEY: 'public_bench_key',
    TESSERA_IMAGEKIT_ID: IMAGEKIT_ID,
    TESSERA_LOG_LEVEL: 'warn',
    ...EXTRA_ENV,
    ...extraEnv,
  };
  const argv = script.endsWith('.mts') ? ['--import', 'tsx', script, ...scriptArgs] : [script, ...scriptArgs];
  const child = await start(process.execPath, argv, env, onLine);
  const base = `http://127.0.0.1:${port}`;
  pidOf.set(base, child.pid);
  log(`${name} on ${base}`);
  return base;
}

async function fetchOk(url) {
  const r = await fetch(url);
  const b = Buffer.from(await r.arrayBuffer());
  if (r.status !== 200) throw new Error(`${url} → ${r.status}: ${b.toString().slice(0, 200)}`);
  return { bytes: b, headers: r.headers };
}

const results = [];
/** Server base URL → pid, for CPU accounting. */
const pidOf = new Map();
const row = (scenario, server, samples, extra = '') => {
  const rps = samples.map((s) => s.rps);
  results.push({
    scenario,
    server,
    rps: median(rps),
    min: Math.min(...rps),
    max: Math.max(...rps),
    p50: median(samples.map((s) => s.p50)),
    p99: median(samples.map((s) => s.p99)),
    cpuUs: median(samples.map((s) => s.cpuUs ?? NaN)),
    errors: samples.reduce((n, s) => n + (s.errors || 0), 0),
    extra,
  });
};

try {
  const load = loadavg().map((x) => x.toFixed(1)).join(' ');
  log(`work dir ${work}; load average ${load}`);
  const imgDir = join(work, 'img');
  mkdirSync(imgDir);
  const imgPath = join(imgDir, 'photo.jpg');
  await makePhoto(imgPath);
  const imgBytes = readFileSync(imgPath);
  log(`image: 2725x2225 JPEG, ${imgBytes.length} bytes`);

  const tessera = await startTessera('tessera', join(work, 'tessera'));
  await uploadPhoto(tessera, PRIVATE_KEY, imgBytes);
  const tUrl = `${tessera}/${IMAGEKIT_ID}/tr:w-${WIDTH}/photo.jpg`;
  const variant = await fetchOk(tUrl);
  const vMeta = await sharp(variant.bytes).metadata();
  log(`tessera variant: ${vMeta.width}x${vMeta.height} ${vMeta.format}, ${variant.bytes.length} bytes`);

  if (SCENARIOS.has('a')) {
    const minimalPort = await freePort();
    const minimal = await start(process.execPath, [join(HERE, 'minimal-server.mjs'), String(minimalPort), imgPath, String(WIDTH)]);
    const ipxPort = await freePort();
    const ipxChild = await start(process.execPath, [join(HERE, 'ipx-server.mjs'), String(ipxPort), imgDir]);
    const serverPids = { tessera: [pidOf.get(tessera)], 'minimal Fastify + sharp': [minimal.pid], ipx: [ipxChild.pid] };
    // Only Tessera caches, so only its URLs need to be unique (ipx refuses unknown query strings).
    const targets = {
      tessera: `${tessera}/${IMAGEKIT_ID}/tr:w-${WIDTH}/photo.jpg`,
      'minimal Fastify + sharp': `http://127.0.0.1:${minimalPort}/photo.jpg`,
      ipx: `http://127.0.0.1:${ipxPort}/w_${WIDTH}/photo.jpg`,
    };
    for (const [name, url] of Object.entries(targets)) {
      const m = await sharp((await fetchOk(url)).bytes).metadata();
      log(`${name}: ${m.width}x${m.height} ${m.format}`);
    }
    const samples = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
    const loop = [];
    const C = Number(args['uncached-connections']);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, url] of Object.entries(targets)) {
        const s = wrk(url, C, name === 'tessera', serverPids[name]);
        samples[name].push(s);
        log(`(a) round ${r + 1} ${name}: ${fmt(s.rps, 1)} req/s p50 ${fmt(s.p50, 1)} ms p99 ${fmt(s.p99, 1)} ms errors ${s.errors} server CPU ${fmt(s.cpuUs / 1000, 1)} ms/req`);
      }
      const out = execFileSync(process.execPath, [join(HERE, 'sharp-loop.mjs'), imgPath, String(WIDTH), String(C), String(SECONDS)], {
        encoding: 'utf8',
      });
      const j = JSON.parse(out.trim().split('\n').pop());
      loop.push({ rps: j.opsPerSec, p50: NaN, p99: NaN, errors: 0 });
      log(`(a) round ${r + 1} sharp loop: ${fmt(j.opsPerSec, 1)} ops/s`);
    }
    for (const [name, s] of Object.entries(samples)) row('(a) uncached resize to 720 px', name, s);
    row('(a) uncached resize to 720 px', `bare sharp loop, ${C} in flight (no HTTP)`, loop);
  }

  if (SCENARIOS.has('b') || SCENARIOS.has('c')) {
    const www = join(work, 'www');
    mkdirSync(www);
    // nginx's workers run unprivileged: they must be able to reach the file.
    chmodSync(work, 0o755);
    chmodSync(www, 0o755);
    writeFileSync(join(www, 'photo-720.jpg'), variant.bytes);
    // One nginx per worker count asked for (default: Debian's `auto`, and one worker, the CPU budget of one event loop).
    const nginxes = [];
    for (const workers of args['nginx-workers'].split(',')) {
      const nginxPort = await freePort();
      const conf = join(work, `nginx-${workers}.conf`);
      writeFileSync(
        conf,
        `worker_processes ${workers};
pid ${work}/nginx-${workers}.pid;
error_log ${work}/nginx-error.log;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { image/jpeg jpg; }
  server { listen 127.0.0.1:${nginxPort}; root ${www}; location / { add_header Cache-Control "public, max-age=31536000"; } }
}
`,
      );
      const proc = spawn('nginx', ['-c', conf, '-p', work, '-e', join(work, 'nginx-error.log')], { stdio: 'ignore' });
      children.push(proc);
      nginxes.push({ workers, url: `http://127.0.0.1:${nginxPort}/photo-720.jpg`, pid: proc.pid });
    }
    await new Promise((r) => setTimeout(r, 500));
    const same = (await fetchOk(nginxes[0].url)).bytes.equals(variant.bytes);
    const hit = await fetchOk(tUrl);
    log(`nginx serves the same bytes: ${same}; tessera x-tessera-cache: ${hit.headers.get('x-tessera-cache')}`);
    const C = Number(args['cached-connections']);

    let prefilled;
    let stats;
    if (SCENARIOS.has('c')) {
      // The million entry files go to tmpfs: filling a disk with them only measures the disk.
      shmDir = mkdtempSync(join('/dev/shm', 'tessera-bench-'));
      const cacheRoot = join(shmDir, 'cache');
      const dataDir = join(work, 'tessera-1m');
      log(`(c) filling a cache with ${args.prefill} entries (in ${cacheRoot})…`);
      prefilled = await startTessera(
        'tessera (1M-entry cache)',
        dataDir,
        { BENCH_PREFILL: args.prefill, BENCH_CACHE_ROOT: cacheRoot },
        join(HERE, 'tessera-prefilled.mts'),
        [],
        (line) => {
          if (line.startsWith('{')) stats = JSON.parse(line);
        },
      );
      await uploadPhoto(prefilled, PRIVATE_KEY, imgBytes);
      await fetchOk(`${prefilled}/${IMAGEKIT_ID}/tr:w-${WIDTH}/photo.jpg`);
      log(`(c) ${JSON.stringify(stats)}`);
    }

    const targets = { tessera: tUrl };
    const pids = { tessera: [pidOf.get(tessera)] };
    // More worker processes: the same photo on a server of their own; each worker renders the
    // variant once on its first request, then answers from its cache.
    const workerCounts = SCENARIOS.has('b') ? args['tessera-workers'].split(',').map(Number).filter((n) => n > 1) : [];
    for (const n of workerCounts) {
      const base = await startTessera(`tessera, ${n} workers`, join(work, `tessera-w${n}`), { TESSERA_WORKERS: String(n) });
      await uploadPhoto(base, PRIVATE_KEY, imgBytes);
      const url = `${base}/${IMAGEKIT_ID}/tr:w-${WIDTH}/photo.jpg`;
      await fetchOk(url);
      targets[`tessera, ${n} workers`] = url;
      // The primary and its children (cpuTicks adds them): every worker's CPU is counted.
      pids[`tessera, ${n} workers`] = [pidOf.get(base)];
    }
    if (SCENARIOS.has('b')) {
      for (const n of nginxes) {
        targets[`nginx ${n.workers}`] = n.url;
        pids[`nginx ${n.workers}`] = [n.pid];
      }
    }
    if (prefilled) {
      targets['tessera, 1,000,000 other entries'] = `${prefilled}/${IMAGEKIT_ID}/tr:w-${WIDTH}/photo.jpg`;
      pids['tessera, 1,000,000 other entries'] = [pidOf.get(prefilled)];
    }
    const samples = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, url] of Object.entries(targets)) {
        const s = wrk(url, C, false, pids[name] ?? []);
        samples[name].push(s);
        log(`(b/c) round ${r + 1} ${name}: ${fmt(s.rps, 1)} req/s p50 ${fmt(s.p50, 2)} ms p99 ${fmt(s.p99, 2)} ms errors ${s.errors} server CPU ${fmt(s.cpuUs, 1)} µs/req`);
      }
    }
    row('(b) cached 720 px variant', 'tessera (cache hit)', samples.tessera);
    for (const n of workerCounts) row('(b) cached 720 px variant', `tessera, ${n} worker processes (cache hit)`, samples[`tessera, ${n} workers`]);
    for (const n of nginxes) {
      const s = samples[`nginx ${n.workers}`];
      if (s) row('(b) cached 720 px variant', `nginx, worker_processes ${n.workers}, same bytes from disk`, s);
    }
    if (prefilled) {
      row(
        '(c) cache hit, 1,000,000-entry cache',
        'tessera (cache hit)',
        samples['tessera, 1,000,000 other entries'],
        `index lookup ${stats.lookupNsAtN} ns at 1M entries vs ${stats.lookupNsAt1k} ns at 1k; ~${stats.heapBytesPerEntry} B heap/entry; filled in ${fmt(stats.fillSeconds, 0)} s`,
      );
    }
  }

  // --- report ---------------------------------------------------------------------------------
  const cpu = cpus()[0]?.model ?? 'unknown';
  process.stdout.write(
    `\nRun ${new Date().toISOString()}: ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, node ${process.version}, ` +
      `wrk ${SECONDS} s × ${ROUNDS} rounds; load average at start ${load}, at end ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n\n`,
  );
  process.stdout.write(
    '| scenario | server | req/s (median) | range | p50 ms | p99 ms | non-2xx | server CPU µs/req | notes |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n',
  );
  for (const r of results) {
    process.stdout.write(
      `| ${r.scenario} | ${r.server} | ${fmt(r.rps, 1)} | ${fmt(r.min, 0)}–${fmt(r.max, 0)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${r.errors} | ${fmt(r.cpuUs, 1)} | ${r.extra} |\n`,
    );
  }
  const get = (scenario, server) => results.find((r) => r.scenario.startsWith(scenario) && r.server.startsWith(server))?.rps;
  const t = get('(a)', 'tessera');
  const m = get('(a)', 'minimal');
  const i = get('(a)', 'ipx');
  process.stdout.write('\n');
  if (t && m) process.stdout.write(`uncached: tessera / minimal handler = ${fmt((100 * t) / m, 1)}% (target ≥ 95%)\n`);
  if (t && i) process.stdout.write(`uncached: tessera / ipx = ${fmt((100 * t) / i, 1)}% (target ≥ 100%)\n`);
  const tessarae = results.filter((x) => x.scenario.startsWith('(b)') && x.server.startsWith('tessera'));
  for (const r of results.filter((x) => x.scenario.startsWith('(b)') && x.server.startsWith('nginx'))) {
    for (const tr of tessarae) {
      const who = tr.server.replace(' (cache hit)', '');
      process.stdout.write(`cached: ${who} / ${r.server.split(',').slice(0, 2).join(',')} = ${fmt((100 * tr.rps) / r.rps, 1)}% (target ≥ 80%)\n`);
    }
  }
} finally {
  await stopAll();
  rmSync(work, { recursive: true, force: true });
  if (shmDir) rmSync(shmDir, { recursive: true, force: true });
}
