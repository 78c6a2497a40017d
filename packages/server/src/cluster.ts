import cluster, { type Worker } from 'node:cluster';
import { isClusterMessage, type PrimaryMessage, type WorkerMessage } from './adapters/cluster/ipc.js';
import { MemoryRateLimiter } from './adapters/ratelimit/memory.js';
import type { Config } from './config/index.js';

/**
 * The primary of a server run with TESSERA_WORKERS > 1. It prepares the data dir alone, forks the
 * workers (each runs `serve` again and, being a cluster worker, builds the app and listens on the
 * shared port), and then only coordinates: it relays what one worker broadcasts (it wrote, or it
 * purged) to the others and tells the sender once all have applied it, counts rate-limit windows
 * for all of them, replaces a worker that dies, and stops them all on SIGTERM / SIGINT. It serves
 * no request itself.
 */

/** The env var that tells a forked worker its index (its own cache and spool dirs). */
export const WORKER_INDEX_ENV = 'TESSERA_WORKER_INDEX';

/** A worker that dies this soon after it started, this many times in a row, stops the server. */
const QUICK_DEATH_MS = 5000;
const QUICK_DEATHS_MAX = 5;
const RESTART_DELAY_MS = 500;

interface PendingBroadcast {
  sender: Worker;
  /** The sender's own id for the request. */
  senderId: number;
  /** Workers (cluster ids) that have not applied it yet. */
  waiting: Set<number>;
}

export interface PrimaryOptions {
  /** One line for the operator (stdout). */
  say: (line: string) => void;
  /** One line about a problem (stderr). */
  warn: (line: string) => void;
}

export async function runPrimary(config: Config, opts: PrimaryOptions): Promise<void> {
  const { prepareDataDir } = await import('./app.js');
  const prepared = await prepareDataDir(config);
  if (prepared.orphanBlobsRemoved > 0) opts.say(`tessera: removed ${prepared.orphanBlobsRemoved} orphan blob(s) left by an interrupted write`);

  const limiter = config.rateLimit ? new MemoryRateLimiter(config.rateLimit.limit, config.rateLimit.intervalMs) : null;
  const broadcasts = new Map<number, PendingBroadcast>();
  let nextBroadcast = 1;
  /** Worker slot → its current process. */
  const slots = new Map<number, Worker>();
  const slotOf = new Map<number, number>();
  const startedAt = new Map<number, number>();
  const quickDeaths = new Map<number, number>();
  const listening = new Set<number>();
  /** Workers whose channel is up, so they apply broadcasts (a worker still loading would not answer). */
  const ready = new Set<number>();
  let announced = false;
  let stopping = false;

  const send = (w: Worker, m: PrimaryMessage) => {
    if (w.isConnected()) w.send(m);
  };
  const finishIfDone = (id: number, b: PendingBroadcast) => {
    if (b.waiting.size > 0) return;
    broadcasts.delete(id);
    send(b.sender, { t: 'tessera:broadcast-done', id: b.senderId });
  };

  const fork = (slot: number) => {
    const w = cluster.fork({ [WORKER_INDEX_ENV]: String(slot) });
    slots.set(slot, w);
    slotOf.set(w.id, slot);
    startedAt.set(w.id, Date.now());
    w.on('message', (m: unknown) => {
      if (!isClusterMessage<WorkerMessage>(m)) return;
      switch (m.t) {
        case 'tessera:ready':
          ready.add(w.id);
          return;
        case 'tessera:listening':
          listening.add(w.id);
          quickDeaths.set(slot, 0);
          if (!announced && listening.size >= config.workers) {
            announced = true;
            opts.say(`tessera listening on ${config.publicUrl} (URL endpoint ${config.publicUrl}/${config.imagekitId}/) with ${config.workers} worker processes`);
          }
          return;
        case 'tessera:rate':
          if (!limiter) return;
          void limiter.hit(m.key).then((decision) => send(w, { t: 'tessera:rate-decision', id: m.id, decision }));
          return;
        case 'tessera:broadcast': {
          const id = nextBroadcast++;
          // Workers that are up now; one started later begins with nothing remembered or cached.
          const others = [...slots.values()].filter((o) => o !== w && ready.has(o.id) && o.isConnected());
          const b: PendingBroadcast = { sender: w, senderId: m.id, waiting: new Set(others.map((o) => o.id)) };
          broadcasts.set(id, b);
          for (const o of others) send(o, { t: 'tessera:broadcast', id, what: m.what });
          finishIfDone(id, b);
          return;
        }
        case 'tessera:applied': {
          const b = broadcasts.get(m.id);
          if (!b) return;
          b.waiting.delete(w.id);
          finishIfDone(m.id, b);
          return;
        }
      }
    });
  };

  let exitCode = 0;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    // Each worker finishes its in-flight requests and its job's current batch (main.ts).
    for (const w of slots.values()) w.process.kill('SIGTERM');
    if (slots.size === 0) process.exit(exitCode);
    const force = setTimeout(() => {
      for (const w of slots.values()) w.process.kill('SIGKILL');
      process.exit(1);
    }, 35_000);
    force.unref();
  };

  cluster.on('exit', (w, code, signal) => {
    const slot = slotOf.get(w.id);
    slotOf.delete(w.id);
    listening.delete(w.id);
    ready.delete(w.id);
    // A dead worker's cache and memory died with it: nothing to wait for there.
    for (const [id, b] of broadcasts) {
      if (b.sender === w) broadcasts.delete(id);
      else if (b.waiting.delete(w.id)) finishIfDone(id, b);
    }
    const current = slot !== undefined && slots.get(slot) === w;
    if (current) slots.delete(slot);
    if (stopping) {
      if (slots.size === 0) process.exit(exitCode);
      return;
    }
    if (!current) return;
    opts.warn(`tessera: worker ${slot} (pid ${w.process.pid}) exited (${signal ?? `code ${code}`}); starting another`);
    const quick = Date.now() - (startedAt.get(w.id) ?? 0) < QUICK_DEATH_MS;
    startedAt.delete(w.id);
    const deaths = quick ? (quickDeaths.get(slot) ?? 0) + 1 : 0;
    quickDeaths.set(slot, deaths);
    if (deaths >= QUICK_DEATHS_MAX) {
      opts.warn(`tessera: worker ${slot} died ${deaths} times in a row just after starting; stopping`);
      stop(1);
      return;
    }
    // Not unref'd: with every worker dead, this timer is what keeps the primary alive to restart them.
    setTimeout(() => {
      if (!stopping) fork(slot);
    }, RESTART_DELAY_MS);
  });
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));

  for (let slot = 0; slot < config.workers; slot++) fork(slot);
}
