import { sql, type Kysely } from 'kysely';
import type { MetadataStore } from '../../ports/metadata-store.js';
import type { RateLimitDecision, RateLimiter } from '../../ports/rate-limiter.js';
import { KyselyMetadataStore } from '../db/kysely-store.js';
import type { Database } from '../db/schema.js';

/**
 * Fixed-window counters in PostgreSQL's rate_limits table (migration 0007), shared by every node:
 * a hit is one atomic upsert that returns the window's count. The window is cut from the
 * database's clock, not the node's, so nodes whose clocks drift apart still agree on it.
 */

export interface PgRateLimiterOptions {
  /** How often this node deletes rows of windows long gone (keys no longer used). Default 60 s. */
  pruneEveryMs?: number;
  /** A failed background prune (a hit's own failure is thrown to the caller). */
  onError?: (err: unknown) => void;
}

interface HitRow {
  hits: number;
  window_start: string | number;
  now_ms: string | number;
}

export class PgRateLimiter implements RateLimiter {
  private lastPruneAt = Date.now();
  private pruning = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly limit: number,
    private readonly intervalMs: number,
    private readonly opts: PgRateLimiterOptions = {},
  ) {}

  async hit(key: string): Promise<RateLimitDecision> {
    const interval = this.intervalMs;
    // A row left from an older window restarts at 1; greatest() keeps the window from moving back.
    const res = await sql<HitRow>`
      with t as (select floor(extract(epoch from clock_timestamp()) * 1000)::bigint as now_ms)
      insert into rate_limits as r (key, window_start, hits)
        select ${key}, t.now_ms - (t.now_ms % ${interval}::bigint), 1 from t
      on conflict (key) do update set
        hits = case when r.window_start >= excluded.window_start then r.hits + 1 else 1 end,
        window_start = greatest(r.window_start, excluded.window_start)
      returning r.hits, r.window_start, (select now_ms from t) as now_ms`.execute(this.db);
    const row = res.rows[0];
    if (!row) throw new Error('rate limit upsert returned no row');
    const windowStart = Number(row.window_start);
    const now = Number(row.now_ms);
    this.maybePrune(now);
    return {
      allowed: row.hits <= this.limit,
      limit: this.limit,
      resetMs: Math.max(0, windowStart + interval - now),
      intervalMs: interval,
    };
  }

  /** Drops windows that ended at least one interval ago; at most one prune per node per period. */
  private maybePrune(nowMs: number): void {
    const every = this.opts.pruneEveryMs ?? 60_000;
    if (this.pruning || Date.now() - this.lastPruneAt < every) return;
    this.pruning = true;
    this.lastPruneAt = Date.now();
    this.db
      .deleteFrom('rate_limits')
      .where('window_start', '<', nowMs - 2 * this.intervalMs)
      .execute()
      .then(
        () => undefined,
        (e: unknown) => this.opts.onError?.(e),
      )
      .finally(() => {
        this.pruning = false;
      });
  }
}

/** The shared limiter on the database of a PostgreSQL-backed metadata store. */
export function pgRateLimiterFor(store: MetadataStore, limit: number, intervalMs: number, opts: PgRateLimiterOptions = {}): PgRateLimiter {
  if (!(store instanceof KyselyMetadataStore) || store.capabilities.dialect !== 'postgres') {
    throw new Error('the shared rate limiter needs the PostgreSQL metadata store');
  }
  return new PgRateLimiter(store.kysely, limit, intervalMs, opts);
}
