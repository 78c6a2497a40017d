/** The webhook retry policy derived from ImageKit's documented schedule (retries for at most 24 h). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config/index.js';
import { webhookRetryPolicy } from '../../src/services/webhook-service.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** When each attempt happens (ms after the first), following DbJobQueue's doubling backoff. */
function attemptTimes(p: { maxAttempts: number; backoffMs: number; maxBackoffMs: number }): number[] {
  const at = [0];
  for (let n = 1; n < p.maxAttempts; n++) at.push(at[n - 1]! + Math.min(p.maxBackoffMs, p.backoffMs * 2 ** (n - 1)));
  return at;
}

test('the default schedule spans ImageKit’s 24 hours: spaced retries, the last within the window', () => {
  const config = resolveConfig({ dataDir: mkdtempSync(join(tmpdir(), 'tessera-g-')) }, {});
  assert.deepEqual(config.webhooks.retry, { firstDelayMs: 60_000, maxDelayMs: 4 * 3_600_000, windowMs: 86_400_000 });
  assert.equal(config.webhooks.timeoutMs, 30_000, 'ImageKit waits 30 s for an answer');
  const policy = webhookRetryPolicy(config.webhooks.retry);
  const at = attemptTimes(policy);
  assert.equal(policy.maxAttempts, 13);
  assert.equal(at[1], 60_000, 'the first retry a minute after the first attempt');
  const last = at[at.length - 1]!;
  assert.ok(last <= 86_400_000, `last attempt ${last / 3_600_000} h after the first`);
  assert.ok(last >= 20 * 3_600_000, `retries go on for most of the day (${last / 3_600_000} h)`);
  // One more attempt would fall outside the 24 hours.
  assert.ok(last + policy.maxBackoffMs > 86_400_000);
  // Never more than 4 h between attempts.
  for (let i = 1; i < at.length; i++) assert.ok(at[i]! - at[i - 1]! <= 4 * 3_600_000);
});

test('a short schedule (tests) and a window shorter than the first delay', () => {
  assert.deepEqual(webhookRetryPolicy({ firstDelayMs: 300, maxDelayMs: 1200, windowMs: 5000 }), { maxAttempts: 6, backoffMs: 300, maxBackoffMs: 1200 });
  assert.equal(webhookRetryPolicy({ firstDelayMs: 1000, maxDelayMs: 1000, windowMs: 500 }).maxAttempts, 1);
});

test('bad settings stop the server at start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-g-'));
  assert.throws(() => resolveConfig({ dataDir, webhookRetryFirstMs: '5000', webhookRetryMaxMs: '1000' }, {}), /TESSERA_WEBHOOK_RETRY_MAX_MS/);
  assert.throws(() => resolveConfig({ dataDir, webhookRetryWindowMs: 'a day' }, {}), /TESSERA_WEBHOOK_RETRY_WINDOW_MS/);
});
