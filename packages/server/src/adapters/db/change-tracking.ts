import type { MetadataRepo, MetadataStore } from '../../ports/metadata-store.js';

/**
 * A MetadataStore wrapper that counts writes: every repo method that is not a read, and every
 * transaction when it settles, moves `generation()` on. A reader that notes the generation before
 * a lookup can reuse the result for as long as the generation stays the same — the delivery path
 * does this to answer cache hits without a query per request.
 *
 * One process alone on an SQLite file sees every write this way. Worker processes sharing the file
 * (TESSERA_WORKERS) pass `others`: each write is announced to the other workers and resolves only
 * once they have counted it, and the generation adds the writes they announced. (SQLite's own
 * signal, PRAGMA data_version, takes a lock and three syscalls per read: on a cache hit's path it
 * cost more than a second process gained.) PostgreSQL, written by nodes that announce nothing,
 * has no such signal: there readers must not rely on the generation (see `changeSignal`).
 */

/** Reads by name: everything else is treated as a write (new write methods are then safe by default). */
const READ = /^(get|list|count|max|journaled|blobKeyInUse)/;

export interface TrackedStore {
  store: MetadataStore;
  /** Moves on after every write that may have changed a file or version row. */
  generation(): number;
  /** Whether the generation sees every write to the store, this process's and every other's. */
  readonly changeSignal: 'every-commit' | 'none';
}

/** The other processes writing the same SQLite file, as a worker sees them. */
export interface OtherWriters {
  /** Moves whenever another process has written. */
  changes(): number;
  /** Tells the others this process has written; resolves once they all know. */
  announce(): Promise<void>;
}

/** `target` with `afterWrite` run when each of its write methods (or `transaction`) settles, before it resolves. */
export function afterWrites<T extends object>(target: T, afterWrite: () => void | Promise<void>): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const v = Reflect.get(t, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      // Bound to the target, so a method's calls to its own helpers are not taken for writes.
      if (typeof prop !== 'string' || READ.test(prop)) return (v as (...a: unknown[]) => unknown).bind(t);
      return async (...args: unknown[]) => {
        try {
          // A transaction's writes count when it settles (commit or rollback), not before.
          return await (v as (...a: unknown[]) => Promise<unknown>).apply(t, args);
        } finally {
          await afterWrite();
        }
      };
    },
  });
}

export function trackChanges(store: MetadataStore, others?: OtherWriters): TrackedStore {
  let gen = 0;
  const bump = others
    ? () => {
        gen++;
        return others.announce();
      }
    : () => {
        gen++;
      };
  const repo = afterWrites(store.repo, bump);
  const tracked = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'repo') return repo;
      if (prop === 'transaction') {
        return async <T>(fn: (tx: MetadataRepo) => Promise<T>): Promise<T> => {
          try {
            return await target.transaction((tx) => fn(tx));
          } finally {
            await bump();
          }
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  if (store.capabilities.dialect !== 'sqlite') return { store: tracked, generation: () => gen, changeSignal: 'none' };
  // Both counts only ever move forward, so their sum changes whenever either does.
  return others
    ? { store: tracked, generation: () => gen + others.changes(), changeSignal: 'every-commit' }
    : { store: tracked, generation: () => gen, changeSignal: 'every-commit' };
}
