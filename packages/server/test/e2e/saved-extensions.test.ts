/**
 * /v1/saved-extensions end to end with the official SDK (create / list / get / update / delete as
 * the spec defines them, every body validated against it), and saved extensions used by id in
 * upload and update.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import ImageKit, { APIError, toFile } from '@imagekit/nodejs';
import { startTestServer, type TestServer } from '../support/server.js';
import { api, storeCounts, upload } from '../support/e2e-helpers.js';
import { startProviderStubs, subjectOnPlainBackground, waitFor, type ProviderStubs } from '../support/provider-stubs.js';
import { SPEC_MISSING_MESSAGE, assertErrorBody, assertMatchesSchema, expectSdkError, responseSchemaFor, specAvailable } from '../support/spec.js';

type Json = Record<string, any>;

const LIST = '/v1/saved-extensions';
const ONE = '/v1/saved-extensions/{id}';

function ok(body: unknown, path: string, method: string, status: number): Json {
  const ref = responseSchemaFor(path, method, status);
  if (ref) assertMatchesSchema(body, ref);
  return body as Json;
}

async function fails(p: Promise<unknown>, status: number, path: string, method: string, pattern?: RegExp): Promise<void> {
  const err = await expectSdkError(p, APIError, status, path, method);
  if (pattern) assert.match(String(err.error.message), pattern);
}

describe('saved extensions', { skip: specAvailable ? false : SPEC_MISSING_MESSAGE }, () => {
  let stubs: ProviderStubs;
  let server: TestServer;
  let client: ImageKit;

  before(async () => {
    stubs = await startProviderStubs();
    server = await startTestServer({ env: stubs.env });
    client = new ImageKit({ privateKey: server.privateKey, baseURL: server.baseUrl, maxRetries: 0 });
  });
  after(async () => {
    await server?.stop();
    await stubs?.close();
  });

  test('create, list, get, update, delete', async () => {
    const tasks = {
      name: 'ai-tasks' as const,
      tasks: [
        { type: 'select_tags' as const, instruction: 'What types of clothing items are visible?', vocabulary: ['shirt', 'dress', 'jacket'] },
        { type: 'yes_no' as const, instruction: 'Is this a luxury item?', on_yes: { add_tags: ['luxury'] } },
      ],
    };
    const created = ok(
      await client.savedExtensions.create({ name: 'Clothing', description: 'Tags clothing items', config: tasks }),
      LIST,
      'post',
      201,
    );
    assert.match(created.id, /^[0-9a-f]{24}$/);
    assert.equal(created.name, 'Clothing');
    assert.deepEqual(created.config, tasks);
    assert.equal(created.createdAt, created.updatedAt);

    const raw = await api(server, 'POST', LIST, { name: 'Tagger', description: 'Google labels', config: { name: 'google-auto-tagging', minConfidence: 80, maxTags: 5 } });
    assert.equal(raw.status, 201);
    ok(raw.body, LIST, 'post', 201);

    const list = ok(await client.savedExtensions.list(), LIST, 'get', 200) as unknown as Json[];
    assert.deepEqual(list.map((s) => s.name), ['Clothing', 'Tagger']);

    const got = ok(await client.savedExtensions.get(created.id), ONE, 'get', 200);
    assert.deepEqual(got, created);

    await new Promise((r) => setTimeout(r, 5));
    const updated = ok(await client.savedExtensions.update(created.id, { name: 'Clothing v2', config: { name: 'remove-bg', options: { bg_color: 'green' } } }), ONE, 'patch', 200);
    assert.equal(updated.name, 'Clothing v2');
    assert.equal(updated.description, 'Tags clothing items');
    assert.deepEqual(updated.config, { name: 'remove-bg', options: { bg_color: 'green' } });
    assert.ok(updated.updatedAt > created.updatedAt);

    const del = await client.savedExtensions.delete(created.id).withResponse();
    assert.equal(del.response.status, 204);
    await fails(client.savedExtensions.get(created.id), 404, ONE, 'get', /does not exist/);
    await fails(client.savedExtensions.delete(created.id), 404, ONE, 'delete');
    await fails(client.savedExtensions.update(created.id, { name: 'x' }), 404, ONE, 'patch');
    assert.deepEqual((await client.savedExtensions.list()).map((s) => s.name), ['Tagger']);
  });

  test('invalid configurations are refused', async () => {
    const bad: Array<[Json, RegExp]> = [
      [{ description: 'd', config: { name: 'ai-auto-description' } }, /name/],
      [{ name: 'n', config: { name: 'ai-auto-description' } }, /description/],
      [{ name: 'n', description: 'd' }, /config/],
      [{ name: 'n', description: 'd', config: { name: 'google-auto-tagging' } }, /minConfidence/],
      [{ name: 'n', description: 'd', config: { name: 'saved-extension', id: 'abc' } }, /another saved extension/],
      [{ name: 'n', description: 'd', config: { name: 'teleport' } }, /Unknown extension/],
      [{ name: 'n', description: 'd', config: { name: 'ai-tasks', tasks: [] } }, /1 to 10 tasks/],
    ];
    for (const [body, pattern] of bad) {
      const res = await api(server, 'POST', LIST, body);
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.text}`);
      assertErrorBody(res.body, LIST, 'post', 400);
      assert.match(res.body.message, pattern);
    }
    const some = (await client.savedExtensions.list())[0]!;
    const res = await api(server, 'PATCH', `/v1/saved-extensions/${some.id}`, { config: { name: 'aws-auto-tagging', minConfidence: 500, maxTags: 1 } });
    assert.equal(res.status, 400);
    assertErrorBody(res.body, ONE, 'patch', 400);
  });

  test('used by id on upload and on update; an unknown id is a 400 and stores nothing', async () => {
    const saved = ok(
      await client.savedExtensions.create({ name: 'Labels', description: 'AWS labels', config: { name: 'aws-auto-tagging', minConfidence: 90, maxTags: 1 } }),
      LIST,
      'post',
      201,
    );
    const bytes = await subjectOnPlainBackground(64);
    const up = (await client.files.upload({
      file: await toFile(bytes, 'by-id.jpg'),
      fileName: 'by-id.jpg',
      extensions: [{ name: 'saved-extension', id: saved.id }],
    })) as unknown as Json;
    assert.deepEqual(up.extensionStatus, { 'aws-auto-tagging': 'pending' });
    await waitFor(async () => ((await client.files.get(up.fileId)).AITags ?? []).length > 0, 45_000, 'AITags from the saved extension');
    assert.deepEqual((await client.files.get(up.fileId)).AITags, [{ name: 'Teddy Bear', confidence: 98.52, source: 'aws-auto-tagging' }]);

    const describer = ok(await client.savedExtensions.create({ name: 'Alt text', description: 'describes', config: { name: 'ai-auto-description' } }), LIST, 'post', 201);
    const patched = (await client.files.update(up.fileId, { extensions: [{ name: 'saved-extension', id: describer.id }] })) as unknown as Json;
    assert.deepEqual(patched.extensionStatus, { 'ai-auto-description': 'pending' });
    await waitFor(async () => (await client.files.get(up.fileId)).description, 45_000, 'the description');

    // Twice the same extension, once directly and once through a saved one: refused.
    const twice = await api(server, 'PATCH', `/v1/files/${up.fileId}/details`, {
      extensions: [{ name: 'aws-auto-tagging', minConfidence: 1, maxTags: 1 }, { name: 'saved-extension', id: saved.id }],
    });
    assert.equal(twice.status, 400);
    assert.match(twice.body.message, /requested twice/);

    const before = (await storeCounts(server.dataDir)).files;
    const res = await upload(server, { fileName: 'nope.jpg', extensions: JSON.stringify([{ name: 'saved-extension', id: 'ffffffffffffffffffffffff' }]) }, { bytes, name: 'nope.jpg' });
    assert.equal(res.status, 400, res.text);
    assert.match(res.body.message, /saved extension "ffffffffffffffffffffffff" does not exist/);
    assert.equal((await storeCounts(server.dataDir)).files, before);
    const upd = await api(server, 'PATCH', `/v1/files/${up.fileId}/details`, { tags: ['unchanged?'], extensions: [{ name: 'saved-extension', id: 'ffffffffffffffffffffffff' }] });
    assert.equal(upd.status, 400);
    assert.equal((await client.files.get(up.fileId)).tags, null, 'the update was not applied');
  });

  test('at most 100 saved extensions', async () => {
    const existing = (await client.savedExtensions.list()).length;
    for (let i = existing; i < 100; i++) {
      const r = await api(server, 'POST', LIST, { name: `n${i}`, description: 'd', config: { name: 'ai-auto-description' } });
      assert.equal(r.status, 201, r.text);
    }
    const over = await api(server, 'POST', LIST, { name: 'one too many', description: 'd', config: { name: 'ai-auto-description' } });
    assert.equal(over.status, 400);
    assertErrorBody(over.body, LIST, 'post', 400);
    assert.match(over.body.message, /at most 100/);
    assert.equal((await client.savedExtensions.list()).length, 100);
  });

  test('auth is required', async () => {
    const res = await api(server, 'GET', LIST, undefined, { auth: null });
    assert.equal(res.status, 401);
  });
});
