/**
 * Contract suite for the JobQueue port, run against every adapter (today: the embedded DbJobQueue
 * over SQLite; the shared queue of the scale-out issue joins the ADAPTERS table).
 *
 * What every adapter must do: run a job once it is enqueued; commit a step's rows and the job's
 * progress together (or neither); retry a failed attempt with growing delays and give up after
 * maxAttempts; fail a PermanentJobError at once; claim again a job whose worker died once its
 * lease lapses — and never let the dead worker's late step commit; finish the current step on
 * stop and resume after it at the next start; refuse a conflicting enqueue atomically.
 *
 * With several workers on one database (two queues, as two nodes run them; on PostgreSQL each
 * with its own connection pool): every job runs exactly once; a worker that stops renewing its
 * lease loses the job to the other, which resumes after the last committed step, and the late
 * step of the first commits nothing; conflicting enqueues from two workers still admit one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { JobRepo } from '../../src/adapters/db/job-repo.js';
import type { KyselyMetadataStore } from '../../src/adapters/db/kysely-store.js';
import { openPostgresStore } from '../../src/adapters/db/postgres/index.js';
import { openSqliteStore } from '../../src/adapters/db/sqlite/index.js';
import { DbJobQueue, type DbJobQueueOptions } from '../../src/adapters/queue/db-queue.js';
import {
  JobConflictError,
  JobLeaseLostError,
  PermanentJobError,
  jobType,
  type JobHandler,
  type JobQueue,
  type JobRecord,
} from '../../src/ports/job-queue.js';
import type { MetadataStore } from '../../src/ports/metadata-store.js';
import { newId } from '../../src/util/ids.js';
import { freshPgDatabase, postgresForTests } from '../support/pg-fresh.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Harness {
  store: MetadataStore;
  /** A fresh queue (a "worker") over the same store. */
  queue(opts?: Partial<DbJobQueueOptions>): JobQueue;
  /**
   * Another worker, as another node runs it: on PostgreSQL over a store (a pool) of its own; on
   * SQLite (one process owns the file) over the same store.
   */
  worker(opts?: Partial<DbJobQueueOptions>): Promise<JobQueue>;
  /** Makes the job look claimed by a worker that then died: running, leased for leaseMs more, never renewed. */
  claimByDeadWorker(jobId: string, leaseMs: number): Promise<void>;
  /** Makes another worker the holder of the job's lease (as after a takeover). */
  stealLease(jobId: string): Promise<void>;
  close(): Promise<void>;
}

interface Adapter {
  name: string;
  open(): Promise<Harness>;
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * What both adapters share: queues over a store, and the direct row edits that stage a dead or
 * usurped worker. `workerStore` gives another worker its own store (a pool) where a backend allows.
 */
function harnessOver(
  store: KyselyMetadataStore,
  dialect: 'sqlite' | 'postgres',
  workerStore: () => Promise<KyselyMetadataStore>,
  cleanup: () => Promise<void>,
): Harness {
  const queues: JobQueue[] = [];
  const jobs = new JobRepo(store.kysely, dialect);
  const make = (s: KyselyMetadataStore, opts: Partial<DbJobQueueOptions>) => {
    const q = new DbJobQueue(s, { leaseMs: 2000, pollMs: 20, backoffMs: 50, ...opts });
    queues.push(q);
    return q;
  };
  return {
    store,
    queue: (opts = {}) => make(store, opts),
    worker: async (opts = {}) => make(await workerStore(), opts),
    async claimByDeadWorker(jobId, leaseMs) {
      await store.kysely
        .updateTable('jobs')
        .set((eb) => ({
          status: 'running',
          locked_by: 'dead-worker',
          locked_until: new Date(Date.now() + leaseMs).toISOString(),
          attempts: eb('attempts', '+', 1),
        }))
        .where('id', '=', jobId)
        .execute();
    },
    async stealLease(jobId) {
      await store.kysely.updateTable('jobs').set({ locked_by: 'usurper' }).where('id', '=', jobId).execute();
      assert.equal((await jobs.get(jobId))?.lockedBy, 'usurper');
    },
    async close() {
      for (const q of queues) await q.stop();
      await cleanup();
    },
  };
}

const ADAPTERS: Adapter[] = [
  {
    name: 'embedded DbJobQueue (SQLite)',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-queue-'));
      dirs.push(dir);
      const store = await openSqliteStore(join(dir, 'tessera.db'));
      // One process owns the SQLite file: another worker shares the store.
      return harnessOver(store, 'sqlite', async () => store, () => store.close());
    },
  },
];

if (await postgresForTests('the JobQueue contract')) {
  ADAPTERS.push({
    name: 'shared DbJobQueue (PostgreSQL)',
    async open() {
      const db = await freshPgDatabase();
      const store = await openPostgresStore({ url: db.url, poolMax: 8 });
      const stores: KyselyMetadataStore[] = [store];
      return harnessOver(
        store,
        'postgres',
        async () => {
          const own = await openPostgresStore({ url: db.url, poolMax: 4 });
          stores.push(own);
          return own;
        },
        async () => {
          for (const s of stores) await s.close();
          await db.drop();
        },
      );
    },
  });
}

interface Counter {
  n: number;
}
const COUNT = jobType<{ steps: number; folder: string }, Counter>('TEST_COUNT', { n: 0 });

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await sleep(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function settled(q: JobQueue, id: string): Promise<JobRecord> {
  let job: JobRecord | undefined;
  await waitFor(`job ${id} to finish`, async () => {
    job = await q.get(id);
    return job?.state === 'completed' || job?.state === 'failed';
  });
  return job!;
}

/** Folder rows named by a step (the "work" a test job does, committed with its progress). */
async function folderCount(store: MetadataStore, prefix: string): Promise<number> {
  return (await store.repo.listFoldersUnder(prefix, null, 10_000)).length;
}

function folderRow(path: string) {
  const now = new Date().toISOString();
  return { id: newId(), path, name: path.split('/').filter(Boolean).pop()!, parentPath: '/', createdAt: now, updatedAt: now };
}

for (const adapter of ADAPTERS) {
  describe(`JobQueue contract: ${adapter.name}`, () => {
    test('runs an enqueued job; each step commits its rows and the progress together', async () => {
      const h = await adapter.open();
      try {
        const q = h.queue();
        q.register(COUNT, async (ctx) => {
          while (ctx.job.progress.n < ctx.job.params.steps) {
            ctx.throwIfStopping();
            await ctx.step(async (tx) => {
              const n = ctx.job.progress.n + 1;
              await tx.insertFolder(folderRow(`${ctx.job.params.folder}${n}/`));
              return { progress: { n }, result: undefined };
            });
          }
        });
        q.start();
        const job = await q.enqueue(COUNT, { steps: 4, folder: '/run/' });
        assert.equal(job.state, 'queued');
        assert.deepEqual(job.progress, { n: 0 });
        const done = await settled(q, job.id);
        assert.equal(done.state, 'completed');
        assert.deepEqual(done.progress, { n: 4 });
        assert.equal(done.attempts, 1);
        assert.equal(done.lockedBy, null);
        assert.equal(await folderCount(h.store, '/run/'), 4);
      } finally {
        await h.close();
      }
    });

    test('a step that throws commits neither its rows nor its progress', async () => {
      const h = await adapter.open();
      try {
        const q = h.queue({ maxAttempts: 1 });
        q.register(COUNT, async (ctx) => {
          await ctx.step(async (tx) => {
            await tx.insertFolder(folderRow('/atomic/ok/'));
            return { progress: { n: 1 }, result: undefined };
          });
          await ctx.step(async (tx) => {
            await tx.insertFolder(folderRow('/atomic/rolled-back/'));
            throw new Error('disk on fire');
          });
        });
        q.start();
        const job = await q.enqueue(COUNT, { steps: 0, folder: '' });
        const done = await settled(q, job.id);
        assert.equal(done.state, 'failed');
        assert.match(done.error ?? '', /disk on fire/);
        assert.deepEqual(done.progress, { n: 1 }, 'progress of the committed step only');
        assert.ok(await h.store.repo.getFolder('/atomic/ok/'));
        assert.equal(await h.store.repo.getFolder('/atomic/rolled-back/'), undefined);
      } finally {
        await h.close();
      }
    });

    test('a failed attempt is retried after a delay that doubles; progress carries over', async () => {
      const h = await adapter.open();
      try {
        const q = h.queue({ backoffMs: 150, maxAttempts: 5 });
        const seen: Array<{ at: number; attempt: number; n: number }> = [];
        q.register(COUNT, async (ctx) => {
          seen.push({ at: Date.now(), attempt: ctx.job.attempts, n: ctx.job.progress.n });
          await ctx.step(async () => ({ progress: { n: ctx.job.progress.n + 1 }, result: undefined }));
          if (seen.length < 3) throw new Error(`transient failure ${seen.length}`);
        });
        q.start();
        const job = await q.enqueue(COUNT, { steps: 0, folder: '' });
        const done = await settled(q, job.id);
        assert.equal(done.state, 'completed');
        assert.equal(done.attempts, 3);
        assert.deepEqual(
          seen.map((s) => [s.attempt, s.n]),
          [
            [1, 0],
            [2, 1],
            [3, 2],
          ],
          'each attempt resumes from the progress the last one committed',
        );
        const gap1 = seen[1]!.at - seen[0]!.at;
        const gap2 = seen[2]!.at - seen[1]!.at;
        assert.ok(gap1 >= 140, `first retry after ≥150 ms, was ${gap1}`);
        assert.ok(gap2 >= 290, `second retry after ≥300 ms (doubled), was ${gap2}`);
      } finally {
        await h.close();
      }
    });

    test('after maxAttempts failures the job is failed, with the last error', async () => {
      const h = await adapter.open();
      try {
        const q = h.queue({ backoffMs: 20, maxAttempts: 3 });
        let calls = 0;
        q.register(COUNT, async () => {
          calls++;
          throw new Error(`boom ${calls}`);
        });
        q.start();
        const job = await q.enqueue(COUNT, { steps: 0, folder: '' });
        const done = await settled(q, job.id);
        assert.equal(done.state, 'failed');
        assert.equal(done.attempts, 3);
        assert.equal(calls, 3);
        assert.match(done.error ?? '', /boom 3/);
        await sleep(150);
        assert.equal(calls, 3, 'a failed job is never run again');
      } finally {
        await h.close();
      }
    });

    test('a PermanentJobError fails the job without retrying', async () => {
      const h = await adapter.open();
      try {
        const q = h.queue({ backoffMs: 20, maxAttempts: 5 });
        let calls = 0;
        q.register(COUNT, async () => {
          calls++;
          throw new PermanentJobError('cannot ever work');
        });
        q.start();
        const done = await settled(q, (await q.enqueue(COUNT, { steps: 0, folder: '' })).id);
        assert.equal(done.state, 'failed');
        assert.equal(calls, 1);
      } finally {
        await h.close();
      }
    });

    test('a job held by a dead worker is claimed again only once its lease lapses', async () => {
      const h = await adapter.open();
      try {
        const q = h.queue();
        const runs: number[] = [];
        q.register(COUNT, async (ctx) => {
          runs.push(ctx.job.attempts);
        });
        const job = await q.enqueue(COUNT, { steps: 0, folder: '' });
        await h.claimByDeadWorker(job.id, 1500);
        const claimedAt = Date.now();
        q.start();
        await sleep(300);
        assert.deepEqual(runs, [], 'not taken while the lease holds');
        assert.equal((await q.get(job.id))?.state, 'running');
        const done = await settled(q, job.id);
        assert.ok(Date.now() - claimedAt >= 1450, 'taken after the lease lapsed');
        assert.equal(done.state, 'completed');
        assert.deepEqual(runs, [2], 'the dead worker’s claim counted as an attempt');
      } finally {
        await h.close();
      }
    });

    test('a worker that lost its lease cannot commit a step, complete or fail the job', async () => {
      const h = await adapter.open();
      try {
        const q = h.queue();
        let gate!: () => void;
        const opened = new Promise<void>((r) => (gate = r));
        let started = false;
        let stepError: unknown;
        q.register(COUNT, async (ctx) => {
          started = true;
          await opened;
          try {
            await ctx.step(async (tx) => {
              await tx.insertFolder(folderRow('/fenced/late/'));
              return { progress: { n: 99 }, result: undefined };
            });
          } catch (e) {
            stepError = e;
            throw e;
          }
        });
        q.start();
        const job = await q.enqueue(COUNT, { steps: 0, folder: '' });
        await waitFor('the handler to start', () => started);
        await h.stealLease(job.id);
        gate();
        await waitFor('the step to be refused', () => stepError !== undefined);
        assert.ok(stepError instanceof JobLeaseLostError, `expected JobLeaseLostError, got ${String(stepError)}`);
        await sleep(100);
        const now = await q.get(job.id);
        assert.equal(now?.state, 'running', 'still the usurper’s job');
        assert.equal(now?.lockedBy, 'usurper');
        assert.deepEqual(now?.progress, { n: 0 });
        assert.equal(await h.store.repo.getFolder('/fenced/late/'), undefined, 'the late step committed nothing');
      } finally {
        await h.close();
      }
    });

    test('stop lets the current step finish and requeues the job; the next worker resumes after it', async () => {
      const h = await adapter.open();
      try {
        const handler: JobHandler<{ steps: number; folder: string }, Counter> = async (c) => {
          while (c.job.progress.n < c.job.params.steps) {
            c.throwIfStopping();
            await c.step(async (tx) => {
              const n = c.job.progress.n + 1;
              await sleep(30);
              await tx.insertFolder(folderRow(`/resume/${n}/`));
              return { progress: { n }, result: undefined };
            });
          }
        };
        const a = h.queue();
        a.register(COUNT, handler);
        a.start();
        const job = await a.enqueue(COUNT, { steps: 12, folder: '/resume/' });
        await waitFor('a few steps', async () => ((await a.get(job.id))?.progress as Counter).n >= 3);
        await a.stop();
        const stopped = (await a.get(job.id))!;
        assert.equal(stopped.state, 'queued');
        assert.equal(stopped.lockedBy, null);
        assert.equal(stopped.attempts, 0, 'a graceful stop is not a failed attempt');
        const atStop = (stopped.progress as Counter).n;
        assert.ok(atStop >= 3 && atStop < 12, `stopped mid-job at ${atStop}`);
        assert.equal(await folderCount(h.store, '/resume/'), atStop, 'every committed step, and only those');

        const b = h.queue();
        b.register(COUNT, handler);
        b.start();
        const done = await settled(b, job.id);
        assert.equal(done.state, 'completed');
        assert.deepEqual(done.progress, { n: 12 });
        assert.equal(await folderCount(h.store, '/resume/'), 12, 'no step ran twice');
      } finally {
        await h.close();
      }
    });

    test('a job abandoned more than maxAttempts times is failed instead of run again', async () => {
      const h = await adapter.open();
      try {
        const q = h.queue({ maxAttempts: 2 });
        let calls = 0;
        q.register(COUNT, async () => {
          calls++;
        });
        const job = await q.enqueue(COUNT, { steps: 0, folder: '' });
        await h.claimByDeadWorker(job.id, 0);
        await h.claimByDeadWorker(job.id, 0);
        q.start();
        const done = await settled(q, job.id);
        assert.equal(done.state, 'failed');
        assert.equal(calls, 0);
        assert.match(done.error ?? '', /abandoned/);
      } finally {
        await h.close();
      }
    });

    test('enqueue refuses, atomically, a job that conflicts with an unfinished one', async () => {
      const h = await adapter.open();
      try {
        const q = h.queue();
        q.register(COUNT, async () => undefined);
        const same = (j: JobRecord) => (j.params as { folder: string }).folder === '/x/';
        const results = await Promise.allSettled([
          q.enqueue(COUNT, { steps: 0, folder: '/x/' }, { conflictsWith: same }),
          q.enqueue(COUNT, { steps: 0, folder: '/x/' }, { conflictsWith: same }),
          q.enqueue(COUNT, { steps: 0, folder: '/x/' }, { conflictsWith: same }),
        ]);
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof JobConflictError);
        const first = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<JobRecord>;
        q.start();
        await settled(q, first.value.id);
        // Once it is finished the same resource is free again.
        await q.enqueue(COUNT, { steps: 0, folder: '/x/' }, { conflictsWith: same });
      } finally {
        await h.close();
      }
    });

    test('two workers on one database: every job runs exactly once', async () => {
      const h = await adapter.open();
      try {
        const runs = new Map<string, string[]>();
        const handlerFor =
          (name: string): JobHandler<{ steps: number; folder: string }, Counter> =>
          async (ctx) => {
            runs.set(ctx.job.id, [...(runs.get(ctx.job.id) ?? []), name]);
            await sleep(5);
            await ctx.step(async (tx) => {
              await tx.insertFolder(folderRow(`/once/${ctx.job.id}/`));
              return { progress: { n: 1 }, result: undefined };
            });
          };
        const a = await h.worker({ workerId: 'node-a', concurrency: 3 });
        const b = await h.worker({ workerId: 'node-b', concurrency: 3 });
        a.register(COUNT, handlerFor('a'));
        b.register(COUNT, handlerFor('b'));
        const ids: string[] = [];
        for (let i = 0; i < 40; i++) ids.push((await (i % 2 ? a : b).enqueue(COUNT, { steps: 1, folder: '' })).id);
        a.start();
        b.start();
        for (const id of ids) {
          const done = await settled(a, id);
          assert.equal(done.state, 'completed');
          assert.equal(done.attempts, 1, `job ${id} was claimed ${done.attempts} times`);
        }
        assert.equal(runs.size, 40);
        for (const [id, who] of runs) assert.equal(who.length, 1, `job ${id} ran on ${who.join(' and ')}`);
        assert.equal(await folderCount(h.store, '/once/'), 40);
      } finally {
        await h.close();
      }
    });

    test('a worker whose lease lapses loses the job to another, which resumes after the last committed step; its late step commits nothing', async () => {
      const h = await adapter.open();
      try {
        // Node A "freezes" at its fourth step: from then on its heartbeats write a lease that has
        // already lapsed (its clock is set an hour back), as if they had stopped arriving.
        let skewMs = 0;
        const a = await h.worker({ workerId: 'node-a', leaseMs: 600, clock: () => Date.now() - skewMs });
        const b = await h.worker({ workerId: 'node-b', leaseMs: 600 });
        const committed: Record<'a' | 'b', number[]> = { a: [], b: [] };
        let thaw!: () => void;
        const frozen = new Promise<void>((r) => (thaw = r));
        let lateError: unknown;
        const handlerFor =
          (name: 'a' | 'b'): JobHandler<{ steps: number; folder: string }, Counter> =>
          async (ctx) => {
            while (ctx.job.progress.n < ctx.job.params.steps) {
              const n = ctx.job.progress.n + 1;
              if (name === 'a' && n === 4) {
                skewMs = 3_600_000;
                await frozen;
                try {
                  await ctx.step(async (tx) => {
                    await tx.insertFolder(folderRow('/takeover/late/'));
                    return { progress: { n: 99 }, result: undefined };
                  });
                } catch (e) {
                  lateError = e;
                }
                return;
              }
              if (name === 'b') await sleep(40);
              await ctx.step(async (tx) => {
                await tx.insertFolder(folderRow(`/takeover/${n}/`));
                return { progress: { n }, result: undefined };
              });
              committed[name].push(n);
            }
          };
        a.register(COUNT, handlerFor('a'));
        b.register(COUNT, handlerFor('b'));
        a.start();
        const job = await a.enqueue(COUNT, { steps: 10, folder: '/takeover/' });
        await waitFor('node A to freeze after three steps', () => skewMs > 0);
        b.start();
        await waitFor('node B to take over and commit a step', () => committed.b.length >= 2);
        thaw();
        await waitFor('node A’s late step to be refused', () => lateError !== undefined);
        assert.ok(lateError instanceof JobLeaseLostError, `expected JobLeaseLostError, got ${String(lateError)}`);
        const done = await settled(b, job.id);
        assert.equal(done.state, 'completed');
        assert.deepEqual(done.progress, { n: 10 });
        assert.equal(done.attempts, 2);
        assert.deepEqual(committed.a, [1, 2, 3]);
        assert.deepEqual(committed.b, [4, 5, 6, 7, 8, 9, 10], 'B resumed right after A’s last committed step');
        assert.equal(await folderCount(h.store, '/takeover/'), 10, 'every step once, the late one not at all');
        assert.equal(await h.store.repo.getFolder('/takeover/late/'), undefined);
      } finally {
        await h.close();
      }
    });

    test('heartbeats keep a long job with its worker: another worker never takes it while it runs', async () => {
      const h = await adapter.open();
      try {
        const runs: string[] = [];
        const handlerFor =
          (name: string): JobHandler<{ steps: number; folder: string }, Counter> =>
          async (ctx) => {
            runs.push(name);
            // Slow outside work (a webhook, a provider call) lasting several leases.
            await sleep(1500);
            await ctx.step(async (tx) => {
              await tx.insertFolder(folderRow(`/long/${name}/`));
              return { progress: { n: 1 }, result: undefined };
            });
          };
        const a = await h.worker({ workerId: 'node-a', leaseMs: 300 });
        const b = await h.worker({ workerId: 'node-b', leaseMs: 300 });
        a.register(COUNT, handlerFor('a'));
        b.register(COUNT, handlerFor('b'));
        a.start();
        const job = await a.enqueue(COUNT, { steps: 1, folder: '' });
        await waitFor('A to start the job', () => runs.length === 1);
        b.start();
        const done = await settled(b, job.id);
        assert.equal(done.state, 'completed');
        assert.deepEqual(runs, ['a'], 'only A ran it');
        assert.equal(done.attempts, 1);
        assert.equal(await folderCount(h.store, '/long/'), 1);
      } finally {
        await h.close();
      }
    });

    test('conflicting enqueues from two workers admit exactly one', async () => {
      const h = await adapter.open();
      try {
        const a = await h.worker();
        const b = await h.worker();
        const same = (j: JobRecord) => (j.params as { folder: string }).folder === '/y/';
        const results = await Promise.allSettled(
          [a, b, a, b, a, b].map((q) => q.enqueue(COUNT, { steps: 0, folder: '/y/' }, { conflictsWith: same })),
        );
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof JobConflictError, String(r.reason));
      } finally {
        await h.close();
      }
    });
  });
}
