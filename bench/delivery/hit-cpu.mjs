#!/usr/bin/env node
// bench/delivery/hit-cpu — server CPU per cached delivery hit, the figure that bounds (b)'s req/s.
// Starts the real server (bin/tessera.mjs serve) on a temp data dir, uploads a generated photo, warms
// `/tr:w-720/photo.jpg`, then loads it with wrk for a few rounds and reads the server's user + system
// CPU from /proc: µs per request per round, and the medians. `--baseline` also runs a bare Fastify
// handler sending the same bytes with the same headers (the floor for one Node process), interleaved.
// `--compare DIR` also starts the server of another checkout (e.g. a clean copy of the last commit) and
// interleaves its rounds with this one's, so before/after share the machine's background load.
// `--cpu-prof DIR` runs the servers under `node --cpu-prof` and writes their profiles there on exit
// (summarise one with bench/delivery/profile-summary.mjs).
// Usage: node bench/delivery/hit-cpu.mjs [--rounds 5] [--seconds 8] [--connections 32] [--baseline]
//        [--compare DIR] [--cpu-prof DIR] [--path /tr:w-720/photo.jpg]. Needs wrk.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, makePhoto, uploadPhoto } from './shared.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    baseline: { type: 'boolean', default: false },
    compare: { type: 'string', default: '' },
    'cpu-prof': { type: 'string', default: '' },
    path: { type: 'string', default: '/tr:w-720/photo.jpg' },
  },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const PRIVATE_KEY = 'private_bench_key';
const IMAGEKIT_ID = 'bench';
const work = mkdtempSync(join(tmpdir(), 'tessera-hit-cpu-'));
const children = [];
const log = (s) => process.stderr.write(`${s}\n`);

function start(argv, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d.toString();
      if (/(^|\n)(ready|tessera listening)/.test(out)) resolve(child);
    });
    child.stderr.on('data', (d) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
/** User and system CPU ticks of a process so far. */
function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return { user: Number(rest[11]), system: Number(rest[12]) };
}

/**
 * One wrk run. User time is mostly JavaScript; system time is mostly the kernel sending the body over
 * loopback, the same for every server, and the part that swings most with the machine's other load.
 */
function wrk(url, pid) {
  const before = cpuTicks(pid);
  const out = execFileSync('wrk', ['-t1', `-c${args.connections}`, `-d${SECONDS}s`, url], { encoding: 'utf8' });
  const after = cpuTicks(pid);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const us = (ticks) => (ticks * 1e6) / CLK_TCK / requests;
  const userUs = us(after.user - before.user);
  const systemUs = us(after.system - before.system);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]), cpuUs: userUs + systemUs, userUs, systemUs, non2xx };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

try {
  const nodeArgs = [];
  if (args['cpu-prof']) {
    mkdirSync(args['cpu-prof'], { recursive: true });
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', args['cpu-prof']);
  }
  // The photo of run.mjs: a hit serves the cached variant, so the source's size only sets the warm-up's cost.
  await makePhoto(join(work, 'photo.jpg'));
  const photo = readFileSync(join(work, 'photo.jpg'));
  /** Starts the server of the checkout at `root`, uploads the photo and warms the variant. */
  async function startTessera(name, root) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = await start([...nodeArgs, join(root, 'packages/server/bin/tessera.mjs'), 'serve'], {
      TESSERA_PORT: String(port),
      TESSERA_HOST: '127.0.0.1',
      TESSERA_DATA_DIR: join(work, `data-${name.replace(/\W+/g, '-')}`),
      TESSERA_PUBLIC_URL: base,
      TESSERA_PRIVATE_KEY: PRIVATE_KEY,
      TESSERA_PUBLIC_KEY: 'public_bench_key',
      TESSERA_IMAGEKIT_ID: IMAGEKIT_ID,
      TESSERA_LOG_LEVEL: 'warn',
    });
    await uploadPhoto(base, PRIVATE_KEY, photo);
    const url = `${base}/${IMAGEKIT_ID}${args.path}`;
    await fetch(url).then((r) => r.arrayBuffer());
    const hit = await fetch(url);
    const bytes = Buffer.from(await hit.arrayBuffer());
    const headers = Object.fromEntries(hit.headers);
    log(`${name} ${url}: ${hit.status}, ${bytes.length} bytes, x-tessera-cache ${headers['x-tessera-cache']}`);
    log(JSON.stringify(headers));
    return { name, url, pid: child.pid, bytes, headers };
  }
  const tessera = await startTessera('tessera', ROOT);
  const { bytes, headers } = tessera;
  log(`load average ${loadavg()[0].toFixed(1)}`);
  const targets = [tessera];
  if (args.compare) targets.push(await startTessera(`tessera at ${args.compare}`, args.compare));
  if (args.baseline) {
    const body = join(work, 'variant.jpg');
    writeFileSync(body, bytes);
    const script = join(work, 'bare.mjs');
    // Same framework, logger level, CORS plugin and response headers as the server; no lookups.
    const own = ['content-type', 'etag', 'accept-ranges', 'cache-control', 'vary', 'x-tessera-cache'];
    const fixed = Object.fromEntries(own.filter((k) => headers[k] !== undefined).map((k) => [k, headers[k]]));
    writeFileSync(
      script,
      `import Fastify from ${JSON.stringify(join(ROOT, 'node_modules/fastify/fastify.js'))};
import cors from ${JSON.stringify(join(ROOT, 'node_modules/@fastify/cors/index.js'))};
import { readFileSync } from 'node:fs';
const data = readFileSync(${JSON.stringify(body)});
const fixed = ${JSON.stringify(fixed)};
const app = Fastify({ logger: { level: 'warn' } });
await app.register(cors, { origin: '*', exposedHeaders: ${JSON.stringify(headers['access-control-expose-headers'] ?? null)} });
app.get('/*', async (_req, reply) => {
  for (const k in fixed) reply.header(k, fixed[k]);
  reply.header('content-length', String(data.length));
  return reply.send(data);
});
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
process.on('SIGINT', () => process.exit(0));
process.stdout.write('ready\\n');
`,
    );
    const bport = await freePort();
    const bare = await start([...nodeArgs, script, String(bport)], {});
    targets.push({ name: 'bare Fastify', url: `http://127.0.0.1:${bport}/x.jpg`, pid: bare.pid });
  }
  // A short warm-up lets the JIT settle before the first measured round.
  for (const t of targets) execFileSync('wrk', ['-t1', '-c8', '-d2s', t.url], { stdio: 'ignore' });
  const samples = Object.fromEntries(targets.map((t) => [t.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const t of targets) {
      const s = wrk(t.url, t.pid);
      samples[t.name].push(s);
      log(
        `round ${r + 1} ${t.name}: ${s.rps.toFixed(0)} req/s, ${s.cpuUs.toFixed(1)} µs CPU/req ` +
          `(user ${s.userUs.toFixed(1)}, system ${s.systemUs.toFixed(1)})${s.non2xx ? `, ${s.non2xx} non-2xx` : ''}`,
      );
    }
  }
  for (const t of targets) {
    const s = samples[t.name];
    const m = (key, d = 1) => median(s.map((x) => x[key])).toFixed(d);
    process.stdout.write(
      `${t.name}: median ${m('cpuUs')} µs CPU/req (${s.map((x) => x.cpuUs.toFixed(1)).join(' ')}); ` +
        `user ${m('userUs')} (${s.map((x) => x.userUs.toFixed(1)).join(' ')}), system ${m('systemUs')}; ` +
        `median ${m('rps', 0)} req/s (${s.map((x) => x.rps.toFixed(0)).join(' ')})\n`,
    );
  }
} finally {
  // SIGINT lets --cpu-prof write its profile (the CLI shuts down gracefully on it).
  for (const c of children) if (c.exitCode === null) c.kill('SIGINT');
  await new Promise((r) => setTimeout(r, args['cpu-prof'] ? 3000 : 500));
  rmSync(work, { recursive: true, force: true });
}
