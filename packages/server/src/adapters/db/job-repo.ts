import type { ExpressionBuilder, Kysely, Transaction } from 'kysely';
import type { JobRecord, JobState } from '../../ports/job-queue.js';
import type { Database, JobsTable } from './schema.js';

/**
 * Rows of the `jobs` table. Every write made by a worker is fenced by `locked_by`, so a worker
 * whose lease lapsed (and whose job another worker took) can no longer change the job.
 */

const ACTIVE: JobState[] = ['queued', 'running'];

function parse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return {};
  }
}

export function jobFromRow(r: JobsTable): JobRecord {
  return {
    id: r.id,
    type: r.type,
    state: r.status as JobState,
    params: parse(r.params),
    progress: parse(r.progress),
    attempts: r.attempts,
    error: r.error,
    runAfter: r.run_after,
    lockedBy: r.locked_by,
    lockedUntil: r.locked_until,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const changed = (res: { numUpdatedRows: bigint }) => res.numUpdatedRows > 0n;

/** No worker holds the job: never claimed, or its lease lapsed (the worker died). */
const leaseFree =
  (now: string) =>
  (eb: ExpressionBuilder<Database, 'jobs'>) =>
    eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]);

export class JobRepo {
  constructor(
    private readonly db: Kysely<Database> | Transaction<Database>,
    private readonly dialect: 'sqlite' | 'postgres' = 'sqlite',
  ) {}

  async insert(job: JobRecord): Promise<void> {
    await this.db
      .insertInto('jobs')
      .values({
        id: job.id,
        type: job.type,
        status: job.state,
        params: JSON.stringify(job.params),
        progress: JSON.stringify(job.progress),
        attempts: job.attempts,
        error: job.error,
        run_after: job.runAfter,
        locked_by: job.lockedBy,
        locked_until: job.lockedUntil,
        created_at: job.createdAt,
        updated_at: job.updatedAt,
      })
      .execute();
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const r = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return r && jobFromRow(r);
  }

  /** Unfinished jobs, oldest first (for conflict checks: there are few at any time). */
  async listActive(): Promise<JobRecord[]> {
    const rows = await this.db.selectFrom('jobs').selectAll().where('status', 'in', ACTIVE).orderBy('created_at').execute();
    return rows.map(jobFromRow);
  }

  /**
   * Claims the next due job: queued, or running under a lease that lapsed (its worker died).
   * The claim is a compare-and-set on the lease, so two workers never both win it.
   */
  async claimNext(workerId: string, now: string, leaseUntil: string, types: readonly string[]): Promise<JobRecord | undefined> {
    if (types.length === 0) return undefined;
    const due = this.db
      .selectFrom('jobs')
      .select('id')
      .where('status', 'in', ACTIVE)
      .where('run_after', '<=', now)
      .where('type', 'in', [...types])
      .where(leaseFree(now))
      .orderBy('run_after')
      .orderBy('created_at');
    const claim = this.db.updateTable('jobs').set((eb) => ({
      status: 'running',
      locked_by: workerId,
      locked_until: leaseUntil,
      attempts: eb('attempts', '+', 1),
      updated_at: now,
    }));
    if (this.dialect === 'postgres') {
      // One statement: the candidate row is locked as it is picked, and rows other workers are
      // claiming right now are skipped instead of waited for.
      const row = await claim
        .where('id', '=', due.limit(1).forUpdate().skipLocked())
        .returningAll()
        .executeTakeFirst();
      return row && jobFromRow(row);
    }
    for (const { id } of await due.limit(5).execute()) {
      const res = await claim.where('id', '=', id).where('status', 'in', ACTIVE).where(leaseFree(now)).executeTakeFirst();
      if (changed(res)) return this.get(id);
    }
    return undefined;
  }

  /** Extends the lease; false when the worker no longer holds the job. */
  async renew(id: string, workerId: string, leaseUntil: string): Promise<boolean> {
    const res = await this.db
      .updateTable('jobs')
      .set({ locked_until: leaseUntil })
      .where('id', '=', id)
      .where('locked_by', '=', workerId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return changed(res);
  }

  /** Records progress (and renews the lease); false when the worker no longer holds the job. */
  async saveProgress(id: string, workerId: string, progress: unknown, now: string, leaseUntil: string): Promise<boolean> {
    const res = await this.db
      .updateTable('jobs')
      .set({ progress: JSON.stringify(progress), locked_until: leaseUntil, updated_at: now })
      .where('id', '=', id)
      .where('locked_by', '=', workerId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return changed(res);
  }

  async complete(id: string, workerId: string, now: string): Promise<boolean> {
    return this.finish(id, workerId, { status: 'completed', error: null, updated_at: now });
  }

  async fail(id: string, workerId: string, error: string, now: string): Promise<boolean> {
    return this.finish(id, workerId, { status: 'failed', error, updated_at: now });
  }

  /** Back to the queue after a failed attempt, due again at runAfter. */
  async retry(id: string, workerId: string, error: string, runAfter: string, now: string): Promise<boolean> {
    return this.finish(id, workerId, { status: 'queued', error, run_after: runAfter, updated_at: now });
  }

  /** Back to the queue at once (the runner is stopping); the attempt is not counted. */
  async release(id: string, workerId: string, now: string): Promise<boolean> {
    const res = await this.db
      .updateTable('jobs')
      .set((eb) => ({ status: 'queued', locked_by: null, locked_until: null, attempts: eb('attempts', '-', 1), updated_at: now }))
      .where('id', '=', id)
      .where('locked_by', '=', workerId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return changed(res);
  }

  private async finish(id: string, workerId: string, values: Partial<JobsTable>): Promise<boolean> {
    const res = await this.db
      .updateTable('jobs')
      .set({ ...values, locked_by: null, locked_until: null })
      .where('id', '=', id)
      .where('locked_by', '=', workerId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return changed(res);
  }
}
