/**
 * The cache bus port: how a purge reaches every process that holds a delivery cache. One process
 * uses the in-process bus (adapters/cache/in-process-bus.ts); a scale-out deployment puts a shared
 * transport (Redis pub/sub, PostgreSQL LISTEN/NOTIFY …) behind the same interface.
 */

/**
 * What a purge removes, in the delivery URL space: paths are decoded URL paths under the public
 * URL, starting with the imagekit id and the endpoint's prefix (`/demo/folder/a.jpg`,
 * `/demo/img/https://example.com/a.jpg`), never with a `tr:` segment.
 */
export interface PurgeTarget {
  /** `exact`: this path; `prefix`: every path starting with it (a URL ending in `*`). */
  mode: 'exact' | 'prefix';
  path: string;
  /**
   * Canonical transformation the purged URL named; absent: the cached original and every
   * transformed variant of the matched paths.
   */
  transformation?: string;
}

export interface PurgeMessage {
  requestId: string;
  targets: PurgeTarget[];
}

export type PurgeHandler = (msg: PurgeMessage) => void | Promise<void>;

export interface CacheBus {
  readonly capabilities: {
    /** True when a publish also reaches other processes. */
    readonly distributed: boolean;
  };
  /** Delivers the message to every subscriber; resolves when the local subscribers are done. */
  publish(msg: PurgeMessage): Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(handler: PurgeHandler): () => void;
  close(): Promise<void>;
}
