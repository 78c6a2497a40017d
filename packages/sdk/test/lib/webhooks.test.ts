import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import ImageKit from '@imagekit/nodejs';
import { Webhook } from 'standardwebhooks';
import { signWebhook, verifyWebhook, verifyWebhookSync, WebhookVerificationError } from '../../src/lib/index.js';
import type { WebhookEvent, WebhookSignatureHeaders } from '../../src/lib/index.js';

// ImageKit's dashboard secrets carry a whsec_ prefix; the official SDK keys the HMAC with the string as-is.
const SECRET = 'whsec_tessera_test_9f8e7d6c5b4a';
const official = new ImageKit({ privateKey: 'unused', webhookSecret: SECRET });

const EVENT = {
  type: 'video.transformation.ready',
  id: '58e6d24d-6098-4319-be8d-40c3cb0a402d',
  created_at: '2025-04-23T10:00:00.000Z',
  request: { x_request_id: 'req-1', url: 'https://ik.imagekit.io/demo/v.mp4?tr=w-100' },
  data: {
    asset: { url: 'https://ik.imagekit.io/demo/v.mp4' },
    transformation: { type: 'video-transformation', output: { url: 'https://ik.imagekit.io/demo/v.mp4/out.mp4' } },
  },
  note: 'ünïcode ✓',
};
const BODY = JSON.stringify(EVENT);

/** Signs the way the official SDK verifies: standardwebhooks keyed with base64(secret). */
function officialSign(body: string, secret: string, id: string, timestampSeconds: number): WebhookSignatureHeaders {
  const wh = new Webhook(Buffer.from(secret, 'utf8').toString('base64'));
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': wh.sign(id, new Date(timestampSeconds * 1000), body),
  };
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

async function expectRefusal(promise: Promise<unknown>, reason: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof WebhookVerificationError, String(error));
    assert.equal(error.reason, reason);
    return true;
  });
}

describe('webhooks: compatibility with @imagekit/nodejs', () => {
  test('a body signed by signWebhook is accepted by the official webhooks.unwrap', async () => {
    const headers = await signWebhook({ body: BODY, secret: SECRET, id: 'msg_1' });
    assert.deepEqual(official.webhooks.unwrap(BODY, { headers: { ...headers } }), EVENT);
    assert.deepEqual(official.webhooks.unwrap(BODY, { headers: { ...headers }, key: SECRET }), EVENT);
  });

  test('the official unwrap refuses our signature under another key', async () => {
    const headers = await signWebhook({ body: BODY, secret: SECRET });
    assert.throws(() => official.webhooks.unwrap(BODY, { headers: { ...headers }, key: 'whsec_other' }), /No matching signature/);
  });

  test('a body signed the official way is accepted by verifyWebhook and verifyWebhookSync', async () => {
    const headers = officialSign(BODY, SECRET, 'msg_2', nowSeconds());
    const event = await verifyWebhook(BODY, headers, SECRET);
    assert.deepEqual(event, EVENT);
    assert.deepEqual(verifyWebhookSync(BODY, headers, SECRET), EVENT);
    if (event.type === 'video.transformation.ready') {
      assert.equal(event.data.transformation.output?.url, 'https://ik.imagekit.io/demo/v.mp4/out.mp4');
    }
  });

  test('signatures agree byte for byte with standardwebhooks', async () => {
    const ts = 1_700_000_000;
    const ours = await signWebhook({ body: BODY, secret: SECRET, id: 'msg_3', timestamp: ts });
    assert.deepEqual(ours, officialSign(BODY, SECRET, 'msg_3', ts));
    const fromDate = await signWebhook({ body: BODY, secret: SECRET, id: 'msg_3', timestamp: new Date(ts * 1000) });
    assert.deepEqual(fromDate, ours);
  });
});

describe('webhooks: refusals', () => {
  test('tampered body', async () => {
    const headers = await signWebhook({ body: BODY, secret: SECRET });
    const tampered = BODY.replace('v.mp4/out.mp4', 'evil.mp4');
    await expectRefusal(verifyWebhook(tampered, headers, SECRET), 'invalid-signature');
    assert.throws(() => verifyWebhookSync(tampered, headers, SECRET), WebhookVerificationError);
    assert.throws(() => official.webhooks.unwrap(tampered, { headers: { ...headers } }), /No matching signature/);
  });

  test('wrong key', async () => {
    const headers = await signWebhook({ body: BODY, secret: SECRET });
    await expectRefusal(verifyWebhook(BODY, headers, 'whsec_wrong'), 'invalid-signature');
  });

  test('tampered id or timestamp header', async () => {
    const headers = await signWebhook({ body: BODY, secret: SECRET });
    await expectRefusal(verifyWebhook(BODY, { ...headers, 'webhook-id': 'msg_other' }, SECRET), 'invalid-signature');
    const shifted = String(Number(headers['webhook-timestamp']) - 1);
    await expectRefusal(verifyWebhook(BODY, { ...headers, 'webhook-timestamp': shifted }, SECRET), 'invalid-signature');
  });

  test('old timestamp, even when correctly signed', async () => {
    const old = nowSeconds() - 301;
    const headers = officialSign(BODY, SECRET, 'msg_old', old);
    await expectRefusal(verifyWebhook(BODY, headers, SECRET), 'timestamp-too-old');
    assert.throws(() => official.webhooks.unwrap(BODY, { headers: { ...headers } }), /too old/);
    // A wider tolerance, or verifying "as of" the send time, accepts it.
    assert.deepEqual(await verifyWebhook(BODY, headers, SECRET, { toleranceSeconds: 600 }), EVENT);
    assert.deepEqual(await verifyWebhook(BODY, headers, SECRET, { now: new Date(old * 1000) }), EVENT);
  });

  test('timestamp too far in the future', async () => {
    const headers = await signWebhook({ body: BODY, secret: SECRET, timestamp: nowSeconds() + 400 });
    await expectRefusal(verifyWebhook(BODY, headers, SECRET), 'timestamp-too-new');
  });

  test('missing headers and a malformed timestamp', async () => {
    const headers = await signWebhook({ body: BODY, secret: SECRET });
    const { 'webhook-signature': _omitted, ...withoutSignature } = headers;
    await expectRefusal(verifyWebhook(BODY, withoutSignature, SECRET), 'missing-headers');
    await expectRefusal(verifyWebhook(BODY, { ...headers, 'webhook-timestamp': '12abc' }, SECRET), 'invalid-timestamp');
  });

  test('a validly signed body that is not JSON', async () => {
    const headers = await signWebhook({ body: 'not json', secret: SECRET });
    await expectRefusal(verifyWebhook('not json', headers, SECRET), 'invalid-body');
  });

  test('only v1 signatures count', async () => {
    const headers = await signWebhook({ body: BODY, secret: SECRET });
    const v2 = headers['webhook-signature'].replace(/^v1,/, 'v2,');
    await expectRefusal(verifyWebhook(BODY, { ...headers, 'webhook-signature': v2 }, SECRET), 'invalid-signature');
  });

  test('an empty secret is a usage error', async () => {
    await assert.rejects(signWebhook({ body: BODY, secret: '' }), TypeError);
  });
});

describe('webhooks: inputs', () => {
  test('several signatures (key rotation): one match suffices', async () => {
    const good = await signWebhook({ body: BODY, secret: SECRET, id: 'm', timestamp: nowSeconds() });
    const bad = await signWebhook({ body: BODY, secret: 'whsec_old', id: 'm', timestamp: Number(good['webhook-timestamp']) });
    const headers = { ...good, 'webhook-signature': `${bad['webhook-signature']} ${good['webhook-signature']}` };
    assert.deepEqual(await verifyWebhook(BODY, headers, SECRET), EVENT);
  });

  test('Fetch Headers, mixed-case names, array values and a Uint8Array body', async () => {
    const signed = await signWebhook({ body: BODY, secret: SECRET });
    const fetchHeaders = new Headers(signed as unknown as Record<string, string>);
    assert.deepEqual(await verifyWebhook(new TextEncoder().encode(BODY), fetchHeaders, SECRET), EVENT);
    const nodeStyle = {
      'Webhook-Id': signed['webhook-id'],
      'WEBHOOK-TIMESTAMP': [signed['webhook-timestamp']],
      'webhook-signature': signed['webhook-signature'],
      'content-type': 'application/json',
    };
    assert.deepEqual(verifyWebhookSync(BODY, nodeStyle, SECRET), EVENT);
  });

  test("secretFormat 'standard': whsec_ + base64 keys, as generic Standard Webhooks senders use", async () => {
    const standardSecret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const wh = new Webhook(standardSecret);
    const ts = nowSeconds();
    const headers = { 'webhook-id': 'msg_s', 'webhook-timestamp': String(ts), 'webhook-signature': wh.sign('msg_s', new Date(ts * 1000), BODY) };
    assert.deepEqual(await verifyWebhook(BODY, headers, standardSecret, { secretFormat: 'standard' }), EVENT);
    await expectRefusal(verifyWebhook(BODY, headers, standardSecret), 'invalid-signature');
    const ours = await signWebhook({ body: BODY, secret: standardSecret, secretFormat: 'standard' });
    assert.deepEqual(wh.verify(BODY, { ...ours }), EVENT);
  });

  test('the event type narrows on `type`', async () => {
    const fileEvent = { type: 'file.deleted', id: 'e1', created_at: '2025-01-01T00:00:00.000Z', data: { fileId: 'abc' } };
    const body = JSON.stringify(fileEvent);
    const event: WebhookEvent = await verifyWebhook(body, await signWebhook({ body, secret: SECRET }), SECRET);
    assert.equal(event.type === 'file.deleted' ? event.data.fileId : undefined, 'abc');
  });
});
