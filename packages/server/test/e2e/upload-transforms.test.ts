/**
 * Upload pre- and post-transformations end to end: `pre` changes what is stored (bytes,
 * dimensions, format, checksum) before the row is written; a render failure fails the upload with
 * nothing stored; `post` image transformations are rendered into the delivery cache after the
 * upload (the URL then answers from the cache); types that need video encoding are refused with
 * 400. Every event is verified with the official SDK's `webhooks.unwrap` and checked against the
 * spec's event schemas, at the account endpoint and at the upload's own webhookUrl.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import ImageKit, { toFile } from '@imagekit/nodejs';
import sharp from 'sharp';
import { startTestServer, type TestServer } from '../support/server.js';
import { assertApiError, assertNothingStored, makeJpeg, sha256, snapshot, upload, type Json } from '../support/e2e-helpers.js';
import { STUB_KEYS, waitFor, webhookReceiver, type Received } from '../support/provider-stubs.js';
import { FILE_EVENT_SCHEMA, SPEC_MISSING_MESSAGE, assertMatchesSchema, specAvailable } from '../support/spec.js';

const EVENT_SCHEMA: Record<string, string> = {
  'upload.pre-transform.success': 'UploadPreTransformSuccessEvent',
  'upload.pre-transform.error': 'UploadPreTransformErrorEvent',
  'upload.post-transform.success': 'UploadPostTransformSuccessEvent',
  'upload.post-transform.error': 'UploadPostTransformErrorEvent',
  'file.created': FILE_EVENT_SCHEMA['file.created']!,
  'file-version.created': FILE_EVENT_SCHEMA['file-version.created']!,
};

describe('upload pre- and post-transformations', { timeout: 180_000, skip: specAvailable ? false : SPEC_MISSING_MESSAGE }, () => {
  let account: Awaited<ReturnType<typeof webhookReceiver>>;
  let own: Awaited<ReturnType<typeof webhookReceiver>>;
  let server: TestServer;
  let client: ImageKit;

  before(async () => {
    account = await webhookReceiver();
    own = await webhookReceiver();
    server = await startTestServer({
      env: {
        TESSERA_WEBHOOK_URL: `${account.origin}/account`,
        TESSERA_WEBHOOK_SECRET: STUB_KEYS.webhookSecret,
        TESSERA_ALLOW_PRIVATE_URLS: 'true',
        TESSERA_JOB_POLL_MS: '100',
        // A render that passes this fails: the pre-transformation failure case.
        TESSERA_MAX_OUTPUT_PIXELS: '4000000',
      },
    });
    client = new ImageKit({ privateKey: server.privateKey, baseURL: server.baseUrl, maxRetries: 0 });
  });

  after(async () => {
    await server?.stop();
    await account?.close();
    await own?.close();
  });

  /** Events a receiver got, verified with the SDK and validated against the spec. */
  function events(r: { received: Received[] }): Json[] {
    return r.received.map((raw) => {
      const event = client.webhooks.unwrap(raw.body, { headers: raw.headers, key: STUB_KEYS.webhookSecret }) as unknown as Json;
      assert.equal(raw.headers['webhook-id'], event.id);
      const schema = EVENT_SCHEMA[event.type as string];
      assert.ok(schema, `unexpected event type ${String(event.type)}`);
      assertMatchesSchema(event, schema);
      return event;
    });
  }

  const eventOf = (r: { received: Received[] }, type: string, match: (e: Json) => boolean) =>
    waitFor(() => events(r).find((e) => e.type === type && match(e)), 45_000, type);

  test('pre: the stored file is the transformed one; success event with the Upload data, at both endpoints', async () => {
    const original = await makeJpeg(200, 100);
    const res = await upload(
      server,
      { fileName: 'pre.jpg', transformation: JSON.stringify({ pre: 'w-50,h-40,f-png' }), webhookUrl: `${own.origin}/own`, responseFields: 'metadata' },
      { bytes: original, name: 'pre.jpg' },
    );
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.width, 50);
    assert.equal(res.body.height, 40);
    assert.equal(res.body.metadata.format, 'png');

    const details = (await client.files.get(res.body.fileId)) as unknown as Json;
    assert.equal(details.width, 50);
    assert.equal(details.height, 40);
    assert.equal(details.mime, 'image/png');
    // The bytes served are the stored, transformed ones: their size and checksum are the record's.
    const served = Buffer.from(await (await fetch(details.url)).arrayBuffer());
    assert.equal(served.length, details.size);
    assert.notEqual(sha256(served), sha256(original));
    const meta = await sharp(served).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 50, 40]);
    const metadata = (await client.files.metadata.get(res.body.fileId)) as unknown as Json;
    assert.deepEqual([metadata.format, metadata.width, metadata.height, metadata.size], ['png', 50, 40, served.length]);

    for (const r of [account, own]) {
      const ok = await eventOf(r, 'upload.pre-transform.success', (e) => e.data.fileId === res.body.fileId);
      assert.equal(ok.request.transformation, 'w-50,h-40,f-png');
      assert.equal(typeof ok.request.x_request_id, 'string');
      assert.equal(ok.data.width, 50);
      assert.equal(ok.data.size, served.length);
      assertMatchesSchema(ok.data, 'Upload');
    }
    // The file event goes to the account endpoint only.
    await eventOf(account, 'file.created', (e) => e.data.fileId === res.body.fileId);
    assert.equal(events(own).filter((e) => e.type === 'file.created').length, 0);
  });

  test('pre: a render failure fails the upload with 400, stores nothing, and sends the error event', async () => {
    const before = await snapshot(server.dataDir);
    const res = await upload(
      server,
      { fileName: 'too-big.jpg', folder: '/pre-fail', transformation: JSON.stringify({ pre: 'w-3000,h-3000' }), webhookUrl: `${own.origin}/own` },
      { bytes: await makeJpeg(64, 64), name: 'too-big.jpg' },
    );
    assertApiError(res, 400, /3000x3000/);
    await assertNothingStored(server.dataDir, before, 'after a failed pre-transformation');
    for (const r of [account, own]) {
      const err = await eventOf(r, 'upload.pre-transform.error', (e) => e.data.path === '/pre-fail/too-big.jpg');
      assert.equal(err.data.name, 'too-big.jpg');
      assert.equal(err.request.transformation, 'w-3000,h-3000');
      assert.match(err.data.transformation.error.reason, /3000x3000/);
    }
  });

  test('pre and post values that do not parse, and post types that need video encoding, are 400 before anything is stored', async () => {
    const before = await snapshot(server.dataDir);
    const bytes = await makeJpeg(32, 32);
    const cases: Array<[unknown, RegExp]> = [
      [{ pre: 'w-abc' }, /transformation field is invalid/],
      [{ post: [{ type: 'transformation', value: 'zz-12' }] }, /transformation field is invalid/],
      [{ post: [{ type: 'thumbnail' }] }, /"thumbnail".*not supported by this server/],
      [{ post: [{ type: 'gif-to-video' }] }, /"gif-to-video".*not supported by this server/],
      [{ post: [{ type: 'abs', value: 'sr-240_360', protocol: 'hls' }] }, /"abs".*not supported by this server/],
      [{ post: [{ type: 'transformation', value: 'w-10' }, { type: 'abs', value: 'sr-240', protocol: 'dash' }] }, /"abs" \(post\[1\]\)/],
    ];
    for (const [tr, message] of cases) {
      const res = await upload(server, { fileName: 'refused.jpg', transformation: JSON.stringify(tr) }, { bytes, name: 'refused.jpg' });
      assertApiError(res, 400, message);
    }
    // A file that is not an image cannot take an image transformation.
    const text = await upload(
      server,
      { fileName: 'notes.txt', transformation: JSON.stringify({ post: [{ type: 'transformation', value: 'w-10' }] }) },
      { bytes: Buffer.from('plain text, not an image'), name: 'notes.txt' },
    );
    assertApiError(text, 400, 'The file could not be uploaded because the detected file type & post-transformation are incompatible.');
    await assertNothingStored(server.dataDir, before, 'after refused transformations');
  });

  test('post: the variant is rendered into the delivery cache, one success event per transformation, errors reported', async () => {
    const res = await client.files.upload({
      file: await toFile(await makeJpeg(300, 200), 'post.jpg'),
      fileName: 'post.jpg',
      folder: '/post',
      useUniqueFileName: false,
      webhookUrl: `${own.origin}/own`,
      transformation: {
        post: [
          { type: 'transformation', value: 'w-60,h-40' },
          // Parses, but fails when rendered: f-gif needs a GIF original.
          { type: 'transformation', value: 'f-gif' },
        ],
      },
    });
    const fileId = res.fileId!;
    for (const r of [account, own]) {
      const ok = await eventOf(r, 'upload.post-transform.success', (e) => e.data.fileId === fileId);
      assert.deepEqual(ok.request.transformation, { type: 'transformation', value: 'w-60,h-40' });
      assert.equal(ok.data.name, 'post.jpg');
      assert.equal(ok.data.url, `${server.urlEndpoint}/post/post.jpg?tr=w-60,h-40`);
      const failed = await eventOf(r, 'upload.post-transform.error', (e) => e.data.fileId === fileId);
      assert.deepEqual(failed.request.transformation, { type: 'transformation', value: 'f-gif' });
      assert.equal(failed.data.path, '/post/post.jpg');
      assert.match(failed.data.transformation.error.reason, /f-gif/);
    }
    // One event per transformation and endpoint, whatever the retries.
    for (const r of [account, own]) {
      const mine = events(r).filter((e) => e.type.startsWith('upload.post-transform') && e.data.fileId === fileId);
      assert.equal(mine.length, 2);
    }

    // Warm: the URL of the event is answered from the cache, for a plain client and a WebP one.
    const url = `${server.urlEndpoint}/post/post.jpg?tr=w-60,h-40`;
    for (const accept of [undefined, 'image/webp,*/*']) {
      const r = await fetch(url, accept ? { headers: { accept } } : {});
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-tessera-cache'), 'HIT', `accept ${accept ?? '(none)'}`);
      const meta = await sharp(Buffer.from(await r.arrayBuffer())).metadata();
      assert.deepEqual([meta.width, meta.height], [60, 40]);
    }
    // A transformation nobody warmed is rendered on demand, proving the HIT above is not a default.
    const cold = await fetch(`${server.urlEndpoint}/post/post.jpg?tr=w-61,h-40`);
    assert.equal(cold.headers.get('x-tessera-cache'), 'MISS');
  });
});
