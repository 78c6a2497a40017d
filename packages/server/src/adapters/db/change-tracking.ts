import type { MetadataRepo, MetadataStore } from '../../ports/metadata-store.js';

/**
 * A MetadataStore wrapper that counts writes: every repo method that is not a read, and every
 * transaction when it settles, moves `generation()` on. A reader that notes the generation before
 * a lookup can reuse the result for as long as the generation stays the same — the delivery path
 * does this to answer cache hits without a query per request.
 *
 * This process's writes are counted here; other processes' commits are seen through the store's
 * `commitsElsewhere` (SQLite's data_version), so the signal covers every write to an SQLite file,
 * however many processes share it. PostgreSQL has no such cheap signal: there readers must not rely
 * on the generation (see `changeSignal`).
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

function trackRepo(repo: MetadataRepo, bump: () => void): MetadataRepo {
  return new Proxy(repo, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function' || typeof prop !== 'string' || READ.test(prop)) return v;
      return async (...args: unknown[]) => {
        try {
          return await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          bump();
        }
      };
    },
  });
}

export function trackChanges(store: MetadataStore): TrackedStore {
  let gen = 0;
  const bump = () => {
    gen++;
  };
  const repo = trackRepo(store.repo, bump);
  const tracked = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'repo') return repo;
      if (prop === 'transaction') {
        return async <T>(fn: (tx: MetadataRepo) => Promise<T>): Promise<T> => {
          try {
            // Writes inside count when the transaction settles (commit or rollback), not before.
            return await target.transaction((tx) => fn(tx));
          } finally {
            bump();
          }
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const elsewhere = store.commitsElsewhere;
  // Both counts only ever move forward, so their sum changes whenever either does.
  return elsewhere
    ? { store: tracked, generation: () => gen + elsewhere(), changeSignal: 'every-commit' }
    : { store: tracked, generation: () => gen, changeSignal: 'none' };
}
