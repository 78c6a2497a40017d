import type { PurgeTarget } from './cache-bus.js';

/**
 * The delivery cache port: bytes derived on the delivery path (transformed variants) and
 * originals fetched from external origins, each under a key the delivery service computes.
 * Entries are bounded in total size and evicted least-recently-used; a purge removes the entries
 * of matching URLs. Lookups are synchronous: they sit on the hot path of every delivery.
 */

export type CacheEntryKind = 'variant' | 'original';

/** What the delivery service records with the bytes. */
export interface CacheEntryInfo {
  kind: CacheEntryKind;
  /** Decoded delivery URL path of the source, without any transformation (see PurgeTarget.path). */
  sourcePath: string;
  /** Canonical transformation; '' for originals. */
  transformation: string;
  mime: string;
  /** Served only through a valid signed URL (an origin marked the file private). */
  private: boolean;
  /** The bytes depend on the Accept header: responses carry `Vary: Accept`. */
  negotiated: boolean;
  /** Response headers to repeat on every hit (e.g. a canonical Link from the origin). */
  headers?: Readonly<Record<string, string>>;
}

export interface CacheEntry extends CacheEntryInfo {
  key: string;
  size: number;
  /** Strong validator of the bytes, quoted. */
  etag: string;
  /** Where the bytes are on local disk. */
  path: string;
}

/**
 * Taken before computing an entry; a put with a token older than the last purge is not stored
 * (the bytes may come from a source the purge meant to drop), but is still returned for the
 * request that computed it.
 */
export type CacheWriteToken = number;

export interface CacheStats {
  entries: number;
  bytes: number;
  /** Bytes of cached originals from external origins (the usage API's originalCacheStorageBytes). */
  originalBytes: number;
  maxBytes: number;
  memoryBytes: number;
  hits: number;
  misses: number;
  evictions: number;
}

export interface DeliveryCache {
  readonly capabilities: {
    /** Keeps small hot entries in memory as well as on disk. */
    readonly memoryTier: boolean;
  };
  /** The entry under key, marked as recently used; undefined when absent. */
  get(key: string): CacheEntry | undefined;
  /** The bytes of an entry: from memory when hot and small, else read from disk (undefined if gone). */
  read(entry: CacheEntry): Promise<Buffer | undefined>;
  /** In-memory bytes of an entry when it is in the memory tier (no I/O). */
  peekMemory(entry: CacheEntry): Buffer | undefined;
  writeToken(): CacheWriteToken;
  /** Stores bytes under key (replacing any entry) and returns the entry. */
  put(key: string, info: CacheEntryInfo, data: Buffer, token: CacheWriteToken): Promise<CacheEntry>;
  /** Takes ownership of a finished local file (from tempPath()) and stores it under key. */
  putFile(key: string, info: CacheEntryInfo, file: string, etag: string, token: CacheWriteToken): Promise<CacheEntry>;
  /** A fresh path on the cache's file system for downloads that end in putFile. */
  tempPath(): string;
  /** Removes every entry the target matches; returns how many. */
  evict(target: PurgeTarget): number;
  stats(): CacheStats;
  close(): Promise<void>;
}
