/**
 * End to end through ImageKitClient: files.upload with a `transformation` (pre applied before the
 * store, post rendered into the delivery cache afterwards), the events verified with this SDK's
 * own verifyWebhook and checked against the spec, and the post types this server cannot run
 * refused as BadRequestError.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { BadRequestError, ImageKitClient, verifyWebhook, type WebhookEvent } from '../../src/index.js';
import { startTestServer, type TestServer } from '../../../server/test/support/server.js';
import { STUB_KEYS, waitFor, webhookReceiver } from '../../../server/test/support/provider-stubs.js';
import { conforms, warnIfSpecMissing } from '../support/e2e.js';

let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
let server: TestServer;
let client: ImageKitClient;

before(async () => {
  warnIfSpecMissing();
  receiver = await webhookReceiver();
  server = await startTestServer({
    env: {
      TESSERA_WEBHOOK_URL: `${receiver.origin}/hook`,
      TESSERA_WEBHOOK_SECRET: STUB_KEYS.webhookSecret,
      TESSERA_ALLOW_PRIVATE_URLS: 'true',
      TESSERA_JOB_POLL_MS: '50',
    },
  });
  client = new ImageKitClient({ privateKey: server.privateKey, baseUrl: server.baseUrl });
});

after(async () => {
  await server?.stop();
  await receiver?.close();
});

async function received(): Promise<WebhookEvent[]> {
  return Promise.all(receiver.received.map((r) => verifyWebhook(r.body, r.headers, STUB_KEYS.webhookSecret)));
}

describe('files.upload with transformation', () => {
  test('pre is applied before the file is stored; post is warmed; both reported by verified events', async () => {
    const jpeg = await sharp({ create: { width: 120, height: 90, channels: 3, background: { r: 200, g: 40, b: 40 } } }).jpeg().toBuffer();
    const up = await client.files.upload({
      file: jpeg,
      fileName: 'sdk-pre.jpg',
      transformation: { pre: 'w-30,h-20', post: [{ type: 'transformation', value: 'w-10,h-10' }] },
    });
    assert.deepEqual([up.width, up.height], [30, 20]);

    const pre = await waitFor(async () => (await received()).find((e) => e.type === 'upload.pre-transform.success' && e.data.fileId === up.fileId), 30_000, 'pre event');
    assert.equal(pre.type, 'upload.pre-transform.success');
    if (pre.type === 'upload.pre-transform.success') {
      assert.equal(pre.request.transformation, 'w-30,h-20');
      conforms(pre, '#/components/schemas/UploadPreTransformSuccessEvent');
    }
    const post = await waitFor(async () => (await received()).find((e) => e.type === 'upload.post-transform.success' && e.data.fileId === up.fileId), 30_000, 'post event');
    if (post.type === 'upload.post-transform.success') {
      conforms(post, '#/components/schemas/UploadPostTransformSuccessEvent');
      const res = await fetch(post.data.url);
      assert.equal(res.headers.get('x-tessera-cache'), 'HIT');
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      assert.deepEqual([meta.width, meta.height], [10, 10]);
    }
  });

  test('a post type that needs video encoding is a BadRequestError naming it', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: 'white' } }).png().toBuffer();
    await assert.rejects(
      client.files.upload({ file: png, fileName: 'sdk-thumb.png', transformation: { post: [{ type: 'thumbnail' }] } }),
      (e: unknown) => e instanceof BadRequestError && /"thumbnail".*not supported by this server/.test(e.message),
    );
  });
});
