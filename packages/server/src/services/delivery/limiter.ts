import { serviceUnavailable } from '../../errors/index.js';

/**
 * A cap on concurrent transforms: at most `maxRunning` run at once (each sharp pipeline uses
 * one libvips thread here, so throughput needs several side by side), up to `maxQueued` wait
 * in order, and anything past that is refused at once with 503 and a Retry-After estimated from
 * recent render times.
 */
export class TransformLimiter {
  private running = 0;
  private readonly queue: Array<() => void> = [];
  /** Exponential moving average of a render's wall time, ms. */
  private avgMs = 200;
  private total = 0;

  constructor(
    private readonly maxRunning: number,
    private readonly maxQueued: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxRunning) {
      if (this.queue.length >= this.maxQueued) throw this.busy();
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.running++;
    }
    const started = Date.now();
    try {
      return await work();
    } finally {
      this.avgMs = this.avgMs * 0.9 + (Date.now() - started) * 0.1;
      this.total++;
      const next = this.queue.shift();
      // The slot passes straight to the next waiter; otherwise it is freed.
      if (next) next();
      else this.running--;
    }
  }

  stats(): { running: number; queued: number; completed: number; avgMs: number } {
    return { running: this.running, queued: this.queue.length, completed: this.total, avgMs: Math.round(this.avgMs) };
  }

  private busy() {
    const waitMs = (this.avgMs * (this.queue.length + 1)) / Math.max(1, this.maxRunning);
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    return serviceUnavailable(
      `The server is transforming as many images as it allows (${this.maxRunning} at once, ${this.maxQueued} waiting); retry in ${seconds} s.`,
      { headers: { 'Retry-After': String(seconds) } },
    );
  }
}

/** Concurrent callers of the same key share one computation. */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Promise<T>>();

  /** `leader` is true for the caller whose `work` ran. */
  async do(key: string, work: () => Promise<T>): Promise<{ value: T; leader: boolean }> {
    const existing = this.flights.get(key);
    if (existing) return { value: await existing, leader: false };
    const p = work();
    this.flights.set(key, p);
    try {
      return { value: await p, leader: true };
    } finally {
      this.flights.delete(key);
    }
  }

  get size(): number {
    return this.flights.size;
  }
}
