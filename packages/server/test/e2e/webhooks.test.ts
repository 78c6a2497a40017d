/**
 * Webhooks end to end: the spec's file events to the account-wide endpoint, the extension status
 * to a request's webhookUrl, every request verified with the official SDK's `webhooks.unwrap`
 * (Standard Webhooks signature) and validated against the spec's event schemas; retries with
 * backoff and the delivery log; the outbound address rules of URL uploads.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import ImageKit, { toFile } from '@imagekit/nodejs';
import type { WebhookDeliveriesTable } from '../../src/adapters/db/schema.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { api, queryDb, upload } from '../support/e2e-helpers.js';
import { STUB_KEYS, startProviderStubs, subjectOnPlainBackground, waitFor, webhookReceiver, type ProviderStubs, type Received } from '../support/provider-stubs.js';
import { FILE_EVENT_SCHEMA, SPEC_MISSING_MESSAGE, assertMatchesSchema, specAvailable } from '../support/spec.js';

type Json = Record<string, any>;

/** `select *` from webhook_deliveries: the store's own row type. */
type DeliveryRow = WebhookDeliveriesTable;

function deliveries(dataDir: string, where = '1 = 1', params: unknown[] = []): Promise<DeliveryRow[]> {
  return queryDb<DeliveryRow>(dataDir, `select * from webhook_deliveries where ${where} order by created_at, attempt`, ...params);
}


describe('webhooks', { skip: specAvailable ? false : SPEC_MISSING_MESSAGE }, () => {
  let stubs: ProviderStubs;
  let account: Awaited<ReturnType<typeof webhookReceiver>>;
  let server: TestServer;
  let client: ImageKit;

  before(async () => {
    stubs = await startProviderStubs();
    account = await webhookReceiver();
    // Retries 2 s apart, doubling (ImageKit's 24 h schedule starts at 1 min; see webhook-retries.test.ts).
    server = await startTestServer({ env: { ...stubs.env, TESSERA_WEBHOOK_URL: `${account.origin}/account-hook`, TESSERA_WEBHOOK_RETRY_FIRST_MS: '2000' } });
    client = new ImageKit({ privateKey: server.privateKey, baseURL: server.baseUrl, maxRetries: 0 });
  });

  after(async () => {
    await server?.stop();
    await stubs?.close();
    await account?.close();
  });

  /** Account events so far, verified with the SDK and checked against the spec's event schema. */
  function accountEvents(): Array<{ raw: Received; event: Json }> {
    return account.received.map((raw) => {
      const event = client.webhooks.unwrap(raw.body, { headers: raw.headers, key: STUB_KEYS.webhookSecret }) as unknown as Json;
      assert.equal(raw.headers['webhook-id'], event.id, 'webhook-id header is the event id');
      assert.equal(raw.headers['content-type'], 'application/json');
      assertMatchesSchema(event, FILE_EVENT_SCHEMA[event.type]!);
      assert.equal(new Date(event.created_at).toISOString(), event.created_at);
      return { raw, event };
    });
  }

  async function nextEvent(type: string, match: (e: Json) => boolean): Promise<Json> {
    return (await waitFor(() => accountEvents().find((e) => e.event.type === type && match(e.event)), 45_000, type)).event;
  }

  test('file events: created, version created, updated, version deleted, deleted — signed and in the spec shape', async () => {
    const bytes = await subjectOnPlainBackground(64);
    const first = (await client.files.upload({ file: await toFile(bytes, 'evt.jpg'), fileName: 'evt.jpg', folder: '/events', useUniqueFileName: false })) as unknown as Json;
    const created = await nextEvent('file.created', (e) => e.data.fileId === first.fileId);
    assert.equal(created.data.filePath, '/events/evt.jpg');
    assert.equal(created.data.type, 'file');

    const second = (await client.files.upload({ file: await toFile(bytes, 'evt.jpg'), fileName: 'evt.jpg', folder: '/events', useUniqueFileName: false })) as unknown as Json;
    assert.equal(second.fileId, first.fileId);
    const versioned = await nextEvent('file-version.created', (e) => e.data.fileId === first.fileId);
    assert.equal(versioned.data.versionInfo.name, 'Version 2');

    await client.files.update(first.fileId, { tags: ['evented'] });
    const updated = await nextEvent('file.updated', (e) => e.data.fileId === first.fileId && (e.data.tags ?? []).includes('evented'));
    assert.deepEqual(updated.data.tags, ['evented']);

    const v1 = first.versionInfo.id as string;
    await client.files.versions.delete(v1, { fileId: first.fileId });
    const vdel = await nextEvent('file-version.deleted', (e) => e.data.fileId === first.fileId);
    assert.deepEqual(vdel.data, { fileId: first.fileId, versionId: v1 });

    await client.files.delete(first.fileId);
    const deleted = await nextEvent('file.deleted', (e) => e.data.fileId === first.fileId);
    assert.deepEqual(deleted.data, { fileId: first.fileId });

    // Every event id is unique; each was delivered once.
    const ids = accountEvents().map((e) => e.event.id);
    assert.equal(new Set(ids).size, ids.length);
  });

  test('the signature is checked: a wrong key or a changed body is refused by the SDK', async () => {
    const raw = await waitFor(() => account.received[0], 45_000, 'any account event');
    assert.throws(() => client.webhooks.unwrap(raw.body, { headers: raw.headers, key: 'whsec_some-other-secret' }));
    assert.throws(() => client.webhooks.unwrap(raw.body.replace('"type"', '"typo"'), { headers: raw.headers, key: STUB_KEYS.webhookSecret }));
    assert.ok(client.webhooks.unwrap(raw.body, { headers: raw.headers, key: STUB_KEYS.webhookSecret }));
  });

  test('a receiver that fails twice then succeeds gets exactly one successful delivery', async () => {
    const flaky = await webhookReceiver({ statuses: [500, 502] });
    try {
      const up = (await client.files.upload({
        file: await toFile(await subjectOnPlainBackground(64), 'flaky-hook.jpg'),
        fileName: 'flaky-hook.jpg',
        extensions: [{ name: 'google-auto-tagging', minConfidence: 80, maxTags: 2 }],
        webhookUrl: `${flaky.origin}/status`,
      })) as unknown as Json;
      await waitFor(() => flaky.received.some((r) => r.status === 200), 45_000, 'a successful delivery');
      // Nothing more may come once it succeeded.
      await new Promise((r) => setTimeout(r, 3000));
      assert.deepEqual(flaky.received.map((r) => r.status), [500, 502, 200]);
      const ids = new Set(flaky.received.map((r) => r.headers['webhook-id']));
      assert.equal(ids.size, 1, 'the same event on every attempt');
      assert.equal(new Set(flaky.received.map((r) => r.body)).size, 1, 'the same body on every attempt');
      const times = flaky.received.map((r) => r.at);
      assert.ok(times[1]! - times[0]! >= 1500 && times[2]! - times[1]! >= 3000, `backoff between attempts: ${times.map((t) => t - times[0]!).join(', ')} ms`);
      // Each attempt is signed afresh, and every one verifies.
      for (const r of flaky.received) {
        const event = client.webhooks.unwrap(r.body, { headers: r.headers, key: STUB_KEYS.webhookSecret }) as unknown as Json;
        assert.equal(event.service, 'google-auto-tagging');
        assert.equal(event.status, 'SUCCESS');
        assert.equal(event.fileObject.fileId, up.fileId);
      }
      const log = await deliveries(server.dataDir, 'url = ?', [`${flaky.origin}/status`]);
      assert.deepEqual(
        log.map((d) => [d.attempt, d.status_code, d.event_type]),
        [
          [1, 500, 'extension.status'],
          [2, 502, 'extension.status'],
          [3, 200, 'extension.status'],
        ],
      );
      assert.match(log[0]!.error!, /status 500/);
      assert.equal(log[2]!.error, null);
    } finally {
      await flaky.close();
    }
  });

  test('the delivery log holds the account events too', async () => {
    const log = await deliveries(server.dataDir, 'url = ?', [`${account.origin}/account-hook`]);
    assert.ok(log.length >= 5);
    for (const d of log) {
      assert.equal(d.status_code, 200);
      assert.ok(FILE_EVENT_SCHEMA[d.event_type], d.event_type);
    }
  });
});

describe('webhooks follow the outbound address rules of URL uploads', () => {
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;

  before(async () => {
    receiver = await webhookReceiver();
    // Private URLs NOT allowed: the loopback receiver must never be called.
    server = await startTestServer({
      env: { TESSERA_WEBHOOK_URL: `${receiver.origin}/account`, TESSERA_WEBHOOK_SECRET: STUB_KEYS.webhookSecret, TESSERA_JOB_POLL_MS: '100' },
    });
  });
  after(async () => {
    await server?.stop();
    await receiver?.close();
  });

  test('loopback endpoints are refused for good and logged; nothing is sent', async () => {
    const res = await upload(
      server,
      { fileName: 'private.jpg', extensions: JSON.stringify([{ name: 'remove-bg' }]), webhookUrl: `http://localhost:${new URL(receiver.origin).port}/hook` },
      { bytes: await subjectOnPlainBackground(32), name: 'private.jpg' },
    );
    assert.equal(res.status, 200, res.text);
    await waitFor(async () => (await deliveries(server.dataDir)).length >= 2, 45_000, 'two logged attempts');
    await new Promise((r) => setTimeout(r, 1500));
    const log = await deliveries(server.dataDir);
    assert.equal(log.length, 2, `one attempt each, no retries: ${JSON.stringify(log)}`);
    for (const d of log) {
      assert.equal(d.status_code, null);
      assert.match(d.error!, /local name|non-public address/);
    }
    assert.deepEqual(log.map((d) => d.event_type).sort(), ['extension.status', 'file.created']);
    assert.equal(receiver.received.length, 0);
    const states = await queryDb<{ status: string }>(server.dataDir, `select status from jobs where type = 'WEBHOOK_DELIVERY'`);
    assert.deepEqual(states.map((s) => s.status), ['failed', 'failed']);
    assert.equal((await api(server, 'GET', `/v1/files/${res.body.fileId}/details`)).status, 200);
  });
});
