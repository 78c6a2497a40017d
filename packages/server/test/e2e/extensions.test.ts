/**
 * Extensions end to end: a real server whose providers point at local stand-ins of Cloud Vision,
 * Rekognition, an OpenAI-compatible endpoint and remove.bg (test/support/provider-stubs.ts), driven
 * by the official SDK. Responses are validated against the spec; the final status arrives as a
 * signed webhook the SDK's `webhooks.unwrap` accepts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import ImageKit, { toFile } from '@imagekit/nodejs';
import sharp from 'sharp';
import { startTestServer, type TestServer } from '../support/server.js';
import { api, download, storeCounts, upload } from '../support/e2e-helpers.js';
import {
  STUB_KEYS,
  startProviderStubs,
  subjectOnPlainBackground,
  waitFor,
  webhookReceiver,
  type ProviderStubs,
  type Received,
} from '../support/provider-stubs.js';
import { SPEC_MISSING_MESSAGE, assertMatchesSchema, responseSchemaFor, specAvailable } from '../support/spec.js';

type Json = Record<string, any>;

const UPLOAD = '/api/v1/files/upload';
const DETAILS = '/v1/files/{fileId}/details';

function checkSchema(body: unknown, path: string, method: string, status: number): void {
  if (!specAvailable) return;
  const ref = responseSchemaFor(path, method, status);
  if (ref) assertMatchesSchema(body, ref);
}

describe('extensions', { skip: specAvailable ? false : SPEC_MISSING_MESSAGE }, () => {
  let stubs: ProviderStubs;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  let server: TestServer;
  let client: ImageKit;
  let image: Buffer;

  before(async () => {
    stubs = await startProviderStubs({
      openaiAnswer: (qs) =>
        qs.map((q) => {
          if (q.type === 'yes_no') return { id: q.id, answer: 'yes' };
          const options = q.options as unknown[];
          return { id: q.id, selected: options.length > 0 ? [options[0], 'not-in-the-vocabulary'] : ['free-tag'] };
        }),
    });
    hook = await webhookReceiver();
    server = await startTestServer({ env: stubs.env });
    client = new ImageKit({ privateKey: server.privateKey, baseURL: server.baseUrl, maxRetries: 0, webhookSecret: STUB_KEYS.webhookSecret });
    image = await subjectOnPlainBackground(96);
  });

  after(async () => {
    await server?.stop();
    await stubs?.close();
    await hook?.close();
  });

  /** Webhooks received for one file, verified and parsed with the official SDK. */
  function hooksFor(fileId: string): Array<{ raw: Received; event: Json }> {
    return hook.received
      .map((raw) => ({ raw, event: client.webhooks.unwrap(raw.body, { headers: raw.headers }) as unknown as Json }))
      .filter(({ event }) => event.fileObject?.fileId === fileId || event.fileId === fileId);
  }

  async function waitForHooks(fileId: string, n: number): Promise<Json[]> {
    await waitFor(() => hooksFor(fileId).length >= n, 45_000, `${n} webhooks for ${fileId}`);
    return hooksFor(fileId).map((h) => h.event);
  }

  async function sdkUpload(name: string, extra: Partial<ImageKit.FileUploadParams>) {
    // The SDK hands back the JSON body as received, so it is what the spec is checked against.
    const data = (await client.files.upload({ file: await toFile(image, name), fileName: name, ...extra })) as unknown as Json;
    checkSchema(data, UPLOAD, 'post', 200);
    return data;
  }

  test('auto-tagging on upload: pending, then AITags from both services as documented, SUCCESS webhooks', async () => {
    const up = await sdkUpload('teddy.jpg', {
      extensions: [
        { name: 'google-auto-tagging', minConfidence: 80, maxTags: 10 },
        { name: 'aws-auto-tagging', minConfidence: 70, maxTags: 2 },
      ],
      webhookUrl: `${hook.origin}/extensions`,
    });
    assert.deepEqual(up.extensionStatus, { 'google-auto-tagging': 'pending', 'aws-auto-tagging': 'pending' });

    const events = await waitForHooks(up.fileId, 2);
    assert.deepEqual(events.map((e) => e.service).sort(), ['aws-auto-tagging', 'google-auto-tagging']);
    for (const e of events) {
      assert.equal(e.status, 'SUCCESS');
      checkSchema(e.fileObject, DETAILS, 'get', 200);
    }
    assert.deepEqual(stubs.rekognition.signatureProblems, []);

    const details = await client.files.get(up.fileId);
    const tags = (details.AITags ?? []).map((t) => `${t.source}:${t.name}:${t.confidence}`).sort();
    assert.deepEqual(tags, [
      'aws-auto-tagging:Teddy Bear:98.52',
      'aws-auto-tagging:Toy:98.5',
      'google-auto-tagging:Red:81.77',
      'google-auto-tagging:Teddy bear:83.52',
      'google-auto-tagging:Toy:91.73',
    ]);

    // Each run counts its documented extension units: google 1, aws 2.
    const day = new Date().toISOString().slice(0, 10);
    const next = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const usage = await api(server, 'GET', `/v1/accounts/usage?startDate=${day}&endDate=${next}`);
    assert.equal(usage.status, 200);
    assert.ok(usage.body.extensionUnitsCount >= 3, `extension units: ${usage.text}`);
  });

  test('ai-auto-description on update sets the description', async () => {
    const up = await sdkUpload('describe-me.jpg', {});
    const data = (await client.files.update(up.fileId, { extensions: [{ name: 'ai-auto-description' }], webhookUrl: `${hook.origin}/describe` })) as unknown as Json;
    checkSchema(data, DETAILS, 'patch', 200);
    assert.deepEqual(data.extensionStatus, { 'ai-auto-description': 'pending' });
    const [event] = await waitForHooks(up.fileId, 1);
    assert.equal(event!.status, 'SUCCESS');
    assert.equal(event!.fileObject.description, 'An orange disc on a blue background.');
    assert.equal((await client.files.get(up.fileId)).description, 'An orange disc on a blue background.');
  });

  test('remove-bg stores the cut-out as a new version with alpha around the subject', async () => {
    const up = await sdkUpload('product.jpg', { useUniqueFileName: false, folder: '/rbg' });
    const patched = (await client.files.update(up.fileId, {
      extensions: [{ name: 'remove-bg', options: { add_shadow: false, semitransparency: true } }],
      webhookUrl: `${hook.origin}/rbg`,
    })) as unknown as Json;
    assert.deepEqual(patched.extensionStatus, { 'remove-bg': 'pending' });
    const [event] = await waitForHooks(up.fileId, 1);
    assert.equal(event!.status, 'SUCCESS', JSON.stringify(event));
    assert.equal(event!.fileObject.versionInfo.name, 'Version 2');
    assert.deepEqual(stubs.removeBg.fields.at(-1), { size: 'auto', format: 'png', add_shadow: 'false', semitransparency: 'true' });

    const versions = await client.files.versions.list(up.fileId);
    assert.equal(versions.length, 2);
    const details = (await client.files.get(up.fileId)) as unknown as Json;
    assert.equal(details.mime, 'image/png');
    assert.equal(details.hasAlpha, true);
    assert.equal(details.filePath, '/rbg/product.jpg', 'the file keeps its path; the bytes are the new version');

    const got = await download(details.url);
    assert.equal(got.status, 200);
    const { data, info } = await sharp(got.bytes).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.channels, 4);
    const alpha = (x: number, y: number) => data[(y * info.width + x) * 4 + 3]!;
    assert.equal(alpha(3, 3), 0, 'background transparent');
    assert.equal(alpha(48, 48), 255, 'subject opaque');
  });

  test('ai-tasks: tags and custom metadata from the vocabulary, yes/no actions', async () => {
    const field = await api(server, 'POST', '/v1/customMetadataFields', {
      name: 'shade',
      label: 'Shade',
      schema: { type: 'SingleSelect', selectOptions: ['orange', 'blue', 'green'] },
    });
    assert.equal(field.status, 201, field.text);
    const up = await sdkUpload('tasks.jpg', {
      tags: ['keep', 'budget'],
      extensions: [
        {
          name: 'ai-tasks',
          tasks: [
            { type: 'select_tags', instruction: 'Which shapes are visible?', vocabulary: ['circle', 'square'] },
            { type: 'select_metadata', instruction: 'What colour is the subject?', field: 'shade' },
            { type: 'yes_no', instruction: 'Is this a premium product?', on_yes: { add_tags: ['premium'], remove_tags: ['budget'] } },
          ],
        },
      ],
      webhookUrl: `${hook.origin}/tasks`,
    });
    assert.deepEqual(up.extensionStatus, { 'ai-tasks': 'pending' });
    const [event] = await waitForHooks(up.fileId, 1);
    assert.equal(event!.status, 'SUCCESS', JSON.stringify(event));
    const details = (await client.files.get(up.fileId)) as unknown as Json;
    assert.deepEqual([...details.tags].sort(), ['circle', 'keep', 'premium']);
    assert.deepEqual(details.customMetadata, { shade: 'orange' });
  });

  test('retryable provider failures are retried; the extension still succeeds once', async () => {
    stubs.vision.behaviour.failNext = { count: 2, status: 503 };
    const before = stubs.vision.requests.length;
    const up = await sdkUpload('flaky.jpg', { extensions: [{ name: 'google-auto-tagging', minConfidence: 90, maxTags: 5 }], webhookUrl: `${hook.origin}/flaky` });
    const [event] = await waitForHooks(up.fileId, 1);
    assert.equal(event!.status, 'SUCCESS');
    assert.equal(stubs.vision.requests.length - before, 3, 'two failed attempts and one that worked');
    assert.deepEqual((await client.files.get(up.fileId)).AITags, [{ name: 'Toy', confidence: 91.73, source: 'google-auto-tagging' }]);
  });

  test('a file that is not an image: failed at once, with a FAILURE webhook saying why', async () => {
    const res = await upload(
      server,
      { fileName: 'notes.txt', extensions: JSON.stringify([{ name: 'google-auto-tagging', minConfidence: 10, maxTags: 5 }]), webhookUrl: `${hook.origin}/text` },
      { bytes: Buffer.from('just some text'), name: 'notes.txt' },
    );
    assert.equal(res.status, 200, res.text);
    checkSchema(res.body, UPLOAD, 'post', 200);
    assert.deepEqual(res.body.extensionStatus, { 'google-auto-tagging': 'failed' });
    const [event] = await waitForHooks(res.body.fileId, 1);
    assert.equal(event!.status, 'FAILURE');
    assert.equal(event!.fileId, res.body.fileId);
    assert.match(event!.error.message, /images only/);
  });

  test('bad extension parameters are refused before anything is stored', async () => {
    const filesBefore = (await storeCounts(server.dataDir)).files;
    for (const extensions of [
      [{ name: 'google-auto-tagging', minConfidence: 50, maxTags: 31 }],
      [{ name: 'ai-tasks', tasks: [{ type: 'select_tags' }] }],
      [{ name: 'saved-extension', id: 'does-not-exist' }],
    ]) {
      const res = await upload(server, { fileName: 'refused.jpg', useUniqueFileName: 'false', extensions: JSON.stringify(extensions) }, { bytes: image, name: 'refused.jpg' });
      assert.equal(res.status, 400, res.text);
      assert.match(res.body.message, /extensions/);
    }
    assert.equal((await storeCounts(server.dataDir)).files, filesBefore);
  });
});

describe('extensions without providers', () => {
  let server: TestServer;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;

  before(async () => {
    hook = await webhookReceiver();
    server = await startTestServer({ env: { TESSERA_ALLOW_PRIVATE_URLS: 'true', TESSERA_JOB_POLL_MS: '100', TESSERA_WEBHOOK_SECRET: STUB_KEYS.webhookSecret } });
  });
  after(async () => {
    await server?.stop();
    await hook?.close();
  });

  test('fail with a clear message, never a made-up result', async () => {
    const client = new ImageKit({ privateKey: server.privateKey, baseURL: server.baseUrl, maxRetries: 0 });
    const up = (await client.files.upload({
      file: await toFile(await subjectOnPlainBackground(), 'x.jpg'),
      fileName: 'x.jpg',
      extensions: [{ name: 'remove-bg' }, { name: 'google-auto-tagging', minConfidence: 1, maxTags: 1 }, { name: 'ai-auto-description' }],
      webhookUrl: `${hook.origin}/none`,
    })) as unknown as Json;
    assert.deepEqual(up.extensionStatus, { 'remove-bg': 'failed', 'google-auto-tagging': 'failed', 'ai-auto-description': 'failed' });
    await waitFor(() => hook.received.length >= 3, 45_000, 'three FAILURE webhooks');
    const events = hook.received.map((r) => client.webhooks.unwrap(r.body, { headers: r.headers, key: STUB_KEYS.webhookSecret }) as unknown as Json);
    for (const e of events) {
      assert.equal(e.status, 'FAILURE');
      assert.match(e.error.message, /not configured on this server/);
    }
    const details = (await client.files.get(up.fileId)) as unknown as Json;
    assert.equal(details.AITags, null);
    assert.equal(details.description, undefined);
    assert.equal((await client.files.versions.list(up.fileId)).length, 1);
  });
});

describe('a restart while extensions are pending', () => {
  test('SIGKILL mid-run: the extensions complete after the restart', async () => {
    const stubs = await startProviderStubs();
    const hook = await webhookReceiver();
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-ext-restart-'));
    // A short lease, so the job the dead process held is taken over soon after the restart.
    const env = { ...stubs.env, TESSERA_JOB_LEASE_MS: '1000' };
    let server = await startTestServer({ dataDir, env });
    try {
      stubs.vision.behaviour.hang = true;
      const img = await subjectOnPlainBackground(96);
      const a = await upload(
        server,
        { fileName: 'a.jpg', extensions: JSON.stringify([{ name: 'google-auto-tagging', minConfidence: 50, maxTags: 3 }]), webhookUrl: `${hook.origin}/a` },
        { bytes: img, name: 'a.jpg' },
      );
      const b = await upload(
        server,
        { fileName: 'b.jpg', extensions: JSON.stringify([{ name: 'aws-auto-tagging', minConfidence: 50, maxTags: 3 }, { name: 'remove-bg' }]), webhookUrl: `${hook.origin}/b` },
        { bytes: img, name: 'b.jpg' },
      );
      assert.equal(a.status, 200, a.text);
      assert.equal(b.status, 200, b.text);
      assert.deepEqual(a.body.extensionStatus, { 'google-auto-tagging': 'pending' });
      // The first job is inside its provider call when the process dies; the others wait behind it.
      await waitFor(() => stubs.vision.requests.length >= 1, 45_000, 'the Vision call');
      await server.kill('SIGKILL');
      assert.equal(hook.received.length, 0);

      stubs.vision.behaviour.hang = false;
      server = await startTestServer({ dataDir, env });
      await waitFor(() => hook.received.length >= 3, 45_000, 'three webhooks after the restart');
      const events = hook.received.map((r) => new ImageKit({ privateKey: 'x', webhookSecret: STUB_KEYS.webhookSecret }).webhooks.unwrap(r.body, { headers: r.headers }) as unknown as Json);
      assert.deepEqual(events.map((e) => `${e.service}:${e.status}`).sort(), ['aws-auto-tagging:SUCCESS', 'google-auto-tagging:SUCCESS', 'remove-bg:SUCCESS']);
      const da = await api(server, 'GET', `/v1/files/${a.body.fileId}/details`);
      assert.deepEqual(
        da.body.AITags.map((t: Json) => t.name),
        ['Toy', 'Teddy bear', 'Red'],
      );
      const db = await api(server, 'GET', `/v1/files/${b.body.fileId}/details`);
      assert.equal(db.body.versionInfo.name, 'Version 2');
      assert.equal(db.body.AITags.length, 3);
    } finally {
      await server.stop();
      await stubs.close();
      await hook.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
