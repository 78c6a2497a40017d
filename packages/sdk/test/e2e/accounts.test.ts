/**
 * End to end: accounts.origins, accounts.urlEndpoints and accounts.usage through ImageKitClient
 * against a real Tessera server. An origin and a URL endpoint made with the SDK are then used for
 * real: the endpoint serves an image from a local web server (the WEB_FOLDER origin). Usage figures
 * are checked against bytes actually stored and delivered.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { BadRequestError, ImageKitClient, NotFoundError, UnauthorizedError, type ImageKit } from '../../src/index.js';
import { startTestServer, type TestServer } from '../../../server/test/support/server.js';
import { startLocalServer, type LocalServer } from '../support/local-server.js';
import { conformsResponse, ID, makePng, unique, warnIfSpecMissing } from '../support/e2e.js';

let server: TestServer;
let client: ImageKitClient;
let web: LocalServer;
let webPng: Buffer;

before(async () => {
  warnIfSpecMissing();
  webPng = await makePng(70, 35, [200, 30, 30]);
  // A plain web server standing in for a customer's site, the WEB_FOLDER origin.
  web = await startLocalServer((req, res) => {
    if (req.path === '/assets/photo.png') res.writeHead(200, { 'content-type': 'image/png' }).end(webPng);
    else res.writeHead(404).end();
  });
  // The origin is on 127.0.0.1, which the server refuses to fetch from unless told otherwise.
  server = await startTestServer({ env: { TESSERA_ALLOW_PRIVATE_URLS: 'true' } });
  client = new ImageKitClient({ privateKey: server.privateKey, baseUrl: server.baseUrl });
});

after(async () => {
  await server?.stop();
  await web?.close();
});

describe('accounts.origins', () => {
  test('create, get, list, update and delete; secrets are never returned', async () => {
    const created = await client.accounts.origins
      .create({ type: 'WEB_FOLDER', name: 'Website', baseUrl: 'https://www.example.com/assets', forwardHostHeaderToOrigin: true })
      .withRawResponse();
    assert.equal(created.rawResponse.status, 201);
    conformsResponse(created.data, '/v1/accounts/origins', 'post', 201);
    const origin = created.data;
    assert.match(origin.id, ID);
    assert.deepEqual(origin, {
      id: origin.id,
      type: 'WEB_FOLDER',
      name: 'Website',
      baseUrl: 'https://www.example.com/assets',
      forwardHostHeaderToOrigin: true,
      includeCanonicalHeader: false,
    });

    const s3 = await client.accounts.origins.create({
      type: 'S3',
      name: 'Bucket',
      bucket: 'media',
      prefix: 'raw',
      accessKey: 'AKIAEXAMPLE',
      secretKey: 'very-secret-value',
    });
    conformsResponse(s3, '/v1/accounts/origins', 'post', 201);
    assert.equal(s3.type, 'S3');
    if (s3.type === 'S3') assert.deepEqual([s3.bucket, s3.prefix], ['media', 'raw']);
    assert.ok(!JSON.stringify(s3).includes('very-secret-value'), 'the secret key is not echoed');
    assert.ok(!('accessKey' in s3) && !('secretKey' in s3));

    assert.deepEqual(await client.accounts.origins.get(origin.id), origin);
    const list = await client.accounts.origins.list();
    conformsResponse(list, '/v1/accounts/origins', 'get', 200);
    assert.deepEqual(
      list.map((o) => o.id).filter((id) => id === origin.id || id === s3.id).sort(),
      [origin.id, s3.id].sort(),
    );
    assert.ok(!JSON.stringify(list).includes('very-secret-value'));

    // PUT replaces the whole configuration, even the type.
    const replaced = await client.accounts.origins.update(origin.id, { type: 'WEB_PROXY', name: 'Proxy' });
    conformsResponse(replaced, '/v1/accounts/origins/{id}', 'put', 200);
    assert.deepEqual(replaced, { id: origin.id, type: 'WEB_PROXY', name: 'Proxy', includeCanonicalHeader: false });
    assert.deepEqual(await client.accounts.origins.get(origin.id), replaced);

    const del = await client.accounts.origins.delete(origin.id).withRawResponse();
    assert.equal(del.rawResponse.status, 204);
    assert.equal(del.data, undefined);
    await assert.rejects(client.accounts.origins.get(origin.id), NotFoundError);
    await assert.rejects(client.accounts.origins.delete(origin.id), NotFoundError);
    await client.accounts.origins.delete(s3.id);
  });

  test('invalid configurations are BadRequestError; the private key is required', async () => {
    await assert.rejects(
      client.accounts.origins.create({ type: 'WEB_FOLDER', name: 'No scheme', baseUrl: 'example.com/x' }),
      BadRequestError,
    );
    const anonymous = new ImageKitClient({ baseUrl: server.baseUrl, maxRetries: 0 });
    await assert.rejects(anonymous.accounts.origins.list(), UnauthorizedError);
  });
});

describe('accounts.urlEndpoints', () => {
  test('the default endpoint is listed and cannot be deleted', async () => {
    const list = await client.accounts.urlEndpoints.list();
    conformsResponse(list, '/v1/accounts/url-endpoints', 'get', 200);
    const def = list.find((e) => e.id === 'default');
    assert.ok(def, `default endpoint listed: ${JSON.stringify(list)}`);
    assert.equal(def.urlPrefix, '');
    assert.deepEqual(await client.accounts.urlEndpoints.get('default'), def);
    await assert.rejects(client.accounts.urlEndpoints.delete('default'), BadRequestError);
  });

  test('create, get, update, delete — and the endpoint serves from its origin', async () => {
    const origin = await client.accounts.origins.create({ type: 'WEB_FOLDER', name: 'Local site', baseUrl: `${web.url}/assets` });
    const prefix = unique('site');
    const created = await client.accounts.urlEndpoints
      .create({ description: 'Local site', urlPrefix: prefix, origins: [origin.id] })
      .withRawResponse();
    assert.equal(created.rawResponse.status, 201);
    conformsResponse(created.data, '/v1/accounts/url-endpoints', 'post', 201);
    const endpoint = created.data;
    assert.match(endpoint.id, ID);
    assert.deepEqual(endpoint, { id: endpoint.id, description: 'Local site', urlPrefix: prefix, origins: [origin.id] });
    assert.deepEqual(await client.accounts.urlEndpoints.get(endpoint.id), endpoint);
    assert.ok((await client.accounts.urlEndpoints.list()).some((e) => e.id === endpoint.id));

    // The endpoint is live: its URLs fetch from the web folder, and transform.
    const served = await fetch(`${server.urlEndpoint}/${prefix}/photo.png`);
    assert.equal(served.status, 200);
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), webPng);
    const resized = await fetch(`${server.urlEndpoint}/${prefix}/tr:w-35/photo.png`);
    assert.equal(resized.status, 200);
    const meta = await sharp(Buffer.from(await resized.arrayBuffer())).metadata();
    assert.deepEqual([meta.width, meta.height], [35, 18]);

    // An origin in use cannot be deleted.
    await assert.rejects(client.accounts.origins.delete(origin.id), BadRequestError);

    const newPrefix = unique('moved');
    const updated = await client.accounts.urlEndpoints.update(endpoint.id, {
      description: 'Moved',
      urlPrefix: newPrefix,
      origins: [origin.id],
      urlRewriter: { type: 'IMGIX' },
    });
    conformsResponse(updated, '/v1/accounts/url-endpoints/{id}', 'put', 200);
    assert.deepEqual(updated, {
      id: endpoint.id,
      description: 'Moved',
      urlPrefix: newPrefix,
      origins: [origin.id],
      urlRewriter: { type: 'IMGIX' },
    });
    assert.equal((await fetch(`${server.urlEndpoint}/${newPrefix}/photo.png`)).status, 200);

    const del = await client.accounts.urlEndpoints.delete(endpoint.id).withRawResponse();
    assert.equal(del.rawResponse.status, 204);
    assert.equal(del.data, undefined);
    await assert.rejects(client.accounts.urlEndpoints.get(endpoint.id), NotFoundError);
    // Free now, the origin can go.
    await client.accounts.origins.delete(origin.id);
  });

  test('an unknown origin id is refused', async () => {
    await assert.rejects(
      client.accounts.urlEndpoints.create({ description: 'Broken', urlPrefix: unique('broken'), origins: ['0123456789abcdef01234567'] }),
      (e: unknown) => e instanceof BadRequestError || e instanceof NotFoundError,
    );
  });
});

describe('accounts.usage', () => {
  const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

  test('storage and bandwidth follow what was uploaded and delivered', async () => {
    // Yesterday to the day after tomorrow: the window holds "now" even across midnight UTC.
    const range: ImageKit.UsageGetRequest = { startDate: day(-1), endDate: day(2) };
    const before = await client.accounts.usage.get(range);
    conformsResponse(before, '/v1/accounts/usage', 'get', 200);

    const png = await makePng(90, 60, [1, 2, 3]);
    const up = await client.files.upload({ file: png, fileName: 'usage.png', folder: unique('/usage') });
    const delivered = Buffer.from(await (await fetch(up.url!)).arrayBuffer());
    assert.equal(delivered.length, png.length);

    const afterwards = await client.accounts.usage.get(range);
    conformsResponse(afterwards, '/v1/accounts/usage', 'get', 200);
    assert.equal(afterwards.mediaLibraryStorageBytes, before.mediaLibraryStorageBytes! + png.length);
    assert.equal(afterwards.bandwidthBytes, before.bandwidthBytes! + delivered.length);
    assert.equal(afterwards.videoProcessingUnitsCount, 0);
    assert.equal(afterwards.extensionUnitsCount, 0);

    // A past window does not see today's traffic.
    const past = await client.accounts.usage.get({ startDate: day(-10), endDate: day(-1) });
    assert.equal(past.bandwidthBytes, 0);
  });

  test('bad ranges are BadRequestError', async () => {
    await assert.rejects(client.accounts.usage.get({ startDate: day(1), endDate: day(0) }), BadRequestError);
    await assert.rejects(client.accounts.usage.get({ startDate: '2024-13-01', endDate: '2024-12-01' }), BadRequestError);
    await assert.rejects(client.accounts.usage.get({ startDate: day(-200), endDate: day(0) }), BadRequestError);
  });
});
