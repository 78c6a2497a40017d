import type { RateLimitDecision, RateLimiter } from '../../ports/rate-limiter.js';

/** Fixed-window counters in this process: right for one node. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly intervalMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  async hit(key: string): Promise<RateLimitDecision> {
    const now = this.clock();
    const start = now - (now % this.intervalMs);
    let w = this.windows.get(key);
    if (!w || w.start !== start) {
      w = { start, count: 0 };
      this.windows.set(key, w);
      if (this.windows.size > 10_000) this.prune(start);
    }
    w.count++;
    return { allowed: w.count <= this.limit, limit: this.limit, resetMs: start + this.intervalMs - now, intervalMs: this.intervalMs };
  }

  private prune(currentStart: number): void {
    for (const [k, w] of this.windows) if (w.start !== currentStart) this.windows.delete(k);
  }
}
