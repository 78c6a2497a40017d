import type { PurgeMessage } from '../../ports/cache-bus.js';
import type { RateLimitDecision } from '../../ports/rate-limiter.js';

/**
 * The messages between the processes of one embedded server run with TESSERA_WORKERS > 1: a
 * primary that owns the listening socket and the workers that serve it (node:cluster). Workers
 * share the SQLite file; what they must also share and SQLite cannot carry — purges of their
 * delivery caches and rate-limit windows — goes through the primary over the cluster's IPC.
 */

/** Worker → primary. `id` pairs a request with its answer. */
export type WorkerMessage =
  | { t: 'tessera:purge'; id: number; msg: PurgeMessage }
  | { t: 'tessera:purged'; id: number }
  | { t: 'tessera:rate'; id: number; key: string }
  | { t: 'tessera:listening' };

/** Primary → worker. */
export type PrimaryMessage =
  /** Another worker's purge, to run here and acknowledge with `tessera:purged` and the same id. */
  | { t: 'tessera:purge'; id: number; msg: PurgeMessage }
  /** Every other worker has run this worker's purge `id` (or died, taking its cache with it). */
  | { t: 'tessera:purge-done'; id: number }
  | { t: 'tessera:rate-decision'; id: number; decision: RateLimitDecision };

function isPrimaryMessage(m: unknown): m is PrimaryMessage {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string' && (m as { t: string }).t.startsWith('tessera:');
}

/**
 * A worker's end of the IPC channel: requests that wait for the primary's answer, and a handler
 * for the primary's own requests. One per worker process, shared by the adapters that use it.
 */
export class WorkerChannel {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (m: PrimaryMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private purgeHandler: ((msg: PurgeMessage) => Promise<void>) | null = null;
  private readonly onMessage = (m: unknown) => {
    if (!isPrimaryMessage(m)) return;
    if (m.t === 'tessera:purge') {
      const run = this.purgeHandler ? this.purgeHandler(m.msg) : Promise.resolve();
      // Acknowledged even when a handler failed: the primary must not wait forever, and the
      // handler's failure is reported where it happened.
      void run.finally(() => this.send({ t: 'tessera:purged', id: m.id }));
      return;
    }
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    clearTimeout(w.timer);
    w.resolve(m);
  };

  constructor(
    private readonly proc: Pick<NodeJS.Process, 'send' | 'on' | 'off'> = process,
    /** How long a request waits for the primary (a primary that went away answers nothing). */
    private readonly timeoutMs = 10_000,
  ) {
    if (typeof proc.send !== 'function') throw new Error('WorkerChannel needs a process started by node:cluster (no IPC channel)');
    proc.on('message', this.onMessage);
  }

  send(m: WorkerMessage): void {
    this.proc.send?.(m);
  }

  /** Sends a request and resolves with the primary's answer to it. */
  request<T extends PrimaryMessage['t']>(build: (id: number) => WorkerMessage, answer: T): Promise<Extract<PrimaryMessage, { t: T }>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the cluster primary did not answer (${answer}) within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      timer.unref();
      this.waiting.set(id, { resolve: resolve as (m: PrimaryMessage) => void, reject, timer });
      this.send(build(id));
    });
  }

  /** Runs purges published by the other workers. */
  onPurge(handler: ((msg: PurgeMessage) => Promise<void>) | null): void {
    this.purgeHandler = handler;
  }

  close(): void {
    this.proc.off('message', this.onMessage);
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new Error('the cluster channel closed'));
    }
    this.waiting.clear();
  }
}

/** What a worker process knows of its place in the cluster. */
export interface ClusterWorker {
  /** 0 … count-1, kept by a worker's replacement: names the worker's own cache and spool dirs. */
  index: number;
  count: number;
  channel: WorkerChannel;
}
