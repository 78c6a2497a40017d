/**
 * The usage store port: counters aggregated per UTC day (one row a day, added to with upserts),
 * gauges sampled per day (the last sample of the day wins), and the measurement of stored bytes.
 * Days are `YYYY-MM-DD` strings; ranges are half-open [from, to).
 */

/** Amounts to add to a day's counters. */
export interface UsageCounters {
  bandwidthBytes: number;
  requests: number;
  extensionUnits: number;
  videoUnits: number;
}

/** Point-in-time measurements; a null leaves the day's stored sample as it is. */
export interface UsageGauges {
  mediaLibraryStorageBytes: number | null;
  originalCacheStorageBytes: number | null;
}

export interface UsageStore {
  /** Adds each day's amounts to its row (creating it), all in one transaction. */
  addCounters(byDay: ReadonlyMap<string, UsageCounters>): Promise<void>;
  /** Stores the latest gauge samples for a day. */
  setGauges(day: string, gauges: UsageGauges): Promise<void>;
  /** Sums of the counters over days in [fromDay, toDay). */
  sumCounters(fromDay: string, toDay: string): Promise<UsageCounters>;
  /** The most recent sample of each gauge on a day before `beforeDay` (0 when none was ever taken). */
  latestGauges(beforeDay: string): Promise<{ mediaLibraryStorageBytes: number; originalCacheStorageBytes: number }>;
  /** Bytes the media library holds now: every stored version of every file. */
  measureLibraryBytes(): Promise<number>;
}
