/**
 * The CacheBus port: the in-process bus, and PgCacheBus (LISTEN/NOTIFY) with two buses on one
 * database standing in for two nodes. What a distributed bus must do: deliver a publish to the
 * other node; run the publisher's handlers once (its own notification coming back is skipped);
 * carry a message larger than one NOTIFY payload whole; survive its LISTEN connection being
 * killed, and then drop everything the deaf window could have covered.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InProcessCacheBus } from '../../src/adapters/cache/in-process-bus.js';
import { MAX_NOTIFY_BYTES, PgCacheBus, splitPayloads } from '../../src/adapters/cache/pg-bus.js';
import type { KyselyMetadataStore } from '../../src/adapters/db/kysely-store.js';
import { openPostgresStore } from '../../src/adapters/db/postgres/index.js';
import type { PurgeMessage, PurgeTarget } from '../../src/ports/cache-bus.js';
import { freshPgDatabase, postgresForTests, type FreshDatabase } from '../support/pg-fresh.js';
import { withPg } from '../support/scaleout.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cond()) return;
    await sleep(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('splitPayloads', () => {
  test('a small message is one payload; a large one is cut into payloads under the limit that carry every target once', () => {
    const small: PurgeMessage = { requestId: 'r1', targets: [{ mode: 'exact', path: '/demo/a.jpg', transformation: 'w-100' }] };
    assert.equal(splitPayloads('node', small).length, 1);

    const targets: PurgeTarget[] = Array.from({ length: 600 }, (_, i) => ({ mode: 'exact', path: `/demo/folder-${i}/${'x'.repeat(80)}-é.jpg` }));
    const payloads = splitPayloads('node', { requestId: 'r2', targets });
    assert.ok(payloads.length > 5, `expected several payloads, got ${payloads.length}`);
    const back: PurgeTarget[] = [];
    for (const p of payloads) {
      assert.ok(Buffer.byteLength(p) <= MAX_NOTIFY_BYTES, `payload of ${Buffer.byteLength(p)} bytes`);
      const env = JSON.parse(p) as { o: string; r: string; t: PurgeTarget[] };
      assert.equal(env.o, 'node');
      assert.equal(env.r, 'r2');
      back.push(...env.t);
    }
    assert.deepEqual(back, targets);
  });

  test('a single target longer than a payload becomes a prefix purge of its path (more, never less)', () => {
    const path = `/demo/${'ü'.repeat(9000)}.jpg`;
    const payloads = splitPayloads('node', { requestId: 'r', targets: [{ mode: 'exact', path, transformation: 'w-10' }] });
    assert.equal(payloads.length, 1);
    assert.ok(Buffer.byteLength(payloads[0]!) <= MAX_NOTIFY_BYTES);
    const t = (JSON.parse(payloads[0]!) as { t: PurgeTarget[] }).t[0]!;
    assert.equal(t.mode, 'prefix');
    assert.equal(t.transformation, undefined);
    assert.ok(path.startsWith(t.path) && t.path.startsWith('/demo/'), 'a prefix of the original path');
  });
});

describe('CacheBus: in-process', () => {
  test('publish runs every subscriber and waits for them; unsubscribe stops delivery', async () => {
    const bus = new InProcessCacheBus();
    const got: string[] = [];
    const off = bus.subscribe(async (m) => {
      await sleep(20);
      got.push(m.requestId);
    });
    await bus.publish({ requestId: 'a', targets: [] });
    assert.deepEqual(got, ['a']);
    off();
    await bus.publish({ requestId: 'b', targets: [] });
    assert.deepEqual(got, ['a']);
    assert.equal(bus.capabilities.distributed, false);
    await bus.close();
  });
});

const PG = await postgresForTests('the CacheBus contract');

describe('CacheBus: PgCacheBus (LISTEN/NOTIFY)', { skip: !PG }, () => {
  let db: FreshDatabase;
  let storeA: KyselyMetadataStore;
  let storeB: KyselyMetadataStore;
  const buses: PgCacheBus[] = [];
  const errors: unknown[] = [];

  before(async () => {
    db = await freshPgDatabase();
    storeA = await openPostgresStore({ url: db.url, poolMax: 3 });
    storeB = await openPostgresStore({ url: db.url, poolMax: 3 });
  });
  after(async () => {
    for (const b of buses) await b.close();
    await storeA?.close();
    await storeB?.close();
    await db?.drop();
  });

  async function pair(channel: string, reconnectMinMs = 50) {
    const opts = { connectionString: db.url, channel, reconnectMinMs, reconnectMaxMs: 2000, onError: (e: unknown) => errors.push(e) };
    const a = await PgCacheBus.forStore(storeA, opts);
    const b = await PgCacheBus.forStore(storeB, opts);
    buses.push(a, b);
    const seen = { a: [] as PurgeMessage[], b: [] as PurgeMessage[] };
    a.subscribe((m) => void seen.a.push(m));
    b.subscribe((m) => void seen.b.push(m));
    return { a, b, seen };
  }

  test('a publish on one node reaches the other; the publisher runs its own handlers exactly once', async () => {
    const { a, b, seen } = await pair('tessera_purge_t1');
    assert.equal(a.capabilities.distributed, true);
    const msg: PurgeMessage = { requestId: 'req-1', targets: [{ mode: 'exact', path: '/demo/x.jpg', transformation: 'w-100' }] };
    await a.publish(msg);
    assert.deepEqual(seen.a, [msg], 'local handlers done when publish resolves');
    await waitFor('node B to hear the purge', () => seen.b.length === 1);
    assert.deepEqual(seen.b, [msg]);
    // A's own notification has come back to A by now (B heard the same one): it must be skipped.
    await sleep(200);
    assert.equal(seen.a.length, 1, 'the echo of its own notification did not run A’s handlers again');

    await b.publish({ requestId: 'req-2', targets: [{ mode: 'prefix', path: '/demo/folder/' }] });
    await waitFor('node A to hear B', () => seen.a.length === 2);
    assert.deepEqual(seen.a[1], { requestId: 'req-2', targets: [{ mode: 'prefix', path: '/demo/folder/' }] });
  });

  test('a message larger than one NOTIFY payload arrives whole, over several notifications', async () => {
    const { a, seen } = await pair('tessera_purge_t2');
    const targets: PurgeTarget[] = Array.from({ length: 800 }, (_, i) => ({ mode: 'exact', path: `/demo/big/${i}-${'y'.repeat(60)}.png` }));
    await a.publish({ requestId: 'big', targets });
    await waitFor('every target at node B', () => seen.b.flatMap((m) => m.targets).length >= targets.length);
    assert.ok(seen.b.length > 1, `split over ${seen.b.length} notifications`);
    for (const m of seen.b) assert.equal(m.requestId, 'big');
    assert.deepEqual(
      seen.b.flatMap((m) => m.targets),
      targets,
    );
    assert.equal(seen.a.length, 1, 'the publisher handled the whole message once');
  });

  test('after its LISTEN connection is killed a node reconnects, drops its whole cache, and hears purges again', async () => {
    // Reconnects wait 0.5–1 s here, so the deaf window is wide enough to publish into.
    const { a, b, seen } = await pair('tessera_purge_t3', 1000);
    const pid = b.listenerPid;
    assert.ok(pid, 'B has a LISTEN connection');
    const resyncsBefore = b.resyncCount;
    await withPg(db.url, (c) => c.query('select pg_terminate_backend($1)', [pid]));
    await waitFor('B to notice the lost connection', () => !b.listening, 5000);
    // Published while B cannot hear it: B must not keep what this purge covers.
    await a.publish({ requestId: 'missed', targets: [{ mode: 'exact', path: '/demo/missed.jpg' }] });
    await waitFor('B to listen again', () => b.listening, 10_000);
    assert.notEqual(b.listenerPid, pid, 'a new connection');
    await waitFor('B to drop everything after reconnecting', () => b.resyncCount >= resyncsBefore + 2);
    const everything = seen.b.filter((m) => m.targets.some((t) => t.mode === 'prefix' && t.path === '/' && t.transformation === undefined));
    assert.ok(everything.length >= 2, 'cleared when the loss was noticed and again once listening');
    assert.ok(errors.length > 0, 'the lost connection was reported');

    await a.publish({ requestId: 'after', targets: [{ mode: 'exact', path: '/demo/after.jpg' }] });
    await waitFor('B to hear purges again', () => seen.b.some((m) => m.requestId === 'after'));
  });

  test('close stops delivery and ends the LISTEN connection', async () => {
    const { a, b, seen } = await pair('tessera_purge_t4');
    const pid = b.listenerPid!;
    await b.close();
    await a.publish({ requestId: 'late', targets: [] });
    await sleep(200);
    assert.equal(seen.b.length, 0);
    const alive = await withPg(db.url, (c) => c.query('select 1 from pg_stat_activity where pid = $1', [pid]));
    assert.equal(alive.rowCount, 0, 'the LISTEN backend is gone');
  });
});
