/**
 * End to end: cache.invalidation.create and cache.invalidation.get through ImageKitClient against a
 * real Tessera server. The purge is observed on delivery: a cached variant (`x-tessera-cache: HIT`)
 * is rendered again (`MISS`) after it is purged, exactly or by a `*` prefix.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BadRequestError, ImageKitClient } from '../../src/index.js';
import { startTestServer, type TestServer } from '../../../server/test/support/server.js';
import { conformsResponse, ID, makePng, unique, warnIfSpecMissing } from '../support/e2e.js';

let server: TestServer;
let client: ImageKitClient;

before(async () => {
  warnIfSpecMissing();
  server = await startTestServer();
  client = new ImageKitClient({ privateKey: server.privateKey, baseUrl: server.baseUrl });
});

after(async () => {
  await server?.stop();
});

/** Delivers a URL and returns how the server's cache answered it. */
async function cacheState(url: string): Promise<string | null> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url} → ${res.status}`);
  await res.arrayBuffer();
  return res.headers.get('x-tessera-cache');
}

/** Uploads an image and warms the cache for each transformation; returns the variant URLs. */
async function warm(folder: string, name: string, transformations: string[]): Promise<string[]> {
  const up = await client.files.upload({ file: await makePng(60, 40), fileName: name, folder, useUniqueFileName: false });
  const urls = transformations.map((tr) => `${server.urlEndpoint}/tr:${tr}${up.filePath}`);
  for (const url of urls) {
    await cacheState(url);
    assert.equal(await cacheState(url), 'HIT', `${url} is cached`);
  }
  return urls;
}

describe('cache.invalidation', () => {
  test('create purges one URL; get reports the request Completed', async () => {
    const [purged, kept] = await warm(`${unique('/cache')}/`, 'one.png', ['w-30', 'w-20']);
    const created = await client.cache.invalidation.create({ url: purged! }).withRawResponse();
    assert.equal(created.rawResponse.status, 201);
    conformsResponse(created.data, '/v1/files/purge', 'post', 201);
    assert.match(created.data.requestId ?? '', ID);

    const status = await client.cache.invalidation.get(created.data.requestId!);
    conformsResponse(status, '/v1/files/purge/{requestId}', 'get', 200);
    assert.deepEqual(status, { status: 'Completed' });

    assert.equal(await cacheState(purged!), 'MISS', 'the purged variant is rendered again');
    assert.equal(await cacheState(kept!), 'HIT', 'another variant stays cached');
  });

  test('a URL ending in * purges everything under it', async () => {
    const folder = `${unique('/cache-prefix')}/`;
    const inside = await warm(folder, 'a.png', ['w-10', 'h-10']);
    const outside = await warm(`${unique('/cache-other')}/`, 'a.png', ['w-10']);
    const { requestId } = await client.cache.invalidation.create({ url: `${server.urlEndpoint}${folder}*` });
    assert.deepEqual(await client.cache.invalidation.get(requestId!), { status: 'Completed' });
    // Variants with the transformation in the path live under the folder too (ImageKit matches
    // the path after the transformation segment).
    for (const url of inside) assert.equal(await cacheState(url), 'MISS', url);
    for (const url of outside) assert.equal(await cacheState(url), 'HIT', url);
  });

  test('refusals: not a URL of this server, and an unknown request id, are BadRequestError', async () => {
    await assert.rejects(client.cache.invalidation.create({ url: 'https://example.com/x.png' }), BadRequestError);
    await assert.rejects(client.cache.invalidation.create({ url: 'not a url' }), BadRequestError);
    // The spec answers an unknown requestId with 400.
    await assert.rejects(client.cache.invalidation.get('0123456789abcdef01234567'), BadRequestError);
  });
});
