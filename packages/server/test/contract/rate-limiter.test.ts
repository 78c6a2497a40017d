/**
 * The RateLimiter port: the memory limiter of one node, and the PostgreSQL limiter every node of a
 * scale-out deployment shares (two limiters over two pools on one database stand in for two
 * nodes). Both: a fixed window of `limit` hits per key, then refusals until the window ends, with
 * resetMs counting down to it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KyselyMetadataStore } from '../../src/adapters/db/kysely-store.js';
import { openPostgresStore } from '../../src/adapters/db/postgres/index.js';
import { MemoryRateLimiter } from '../../src/adapters/ratelimit/memory.js';
import { PgRateLimiter, pgRateLimiterFor } from '../../src/adapters/ratelimit/pg.js';
import type { RateLimiter } from '../../src/ports/rate-limiter.js';
import { freshPgDatabase, postgresForTests, type FreshDatabase } from '../support/pg-fresh.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Adapter {
  name: string;
  /** Two limiters with the same settings; for a shared adapter they count together. */
  pair(limit: number, intervalMs: number): Promise<[RateLimiter, RateLimiter]>;
  shared: boolean;
}

const PG = await postgresForTests('the RateLimiter contract');
let db: FreshDatabase | undefined;
const stores: KyselyMetadataStore[] = [];
before(async () => {
  if (PG) db = await freshPgDatabase();
});
after(async () => {
  for (const s of stores) await s.close();
  await db?.drop();
});

const ADAPTERS: Adapter[] = [
  {
    name: 'memory',
    shared: false,
    async pair(limit, intervalMs) {
      const one = new MemoryRateLimiter(limit, intervalMs);
      return [one, one];
    },
  },
];
if (PG) {
  ADAPTERS.push({
    name: 'PostgreSQL (two nodes)',
    shared: true,
    async pair(limit, intervalMs) {
      const a = await openPostgresStore({ url: db!.url, poolMax: 4 });
      const b = await openPostgresStore({ url: db!.url, poolMax: 4 });
      stores.push(a, b);
      return [pgRateLimiterFor(a, limit, intervalMs), pgRateLimiterFor(b, limit, intervalMs)];
    },
  });
}

let keySeq = 0;
const freshKey = () => `key-${process.pid}-${++keySeq}`;

for (const adapter of ADAPTERS) {
  describe(`RateLimiter contract: ${adapter.name}`, () => {
    test('allows `limit` hits in a window, counted across both limiters, then refuses', async () => {
      const [a, b] = await adapter.pair(5, 60_000);
      const key = freshKey();
      const decisions = [];
      for (let i = 0; i < 7; i++) decisions.push(await (i % 2 ? b : a).hit(key));
      assert.deepEqual(
        decisions.map((d) => d.allowed),
        [true, true, true, true, true, false, false],
      );
      for (const d of decisions) {
        assert.equal(d.limit, 5);
        assert.equal(d.intervalMs, 60_000);
        assert.ok(d.resetMs > 0 && d.resetMs <= 60_000, `resetMs ${d.resetMs}`);
      }
      assert.equal((await a.hit(freshKey())).allowed, true, 'keys are counted apart');
    });

    test('concurrent hits from both limiters: exactly `limit` are allowed', async () => {
      const [a, b] = await adapter.pair(10, 60_000);
      const key = freshKey();
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).hit(key)));
      assert.equal(results.filter((r) => r.allowed).length, 10);
    });

    test('a new window starts counting from zero once resetMs has passed', async () => {
      const [a, b] = await adapter.pair(2, 400);
      const key = freshKey();
      await a.hit(key);
      await b.hit(key);
      const refused = await a.hit(key);
      assert.equal(refused.allowed, false);
      assert.ok(refused.resetMs <= 400);
      await sleep(refused.resetMs + 30);
      assert.equal((await b.hit(key)).allowed, true);
      assert.equal((await a.hit(key)).allowed, true);
      assert.equal((await b.hit(key)).allowed, false);
    });
  });
}

describe('PgRateLimiter', { skip: !PG }, () => {
  test('prunes rows of windows long gone', async () => {
    const store = await openPostgresStore({ url: db!.url, poolMax: 2 });
    stores.push(store);
    await store.kysely.insertInto('rate_limits').values({ key: 'stale-key', window_start: 0, hits: 3 }).execute();
    const limiter = new PgRateLimiter(store.kysely, 100, 1000, { pruneEveryMs: 0 });
    const gone = async () => (await store.kysely.selectFrom('rate_limits').select('key').where('key', '=', 'stale-key').execute()).length === 0;
    const deadline = Date.now() + 5000;
    while (!(await gone()) && Date.now() < deadline) {
      await limiter.hit(freshKey());
      await sleep(20);
    }
    assert.ok(await gone(), 'the stale window was deleted');
  });
});
