// A bare in-process sharp loop: `concurrency` resizes in flight for `seconds`, no HTTP at all.
// Prints one JSON line: { ops, seconds, opsPerSec }. Usage: node sharp-loop.mjs <image> <width> <concurrency> <seconds>
import sharp from 'sharp';

const [file, width, concurrency, seconds] = process.argv.slice(2);
const w = Number(width);
const until = Date.now() + Number(seconds) * 1000;
// Warm up libvips and the page cache.
for (let i = 0; i < 3; i++) await sharp(file).resize({ width: w }).jpeg({ quality: 80 }).toBuffer();
let ops = 0;
const started = Date.now();
await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    while (Date.now() < until) {
      await sharp(file).resize({ width: w }).jpeg({ quality: 80 }).toBuffer();
      ops++;
    }
  }),
);
const elapsed = (Date.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ ops, seconds: elapsed, opsPerSec: ops / elapsed })}\n`);
