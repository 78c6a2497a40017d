import type { PurgeMessage } from '../../ports/cache-bus.js';
import type { RateLimitDecision } from '../../ports/rate-limiter.js';

/**
 * The messages between the processes of one server run with TESSERA_WORKERS > 1: a primary that
 * owns the listening socket and the workers that serve it (node:cluster). Workers on SQLite share
 * the file; what they must also share and the file does not tell them cheaply goes through the
 * primary: that the library changed (so remembered lookups are dropped), purges of their delivery
 * caches, and rate-limit windows.
 */

/** What one worker tells all the others. */
export type Broadcast =
  /** Rows changed: drop what was remembered from the database (path lookups, the endpoint table). */
  | { kind: 'changed' }
  | { kind: 'purge'; msg: PurgeMessage };

/** Worker → primary. `id` pairs a request with its answer. */
export type WorkerMessage =
  | { t: 'tessera:broadcast'; id: number; what: Broadcast }
  /** This worker has applied the primary's relayed broadcast `id`. */
  | { t: 'tessera:applied'; id: number }
  | { t: 'tessera:rate'; id: number; key: string }
  /** The channel is up: broadcasts reach this worker from now on (sent before it serves anything). */
  | { t: 'tessera:ready' }
  | { t: 'tessera:listening' };

/** Primary → worker. */
export type PrimaryMessage =
  /** Another worker's broadcast, to apply here and acknowledge with `tessera:applied` and the same id. */
  | { t: 'tessera:broadcast'; id: number; what: Broadcast }
  /** Every other worker has applied this worker's broadcast `id` (or died, taking its state with it). */
  | { t: 'tessera:broadcast-done'; id: number }
  | { t: 'tessera:rate-decision'; id: number; decision: RateLimitDecision };

/** Whether an IPC message is one of ours (node:cluster sends its own on the same channel). */
export function isClusterMessage<M extends WorkerMessage | PrimaryMessage>(m: unknown): m is M {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string' && (m as { t: string }).t.startsWith('tessera:');
}

/**
 * A worker's end of the IPC channel: requests that wait for the primary's answer, and what the
 * other workers broadcast. One per worker process, shared by the adapters that use it.
 */
export class WorkerChannel {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (m: PrimaryMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private purgeHandler: ((msg: PurgeMessage) => Promise<void>) | null = null;
  private changes = 0;
  private announcing: Promise<void> | null = null;
  private nextAnnouncement: Promise<void> | null = null;
  private readonly onMessage = (m: unknown) => {
    if (!isClusterMessage<PrimaryMessage>(m)) return;
    if (m.t === 'tessera:broadcast') {
      let applied: Promise<void>;
      if (m.what.kind === 'changed') {
        this.changes++;
        applied = Promise.resolve();
      } else {
        applied = this.purgeHandler ? this.purgeHandler(m.what.msg) : Promise.resolve();
      }
      // Acknowledged even when a handler failed: the primary must not wait forever, and the
      // handler's failure is reported where it happened.
      void applied.catch(() => undefined).finally(() => this.send({ t: 'tessera:applied', id: m.id }));
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
    /** An announcement the other workers did not acknowledge in time. */
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    if (typeof proc.send !== 'function') throw new Error('WorkerChannel needs a process started by node:cluster (no IPC channel)');
    proc.on('message', this.onMessage);
    this.send({ t: 'tessera:ready' });
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

  /** Sends `what` to every other worker; resolves once all have applied it. */
  async broadcast(what: Broadcast): Promise<void> {
    await this.request((id) => ({ t: 'tessera:broadcast', id, what }), 'tessera:broadcast-done');
  }

  /** How many changes the other workers have announced: moves whenever one of them wrote. */
  changesElsewhere(): number {
    return this.changes;
  }

  /**
   * Tells the other workers that this one has written, and resolves once every one of them has
   * counted it, so whatever this worker does next (answering the request) cannot reach them before
   * they know. Writes that finish while an announcement is on its way share the next one, which
   * starts after it: one round trip covers any number of them. Never rejects: the write is done.
   */
  announceChange(): Promise<void> {
    if (this.nextAnnouncement) return this.nextAnnouncement;
    if (!this.announcing) return (this.announcing = this.announce());
    const next = this.announcing.then(() => {
      this.nextAnnouncement = null;
      return (this.announcing = this.announce());
    });
    this.nextAnnouncement = next;
    return next;
  }

  private announce(): Promise<void> {
    return this.broadcast({ kind: 'changed' }).then(
      () => {
        this.announcing = null;
      },
      (err: unknown) => {
        this.announcing = null;
        this.onError(err);
      },
    );
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
