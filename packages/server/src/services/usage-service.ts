import { badRequest } from '../errors/index.js';
import type { UsageCounters, UsageStore } from '../ports/usage-store.js';

/**
 * Usage metering. Deliveries record into in-memory counters (a map lookup and an add, nothing
 * awaited), which are flushed to one row per UTC day every few seconds, on every read and on close,
 * so the delivery path never waits for the database. Stored bytes are sampled into the same rows
 * (a sum over every stored file version), so a past period reports what was stored then.
 */

/** The spec's response for GET /v1/accounts/usage. */
export interface UsageReport {
  bandwidthBytes: number;
  mediaLibraryStorageBytes: number;
  videoProcessingUnitsCount: number;
  extensionUnitsCount: number;
  originalCacheStorageBytes: number;
}

export interface UsageServiceOptions {
  /** How often recorded counters are written. */
  flushIntervalMs?: number;
  /** How often stored bytes are sampled in the background. */
  storageSampleMs?: number;
  clock?: () => number;
  /** Where a failed background flush is reported; its counts are kept and retried. */
  onError?: (err: unknown) => void;
}

/** The widest range the usage API answers, in days (end date excluded). */
export const MAX_USAGE_RANGE_DAYS = 90;
const DAY_MS = 86_400_000;

const zero = (): UsageCounters => ({ bandwidthBytes: 0, requests: 0, extensionUnits: 0, videoUnits: 0 });

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** `YYYY-MM-DD` that names a real calendar day, as epoch ms at its UTC midnight; undefined otherwise. */
function parseDay(s: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return undefined;
  const ms = Date.parse(`${s}T00:00:00.000Z`);
  if (Number.isNaN(ms) || utcDay(ms) !== s) return undefined;
  return ms;
}

export class UsageService {
  private pending = new Map<string, UsageCounters>();
  private flushing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private readonly clock: () => number;
  private readonly storageSampleMs: number;
  private lastSampleAt = Number.NEGATIVE_INFINITY;
  private originalCacheBytes: (() => number | Promise<number>) | null = null;
  private closed = false;

  constructor(
    private readonly store: UsageStore,
    private readonly opts: UsageServiceOptions = {},
  ) {
    this.clock = opts.clock ?? Date.now;
    this.storageSampleMs = opts.storageSampleMs ?? 10 * 60_000;
    this.timer = setInterval(() => void this.tick(), opts.flushIntervalMs ?? 2000);
    // Metering must never keep the process alive on its own.
    this.timer.unref();
  }

  // -- recording (synchronous, cheap) ----------------------------------------------------------

  /** The UTC day of the last recording, so a delivery formats a date only when the day changes. */
  private dayStart = Number.NaN;
  private dayName = '';

  private today(): UsageCounters {
    const now = this.clock();
    const start = now - (now % DAY_MS);
    if (start !== this.dayStart) {
      this.dayStart = start;
      this.dayName = utcDay(now);
    }
    const day = this.dayName;
    let c = this.pending.get(day);
    if (!c) {
      c = zero();
      this.pending.set(day, c);
    }
    return c;
  }

  /** Bytes of a response body sent to a client (originals, variants, origin fetches). */
  recordDelivery(bytes: number): void {
    if (Number.isFinite(bytes) && bytes > 0) this.today().bandwidthBytes += Math.floor(bytes);
  }

  /** One delivery request, whatever its outcome. */
  recordRequest(): void {
    this.today().requests += 1;
  }

  recordExtensionUnits(n: number): void {
    if (Number.isFinite(n) && n > 0) this.today().extensionUnits += n;
  }

  recordVideoProcessingUnits(n: number): void {
    if (Number.isFinite(n) && n > 0) this.today().videoUnits += n;
  }

  /** Registers how the cache of originals fetched from origins is measured (bytes on disk). */
  measureOriginalCacheWith(fn: () => number | Promise<number>): void {
    this.originalCacheBytes = fn;
  }

  // -- persistence -----------------------------------------------------------------------------

  /** Writes everything recorded so far. Flushes run one at a time; a failed one keeps its counts. */
  flush(): Promise<void> {
    const run = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = this.pending;
      this.pending = new Map();
      try {
        await this.store.addCounters(batch);
      } catch (e) {
        for (const [day, c] of batch) {
          const p = this.pending.get(day) ?? zero();
          p.bandwidthBytes += c.bandwidthBytes;
          p.requests += c.requests;
          p.extensionUnits += c.extensionUnits;
          p.videoUnits += c.videoUnits;
          this.pending.set(day, p);
        }
        throw e;
      }
    });
    this.flushing = run.catch(() => undefined);
    return run;
  }

  /** Measures stored bytes now and records them as today's sample. */
  async sampleStorage(): Promise<{ mediaLibraryStorageBytes: number; originalCacheStorageBytes: number | null }> {
    const mediaLibraryStorageBytes = await this.store.measureLibraryBytes();
    const originalCacheStorageBytes = this.originalCacheBytes ? await this.originalCacheBytes() : null;
    this.lastSampleAt = this.clock();
    await this.store.setGauges(utcDay(this.lastSampleAt), { mediaLibraryStorageBytes, originalCacheStorageBytes });
    return { mediaLibraryStorageBytes, originalCacheStorageBytes };
  }

  private async tick(): Promise<void> {
    try {
      await this.flush();
      if (this.clock() - this.lastSampleAt >= this.storageSampleMs) await this.sampleStorage();
    } catch (e) {
      this.opts.onError?.(e);
    }
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
  }

  // -- the usage API ---------------------------------------------------------------------------

  /**
   * GET /v1/accounts/usage: totals for [startDate, endDate) in UTC days. Storage figures are the
   * last sample in the period — measured live when the period reaches today.
   */
  async report(query: { startDate?: unknown; endDate?: unknown }): Promise<UsageReport> {
    const { startDate, endDate } = query;
    if (startDate === undefined || endDate === undefined || startDate === '' || endDate === '') {
      throw badRequest('startDate and endDate are required query parameters.');
    }
    const start = typeof startDate === 'string' ? parseDay(startDate) : undefined;
    const end = typeof endDate === 'string' ? parseDay(endDate) : undefined;
    if (start === undefined || end === undefined) {
      throw badRequest('startDate and endDate must be dates in the format YYYY-MM-DD.');
    }
    if (start >= end) throw badRequest('startDate must be before endDate.');
    if ((end - start) / DAY_MS > MAX_USAGE_RANGE_DAYS) {
      throw badRequest(`startDate and endDate must be within ${MAX_USAGE_RANGE_DAYS} days of each other.`);
    }

    await this.flush();
    const from = startDate as string;
    const to = endDate as string;
    const counters = await this.store.sumCounters(from, to);
    let storage: { mediaLibraryStorageBytes: number; originalCacheStorageBytes: number };
    if (to > utcDay(this.clock())) {
      const live = await this.sampleStorage();
      storage = {
        mediaLibraryStorageBytes: live.mediaLibraryStorageBytes,
        originalCacheStorageBytes: live.originalCacheStorageBytes ?? (await this.store.latestGauges(to)).originalCacheStorageBytes,
      };
    } else {
      storage = await this.store.latestGauges(to);
    }
    return {
      bandwidthBytes: counters.bandwidthBytes,
      mediaLibraryStorageBytes: storage.mediaLibraryStorageBytes,
      videoProcessingUnitsCount: counters.videoUnits,
      extensionUnitsCount: counters.extensionUnits,
      originalCacheStorageBytes: storage.originalCacheStorageBytes,
    };
  }
}
