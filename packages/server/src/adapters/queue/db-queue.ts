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
  type JobRecord,
  type JobType,
} from '../../ports/job-queue.js';
import { newId } from '../../util/ids.js';
import { KyselyMetadataStore } from '../db/kysely-store.js';
import { JobRepo } from '../db/job-repo.js';

/**
 * The embedded JobQueue: jobs live in the store's `jobs` table and this process polls it.
 * Claims are leases (locked_by / locked_until), renewed by a heartbeat while a handler runs, so
 * a job whose process died is claimed again once its lease lapses — the same rule the shared
 * queue of a multi-node deployment follows. With SQLite there is one writer anyway, so one job
 * runs at a time by default.
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
  /** Jobs run at once by this process. Default 1. */
  concurrency?: number;
  workerId?: string;
  clock?: () => number;
  /** Failures the runner cannot report to anyone else (a failed attempt, a lost database). */
  onError?: (err: unknown, job: JobRecord | undefined) => void;
}

interface Running {
  promise: Promise<void>;
}

export class DbJobQueue implements JobQueue {
  readonly capabilities = { kind: 'embedded' as const };
  readonly workerId: string;
  private readonly handlers = new Map<string, JobHandler<unknown, unknown>>();
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
    this.repo = new JobRepo(store.kysely);
    this.clock = opts.clock ?? Date.now;
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

  register<P, G>(type: JobType<P, G>, handler: JobHandler<P, G>): void {
    if (this.handlers.has(type.name)) throw new Error(`a handler for ${type.name} is already registered`);
    this.handlers.set(type.name, handler as JobHandler<unknown, unknown>);
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
    // Check and insert in one transaction. SQLite's single connection serialises these; a
    // PostgreSQL adapter needs a lock (an advisory lock, say) to keep the check atomic.
    await this.store.kysely.transaction().execute(async (trx) => {
      const repo = new JobRepo(trx);
      if (opts.conflictsWith) {
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
    this.wake();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
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
        const job = await this.repo.claimNext(this.workerId, this.iso(), this.iso(this.opts.leaseMs), [...this.handlers.keys()]);
        if (!job) return;
        if (this.stopping) {
          await this.repo.release(job.id, this.workerId, this.iso());
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
    const maxAttempts = this.opts.maxAttempts ?? 5;
    if (job.attempts > maxAttempts) {
      // Claimed again and again without finishing: its process keeps dying on it.
      await this.settle(job, () => this.repo.fail(job.id, this.workerId, `abandoned after ${maxAttempts} attempts`, this.iso()));
      return;
    }
    const handler = this.handlers.get(job.type)!;
    const ac = new AbortController();
    const onStop = () => ac.abort(this.stopController.signal.reason);
    this.stopController.signal.addEventListener('abort', onStop, { once: true });
    const heartbeat = setInterval(() => {
      this.repo.renew(job.id, this.workerId, this.iso(this.opts.leaseMs)).then(
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
          const held = await new JobRepo(trx).saveProgress(job.id, this.workerId, progress, this.iso(), this.iso(this.opts.leaseMs));
          if (!held) throw new JobLeaseLostError(`job ${job.id} was taken over by another worker`);
          job.progress = progress;
          return result;
        }),
    };

    try {
      await handler(ctx);
      await this.settle(job, () => this.repo.complete(job.id, this.workerId, this.iso()));
    } catch (e) {
      if (e instanceof JobStoppedError) {
        await this.settle(job, () => this.repo.release(job.id, this.workerId, this.iso()));
      } else if (e instanceof JobLeaseLostError) {
        // Another worker owns the job now; nothing of ours may touch it.
      } else {
        const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        this.opts.onError?.(e, job);
        if (e instanceof PermanentJobError || job.attempts >= maxAttempts) {
          await this.settle(job, () => this.repo.fail(job.id, this.workerId, message, this.iso()));
        } else {
          const base = this.opts.backoffMs ?? 2000;
          const delay = Math.min(this.opts.maxBackoffMs ?? 300_000, base * 2 ** (job.attempts - 1));
          await this.settle(job, () => this.repo.retry(job.id, this.workerId, message, this.iso(delay), this.iso()));
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
