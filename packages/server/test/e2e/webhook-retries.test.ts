/**
 * Webhook retries follow ImageKit's documented schedule ("retries for a maximum of 24 hours in
 * spaced intervals"), shrunk here through the settings: doubling delays from FIRST up to MAX, while
 * the next attempt stays within WINDOW of the first. A receiver that fails several times then
 * answers 200 gets exactly one successful delivery; one that never recovers is given up on once
 * the window is used.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import ImageKit from '@imagekit/nodejs';
import type { WebhookDeliveriesTable } from '../../src/adapters/db/schema.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeJpeg, queryDb, sleep, upload } from '../support/e2e-helpers.js';
import { STUB_KEYS, waitFor, webhookReceiver } from '../support/provider-stubs.js';

const FIRST = 300;
const MAX = 1200;
const WINDOW = 5000;
/** Attempts the window allows: 0, +300, +600, +1200, +1200, +1200 (4.5 s); a 7th would be at 5.7 s. */
const ATTEMPTS = 6;

describe('webhook retry schedule', { timeout: 120_000 }, () => {
  let account: Awaited<ReturnType<typeof webhookReceiver>>;
  let dead: Awaited<ReturnType<typeof webhookReceiver>>;
  let server: TestServer;
  let client: ImageKit;

  before(async () => {
    account = await webhookReceiver({ statuses: [500, 503, 500, 502] });
    dead = await webhookReceiver({ statuses: Array<number>(50).fill(500) });
    server = await startTestServer({
      env: {
        TESSERA_WEBHOOK_URL: `${account.origin}/account`,
        TESSERA_WEBHOOK_SECRET: STUB_KEYS.webhookSecret,
        TESSERA_ALLOW_PRIVATE_URLS: 'true',
        TESSERA_JOB_POLL_MS: '25',
        TESSERA_WEBHOOK_RETRY_FIRST_MS: String(FIRST),
        TESSERA_WEBHOOK_RETRY_MAX_MS: String(MAX),
        TESSERA_WEBHOOK_RETRY_WINDOW_MS: String(WINDOW),
      },
    });
    client = new ImageKit({ privateKey: server.privateKey, baseURL: server.baseUrl, maxRetries: 0 });
  });

  after(async () => {
    await server?.stop();
    await account?.close();
    await dead?.close();
  });

  const log = (url: string) =>
    queryDb<WebhookDeliveriesTable>(server.dataDir, 'select * from webhook_deliveries where url = ? order by created_at, attempt', url);

  test('fails four times, then succeeds: one success in the delivery log, the delays doubling', async () => {
    const res = await upload(server, { fileName: 'retry.jpg' }, { bytes: await makeJpeg(16, 16), name: 'retry.jpg' });
    assert.equal(res.status, 200, res.text);
    await waitFor(() => account.received.some((r) => r.status === 200), 30_000, 'the successful delivery');
    await sleep(MAX + 500);
    assert.deepEqual(account.received.map((r) => r.status), [500, 503, 500, 502, 200]);
    assert.equal(new Set(account.received.map((r) => r.headers['webhook-id'])).size, 1, 'one event, attempted five times');
    for (const r of account.received) {
      const event = client.webhooks.unwrap(r.body, { headers: r.headers, key: STUB_KEYS.webhookSecret }) as unknown as { type: string; data: { fileId: string } };
      assert.equal(event.type, 'file.created');
      assert.equal(event.data.fileId, res.body.fileId);
    }
    const gaps = account.received.slice(1).map((r, i) => r.at - account.received[i]!.at);
    const planned = [FIRST, 2 * FIRST, 4 * FIRST, MAX];
    gaps.forEach((g, i) => assert.ok(g >= planned[i]! * 0.9, `gap ${i + 1}: ${g} ms, planned ${planned[i]} ms (all: ${gaps.join(', ')})`));

    const rows = await log(`${account.origin}/account`);
    assert.deepEqual(rows.map((d) => [d.attempt, d.status_code]), [[1, 500], [2, 503], [3, 500], [4, 502], [5, 200]]);
    assert.equal(rows.filter((d) => d.error === null).length, 1, 'exactly one success');
  });

  test('a receiver that never recovers is retried until the window is used, then given up', async () => {
    const url = `${dead.origin}/own`;
    const res = await upload(
      server,
      { fileName: 'dead.jpg', webhookUrl: url, transformation: JSON.stringify({ pre: 'w-8' }) },
      { bytes: await makeJpeg(16, 16), name: 'dead.jpg' },
    );
    assert.equal(res.status, 200, res.text);
    const failed = await waitFor(
      async () => (await queryDb<{ status: string; attempts: number }>(server.dataDir, `select status, attempts from jobs where type = 'WEBHOOK_DELIVERY' and params like ?`, `%${dead.origin}%`)).find((j) => j.status === 'failed'),
      30_000,
      'the delivery job to give up',
    );
    assert.equal(failed.attempts, ATTEMPTS);
    await sleep(MAX + 500);
    assert.equal(dead.received.length, ATTEMPTS, 'no attempt after giving up');
    const span = dead.received[ATTEMPTS - 1]!.at - dead.received[0]!.at;
    assert.ok(span >= (FIRST + 2 * FIRST + 3 * MAX) * 0.9 && span <= WINDOW + 1000, `attempts spread over ${span} ms, within the ${WINDOW} ms window`);
    assert.ok(dead.received.every((r) => JSON.parse(r.body).type === 'upload.pre-transform.success'));
    const rows = await log(url);
    assert.equal(rows.length, ATTEMPTS);
    assert.ok(rows.every((d) => d.status_code === 500));
  });
});
