// bench/delivery/render-cpu — in-process CPU per render of the (a) photo at w-720: the bare sharp call of
// minimal-server.mjs beside Tessera's renderImage and variants of the bare call, each with one option of the
// pipeline added, to find which options cost CPU. process.cpuUsage() counts the whole process, so libvips'
// worker threads are included. Renders run one at a time; variants are interleaved in every round so
// background load hits them alike; the median of the per-round means is reported.
// Usage: node --import tsx bench/delivery/render-cpu.mts [renders per round (default 10)] [rounds (default 5)] [only,these,variants]
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { makePhoto } from './shared.mjs';
import { parseTransformation } from '../../packages/server/src/transform/parse/index.ts';
import { renderImage, type RenderLimits } from '../../packages/server/src/transform/pipeline/index.ts';

const PER_ROUND = Number(process.argv[2] ?? 10);
const ROUNDS = Number(process.argv[3] ?? 5);
const ONLY = process.argv[4]?.split(',');
const WIDTH = 720;

const dir = mkdtempSync(join(tmpdir(), 'tessera-render-cpu-'));
const file = join(dir, 'photo.jpg');
await makePhoto(file);
const bytes = readFileSync(file);
const limits: RenderLimits = { maxInputPixels: 100_000_000, maxOutputPixels: 50_000_000, timeoutMs: 30_000 };
const steps = parseTransformation(`w-${WIDTH}`);
const jpeg = (s: Sharp) => s.jpeg({ quality: 80 }).toBuffer();
const height = Math.round((2225 * WIDTH) / 2725);
// What the delivery engine remembers per original after its first render.
const { facts } = await renderImage({ path: file }, steps, { limits });

const variants: Record<string, () => Promise<unknown>> = {
  'bare: sharp(path).resize({width}).jpeg(q80)': () => jpeg(sharp(file).resize({ width: WIDTH })),
  'renderImage(path, w-720)': () => renderImage({ path: file }, steps, { limits, defaultFormat: 'auto' }),
  'renderImage(buffer, w-720)': () => renderImage({ buffer: bytes }, steps, { limits, defaultFormat: 'auto' }),
  'renderImage(path, w-720), facts known': () => renderImage({ path: file }, steps, { limits, defaultFormat: 'auto', facts }),
  'bare + metadata() pre-read': async () => {
    await sharp(file, { limitInputPixels: false }).metadata();
    return jpeg(sharp(file).resize({ width: WIDTH }));
  },
  'bare + metadata(buffer) pre-read, from the Buffer': async () => {
    await sharp(bytes, { limitInputPixels: false }).metadata();
    return jpeg(sharp(bytes).resize({ width: WIDTH }));
  },
  'bare + .timeout({seconds: 30})': () => jpeg(sharp(file).timeout({ seconds: 30 }).resize({ width: WIDTH })),
  'bare + autoOrient: true': () => jpeg(sharp(file, { autoOrient: true }).resize({ width: WIDTH })),
  "bare + failOn: 'error'": () => jpeg(sharp(file, { failOn: 'error' }).resize({ width: WIDTH })),
  'bare + limitInputPixels': () => jpeg(sharp(file, { limitInputPixels: 100_000_000 }).resize({ width: WIDTH })),
  "bare, resize(w, h, {fit: 'fill'})": () => jpeg(sharp(file).resize(WIDTH, height, { fit: 'fill' })),
  'bare, sequentialRead: false': () => jpeg(sharp(file, { sequentialRead: false }).resize({ width: WIDTH })),
  'bare, from a Buffer': () => jpeg(sharp(bytes).resize({ width: WIDTH })),
  'bare, readFile then Buffer': () => jpeg(sharp(readFileSync(file)).resize({ width: WIDTH })),
  'bare + all of renderImage options': async () => {
    await sharp(file, { limitInputPixels: false }).metadata();
    return sharp(file, { limitInputPixels: 100_000_000, autoOrient: true, failOn: 'error' })
      .timeout({ seconds: 30 })
      .resize(WIDTH, height, { fit: 'fill' })
      .jpeg({ quality: 80, progressive: false })
      .toBuffer({ resolveWithObject: true });
  },
};
const names = Object.keys(variants).filter((n) => !ONLY || ONLY.some((o) => n.includes(o)));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

// Warm up libvips, the page cache and the JIT.
for (const n of names) for (let i = 0; i < 3; i++) await (variants[n] as () => Promise<unknown>)();

const perRound = new Map<string, number[]>(names.map((n) => [n, []]));
for (let r = 0; r < ROUNDS; r++) {
  // Rotate the order every round, so no variant always runs right after the same one.
  const order = names.map((_, i) => names[(i + r) % names.length] as string);
  for (const n of order) {
    const run = variants[n] as () => Promise<unknown>;
    const before = process.cpuUsage();
    for (let i = 0; i < PER_ROUND; i++) await run();
    const used = process.cpuUsage(before);
    (perRound.get(n) as number[]).push((used.user + used.system) / 1000 / PER_ROUND);
  }
}

process.stdout.write(`sharp ${sharp.versions.sharp}, vips ${sharp.versions.vips}, concurrency ${sharp.concurrency()}; ${ROUNDS} rounds x ${PER_ROUND} renders\n`);
process.stdout.write('CPU ms per render: median of round means (min-max)\n');
const base = median(perRound.get(names[0] as string) as number[]);
for (const n of names) {
  const xs = perRound.get(n) as number[];
  const m = median(xs);
  process.stdout.write(`  ${m.toFixed(2).padStart(6)}  (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})  ${(m - base >= 0 ? '+' : '') + (m - base).toFixed(2).padStart(5)}  ${n}\n`);
}
rmSync(dir, { recursive: true, force: true });
