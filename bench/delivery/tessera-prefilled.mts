// Tessera with a delivery cache holding N extra variants (default 1,000,000) before it starts serving,
// for bench (c): the cost of a cache hit when the index is large. Also measures, in process, the
// index lookup itself (ns per hit) at N entries and at 1,000, and the heap each entry takes.
// Configured by the same TESSERA_* environment as the real server; BENCH_PREFILL=N, BENCH_CACHE_ROOT=dir.
// Prints one JSON line with the measurements, then "ready" once listening.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiskDeliveryCache } from '../../packages/server/src/adapters/cache/disk-cache.ts';
import { buildApp } from '../../packages/server/src/app.ts';
import { resolveConfig } from '../../packages/server/src/config/index.ts';
import type { CacheEntryInfo } from '../../packages/server/src/ports/delivery-cache.ts';

const N = Number(process.env.BENCH_PREFILL ?? 1_000_000);
const config = resolveConfig();
const root = process.env.BENCH_CACHE_ROOT ?? join(config.dataDir, 'cache');

const keyOf = (i: number) => createHash('sha1').update(`bench-${i}`).digest('base64url');

async function fill(cache: DiskDeliveryCache, n: number, dir: string): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  const batch = 256;
  for (let i = 0; i < n; i += batch) {
    const work: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) {
      const file = cache.tempPath();
      writeFileSync(file, 'x');
      const info: CacheEntryInfo = {
        kind: 'variant',
        // Ten variants per source, as a library with many sizes of each image would have.
        sourcePath: `/bench/prefill/${Math.floor(j / 10)}.jpg`,
        transformation: `w-${100 + (j % 700)}`,
        mime: 'image/jpeg',
        private: false,
        negotiated: true,
      };
      work.push(cache.putFile(keyOf(j), info, file, `"${keyOf(j)}"`, cache.writeToken()));
    }
    await Promise.all(work);
  }
  return (Date.now() - started) / 1000;
}

function lookupNs(cache: DiskDeliveryCache, n: number, rounds = 1_000_000): number {
  const keys = Array.from({ length: 4096 }, (_, i) => keyOf(Math.floor((i * 2654435761) % n)));
  let found = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) if (cache.get(keys[i & 4095] as string)) found++;
  const ns = Number(process.hrtime.bigint() - t0) / rounds;
  if (found !== rounds) throw new Error(`only ${found} of ${rounds} lookups hit`);
  return ns;
}

const opts = { maxBytes: 1024 ** 4, memoryMaxBytes: config.delivery.cacheMemoryBytes };
const small = await DiskDeliveryCache.open({ ...opts, root: `${root}-small` });
await fill(small, 1000, `${root}-small`);
const smallNs = lookupNs(small, 1000);

global.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const cache = await DiskDeliveryCache.open({ ...opts, root });
const fillSeconds = await fill(cache, N, root);
global.gc?.();
const heapAfter = process.memoryUsage().heapUsed;
const bigNs = lookupNs(cache, N);

process.stdout.write(
  `${JSON.stringify({
    entries: cache.stats().entries,
    fillSeconds,
    heapBytesPerEntry: Math.round((heapAfter - heapBefore) / N),
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    lookupNsAt1k: Math.round(smallNs),
    lookupNsAtN: Math.round(bigNs),
  })}\n`,
);

const app = await buildApp(config, { deliveryCache: cache, logger: false });
await app.server.listen({ port: config.port, host: config.host });
process.stdout.write('ready\n');
const stop = () => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
