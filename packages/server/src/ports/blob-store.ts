import type { Readable } from 'node:stream';

/** A byte range, inclusive of both ends, as HTTP Range expresses it. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where file bytes live. Keys are opaque; the store owns the layout.
 * Bytes always arrive as a finished local file (uploads are spooled to disk first so they can
 * be probed), so `putFile` is the only write and can be made atomic by each backend.
 */
export interface BlobStore {
  readonly capabilities: { readonly kind: 'local' | 's3' };
  /** Takes ownership of localPath: after success it no longer exists there. Durable on return. */
  putFile(key: string, localPath: string): Promise<void>;
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Local path for readers that need random access (sharp); undefined when not on local disk. */
  localPath(key: string): string | undefined;
  size(key: string): Promise<number | undefined>;
  copy(fromKey: string, toKey: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every key in the store, for the orphan sweep. */
  keys(): AsyncIterable<string>;
}
