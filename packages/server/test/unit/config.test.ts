import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, parseByteSize, resolveConfig } from '../../src/config/index.js';

const dir = () => mkdtempSync(join(tmpdir(), 'tessera-cfg-'));

test('defaults, and keys generated once then reused', () => {
  const d = dir();
  const a = resolveConfig({}, { TESSERA_DATA_DIR: d });
  assert.equal(a.port, 8080);
  assert.equal(a.publicUrl, 'http://localhost:8080');
  assert.equal(a.imagekitId, 'tessera');
  assert.equal(a.maxUploadBytes, 2 * 1024 ** 3);
  assert.equal(a.rateLimit, null);
  assert.equal(a.keysGenerated, true);
  assert.ok(Object.isFrozen(a));
  const b = resolveConfig({}, { TESSERA_DATA_DIR: d });
  assert.equal(b.keysGenerated, false);
  assert.equal(b.privateKey, a.privateKey);
  assert.equal(JSON.parse(readFileSync(join(d, 'keys.json'), 'utf8')).publicKey, a.publicKey);
});

test('options win over env, env over defaults', () => {
  const d = dir();
  const c = resolveConfig({ port: 9000 }, { TESSERA_DATA_DIR: d, TESSERA_PORT: '7000', TESSERA_IMAGEKIT_ID: 'acme', TESSERA_RATE_LIMIT: '10/2s' });
  assert.equal(c.port, 9000);
  assert.equal(c.imagekitId, 'acme');
  assert.deepEqual(c.rateLimit, { limit: 10, intervalMs: 2000 });
});

test('bad settings fail with one clear line', () => {
  const d = dir();
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ TESSERA_PORT: 'abc' }, /TESSERA_PORT must be a whole number/],
    [{ TESSERA_PORT: '70000' }, /between 0 and 65535/],
    [{ TESSERA_PUBLIC_URL: 'ftp://x' }, /TESSERA_PUBLIC_URL/],
    [{ TESSERA_PRIVATE_KEY: 'only-one' }, /set both/],
    [{ TESSERA_MAX_UPLOAD_BYTES: '-1' }, /TESSERA_MAX_UPLOAD_BYTES/],
    [{ TESSERA_IMAGEKIT_ID: 'a/b' }, /TESSERA_IMAGEKIT_ID/],
    [{ TESSERA_IMAGEKIT_ID: 'v1' }, /collides/],
    [{ TESSERA_RATE_LIMIT: 'lots' }, /TESSERA_RATE_LIMIT/],
    [{ TESSERA_ALLOW_PRIVATE_URLS: 'maybe' }, /true or false/],
  ];
  for (const [env, re] of bad) {
    assert.throws(() => resolveConfig({}, { TESSERA_DATA_DIR: d, ...env }), (e: unknown) => e instanceof ConfigError && re.test(e.message) && !e.message.includes('\n'));
  }
});

test('byte sizes', () => {
  assert.equal(parseByteSize('x', '100'), 100);
  assert.equal(parseByteSize('x', '1kb'), 1024);
  assert.equal(parseByteSize('x', '1.5MB'), 1.5 * 1024 * 1024);
  assert.throws(() => parseByteSize('x', '0'));
  assert.throws(() => parseByteSize('x', '1 parsec'));
});
