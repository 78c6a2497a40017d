/**
 * Purge requests as the purge status API reports them. The request's evictions happen through
 * the cache bus; this store only remembers that the request exists and how far it got.
 */

export type PurgeStatus = 'Pending' | 'Completed';

export interface PurgeRecord {
  /** 24-hex id: the `requestId` / `purgeRequestId` the API returns. */
  id: string;
  status: PurgeStatus;
  /** The URL (or URL prefix ending in `*`) as it was asked for. */
  target: string;
  createdAt: string;
  updatedAt: string;
}

export interface PurgeStore {
  insert(rec: PurgeRecord): Promise<void>;
  setStatus(id: string, status: PurgeStatus, updatedAt: string): Promise<void>;
  get(id: string): Promise<PurgeRecord | undefined>;
  /**
   * Marks every Pending request Completed. At start-up: the delivery cache does not survive a
   * restart, so whatever a purge interrupted by a crash had left to evict is gone anyway.
   */
  completePending(updatedAt: string): Promise<number>;
}
