/**
 * WebhookService over a real SQLite store, the embedded job queue and a local receiver: an event
 * sent again under the same id (a job repeating its last step after a restart) is not queued a
 * second time while the first delivery waits, nor after it was delivered — so two deliveries of
 * one event never run side by side, whatever the queue's concurrency.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { webhookLogFor } from '../../src/adapters/db/extension-repos.js';
import { openSqliteStore } from '../../src/adapters/db/sqlite/index.js';
import { SafeWebhookTransport } from '../../src/adapters/net/webhook-post.js';
import { DbJobQueue } from '../../src/adapters/queue/db-queue.js';
import { WebhookService } from '../../src/services/webhook-service.js';
import { STUB_KEYS, waitFor, webhookReceiver } from '../support/provider-stubs.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-g-resend-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a resent event is queued once and delivered once', async () => {
  const receiver = await webhookReceiver();
  const store = await openSqliteStore(join(dir, 'tessera.db'));
  const queue = new DbJobQueue(store, { leaseMs: 2000, pollMs: 20, concurrency: 4 });
  const webhooks = new WebhookService(queue, new SafeWebhookTransport({ allowPrivate: true, timeoutMs: 5000 }), webhookLogFor(store), {
    secret: STUB_KEYS.webhookSecret,
    accountUrl: `${receiver.origin}/account`,
  });
  webhooks.registerJobs();
  try {
    const deliveryJobs = async () =>
      (await store.kysely.selectFrom('jobs').select(['id', 'status']).where('type', '=', 'WEBHOOK_DELIVERY').execute()).length;
    await webhooks.emit('file.deleted', { fileId: 'a'.repeat(24) }, 'job1-file.deleted-a');
    // The runner is not started yet: the first delivery is waiting. Resent twice, it stays one job.
    await webhooks.emit('file.deleted', { fileId: 'a'.repeat(24) }, 'job1-file.deleted-a', { resend: true });
    await webhooks.emit('file.deleted', { fileId: 'a'.repeat(24) }, 'job1-file.deleted-a', { resend: true });
    assert.equal(await deliveryJobs(), 1);
    // Without `resend` a caller means a new delivery (a different event must never be dropped).
    await webhooks.emit('file.deleted', { fileId: 'b'.repeat(24) }, 'job1-file.deleted-b');
    assert.equal(await deliveryJobs(), 2);

    queue.start();
    await waitFor(() => receiver.received.length >= 2, 10_000, 'two deliveries');
    // Resent after it was delivered: nothing is queued, nothing is sent.
    await webhooks.emit('file.deleted', { fileId: 'a'.repeat(24) }, 'job1-file.deleted-a', { resend: true });
    assert.equal(await deliveryJobs(), 2);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(receiver.received.map((r) => r.headers['webhook-id']).sort(), ['job1-file.deleted-a', 'job1-file.deleted-b']);
  } finally {
    await queue.stop();
    await store.close();
    await receiver.close();
  }
});
