import { sql } from 'kysely';
import { hostname } from 'node:os';
import type { MetadataStore } from '../../ports/metadata-store.js';
import {
  JobConflictError,
  JobLeaseLostError,
  JobStoppedError,
  PermanentJobError,
  type EnqueueOptions,
  type JobContext,
  type JobHandler,
  type JobQueue,
  type JobQueueCapabilities,
  type JobRecord,
  type JobType,
  type RetryPolicy,
} from '../../ports/job-queue.js';
import { newId } from '../../util/ids.js';
import { KyselyMetadataStore } from '../db/kysely-store.js';
import { JobRepo } from '../db/job-repo.js';

/**
 * The JobQueue over the store's `jobs` table, polled by every process that runs jobs. Claims are
 * leases (locked_by / locked_until), renewed by a heartbeat while a handler runs, so a job whose
 * process died is claimed again once its lease lapses.
 *
 * On SQLite it is the embedded queue of one process. On PostgreSQL it is the shared queue of a
 * scale-out deployment — any node runs any job — rather than a queue library, because a job's
 * step must commit its rows and its progress in the library's own transaction, fenced by the
 * lease: that is what makes "every file copied exactly once" hold across a takeover.
 *
 * Every claim gets its own lease token (the worker id and a claim number) in locked_by, so the
 * fence also holds between two claims of one process: a handler whose lease lapsed while its
 * event loop was stuck cannot commit beside the new run of the same job.
 */

export interface DbJobQueueOptions {
  /** How long a claim holds without renewal. The heartbeat renews it every third of this. */
  leaseMs: number;
  /** How often an idle runner looks for due jobs; an enqueue on this process wakes it at once. */
  pollMs: number;
  /** Attempts before a job is marked failed (a claim after a crash counts as one). Default 5. */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt up to maxBackoffMs. Default 2 s. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Jobs run at once by this process, so a slow webhook or provider call does not hold up a
   * folder job. Default 1. On SQLite the steps of concurrent jobs take turns on the one
   * connection (each step is one transaction), which is safe: a step touches only its `tx`.
   */
  concurrency?: number;
  workerId?: string;
  clock?: () => number;
  /** Failures the runner cannot report to anyone else (a failed attempt, a lost database). */
  onError?: (err: unknown, job: JobRecord | undefined) => void;
}

interface Running {
  promise: Promise<void>;
}

/** pg_advisory_xact_lock key that serialises conflict-checked enqueues across nodes. */
const ENQUEUE_LOCK_KEY = 0x7e55e4a;

export class DbJobQueue implements JobQueue {
  readonly capabilities: JobQueueCapabilities;
  readonly workerId: string;
  private readonly dialect: 'sqlite' | 'postgres';
  private claims = 0;
  /**
   * PostgreSQL: how far the database's clock is ahead of this node's. Leases written by one node
   * are judged by another, so every node keeps time by the database's clock, not its own.
   */
  private dbClockOffsetMs = 0;
  private clockSyncTimer: NodeJS.Timeout | undefined;
  private readonly handlers = new Map<string, JobHandler<unknown, unknown>>();
  /** Per-type retry policies given to register(); other types use the options' defaults. */
  private readonly retryPolicies = new Map<string, RetryPolicy>();
  private readonly repo: JobRepo;
  private readonly clock: () => number;
  private readonly running = new Set<Running>();
  private stopController = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  /** A wake-up arrived while looking for jobs: look once more when done. */
  private rewake = false;
  private started = false;
  private stopping = false;

  constructor(
    private readonly store: KyselyMetadataStore,
    private readonly opts: DbJobQueueOptions,
  ) {
    this.dialect = store.capabilities.dialect === 'postgres' ? 'postgres' : 'sqlite';
    this.capabilities = { kind: this.dialect === 'postgres' ? 'shared' : 'embedded' };
    this.repo = new JobRepo(store.kysely, this.dialect);
    this.clock = opts.clock ?? (() => Date.now() + this.dbClockOffsetMs);
    this.workerId = opts.workerId ?? `${hostname()}:${process.pid}:${newId().slice(0, 8)}`;
  }

  /** The embedded queue needs the Kysely store (it commits progress in the library's transactions). */
  static forStore(store: MetadataStore, opts: DbJobQueueOptions): DbJobQueue {
    if (!(store instanceof KyselyMetadataStore)) throw new Error('the embedded job queue needs the Kysely metadata store');
    return new DbJobQueue(store, opts);
  }

  private iso(offsetMs = 0): string {
    return new Date(this.clock() + offsetMs).toISOString();
  }

  register<P, G>(type: JobType<P, G>, handler: JobHandler<P, G>, retry?: RetryPolicy): void {
    if (this.handlers.has(type.name)) throw new Error(`a handler for ${type.name} is already registered`);
    this.handlers.set(type.name, handler as JobHandler<unknown, unknown>);
    if (retry) this.retryPolicies.set(type.name, retry);
  }

  async enqueue<P, G>(type: JobType<P, G>, params: P, opts: EnqueueOptions = {}): Promise<JobRecord<P, G>> {
    const now = this.iso();
    const job: JobRecord<P, G> = {
      id: newId(),
      type: type.name,
      state: 'queued',
      params,
      progress: type.initialProgress,
      attempts: 0,
      error: null,
      runAfter: now,
      lockedBy: null,
      lockedUntil: null,
      createdAt: now,
      updatedAt: now,
    };
    // Check and insert in one transaction. SQLite's single connection serialises these; on
    // PostgreSQL a transaction-scoped advisory lock does, across every node (READ COMMITTED: the
    // check, run after the lock is granted, sees the rows the previous holder committed).
    await this.store.kysely.transaction().execute(async (trx) => {
      const repo = new JobRepo(trx, this.dialect);
      if (opts.conflictsWith) {
        if (this.dialect === 'postgres') await sql`select pg_advisory_xact_lock(${ENQUEUE_LOCK_KEY}::bigint)`.execute(trx);
        const clash = (await repo.listActive()).find(opts.conflictsWith);
        if (clash) throw new JobConflictError(clash.id);
      }
      await repo.insert(job);
    });
    this.wake();
    return job;
  }

  get(id: string): Promise<JobRecord | undefined> {
    return this.repo.get(id);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.stopController = new AbortController();
    this.timer = setInterval(() => this.wake(), this.opts.pollMs);
    this.timer.unref();
    if (this.dialect === 'postgres' && !this.opts.clock) {
      this.clockSyncTimer = setInterval(() => void this.syncClock(), 60_000);
      this.clockSyncTimer.unref();
      void this.syncClock().finally(() => this.wake());
    } else {
      this.wake();
    }
  }

  /** Measures the database clock's offset from this node's (half the round trip is the error bound). */
  private async syncClock(): Promise<void> {
    try {
      const t0 = Date.now();
      const r = await sql<{ ms: number | string }>`select (extract(epoch from clock_timestamp()) * 1000)::float8 as ms`.execute(this.store.kysely);
      const t1 = Date.now();
      const dbMs = Number(r.rows[0]?.ms);
      if (Number.isFinite(dbMs)) this.dbClockOffsetMs = dbMs - (t0 + t1) / 2;
    } catch (e) {
      this.opts.onError?.(e, undefined);
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    clearInterval(this.clockSyncTimer);
    this.clockSyncTimer = undefined;
    this.stopController.abort(new JobStoppedError('the job runner is stopping'));
    await this.ticking;
    await Promise.allSettled([...this.running].map((r) => r.promise));
    this.started = false;
  }

  /** Looks for due jobs now (after an enqueue, a finished job, or on the poll timer). */
  private wake(): void {
    if (!this.started || this.stopping) return;
    if (this.ticking) {
      this.rewake = true;
      return;
    }
    this.rewake = false;
    this.ticking = this.fill().finally(() => {
      this.ticking = undefined;
      if (this.rewake) this.wake();
    });
  }

  private async fill(): Promise<void> {
    const concurrency = this.opts.concurrency ?? 1;
    try {
      while (!this.stopping && this.running.size < concurrency) {
        const lease = `${this.workerId}/${++this.claims}`;
        const job = await this.repo.claimNext(lease, this.iso(), this.iso(this.opts.leaseMs), [...this.handlers.keys()]);
        if (!job) return;
        if (this.stopping) {
          await this.repo.release(job.id, lease, this.iso());
          return;
        }
        const entry: Running = { promise: Promise.resolve() };
        entry.promise = this.run(job).finally(() => {
          this.running.delete(entry);
          this.wake();
        });
        this.running.add(entry);
      }
    } catch (e) {
      this.opts.onError?.(e, undefined);
    }
  }

  private async run(job: JobRecord): Promise<void> {
    // The claim's own lease token: every write below is fenced by it.
    const lease = job.lockedBy!;
    const policy = this.retryPolicies.get(job.type);
    const maxAttempts = policy?.maxAttempts ?? this.opts.maxAttempts ?? 5;
    if (job.attempts > maxAttempts) {
      // Claimed again and again without finishing: its process keeps dying on it.
      await this.settle(job, () => this.repo.fail(job.id, lease, `abandoned after ${maxAttempts} attempts`, this.iso()));
      return;
    }
    const handler = this.handlers.get(job.type)!;
    const ac = new AbortController();
    const onStop = () => ac.abort(this.stopController.signal.reason);
    this.stopController.signal.addEventListener('abort', onStop, { once: true });
    const heartbeat = setInterval(() => {
      this.repo.renew(job.id, lease, this.iso(this.opts.leaseMs)).then(
        (held) => {
          if (!held && !ac.signal.aborted) ac.abort(new JobLeaseLostError(`job ${job.id} was taken over by another worker`));
        },
        (e) => this.opts.onError?.(e, job),
      );
    }, Math.max(50, Math.floor(this.opts.leaseMs / 3)));
    heartbeat.unref();

    const ctx: JobContext<unknown, unknown> = {
      job,
      signal: ac.signal,
      throwIfStopping() {
        if (ac.signal.aborted) throw ac.signal.reason;
      },
      step: (fn) =>
        this.store.transactionWith(async (tx, trx) => {
          const { progress, result } = await fn(tx);
          const held = await new JobRepo(trx, this.dialect).saveProgress(job.id, lease, progress, this.iso(), this.iso(this.opts.leaseMs));
          if (!held) throw new JobLeaseLostError(`job ${job.id} was taken over by another worker`);
          job.progress = progress;
          return result;
        }),
    };

    try {
      await handler(ctx);
      await this.settle(job, () => this.repo.complete(job.id, lease, this.iso()));
    } catch (e) {
      if (e instanceof JobStoppedError) {
        await this.settle(job, () => this.repo.release(job.id, lease, this.iso()));
      } else if (e instanceof JobLeaseLostError) {
        // Another worker owns the job now; nothing of ours may touch it.
      } else {
        const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        this.opts.onError?.(e, job);
        if (e instanceof PermanentJobError || job.attempts >= maxAttempts) {
          await this.settle(job, () => this.repo.fail(job.id, lease, message, this.iso()));
        } else {
          const base = policy?.backoffMs ?? this.opts.backoffMs ?? 2000;
          const delay = Math.min(policy?.maxBackoffMs ?? this.opts.maxBackoffMs ?? 300_000, base * 2 ** (job.attempts - 1));
          await this.settle(job, () => this.repo.retry(job.id, lease, message, this.iso(delay), this.iso()));
        }
      }
    } finally {
      clearInterval(heartbeat);
      this.stopController.signal.removeEventListener('abort', onStop);
    }
  }

  private async settle(job: JobRecord, write: () => Promise<boolean>): Promise<void> {
    try {
      await write();
    } catch (e) {
      this.opts.onError?.(e, job);
    }
  }
}
