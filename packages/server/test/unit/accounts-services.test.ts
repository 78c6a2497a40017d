/**
 * AccountService's delivery lookup and UsageService's batching, over a real SQLite store in a
 * temp dir (no HTTP): longest-prefix endpoint resolution, origins in order with their secrets,
 * cache invalidation on writes, per-day counters, flush retry, and stored-bytes samples.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountStoreFor } from '../../src/adapters/db/account-repo.js';
import type { KyselyMetadataStore } from '../../src/adapters/db/kysely-store.js';
import { openSqliteStore } from '../../src/adapters/db/sqlite/index.js';
import { KyselyUsageStore, usageStoreFor } from '../../src/adapters/db/usage-repo.js';
import { isApiError } from '../../src/errors/index.js';
import type { UsageCounters } from '../../src/ports/usage-store.js';
import { AccountService, parseOriginRequest } from '../../src/services/account-service.js';
import { UsageService } from '../../src/services/usage-service.js';

let dir: string;
let store: KyselyMetadataStore;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-accounts-'));
  store = await openSqliteStore(join(dir, 'db.sqlite'));
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function rejects400(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => isApiError(e) && e.status === 400 && pattern.test(e.message));
}

describe('AccountService delivery lookup', () => {
  test('longest matching prefix, whole segments only, remaining path, origins in order with secrets', async () => {
    let now = 1_700_000_000_000;
    const accounts = new AccountService(accountStoreFor(store), {
      imagekitId: 'demo',
      publicUrl: 'https://media.example.com/',
      cacheTtlMs: 60_000,
      clock: () => now,
    });
    const s3 = await accounts.createOrigin({ type: 'S3', name: 'Bucket', bucket: 'b', accessKey: 'AK', secretKey: 'SK' });
    const web = await accounts.createOrigin({ type: 'WEB_FOLDER', name: 'Web', baseUrl: 'https://www.example.com' });
    const ep = await accounts.createEndpoint({ description: 'Products', urlPrefix: 'products', origins: [web.id, s3.id] });
    await accounts.updateEndpoint('default', { description: 'Default', origins: [s3.id] });

    const r1 = await accounts.resolveEndpoint('/demo/products/tr:w-100/a/b.jpg?tr=h-10');
    assert.equal(r1?.endpoint.id, ep.id);
    assert.equal(r1?.remainingPath, '/tr:w-100/a/b.jpg');
    assert.equal(r1?.endpoint.pathPrefix, '/demo/products');
    assert.equal(r1?.endpoint.urlEndpoint, 'https://media.example.com/demo/products');
    assert.deepEqual(r1?.endpoint.origins.map((o) => o.id), [web.id, s3.id]);
    const secretOrigin = r1!.endpoint.origins[1]!;
    assert.ok(secretOrigin.type === 'S3' && secretOrigin.accessKey === 'AK' && secretOrigin.secretKey === 'SK', 'secrets are available internally');

    // "productsX" is not under "products": whole segments only.
    const r2 = await accounts.resolveEndpoint('/demo/productsX/a.jpg');
    assert.equal(r2?.endpoint.id, 'default');
    assert.equal(r2?.remainingPath, '/productsX/a.jpg');
    assert.equal(r2?.endpoint.urlEndpoint, 'https://media.example.com/demo');
    assert.deepEqual(r2?.endpoint.origins.map((o) => o.id), [s3.id]);

    assert.equal((await accounts.resolveEndpoint('/demo/products'))?.remainingPath, '/');
    assert.equal((await accounts.resolveEndpoint('/demo'))?.endpoint.id, 'default');
    assert.equal(await accounts.resolveEndpoint('/other/a.jpg'), null);
    assert.equal(await accounts.resolveEndpoint('/demox/a.jpg'), null);
    assert.deepEqual((await accounts.endpointOrigins(ep.id)).map((o) => o.id), [web.id, s3.id]);

    // A write through the service is seen at once, whatever the TTL.
    await accounts.updateEndpoint(ep.id, { description: 'Renamed', urlPrefix: 'items', origins: [s3.id] });
    assert.equal((await accounts.resolveEndpoint('/demo/products/a.jpg'))?.endpoint.id, 'default');
    assert.equal((await accounts.resolveEndpoint('/demo/items/a.jpg'))?.endpoint.id, ep.id);

    // A write from elsewhere (another process) is seen once the TTL passes.
    const elsewhere = new AccountService(accountStoreFor(store), { imagekitId: 'demo', publicUrl: 'https://media.example.com' });
    await elsewhere.deleteEndpoint(ep.id);
    assert.equal((await accounts.resolveEndpoint('/demo/items/a.jpg'))?.endpoint.id, ep.id, 'still cached');
    now += 60_001;
    assert.equal((await accounts.resolveEndpoint('/demo/items/a.jpg'))?.endpoint.id, 'default');

    await rejects400(accounts.deleteOrigin(s3.id), /in use/);
    await accounts.updateEndpoint('default', { description: 'Default' });
    await accounts.deleteOrigin(s3.id);
    await accounts.deleteOrigin(web.id);
    assert.deepEqual(await accounts.listOrigins(), []);
  });

  test('with changesElsewhere, a write by another process is seen as soon as the count moves, whatever the TTL', async () => {
    let changes = 0;
    const accounts = new AccountService(accountStoreFor(store), {
      imagekitId: 'demo',
      publicUrl: 'https://media.example.com',
      cacheTtlMs: 3_600_000,
      changesElsewhere: () => changes,
    });
    assert.equal((await accounts.resolveEndpoint('/demo/shop/a.jpg'))?.endpoint.id, 'default');
    const other = new AccountService(accountStoreFor(store), { imagekitId: 'demo', publicUrl: 'https://media.example.com' });
    const ep = await other.createEndpoint({ description: 'Shop', urlPrefix: 'shop' });
    assert.equal((await accounts.resolveEndpoint('/demo/shop/a.jpg'))?.endpoint.id, 'default', 'not told yet: the table is kept');
    changes++;
    assert.equal((await accounts.resolveEndpoint('/demo/shop/a.jpg'))?.endpoint.id, ep.id);
    await other.deleteEndpoint(ep.id);
    changes++;
    assert.equal((await accounts.resolveEndpoint('/demo/shop/a.jpg'))?.endpoint.id, 'default');
  });

  test('the database refuses an endpoint row pointing at a missing origin (foreign key)', async () => {
    const repo = accountStoreFor(store);
    await assert.rejects(
      repo.insertEndpoint({
        id: 'aaaaaaaaaaaaaaaaaaaaaaaa',
        description: 'x',
        urlPrefix: 'fk-test',
        originIds: ['0123456789abcdef01234567'],
        urlRewriter: null,
        createdAt: '2024-01-01T00:00:00.000Z',
        updatedAt: '2024-01-01T00:00:00.000Z',
      }),
    );
  });

  test('parseOriginRequest applies the spec defaults', () => {
    assert.deepEqual(parseOriginRequest({ type: 'S3', name: 'B', bucket: 'b', accessKey: 'a', secretKey: 's' }), {
      type: 'S3',
      name: 'B',
      includeCanonicalHeader: false,
      bucket: 'b',
      prefix: '',
      useIAMRole: false,
      accessKey: 'a',
      secretKey: 's',
    });
    assert.deepEqual(parseOriginRequest({ type: 'WEB_PROXY', name: 'P', baseUrlForCanonicalHeader: 'https://c.example.com' }), {
      type: 'WEB_PROXY',
      name: 'P',
      includeCanonicalHeader: false,
      baseUrlForCanonicalHeader: 'https://c.example.com',
    });
  });
});

describe('UsageService', () => {
  test('records in memory, flushes per UTC day, reports [start, end) with live storage', async () => {
    let now = Date.parse('2030-05-10T23:59:59.000Z');
    const usage = new UsageService(usageStoreFor(store), { clock: () => now, flushIntervalMs: 3_600_000 });
    usage.recordRequest();
    usage.recordDelivery(1000);
    usage.recordDelivery(-5); // ignored
    usage.recordDelivery(Number.NaN); // ignored
    usage.recordExtensionUnits(2);
    now = Date.parse('2030-05-11T00:00:01.000Z');
    usage.recordDelivery(500);
    usage.recordVideoProcessingUnits(3);

    const may10 = await usage.report({ startDate: '2030-05-10', endDate: '2030-05-11' });
    assert.equal(may10.bandwidthBytes, 1000);
    assert.equal(may10.extensionUnitsCount, 2);
    assert.equal(may10.videoProcessingUnitsCount, 0);
    const both = await usage.report({ startDate: '2030-05-10', endDate: '2030-05-12' });
    assert.equal(both.bandwidthBytes, 1500);
    assert.equal(both.videoProcessingUnitsCount, 3);
    assert.equal(both.extensionUnitsCount, 2);

    // More recorded after a flush adds to the same day's row.
    usage.recordDelivery(250);
    await usage.flush();
    assert.equal((await usage.report({ startDate: '2030-05-11', endDate: '2030-05-12' })).bandwidthBytes, 750);
    const sums = await new KyselyUsageStore(store.kysely).sumCounters('2030-05-10', '2030-05-12');
    assert.deepEqual(sums, { bandwidthBytes: 1750, requests: 1, extensionUnits: 2, videoUnits: 3 });

    // Original cache bytes come from the registered measurement when the period reaches today.
    usage.measureOriginalCacheWith(() => 4096);
    assert.equal((await usage.report({ startDate: '2030-05-11', endDate: '2030-05-12' })).originalCacheStorageBytes, 4096);
    // A past period reports the last sample taken in it.
    now = Date.parse('2030-06-01T12:00:00.000Z');
    usage.measureOriginalCacheWith(() => 1);
    assert.equal((await usage.report({ startDate: '2030-05-01', endDate: '2030-05-12' })).originalCacheStorageBytes, 4096);
    assert.equal((await usage.report({ startDate: '2030-04-01', endDate: '2030-05-01' })).originalCacheStorageBytes, 0);
    await usage.close();
  });

  test('a failed flush keeps its counts and the next one writes them', async () => {
    const real = usageStoreFor(store);
    let failNext = true;
    const flaky = {
      ...real,
      sumCounters: real.sumCounters.bind(real),
      setGauges: real.setGauges.bind(real),
      latestGauges: real.latestGauges.bind(real),
      measureLibraryBytes: real.measureLibraryBytes.bind(real),
      addCounters: async (m: ReadonlyMap<string, UsageCounters>) => {
        if (failNext) {
          failNext = false;
          throw new Error('database is locked');
        }
        return real.addCounters(m);
      },
    };
    const usage = new UsageService(flaky, { clock: () => Date.parse('2031-01-01T10:00:00Z'), flushIntervalMs: 3_600_000 });
    usage.recordDelivery(10);
    await assert.rejects(usage.flush(), /locked/);
    usage.recordDelivery(5);
    await usage.flush();
    assert.equal((await usage.report({ startDate: '2031-01-01', endDate: '2031-01-02' })).bandwidthBytes, 15);
    await usage.close();
  });

  test('date validation', async () => {
    const usage = new UsageService(usageStoreFor(store), { flushIntervalMs: 3_600_000 });
    await rejects400(usage.report({}), /required/);
    await rejects400(usage.report({ startDate: '2024-02-29', endDate: '2024-02-30' }), /YYYY-MM-DD/);
    await rejects400(usage.report({ startDate: '2024-01-02', endDate: '2024-01-01' }), /before/);
    await rejects400(usage.report({ startDate: '2023-01-01', endDate: '2023-04-02' }), /90 days/); // 91 days
    await usage.report({ startDate: '2023-01-01', endDate: '2023-04-01' }); // exactly 90
    await usage.close();
  });
});
