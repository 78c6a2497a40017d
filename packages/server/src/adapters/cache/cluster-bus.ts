import type { CacheBus, PurgeHandler, PurgeMessage } from '../../ports/cache-bus.js';
import type { WorkerChannel } from '../cluster/ipc.js';

/**
 * The bus of the worker processes of one server (TESSERA_WORKERS > 1 on SQLite), each with its own
 * delivery cache: a publish runs this worker's handlers, then goes through the cluster primary to
 * every other worker, and resolves once all of them have run it — so when an invalidation request
 * answers, no worker still serves what it purged.
 */
export class ClusterCacheBus implements CacheBus {
  readonly capabilities = { distributed: true } as const;
  private readonly handlers = new Set<PurgeHandler>();

  constructor(
    private readonly channel: WorkerChannel,
    /** The other workers could not be reached (the primary is gone); this worker's purge is done. */
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    channel.onPurge((msg) => this.runHere(msg));
  }

  private async runHere(msg: PurgeMessage): Promise<void> {
    for (const h of [...this.handlers]) await h(msg);
  }

  async publish(msg: PurgeMessage): Promise<void> {
    await this.runHere(msg);
    try {
      await this.channel.broadcast({ kind: 'purge', msg });
    } catch (err) {
      this.onError(err);
    }
  }

  subscribe(handler: PurgeHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.channel.onPurge(null);
    this.handlers.clear();
  }
}
