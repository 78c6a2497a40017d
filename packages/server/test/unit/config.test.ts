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
  assert.equal(a.workers, 1);
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
  assert.equal(resolveConfig({}, { TESSERA_DATA_DIR: d, TESSERA_WORKERS: '3' }).workers, 3);
  assert.ok(resolveConfig({}, { TESSERA_DATA_DIR: d, TESSERA_WORKERS: 'auto' }).workers >= 1);
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
    [{ TESSERA_WORKERS: '0' }, /TESSERA_WORKERS must be between 1 and 64/],
    [{ TESSERA_WORKERS: 'many' }, /TESSERA_WORKERS must be a whole number/],
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

// --- scale-out settings: the database and the blob store ------------------------------------

const SHARED = { TESSERA_PRIVATE_KEY: 'private_k', TESSERA_PUBLIC_KEY: 'public_k', TESSERA_WEBHOOK_SECRET: 'whsec_shared_secret' };

test('database: SQLite unless TESSERA_DATABASE_URL names a PostgreSQL', () => {
  const d = dir();
  assert.deepEqual(resolveConfig({}, { TESSERA_DATA_DIR: d }).database, { kind: 'sqlite' });
  assert.deepEqual(resolveConfig({}, { TESSERA_DATA_DIR: d, TESSERA_DATABASE_URL: 'sqlite' }).database, { kind: 'sqlite' });
  const pg = resolveConfig({}, { TESSERA_DATA_DIR: d, ...SHARED, TESSERA_DATABASE_URL: 'postgres://u:p@db.internal:5432/tessera' });
  assert.deepEqual(pg.database, { kind: 'postgres', url: 'postgres://u:p@db.internal:5432/tessera', poolMax: 10 });
  assert.ok(Object.isFrozen(pg.database));
  const tuned = resolveConfig(
    { databasePoolMax: '25' },
    { TESSERA_DATA_DIR: d, ...SHARED, TESSERA_DATABASE_URL: 'postgresql://db/tessera?sslmode=require' },
  );
  assert.deepEqual(tuned.database, { kind: 'postgres', url: 'postgresql://db/tessera?sslmode=require', poolMax: 25 });
  // A socket directory instead of a host name.
  assert.equal(resolveConfig({}, { TESSERA_DATA_DIR: d, ...SHARED, TESSERA_DATABASE_URL: 'postgres:///tessera?host=/var/run/postgresql' }).database.kind, 'postgres');
  // Shared keys and webhook secret come from the settings: nothing is generated into the data dir.
  assert.equal(pg.keysGenerated, false);
  assert.equal(pg.webhooks.secretGenerated, false);
});

test('blobs: local unless TESSERA_S3_BUCKET is set; S3 settings resolved and normalised', () => {
  const d = dir();
  assert.deepEqual(resolveConfig({}, { TESSERA_DATA_DIR: d }).blobs, { kind: 'local' });
  const s3 = resolveConfig(
    {},
    {
      TESSERA_DATA_DIR: d,
      TESSERA_S3_BUCKET: 'media.example-1',
      TESSERA_S3_ENDPOINT: 'http://127.0.0.1:9000/',
      TESSERA_S3_REGION: 'auto',
      TESSERA_S3_ACCESS_KEY_ID: 'AKIA',
      TESSERA_S3_SECRET_ACCESS_KEY: 'secret',
      TESSERA_S3_FORCE_PATH_STYLE: 'true',
      TESSERA_S3_PREFIX: '/tenants/a',
    },
  );
  assert.deepEqual(s3.blobs, {
    kind: 's3',
    bucket: 'media.example-1',
    endpoint: 'http://127.0.0.1:9000',
    region: 'auto',
    accessKeyId: 'AKIA',
    secretAccessKey: 'secret',
    forcePathStyle: true,
    prefix: 'tenants/a/',
  });
  // Only a bucket: AWS's endpoint, the credential chain, virtual-host addressing, no prefix.
  assert.deepEqual(resolveConfig({}, { TESSERA_DATA_DIR: d, TESSERA_S3_BUCKET: 'media' }).blobs, {
    kind: 's3',
    bucket: 'media',
    endpoint: null,
    region: null,
    accessKeyId: null,
    secretAccessKey: null,
    forcePathStyle: false,
    prefix: '',
  });
});

test('bad scale-out settings fail with one clear line', () => {
  const d = dir();
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ TESSERA_DATABASE_URL: 'mysql://db/tessera', ...SHARED }, /TESSERA_DATABASE_URL must start with postgres:\/\//],
    [{ TESSERA_DATABASE_URL: 'not a url', ...SHARED }, /TESSERA_DATABASE_URL must be a postgres:\/\//],
    [{ TESSERA_DATABASE_URL: 'postgres:///tessera', ...SHARED }, /TESSERA_DATABASE_URL needs a host/],
    [{ TESSERA_DATABASE_URL: 'postgres://db/t', ...SHARED, TESSERA_DATABASE_POOL_MAX: '0' }, /TESSERA_DATABASE_POOL_MAX must be between 1 and 1000/],
    [{ TESSERA_DATABASE_URL: 'postgres://db/t', ...SHARED, TESSERA_DATABASE_POOL_MAX: 'many' }, /TESSERA_DATABASE_POOL_MAX must be a whole number/],
    [{ TESSERA_DATABASE_POOL_MAX: '5' }, /TESSERA_DATABASE_POOL_MAX only applies with TESSERA_DATABASE_URL/],
    [{ TESSERA_DATABASE_URL: 'postgres://db/t', TESSERA_WEBHOOK_SECRET: 'whsec_shared_secret' }, /every node must share the keys/],
    [{ TESSERA_DATABASE_URL: 'postgres://db/t', TESSERA_PRIVATE_KEY: 'private_k', TESSERA_PUBLIC_KEY: 'public_k' }, /TESSERA_WEBHOOK_SECRET/],
    [{ TESSERA_S3_ENDPOINT: 'http://127.0.0.1:9000' }, /TESSERA_S3_ENDPOINT is set but TESSERA_S3_BUCKET is not/],
    [{ TESSERA_S3_BUCKET: 'Bad_Bucket' }, /TESSERA_S3_BUCKET must be a bucket name/],
    [{ TESSERA_S3_BUCKET: 'media', TESSERA_S3_ACCESS_KEY_ID: 'AKIA' }, /set both TESSERA_S3_ACCESS_KEY_ID and TESSERA_S3_SECRET_ACCESS_KEY/],
    [{ TESSERA_S3_BUCKET: 'media', TESSERA_S3_ENDPOINT: 'ftp://x' }, /TESSERA_S3_ENDPOINT must be an http\(s\) URL/],
    [{ TESSERA_S3_BUCKET: 'media', TESSERA_S3_REGION: 'EU West' }, /TESSERA_S3_REGION must look like us-east-1/],
    [{ TESSERA_S3_BUCKET: 'media', TESSERA_S3_FORCE_PATH_STYLE: 'sometimes' }, /TESSERA_S3_FORCE_PATH_STYLE must be true or false/],
    [{ TESSERA_S3_BUCKET: 'media', TESSERA_S3_PREFIX: 'a/../b' }, /TESSERA_S3_PREFIX must be a plain key prefix/],
  ];
  for (const [env, re] of bad) {
    assert.throws(
      () => resolveConfig({}, { TESSERA_DATA_DIR: d, ...env }),
      (e: unknown) => e instanceof ConfigError && re.test(e.message) && !e.message.includes('\n'),
      `${JSON.stringify(env)} should fail with ${re}`,
    );
  }
});

test('job concurrency: 2 on SQLite, 4 on PostgreSQL, TESSERA_JOB_CONCURRENCY overrides, nonsense refused', () => {
  const d = dir();
  assert.equal(resolveConfig({}, { TESSERA_DATA_DIR: d }).jobs.concurrency, 2);
  assert.equal(resolveConfig({}, { TESSERA_DATA_DIR: d, ...SHARED, TESSERA_DATABASE_URL: 'postgres://db/tessera' }).jobs.concurrency, 4);
  assert.equal(resolveConfig({}, { TESSERA_DATA_DIR: d, TESSERA_JOB_CONCURRENCY: '1' }).jobs.concurrency, 1);
  assert.equal(resolveConfig({ jobConcurrency: 8 }, { TESSERA_DATA_DIR: d, TESSERA_JOB_CONCURRENCY: '3' }).jobs.concurrency, 8);
  assert.throws(() => resolveConfig({}, { TESSERA_DATA_DIR: d, TESSERA_JOB_CONCURRENCY: '0' }), /TESSERA_JOB_CONCURRENCY must be between 1 and 64/);
  assert.throws(() => resolveConfig({}, { TESSERA_DATA_DIR: d, TESSERA_JOB_CONCURRENCY: 'many' }), ConfigError);
});
