import type { RateLimitDecision, RateLimiter } from '../../ports/rate-limiter.js';
import type { WorkerChannel } from '../cluster/ipc.js';

/**
 * Rate limits of the worker processes of one server on SQLite (TESSERA_WORKERS > 1): the windows
 * are counted once, in the cluster primary, so a key gets its limit across all workers together
 * rather than once per worker.
 */
export class ClusterRateLimiter implements RateLimiter {
  constructor(private readonly channel: WorkerChannel) {}

  async hit(key: string): Promise<RateLimitDecision> {
    return (await this.channel.request((id) => ({ t: 'tessera:rate', id, key }), 'tessera:rate-decision')).decision;
  }
}
