// bench/delivery/miss-cpu — in-process CPU of a whole cache miss (`GET /tr:w-720/photo.jpg?u=<n>`, every
// query new) through Fastify's inject, beside renderImage alone, the bare sharp call and a cache hit of the
// same path, on the photo of bench/delivery/run.mjs. The miss minus renderImage is the request path around
// the render (routing, lookup, cache put, ETag, response); the hit is what inject, routing and sending cost
// alone. process.cpuUsage() includes libvips' threads. Requests run one at a time; the variants are
// interleaved every round; medians of round means are reported.
// Usage: node --import tsx bench/delivery/miss-cpu.mts [requests per round (default 10)] [rounds (default 7)] [only,these]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { makePhoto, uploadPhoto } from './shared.mjs';
import { buildApp } from '../../packages/server/src/app.ts';
import { resolveConfig } from '../../packages/server/src/config/index.ts';
import { parseTransformation } from '../../packages/server/src/transform/parse/index.ts';
import { renderImage } from '../../packages/server/src/transform/pipeline/index.ts';

const PER_ROUND = Number(process.argv[2] ?? 10);
const ROUNDS = Number(process.argv[3] ?? 7);
const ONLY = process.argv[4]?.split(',');
const WIDTH = 720;
const PRIVATE_KEY = 'private_bench_key';

const dir = mkdtempSync(join(tmpdir(), 'tessera-miss-cpu-'));
const file = join(dir, 'photo.jpg');
await makePhoto(file);
const config = resolveConfig({ dataDir: join(dir, 'data'), privateKey: PRIVATE_KEY, publicKey: 'public_bench_key', imagekitId: 'bench', logLevel: 'warn', port: 0, host: '127.0.0.1' }, {});
const app = await buildApp(config, { logger: false });
const base = await app.server.listen({ port: 0, host: '127.0.0.1' });
await uploadPhoto(base, PRIVATE_KEY, readFileSync(file));
// Let the upload's background work finish before measuring.
await new Promise((r) => setTimeout(r, 3000));

let n = 0;
const steps = parseTransformation(`w-${WIDTH}`);
const limits = { maxInputPixels: config.delivery.maxInputPixels, maxOutputPixels: config.delivery.maxOutputPixels, timeoutMs: config.delivery.transformTimeoutMs };
const variants: Record<string, () => Promise<unknown>> = {
  'bare sharp call': () => sharp(file).resize({ width: WIDTH }).jpeg({ quality: 80 }).toBuffer(),
  'renderImage alone': () => renderImage({ path: file }, steps, { limits, defaultFormat: 'auto', defaultQuality: 80 }),
  'whole miss (inject)': async () => {
    const r = await app.server.inject({ method: 'GET', url: `/bench/tr:w-${WIDTH}/photo.jpg?u=${++n}` });
    if (r.statusCode !== 200 || r.headers['x-tessera-cache'] !== 'MISS') throw new Error(`miss: ${r.statusCode} ${r.headers['x-tessera-cache']}`);
  },
  // The same path answered from the cache: what inject, routing and sending cost without the miss.
  'hit (inject)': async () => {
    const r = await app.server.inject({ method: 'GET', url: `/bench/tr:w-${WIDTH}/photo.jpg?u=0` });
    if (r.statusCode !== 200) throw new Error(`hit: ${r.statusCode}`);
  },
};
const names = Object.keys(variants).filter((k) => !ONLY || ONLY.some((o) => k.includes(o)));
for (const name of names) for (let i = 0; i < 3; i++) await (variants[name] as () => Promise<unknown>)();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};
const perRound = new Map<string, number[]>(names.map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (let j = 0; j < names.length; j++) {
    const name = names[(j + r) % names.length] as string;
    const run = variants[name] as () => Promise<unknown>;
    const before = process.cpuUsage();
    for (let i = 0; i < PER_ROUND; i++) await run();
    const used = process.cpuUsage(before);
    (perRound.get(name) as number[]).push((used.user + used.system) / 1000 / PER_ROUND);
  }
}
process.stdout.write(`${ROUNDS} rounds x ${PER_ROUND}; CPU ms per request: median of round means (min-max)\n`);
for (const name of names) {
  const xs = perRound.get(name) as number[];
  process.stdout.write(`  ${median(xs).toFixed(2).padStart(6)}  (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})  ${name}\n`);
}
await app.close();
rmSync(dir, { recursive: true, force: true });
