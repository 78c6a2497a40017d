export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  /** Milliseconds until the current window ends. */
  resetMs: number;
  intervalMs: number;
}

/** Per-key request limits; the scale-out store backs this with shared state. */
export interface RateLimiter {
  hit(key: string): Promise<RateLimitDecision>;
}
