/**
 * Per-key rate limits (TESSERA_RATE_LIMIT=5/2s): the 6th management request in a window is the
 * spec's RateLimitExceeded — 429 with X-RateLimit-Limit / -Reset / -Interval and a JSON body —
 * and requests are allowed again once the window has passed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.js';
import { api, makePng, sleep, upload, type ApiResponse } from '../support/e2e-helpers.js';

const LIMIT = 5;
const INTERVAL_MS = 2000;
const UNKNOWN = 'cccccccccccccccccccccccc';

let server: TestServer;

before(async () => {
  server = await startTestServer({ env: { TESSERA_RATE_LIMIT: `${LIMIT}/2s` } });
});

after(async () => {
  await server?.stop();
});

/**
 * The limiter counts in fixed windows aligned to the interval; the server shares this machine's
 * clock, so start a burst just after a window opens to keep it inside one window.
 */
async function atWindowStart(): Promise<void> {
  const into = Date.now() % INTERVAL_MS;
  await sleep(INTERVAL_MS - into + 50);
}

const managementCall = () => api(server, 'GET', `/v1/files/${UNKNOWN}/details`);

function assertLimited(res: ApiResponse): void {
  assert.equal(res.status, 429, res.text);
  assert.equal(res.headers.get('x-ratelimit-limit'), String(LIMIT));
  assert.equal(res.headers.get('x-ratelimit-interval'), String(INTERVAL_MS));
  const reset = Number(res.headers.get('x-ratelimit-reset'));
  assert.ok(Number.isInteger(reset) && reset > 0 && reset <= INTERVAL_MS, `X-RateLimit-Reset ${res.headers.get('x-ratelimit-reset')}`);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  assert.equal(typeof res.body.message, 'string');
  assert.ok(res.body.message.length > 0);
}

test('the 6th management request in a window → 429 with the rate-limit headers; allowed again after the window', async () => {
  // The burst must fit in one window; on a very slow machine, retry in a fresh window.
  let statuses: number[] = [];
  let limited: ApiResponse | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    await atWindowStart();
    const t0 = Date.now();
    const results: ApiResponse[] = [];
    for (let i = 0; i < LIMIT + 1; i++) results.push(await managementCall());
    if (Date.now() - t0 > INTERVAL_MS - 200) continue;
    statuses = results.map((r) => r.status);
    limited = results[LIMIT];
    break;
  }
  assert.ok(limited, 'could not fit 6 requests into one 2 s window');
  assert.deepEqual(statuses, [404, 404, 404, 404, 404, 429], 'five allowed (the file is unknown: 404), the sixth limited');
  assertLimited(limited);

  // More requests in the same window stay limited.
  assertLimited(await managementCall());

  // After the window, allowed again.
  await sleep(Number(limited.headers.get('x-ratelimit-reset')) + 100);
  const again = await managementCall();
  assert.equal(again.status, 404, again.text);
});

test('uploads with the private key count against the same key', async () => {
  const png = await makePng(8, 8);
  await atWindowStart();
  const statuses: number[] = [];
  for (let i = 0; i < LIMIT; i++) statuses.push((await managementCall()).status);
  const r = await upload(server, { fileName: 'limited.png' }, { bytes: png });
  assert.deepEqual(statuses, [404, 404, 404, 404, 404]);
  assertLimited(r);
});

test('requests without valid credentials do not use up the key’s budget', async () => {
  await atWindowStart();
  for (let i = 0; i < LIMIT * 2; i++) {
    const r = await api(server, 'GET', `/v1/files/${UNKNOWN}/details`, undefined, { auth: null });
    assert.equal(r.status, 401);
  }
  const ok = await managementCall();
  assert.equal(ok.status, 404, ok.text);
});
