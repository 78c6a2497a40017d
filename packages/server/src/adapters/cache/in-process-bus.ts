import type { CacheBus, PurgeHandler, PurgeMessage } from '../../ports/cache-bus.js';

/** The bus of a single process: publish calls every subscriber in turn and waits for them. */
export class InProcessCacheBus implements CacheBus {
  readonly capabilities = { distributed: false } as const;
  private readonly handlers = new Set<PurgeHandler>();

  async publish(msg: PurgeMessage): Promise<void> {
    for (const h of [...this.handlers]) await h(msg);
  }

  subscribe(handler: PurgeHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
