#!/usr/bin/env node
// bench/upload — upload throughput and server memory, measured in one run on this machine:
//   1. raw disk write speed (1 GiB + fsync, in the same filesystem as the data dirs);
//   2. a minimal Fastify + @fastify/multipart handler that only streams the file to disk with a sha256
//      (the ceiling for an HTTP upload here), and the same handler with fsync (informational);
//   3. Tessera itself (the real server, child process, temp data dir).
// For each server: one large upload (default 1 GiB) and many concurrent small uploads (default 200 × 1 MiB),
// sent by a client in its own process. The server's RSS is sampled from /proc every 50 ms.
// Each measurement is repeated for several rounds with the servers interleaved (all of them run side by side,
// idle while not measured), so background load on the machine hits them alike; medians are reported.
// Run by hand: `npm run bench:upload` (or `node bench/upload/run.mjs --help`). Not part of `npm test`.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const TESSERA_BIN = fileURLToPath(new URL('../../packages/server/bin/tessera.mjs', import.meta.url));
const MINIMAL = join(HERE, 'minimal-server.mjs');
const CLIENT = join(HERE, 'client.mjs');
const MiB = 1024 * 1024;
const MB = 1e6;

const { values: args } = parseArgs({
  options: {
    'big-mib': { type: 'string', default: '1024' },
    count: { type: 'string', default: '200' },
    'small-kib': { type: 'string', default: '1024' },
    servers: { type: 'string', default: 'minimal,minimal+fsync,tessera' },
    dir: { type: 'string' },
    'server-node-args': { type: 'string', default: '' },
    scenarios: { type: 'string', default: 'big,small' },
    rounds: { type: 'string', default: '7' },
    'skip-disk': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(`usage: node bench/upload/run.mjs [options]
  --big-mib N             size of the single large upload in MiB (default 1024)
  --count N               number of concurrent small uploads (default 200)
  --small-kib N           size of each small upload in KiB (default 1024)
  --servers LIST          comma list of minimal, minimal+fsync, tessera (default: all three); a name may carry
                          extra environment for A/B runs, e.g. tessera,tessera@UV_THREADPOOL_SIZE=16
  --dir DIR               parent of the temp dirs (default: the OS temp dir); picks the filesystem measured
  --server-node-args S    extra node flags for every server child, e.g. --server-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"
  --scenarios LIST        comma list of big, small (default: both)
  --rounds N              rounds of each measurement, servers interleaved; the median is reported (default 7)
  --skip-disk             skip the raw disk write measurement
`);
  process.exit(0);
}
const BIG = Number(args['big-mib']) * MiB;
const COUNT = Number(args.count);
const SMALL = Number(args['small-kib']) * 1024;
const ROUNDS = Number(args.rounds);
const SERVERS = args.servers.split(',').map((s) => s.trim()).filter(Boolean);
// A server may carry extra environment for an A/B comparison: "tessera@UV_THREADPOOL_SIZE=16@OTHER=1".
const baseKind = (label) => label.split('@')[0];
const extraEnv = (label) => Object.fromEntries(label.split('@').slice(1).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
for (const s of SERVERS) if (!['minimal', 'minimal+fsync', 'tessera'].includes(baseKind(s))) throw new Error(`unknown server ${s}`);
if (new Set(SERVERS).size !== SERVERS.length) throw new Error('each server may be listed once');
if (!(BIG > 0 && COUNT > 0 && SMALL > 0 && Number.isInteger(ROUNDS) && ROUNDS > 0)) throw new Error('sizes and count must be positive');

const PRIVATE_KEY = `private_bench_${randomBytes(8).toString('hex')}`;
const PUBLIC_KEY = `public_bench_${randomBytes(8).toString('hex')}`;
const root = mkdtempSync(join(args.dir ?? tmpdir(), 'tessera-bench-upload-'));
const children = new Set();

function cleanup() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------- /proc helpers ----------

function procStatusKb(pid, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** utime + stime of a process, in seconds. */
function procCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields after "(comm)": state is index 0, so utime (field 14) is index 11 and stime index 12.
  const ticks = Number(rest[11]) + Number(rest[12]);
  return ticks / CLK_TCK;
}
/** Bytes passed to read()/write() syscalls (files and sockets alike), from /proc/<pid>/io. */
function procIo(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/io`, 'utf8');
    const get = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
    return { rchar: get('rchar'), wchar: get('wchar') };
  } catch {
    return { rchar: NaN, wchar: NaN };
  }
}
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Samples VmRSS every 50 ms; the high-water mark is reset at start (clear_refs 5) and read at the end too. */
function startRssSampler(pid) {
  let hwmReset = false;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    hwmReset = true;
  } catch {
    /* not allowed here: the sampled maximum alone is reported */
  }
  const baselineKb = procStatusKb(pid, 'VmRSS');
  const cpu0 = procCpuSeconds(pid);
  const io0 = procIo(pid);
  let peakKb = baselineKb;
  let samples = 0;
  const timer = setInterval(() => {
    try {
      peakKb = Math.max(peakKb, procStatusKb(pid, 'VmRSS'));
      samples++;
    } catch {
      /* process gone */
    }
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      try {
        peakKb = Math.max(peakKb, procStatusKb(pid, 'VmRSS'));
        if (hwmReset) peakKb = Math.max(peakKb, procStatusKb(pid, 'VmHWM'));
      } catch {
        /* process gone */
      }
      const io1 = procIo(pid);
      return {
        baselineKb,
        peakKb,
        samples,
        cpuSeconds: procCpuSeconds(pid) - cpu0,
        readBytes: io1.rchar - io0.rchar,
        writtenBytes: io1.wchar - io0.wchar,
      };
    },
  };
}

// ---------- servers ----------

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(baseUrl, child, output) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      const res = await fetch(`${baseUrl}/healthz`);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await sleep(50);
  }
  throw new Error(`server did not become healthy:\n${output()}`);
}

async function startServer(label) {
  const kind = baseKind(label);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const dataDir = join(root, label.replace(/[^A-Za-z0-9_-]/g, '-'));
  let child;
  const nodeArgs = args['server-node-args'].split(/\s+/).filter(Boolean);
  if (kind === 'tessera') {
    child = spawn(process.execPath, [...nodeArgs, TESSERA_BIN, 'serve'], {
      env: {
        ...process.env,
        TESSERA_PORT: String(port),
        TESSERA_HOST: '127.0.0.1',
        TESSERA_DATA_DIR: dataDir,
        TESSERA_PUBLIC_URL: baseUrl,
        TESSERA_PRIVATE_KEY: PRIVATE_KEY,
        TESSERA_PUBLIC_KEY: PUBLIC_KEY,
        TESSERA_LOG_LEVEL: 'warn',
        TESSERA_MAX_UPLOAD_BYTES: String(Math.max(BIG, SMALL) + 16 * MiB),
        ...extraEnv(label),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } else {
    child = spawn(process.execPath, [...nodeArgs, MINIMAL], {
      env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, MINIMAL_FSYNC: kind === 'minimal+fsync' ? '1' : '0', ...extraEnv(label) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }
  children.add(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await waitHealthy(baseUrl, child, () => out);
  return {
    kind: label,
    pid: child.pid,
    url: `${baseUrl}/api/v1/files/upload`,
    auth: kind === 'tessera' ? `Basic ${Buffer.from(`${PRIVATE_KEY}:`).toString('base64')}` : undefined,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
      children.delete(child);
    },
  };
}

// ---------- client ----------

async function runClient(server, size, count) {
  const child = spawn(process.execPath, [CLIENT, JSON.stringify({ url: server.url, auth: server.auth, size, count })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  children.delete(child);
  const line = out.trim().split('\n').pop();
  if (code !== 0 || !line) throw new Error(`client failed (exit ${code}): ${err}`);
  return JSON.parse(line);
}

function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

async function measure(server, scenario, size, count) {
  // The handler without fsync leaves up to 1 GiB dirty in the page cache; without a sync the kernel
  // writes it back while the next server is measured, charging one server's deferred I/O to another.
  execFileSync('sync');
  await sleep(500); // let the previous scenario's writeback and GC settle a little
  const sampler = startRssSampler(server.pid);
  const r = await runClient(server, size, count);
  const rss = sampler.stop();
  if (r.failed > 0) log(`${server.kind} ${scenario}: ${r.failed} of ${count} failed: ${r.errors.join(' | ')}`);
  const lat = [...r.latenciesMs].sort((a, b) => a - b);
  const row = {
    scenario,
    server: server.kind,
    ok: r.ok,
    failed: r.failed,
    mbps: r.bytes / MB / (r.wallMs / 1000),
    rps: r.ok / (r.wallMs / 1000),
    p50: percentile(lat, 0.5),
    p95: percentile(lat, 0.95),
    tailP50: percentile([...r.tailsMs].sort((a, b) => a - b), 0.5),
    wallMs: r.wallMs,
    ...rss,
  };
  log(
    `${server.kind} ${scenario}: ${row.mbps.toFixed(1)} MB/s, ${row.ok}/${count} ok in ${(r.wallMs / 1000).toFixed(2)} s, ` +
      `RSS ${(rss.baselineKb / 1024).toFixed(0)} → ${(rss.peakKb / 1024).toFixed(0)} MiB (${rss.samples} samples), server CPU ${rss.cpuSeconds.toFixed(2)} s, ` +
      `server read ${(rss.readBytes / MiB).toFixed(0)} MiB / wrote ${(rss.writtenBytes / MiB).toFixed(0)} MiB (syscalls, sockets included), ` +
      `response ${row.tailP50.toFixed(0)} ms after the last byte sent (p50)`,
  );
  return row;
}

// ---------- raw disk ----------

function rawDisk(bytes) {
  const path = join(root, 'raw-disk.bin');
  const pool = Array.from({ length: 8 }, () => randomBytes(MiB));
  const fd = openSync(path, 'w');
  const t0 = process.hrtime.bigint();
  let written = 0;
  for (let i = 0; written < bytes; i++) {
    const n = Math.min(MiB, bytes - written);
    writeSync(fd, pool[i % pool.length], 0, n);
    written += n;
  }
  const tWrite = process.hrtime.bigint();
  fsyncSync(fd);
  const t1 = process.hrtime.bigint();
  closeSync(fd);
  unlinkSync(path);
  const secs = Number(t1 - t0) / 1e9;
  return { mbps: bytes / MB / secs, secs, writeSecs: Number(tWrite - t0) / 1e9, fsyncSecs: Number(t1 - tWrite) / 1e9 };
}

// ---------- report ----------

/** Share of the machine's CPU busy over `ms`, from /proc/stat: tells how much else is running. */
async function machineBusy(ms) {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await sleep(ms);
  const b = read();
  const total = b.total - a.total;
  return total > 0 ? 1 - (b.idle - a.idle) / total : NaN;
}

function machine() {
  let disk = '';
  try {
    const lines = execFileSync('df', ['-h', root], { encoding: 'utf8' }).trim().split('\n');
    const f = lines[lines.length - 1].split(/\s+/);
    disk = `${f[0]} (${f[1]}, ${f[3]} free, mounted on ${f[5]})`;
  } catch {
    disk = 'unknown';
  }
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memGiB: (totalmem() / 1024 ** 3).toFixed(1),
    node: process.version,
    disk,
  };
}

function fmt(n, digits = 1) {
  return Number.isFinite(n) ? n.toFixed(digits) : '—';
}
const mib = (kb) => `${fmt(kb / 1024, 0)} MiB`;
const ms = (v) => (Number.isFinite(v) ? `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ms` : '—');

/**
 * One row per (scenario, server) from its rounds: throughput, req/s and latencies are the median
 * round's (by MB/s); memory is the worst round's (largest growth), so the RSS verdict is conservative.
 */
function summarise(runs) {
  const byMbps = [...runs].sort((a, b) => a.mbps - b.mbps);
  const median = byMbps[Math.floor((byMbps.length - 1) / 2)];
  const worstMem = [...runs].sort((a, b) => b.peakKb - b.baselineKb - (a.peakKb - a.baselineKb))[0];
  return {
    ...median,
    failed: runs.reduce((n, r) => n + r.failed, 0),
    minMbps: byMbps[0].mbps,
    maxMbps: byMbps[byMbps.length - 1].mbps,
    baselineKb: worstMem.baselineKb,
    peakKb: worstMem.peakKb,
    cpuSeconds: median.cpuSeconds,
  };
}

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length ? (v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2) : NaN;
};

function printReport(disk, rows, m, busy, runs) {
  const bigLabel = BIG >= 1024 * MiB ? `1 × ${fmt(BIG / 1024 / MiB, BIG % (1024 * MiB) ? 2 : 0)} GiB` : `1 × ${BIG / MiB} MiB`;
  const smallLabel = `${COUNT} × ${SMALL >= MiB ? `${SMALL / MiB} MiB` : `${SMALL / 1024} KiB`} concurrent`;
  const lines = [];
  lines.push(`Upload bench — ${new Date().toISOString()}`);
  lines.push(`machine: ${m.cores} cores (${m.cpu}), ${m.memGiB} GiB RAM, node ${m.node}, disk ${m.disk}`);
  lines.push(
    `other load: machine ${fmt(busy.before * 100, 0)}% busy just before the run, ${fmt(busy.after * 100, 0)}% just after (bench idle); ` +
      `load average ${busy.loadavg}`,
  );
  lines.push(
    `MB = 10^6 bytes. ${ROUNDS} round(s), servers interleaved: MB/s, req/s and latencies are the median round's (range in brackets), ` +
      `RSS the worst round's.`,
  );
  lines.push('The client runs in its own process (its memory/CPU not counted) but shares the same cores. "server CPU" = user+sys seconds of the server process in the median round.');
  lines.push('');
  lines.push('| scenario | server | MB/s | req/s | p50 | p95 | RSS baseline | RSS peak | growth | server CPU |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  if (disk) {
    lines.push(
      `| raw disk write 1 GiB + fsync | — | ${fmt(disk.mbps)} | — | — | — | — | — | — | (write ${fmt(disk.writeSecs, 2)} s + fsync ${fmt(disk.fsyncSecs, 2)} s) |`,
    );
  }
  for (const r of rows) {
    const label = r.scenario === 'big' ? bigLabel : smallLabel;
    const failed = r.failed ? ` (${r.failed} failed)` : '';
    const range = ROUNDS > 1 ? ` (${fmt(r.minMbps, 0)}–${fmt(r.maxMbps, 0)})` : '';
    lines.push(
      `| ${label}${failed} | ${r.server} | ${fmt(r.mbps)}${range} | ${fmt(r.rps, r.rps >= 10 ? 0 : 2)} | ${ms(r.p50)} | ${ms(r.p95)} | ` +
        `${mib(r.baselineKb)} | ${mib(r.peakKb)} | ${mib(r.peakKb - r.baselineKb)} | ${fmt(r.cpuSeconds, 2)} s |`,
    );
  }
  lines.push('');
  const find = (server, scenario) => rows.find((r) => r.server === server && r.scenario === scenario);
  const tBig = find('tessera', 'big');
  const mBig = find('minimal', 'big');
  const fBig = find('minimal+fsync', 'big');
  if (tBig && mBig) {
    // Each round runs the servers back to back, so a round's pair sees about the same background load;
    // the median of the per-round ratios is the verdict, the ratio of the medians is shown beside it.
    const t = runs.get('tessera/big');
    const mm = runs.get('minimal/big');
    const paired = t.map((r, i) => r.mbps / mm[i].mbps);
    const ratio = median(paired);
    const ok = ratio >= 0.85 && !tBig.failed;
    lines.push(
      `Tessera / minimal, large upload: ${fmt(ratio * 100)}% of the minimal handler's MB/s (median of per-round ratios ` +
        `${paired.map((x) => fmt(x * 100, 0) + '%').join(', ')}; ratio of medians ${fmt((tBig.mbps / mBig.mbps) * 100)}%) ` +
        `(target ≥ 85%): ${ok ? 'MET' : 'MISSED'}`,
    );
  }
  if (tBig && fBig) {
    lines.push(`Tessera / minimal+fsync, large upload: ${fmt((tBig.mbps / fBig.mbps) * 100)}% (informational: same durability as Tessera)`);
  }
  const tails = SERVERS.filter((k) => runs.has(`${k}/big`)).map(
    (k) => `${k} ${fmt(median(runs.get(`${k}/big`).map((r) => r.tailP50)), 0)} ms`,
  );
  if (tails.length) lines.push(`Large upload, response time after the client's last byte (median): ${tails.join(', ')}`);
  if (tBig) {
    const growthMiB = (tBig.peakKb - tBig.baselineKb) / 1024;
    const ok = growthMiB <= 64 && !tBig.failed;
    lines.push(`Tessera RSS growth, large upload: ${fmt(growthMiB, 0)} MiB (target ≤ 64 MiB): ${ok ? 'MET' : 'MISSED'}`);
  }
  const tSmall = find('tessera', 'small');
  const mSmall = find('minimal', 'small');
  if (tSmall && mSmall) {
    lines.push(`Tessera / minimal, concurrent small uploads: ${fmt((tSmall.mbps / mSmall.mbps) * 100)}% of MB/s (informational)`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

// ---------- main ----------

async function main() {
  const m = machine();
  log(`temp dir ${root} on ${m.disk}`);
  const busy = { before: await machineBusy(2000), after: NaN, loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') };
  log(`machine ${(busy.before * 100).toFixed(0)}% busy before starting (other processes)`);
  let disk = null;
  if (!args['skip-disk']) {
    log('raw disk: writing 1 GiB + fsync');
    disk = rawDisk(1024 * MiB);
    log(`raw disk: ${disk.mbps.toFixed(1)} MB/s`);
  }
  const servers = [];
  const runs = new Map(); // "server/scenario" → rows
  const record = (row) => {
    const k = `${row.server}/${row.scenario}`;
    runs.set(k, [...(runs.get(k) ?? []), row]);
  };
  try {
    for (const kind of SERVERS) {
      log(`starting ${kind}`);
      const server = await startServer(kind);
      servers.push(server);
      await runClient(server, 64 * 1024, 20); // warm-up: JIT, first SQLite writes, directories
    }
    const scenarios = [
      ['big', BIG, 1],
      ['small', SMALL, COUNT],
    ].filter(([name]) => args.scenarios.split(',').includes(name));
    for (const [scenario, size, count] of scenarios) {
      for (let round = 1; round <= ROUNDS; round++) {
        for (const server of servers) {
          try {
            record(await measure(server, scenario, size, count));
          } catch (e) {
            log(`${server.kind} output:\n${server.output()}`);
            throw e;
          }
        }
      }
    }
  } finally {
    for (const s of servers) await s.stop();
  }
  busy.after = await machineBusy(2000);
  const rows = [];
  for (const scenario of ['big', 'small']) {
    for (const kind of SERVERS) if (runs.has(`${kind}/${scenario}`)) rows.push(summarise(runs.get(`${kind}/${scenario}`)));
  }
  printReport(disk, rows, m, busy, runs);
}

try {
  await main(); // the verdicts are printed; a missed target is not an error exit
} finally {
  cleanup();
}
process.exit(0);
