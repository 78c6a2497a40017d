import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PurgeTarget } from '../../ports/cache-bus.js';
import type {
  CacheEntry,
  CacheEntryInfo,
  CacheStats,
  CacheWriteToken,
  DeliveryCache,
} from '../../ports/delivery-cache.js';

/**
 * The delivery cache on local disk with an in-memory index.
 *
 * Layout: `<root>/v/<k0k1>/<key>` holds the bytes of one entry (keys are base64url, the first two
 * characters fan the files out over at most 4096 directories); `<root>/tmp/` holds downloads and
 * writes in progress, renamed into place when complete, so a file under `v/` is always whole.
 *
 * Index: one Map in least-recently-used order (a hit moves the entry to the end), plus a map from
 * source path to its keys for purges. The index lives in memory only: the directory is emptied
 * when the process starts, so nothing on disk can outlive a purge the index no longer knows of.
 *
 * Eviction: when the stored bytes pass maxBytes the oldest entries go. Their files are unlinked
 * after a grace period, because a response may still be streaming one or a render reading it.
 *
 * Memory tier: entries up to memoryItemMax bytes are also kept in memory, in their own LRU
 * bounded by memoryMaxBytes, so a hot variant is answered without touching the disk.
 */

export interface DiskCacheOptions {
  root: string;
  /** Total bytes on disk; 0 disables storing (every put returns a transient entry). */
  maxBytes: number;
  /** Bytes kept in memory for hot small entries; 0 disables the memory tier. */
  memoryMaxBytes: number;
  /** Largest entry kept in memory (default min(1 MiB, memoryMaxBytes / 16)). */
  memoryItemMax?: number;
  /** How long an evicted file stays on disk for readers that already hold its entry (default 120 s). */
  unlinkGraceMs?: number;
  clock?: () => number;
  onError?: (err: unknown) => void;
}

/**
 * One entry, flat: a million of them must stay small (no nested info object, no stored path,
 * shared strings for source paths and transformations).
 */
class Entry implements CacheEntry {
  readonly kind: CacheEntryInfo['kind'];
  readonly sourcePath: string;
  readonly transformation: string;
  readonly mime: string;
  readonly private: boolean;
  readonly negotiated: boolean;
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** Looked up since the eviction sweep last passed it (second chance). */
  used = false;
  /** Its bytes were served from memory since the memory sweep last passed it. */
  hot = false;

  constructor(
    readonly key: string,
    info: CacheEntryInfo,
    readonly size: number,
    readonly etag: string,
    /** The directory the file is in; '' for a transient entry served from memory. */
    private readonly dir: string,
    /** A transient entry's own file (a download kept only for its request). */
    private readonly file?: string,
  ) {
    this.kind = info.kind;
    this.sourcePath = info.sourcePath;
    this.transformation = info.transformation;
    this.mime = info.mime;
    this.private = info.private;
    this.negotiated = info.negotiated;
    this.headers = info.headers;
  }

  get path(): string {
    if (this.file !== undefined) return this.file;
    return this.dir === '' ? '' : `${this.dir}/${this.key.slice(0, 2)}/${this.key}`;
  }
}

interface SourceGroup {
  /** The one copy of the path string every entry of the group shares. */
  path: string;
  keys: Set<string>;
}

interface Doomed {
  path: string;
  at: number;
}

export class DiskDeliveryCache implements DeliveryCache {
  readonly capabilities: { readonly memoryTier: boolean };
  private readonly index = new Map<string, Entry>();
  private readonly bySource = new Map<string, SourceGroup>();
  private readonly memory = new Map<string, Buffer>();
  private readonly dirsMade = new Set<string>();
  private readonly strings = new Map<string, string>();
  private readonly variantsDir: string;
  private doomed: Doomed[] = [];
  private readonly sweeper: NodeJS.Timeout;
  private readonly clock: () => number;
  private readonly memoryItemMax: number;
  private readonly graceMs: number;
  private bytes = 0;
  private originalBytes = 0;
  private memoryBytes = 0;
  private purges = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  private constructor(private readonly opts: DiskCacheOptions) {
    this.clock = opts.clock ?? Date.now;
    this.variantsDir = join(opts.root, 'v');
    this.memoryItemMax = opts.memoryItemMax ?? Math.min(1024 * 1024, Math.floor(opts.memoryMaxBytes / 16));
    this.capabilities = { memoryTier: opts.memoryMaxBytes > 0 && this.memoryItemMax > 0 };
    this.graceMs = opts.unlinkGraceMs ?? 120_000;
    this.sweeper = setInterval(() => void this.sweep(false), Math.min(10_000, Math.max(1000, this.graceMs / 4)));
    this.sweeper.unref();
  }

  /** Empties the cache directory left by a previous run (in the background) and opens a fresh one. */
  static async open(opts: DiskCacheOptions): Promise<DiskDeliveryCache> {
    await DiskDeliveryCache.discard(opts.root, opts.onError);
    await mkdir(join(opts.root, 'v'), { recursive: true });
    await mkdir(join(opts.root, 'tmp'), { recursive: true });
    return new DiskDeliveryCache(opts);
  }

  /** Empties a cache dir: renamed away at once (so a new cache can start there), deleted in the background. */
  static async discard(root: string, onError?: (err: unknown) => void): Promise<void> {
    const stale = `${root}.stale-${Date.now()}-${randomBytes(3).toString('hex')}`;
    await rename(root, stale).then(
      () => void rm(stale, { recursive: true, force: true }).catch((e: unknown) => onError?.(e)),
      (e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      },
    );
  }

  get(key: string): CacheEntry | undefined {
    const e = this.index.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // A bit, not a move: re-inserting into a Map of a million keys costs microseconds per hit.
    e.used = true;
    return e;
  }

  peekMemory(entry: CacheEntry): Buffer | undefined {
    const data = this.memory.get(entry.key);
    if (data !== undefined && entry instanceof Entry) entry.hot = true;
    return data;
  }

  async read(entry: CacheEntry): Promise<Buffer | undefined> {
    const hot = this.peekMemory(entry);
    if (hot !== undefined) return hot;
    let data: Buffer;
    try {
      data = await readFile(entry.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    if (this.index.get(entry.key) === entry) this.remember(entry.key, data);
    return data;
  }

  writeToken(): CacheWriteToken {
    return this.purges;
  }

  tempPath(): string {
    return join(this.opts.root, 'tmp', `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}`);
  }

  async put(key: string, info: CacheEntryInfo, data: Buffer, token: CacheWriteToken): Promise<CacheEntry> {
    const etag = `"${etagOf(data)}"`;
    if (!this.storable(data.length, token)) return new Entry(key, info, data.length, etag, '');
    const tmp = this.tempPath();
    let entry: Entry;
    try {
      await writeFile(tmp, data);
      entry = await this.settle(key, info, tmp, data.length, etag, token);
    } catch (err) {
      // A full or failing disk must not fail the request that rendered these bytes: they are
      // served from memory this once, and the next request renders again.
      this.opts.onError?.(err);
      await rm(tmp, { force: true }).catch(() => undefined);
      return new Entry(key, info, data.length, etag, '');
    }
    if (entry.path !== tmp) this.remember(key, data);
    return entry;
  }

  async putFile(key: string, info: CacheEntryInfo, file: string, etag: string, token: CacheWriteToken): Promise<CacheEntry> {
    const size = (await stat(file)).size;
    if (!this.storable(size, token)) {
      // Served once from where it is, then removed.
      this.doom(file);
      return new Entry(key, info, size, etag, '', file);
    }
    try {
      return await this.settle(key, info, file, size, etag, token);
    } catch (err) {
      // As in put: served once from where it is, not cached.
      this.opts.onError?.(err);
      this.doom(file);
      return new Entry(key, info, size, etag, '', file);
    }
  }

  evict(target: PurgeTarget): number {
    this.purges++;
    let n = 0;
    const groups: SourceGroup[] = [];
    if (target.mode === 'exact') {
      const g = this.bySource.get(target.path);
      if (g) groups.push(g);
    } else {
      for (const [path, g] of this.bySource) if (path.startsWith(target.path)) groups.push(g);
    }
    for (const g of groups) {
      for (const key of [...g.keys]) {
        const e = this.index.get(key);
        if (!e) continue;
        if (target.transformation !== undefined && e.transformation !== target.transformation) continue;
        this.remove(e, false);
        n++;
      }
    }
    return n;
  }

  stats(): CacheStats {
    return {
      entries: this.index.size,
      bytes: this.bytes,
      originalBytes: this.originalBytes,
      maxBytes: this.opts.maxBytes,
      memoryBytes: this.memoryBytes,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
    };
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.sweep(true);
  }

  // ---------------------------------------------------------------------------------------------

  private storable(size: number, token: CacheWriteToken): boolean {
    // A purge since the work began: the bytes may be what the purge meant to drop.
    return token === this.purges && size <= this.opts.maxBytes;
  }

  /** Moves a finished temp file into place and indexes it (unless a purge intervened meanwhile). */
  private async settle(key: string, info: CacheEntryInfo, tmp: string, size: number, etag: string, token: CacheWriteToken): Promise<Entry> {
    const path = this.pathOf(key);
    const dir = path.slice(0, path.lastIndexOf('/'));
    if (!this.dirsMade.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.dirsMade.add(dir);
    }
    if (token !== this.purges) {
      this.doom(tmp);
      return new Entry(key, info, size, etag, '', tmp);
    }
    const old = this.index.get(key);
    if (old) this.remove(old, true);
    await rename(tmp, path);
    if (token !== this.purges) {
      this.doom(path);
      return new Entry(key, info, size, etag, '', path);
    }
    let group = this.bySource.get(info.sourcePath);
    if (!group) {
      group = { path: info.sourcePath, keys: new Set() };
      this.bySource.set(info.sourcePath, group);
    }
    const shared = { ...info, sourcePath: group.path, transformation: this.intern(info.transformation) };
    const entry = new Entry(key, shared, size, etag, this.variantsDir);
    group.keys.add(key);
    this.index.set(key, entry);
    this.bytes += size;
    if (info.kind === 'original') this.originalBytes += size;
    this.shrink(entry);
    return entry;
  }

  /**
   * Evicts until the total fits, never the entry just stored. Second chance (CLOCK): the oldest
   * entry goes unless it was used since it was last looked at; then it is moved to the young end
   * with its mark cleared. Close to least-recently-used, with hits that only set a bit.
   */
  private shrink(keep: Entry): void {
    while (this.bytes > this.opts.maxBytes && this.index.size > 1) {
      const oldest = this.index.values().next().value as Entry;
      if (oldest === keep) break;
      if (oldest.used) {
        oldest.used = false;
        this.index.delete(oldest.key);
        this.index.set(oldest.key, oldest);
        continue;
      }
      this.remove(oldest, false);
      this.evictions++;
    }
  }

  private remove(e: Entry, replacing: boolean): void {
    this.index.delete(e.key);
    this.bytes -= e.size;
    if (e.kind === 'original') this.originalBytes -= e.size;
    const g = this.bySource.get(e.sourcePath);
    if (g) {
      g.keys.delete(e.key);
      if (g.keys.size === 0) this.bySource.delete(e.sourcePath);
    }
    const m = this.memory.get(e.key);
    if (m !== undefined) {
      this.memory.delete(e.key);
      this.memoryBytes -= m.length;
    }
    // A replacement is renamed over the same path right after; nothing to unlink.
    if (!replacing) this.doom(e.path);
  }

  private remember(key: string, data: Buffer): void {
    if (!this.capabilities.memoryTier || data.length > this.memoryItemMax) return;
    const old = this.memory.get(key);
    if (old !== undefined) {
      this.memory.delete(key);
      this.memoryBytes -= old.length;
    }
    this.memory.set(key, data);
    this.memoryBytes += data.length;
    // Second chance here too, with the entry's `hot` mark.
    while (this.memoryBytes > this.opts.memoryMaxBytes) {
      const [k, v] = this.memory.entries().next().value as [string, Buffer];
      this.memory.delete(k);
      const e = this.index.get(k);
      if (e && e.hot && k !== key) {
        e.hot = false;
        this.memory.set(k, v);
        continue;
      }
      this.memoryBytes -= v.length;
    }
  }

  private pathOf(key: string): string {
    return `${this.variantsDir}/${key.slice(0, 2)}/${key}`;
  }

  /** One copy of each transformation string (bounded, so hostile variety cannot grow it forever). */
  private intern(text: string): string {
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    if (this.strings.size < 100_000) this.strings.set(text, text);
    return text;
  }

  private doom(path: string): void {
    if (path === '') return;
    this.doomed.push({ path, at: this.clock() + this.graceMs });
  }

  private async sweep(all: boolean): Promise<void> {
    if (this.doomed.length === 0) return;
    const now = this.clock();
    const due = all ? this.doomed : this.doomed.filter((d) => d.at <= now);
    if (due.length === 0) return;
    this.doomed = all ? [] : this.doomed.filter((d) => d.at > now);
    for (const d of due) {
      // A path may have been reused by a newer entry under the same key: leave that one alone.
      const key = d.path.slice(d.path.lastIndexOf('/') + 1);
      const live = this.index.get(key);
      if (live && live.path === d.path) continue;
      await rm(d.path, { force: true }).catch((e: unknown) => this.opts.onError?.(e));
    }
  }
}

/** The strong validator of a body: 160 bits of SHA-1, base64url. */
export function etagOf(data: Buffer): string {
  return createHash('sha1').update(data).digest('base64url');
}
