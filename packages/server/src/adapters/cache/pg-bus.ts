import { sql, type Kysely } from 'kysely';
import type { Client, ClientConfig, Notification } from 'pg';
import type { CacheBus, PurgeHandler, PurgeMessage, PurgeTarget } from '../../ports/cache-bus.js';
import type { MetadataStore } from '../../ports/metadata-store.js';
import { newId } from '../../util/ids.js';
import { KyselyMetadataStore } from '../db/kysely-store.js';
import type { Database } from '../db/schema.js';

/**
 * The cache bus of a scale-out deployment: purges travel as PostgreSQL NOTIFY on one channel, and
 * every node LISTENs on a connection of its own (a pooled connection cannot hold a LISTEN).
 *
 * - A NOTIFY payload must stay under 8000 bytes, so a message whose targets do not fit is split
 *   over several notifications (each a valid message with some of the targets).
 * - publish runs this node's handlers itself and skips its own notification when it comes back.
 * - A node that cannot hear the channel (its LISTEN connection dropped) may miss purges. It drops
 *   its whole delivery cache when it notices the loss and again once it listens again, so nothing
 *   it cached before or during the deaf window outlives a purge it missed. Reconnects back off.
 */

export interface PgCacheBusOptions {
  connectionString: string;
  /** Where NOTIFY is sent from: the store's pool, so a publish needs no connection of its own. */
  db: Kysely<Database>;
  /** Default `tessera_purge`. Nodes of one deployment must agree on it. */
  channel?: string;
  /** First reconnect delay; doubles per failed attempt up to reconnectMaxMs. Default 100 ms. */
  reconnectMinMs?: number;
  /** Default 5 s. */
  reconnectMaxMs?: number;
  /**
   * How often the LISTEN connection is checked with a query: a network that silently stops
   * carrying packets closes no socket. Default 10 s.
   */
  pingMs?: number;
  /** Connection losses, failed reconnects, handler failures: reported, never thrown at anyone. */
  onError?: (err: unknown) => void;
}

/** PostgreSQL refuses payloads of 8000 bytes or more; leave room for the envelope's own growth. */
export const MAX_NOTIFY_BYTES = 7900;

/** Every entry of the delivery cache (every source path starts with "/"). */
const EVERYTHING: PurgeTarget = { mode: 'prefix', path: '/' };

interface Envelope {
  /** The publishing node: it already ran its own handlers. */
  o: string;
  r: string;
  t: PurgeTarget[];
}

interface Listener {
  client: Client;
  dead: boolean;
}

type PgModule = typeof import('pg');

function isTarget(v: unknown): v is PurgeTarget {
  if (v === null || typeof v !== 'object') return false;
  const t = v as Record<string, unknown>;
  return (
    (t.mode === 'exact' || t.mode === 'prefix') &&
    typeof t.path === 'string' &&
    (t.transformation === undefined || typeof t.transformation === 'string')
  );
}

function encode(nodeId: string, requestId: string, targets: PurgeTarget[]): string {
  return JSON.stringify({ o: nodeId, r: requestId, t: targets } satisfies Envelope);
}

/**
 * Cuts a message into payloads under maxBytes. A single target too long for any payload becomes
 * a prefix purge of as much of its path as fits: evicting more than asked is safe, less is not.
 */
export function splitPayloads(nodeId: string, msg: PurgeMessage, maxBytes = MAX_NOTIFY_BYTES): string[] {
  const out: string[] = [];
  let batch: PurgeTarget[] = [];
  const fits = (targets: PurgeTarget[]) => Buffer.byteLength(encode(nodeId, msg.requestId, targets)) <= maxBytes;
  for (const target of msg.targets) {
    let t = target;
    if (!fits([t])) {
      let path = t.path;
      // JSON escaping can make a character several bytes long: shrink until the envelope fits.
      while (path.length > 1 && !fits([{ mode: 'prefix', path }])) path = path.slice(0, Math.floor(path.length * 0.9));
      t = { mode: 'prefix', path: path.length > 1 ? path : '/' };
    }
    if (batch.length > 0 && !fits([...batch, t])) {
      out.push(encode(nodeId, msg.requestId, batch));
      batch = [];
    }
    batch.push(t);
  }
  if (batch.length > 0 || out.length === 0) out.push(encode(nodeId, msg.requestId, batch));
  return out;
}

export class PgCacheBus implements CacheBus {
  readonly capabilities = { distributed: true } as const;
  /** This node's id on the channel (also in the LISTEN connection's application_name). */
  readonly nodeId = newId();
  readonly channel: string;
  private readonly handlers = new Set<PurgeHandler>();
  private listener: Listener | null = null;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private failedAttempts = 0;
  /** True from a lost connection until LISTEN is in place again. */
  private deaf = false;
  private closed = false;
  private resyncs = 0;

  private constructor(
    private readonly pg: PgModule,
    private readonly opts: PgCacheBusOptions,
  ) {
    this.channel = opts.channel ?? 'tessera_purge';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.channel)) throw new Error(`invalid cache bus channel name: ${this.channel}`);
  }

  /** Connects and LISTENs before resolving, so no purge published after start-up is missed. */
  static async open(opts: PgCacheBusOptions): Promise<PgCacheBus> {
    const { default: pg } = await import('pg');
    const bus = new PgCacheBus(pg as PgModule, opts);
    try {
      await bus.connect();
    } catch (e) {
      await bus.close();
      throw e;
    }
    bus.startPinging();
    return bus;
  }

  /** The bus on the database of a PostgreSQL-backed store (NOTIFY goes through the store's pool). */
  static forStore(store: MetadataStore, opts: Omit<PgCacheBusOptions, 'db'>): Promise<PgCacheBus> {
    if (!(store instanceof KyselyMetadataStore) || store.capabilities.dialect !== 'postgres') {
      throw new Error('the PostgreSQL cache bus needs the PostgreSQL metadata store');
    }
    return PgCacheBus.open({ ...opts, db: store.kysely });
  }

  /** The backend pid of the LISTEN connection (tests terminate it to simulate a dropped link). */
  get listenerPid(): number | undefined {
    const c = this.listener?.client as (Client & { processID?: number }) | undefined;
    return this.listener && !this.listener.dead ? c?.processID : undefined;
  }

  /** Whether the channel is heard right now. */
  get listening(): boolean {
    return !this.deaf && this.listener !== null && !this.listener.dead;
  }

  /** How many times the whole local cache was dropped because purges may have been missed. */
  get resyncCount(): number {
    return this.resyncs;
  }

  async publish(msg: PurgeMessage): Promise<void> {
    const payloads = splitPayloads(this.nodeId, msg);
    const local = (async () => {
      for (const h of [...this.handlers]) await h(msg);
    })();
    // Awaited below; this only keeps a failure from counting as unhandled while NOTIFY runs.
    local.catch(() => undefined);
    try {
      for (const p of payloads) await sql`select pg_notify(${this.channel}, ${p})`.execute(this.opts.db);
    } finally {
      await local;
    }
  }

  subscribe(handler: PurgeHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    this.handlers.clear();
    const l = this.listener;
    this.listener = null;
    if (l && !l.dead) {
      l.dead = true;
      await l.client.end().catch(() => undefined);
    }
  }

  private async connect(): Promise<void> {
    const config: ClientConfig = {
      connectionString: this.opts.connectionString,
      application_name: `tessera-cache-bus:${this.nodeId}`,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    };
    const client = new this.pg.Client(config);
    const l: Listener = { client, dead: false };
    this.listener = l;
    client.on('error', (e) => this.lost(l, e));
    client.on('end', () => this.lost(l, new Error('the cache bus LISTEN connection ended')));
    client.on('notification', (n) => this.receive(n));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (e) {
      this.lost(l, e);
      throw e;
    }
    this.failedAttempts = 0;
  }

  private lost(l: Listener, err: unknown): void {
    if (l.dead) return;
    l.dead = true;
    l.client.removeAllListeners('notification');
    // An 'error' listener stays: a late socket error on a client we gave up must not crash the process.
    l.client.on('error', () => undefined);
    void l.client.end().catch(() => undefined);
    if (this.closed || this.listener !== l) return;
    this.opts.onError?.(err);
    if (!this.deaf) {
      this.deaf = true;
      void this.resync();
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const min = this.opts.reconnectMinMs ?? 100;
    const max = this.opts.reconnectMaxMs ?? 5000;
    const base = Math.min(max, min * 2 ** this.failedAttempts);
    const delay = Math.round(base * (0.5 + Math.random() / 2));
    this.failedAttempts++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closed) return;
      this.connect().then(
        async () => {
          if (this.closed) return;
          this.deaf = false;
          // Purges published while this node was not listening are gone: drop what they could have covered.
          await this.resync();
        },
        () => {
          // lost() has reported the failure and scheduled the next attempt.
        },
      );
    }, delay);
    this.reconnectTimer.unref();
  }

  private startPinging(): void {
    const every = this.opts.pingMs ?? 10_000;
    this.pingTimer = setInterval(() => {
      const l = this.listener;
      if (!l || l.dead) return;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the cache bus LISTEN connection stopped answering')), every);
      });
      Promise.race([l.client.query('select 1'), timeout]).then(
        () => clearTimeout(timer),
        (e: unknown) => {
          clearTimeout(timer);
          this.lost(l, e);
        },
      );
    }, every);
    this.pingTimer.unref();
  }

  private async resync(): Promise<void> {
    this.resyncs++;
    await this.runHandlers({ requestId: `resync-${this.nodeId}-${this.resyncs}`, targets: [EVERYTHING] });
  }

  private receive(n: Notification): void {
    if (n.channel !== this.channel || n.payload === undefined) return;
    let env: Envelope;
    try {
      const v = JSON.parse(n.payload) as Partial<Envelope>;
      if (typeof v.o !== 'string' || typeof v.r !== 'string' || !Array.isArray(v.t) || !v.t.every(isTarget)) throw new Error('bad shape');
      env = v as Envelope;
    } catch (e) {
      this.opts.onError?.(new Error(`ignored a malformed cache bus notification: ${String(e)}`));
      return;
    }
    if (env.o === this.nodeId) return;
    void this.runHandlers({ requestId: env.r, targets: env.t });
  }

  /** Handlers run for a message from elsewhere: a failure is reported, the next handler still runs. */
  private async runHandlers(msg: PurgeMessage): Promise<void> {
    for (const h of [...this.handlers]) {
      try {
        await h(msg);
      } catch (e) {
        this.opts.onError?.(e);
      }
    }
  }
}
