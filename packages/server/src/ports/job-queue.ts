import type { MetadataRepo } from './metadata-store.js';

/**
 * The job queue port: durable background work (folder copy / move / rename, extensions, webhook
 * deliveries). DbJobQueue keeps the jobs in the store's own `jobs` table: in-process on SQLite,
 * and on PostgreSQL the shared queue of a scale-out deployment, where any node runs any job.
 *
 * The contract every adapter keeps:
 * - A claimed job is leased to one worker until `lockedUntil`; the worker renews the lease while
 *   it runs. A worker that dies stops renewing, and once the lease lapses another worker claims
 *   the job again (at-least-once delivery).
 * - Handlers are therefore written to be resumed: their work is cut into steps, and each step's
 *   rows and the job's progress commit in one transaction (`JobContext.step`). A step is fenced
 *   by the lease: if the worker lost the job, nothing of the step commits.
 * - A failed attempt is retried with exponential backoff until `maxAttempts`, then the job is
 *   `failed`; a `PermanentJobError` fails it at once.
 */

export type JobState = 'queued' | 'running' | 'completed' | 'failed';

/** A job type: its name on the queue, and (as types) its params and progress. */
export interface JobType<P, G> {
  readonly name: string;
  /** Progress of a job that has not run yet. */
  readonly initialProgress: G;
  /** Phantom field carrying P; never read. */
  readonly _params?: P;
}

export function jobType<P, G>(name: string, initialProgress: G): JobType<P, G> {
  return { name, initialProgress };
}

export interface JobRecord<P = unknown, G = unknown> {
  id: string;
  type: string;
  state: JobState;
  params: P;
  progress: G;
  /** Claims so far (the running one included). */
  attempts: number;
  /** Last failure, kept for operators; never shown on the wire. */
  error: string | null;
  runAfter: string;
  lockedBy: string | null;
  lockedUntil: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface EnqueueOptions {
  /**
   * Refuse to enqueue (JobConflictError) when an unfinished job matches; checked atomically with
   * the insert, so two racing requests cannot both get in.
   */
  conflictsWith?: (active: JobRecord) => boolean;
}

export interface JobContext<P, G> {
  /** The job as claimed: params, and progress as last committed. */
  readonly job: JobRecord<P, G>;
  /** Aborted when the runner stops or the lease is lost: finish the current step and return. */
  readonly signal: AbortSignal;
  /** Throws JobStoppedError (or JobLeaseLostError) if the handler should stop before its next step. */
  throwIfStopping(): void;
  /**
   * Runs fn in one metadata transaction and records the progress it returns in that same
   * transaction, so a resumed job continues exactly after the last committed step. Throws
   * JobLeaseLostError, committing nothing, when this worker no longer holds the job.
   * Inside fn, touch the store only through `tx`: on SQLite any other store call waits for this
   * very transaction and never returns. Do slow or outside work (bytes, HTTP) before the step.
   */
  step<T>(fn: (tx: MetadataRepo) => Promise<{ progress: G; result: T }>): Promise<T>;
}

export type JobHandler<P, G> = (ctx: JobContext<P, G>) => Promise<void>;

/**
 * How a job type is retried, where it differs from the queue's default (webhook deliveries
 * follow ImageKit's documented ~24 h schedule; folder jobs keep the short default).
 */
export interface RetryPolicy {
  /** Attempts before the job is failed (a claim after a crash counts as one). */
  maxAttempts: number;
  /** First retry delay; doubles per attempt up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
}

export interface JobQueueCapabilities {
  /** embedded: one process runs the jobs of its own store; shared: any node may run any job. */
  readonly kind: 'embedded' | 'shared';
}

export interface JobQueue {
  readonly capabilities: JobQueueCapabilities;
  enqueue<P, G>(type: JobType<P, G>, params: P, opts?: EnqueueOptions): Promise<JobRecord<P, G>>;
  get(id: string): Promise<JobRecord | undefined>;
  /** `retry` overrides the queue's default retry policy for this job type. */
  register<P, G>(type: JobType<P, G>, handler: JobHandler<P, G>, retry?: RetryPolicy): void;
  /** Starts claiming and running jobs. */
  start(): void;
  /** Stops claiming; running handlers are asked to stop and awaited (their current step finishes). */
  stop(): Promise<void>;
}

/** An unfinished job already covers what the new one would touch. */
export class JobConflictError extends Error {
  override name = 'JobConflictError';
  constructor(readonly activeJobId: string) {
    super(`job ${activeJobId} is still running on the same resource`);
  }
}

/** The worker no longer holds the job's lease (it expired and another worker took it). */
export class JobLeaseLostError extends Error {
  override name = 'JobLeaseLostError';
}

/** The runner is stopping; the job goes back to the queue without counting a failed attempt. */
export class JobStoppedError extends Error {
  override name = 'JobStoppedError';
}

/** A failure that retrying cannot fix: the job is marked failed at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}
