/**
 * Client-side upload authentication end to end: V1 (publicKey + HMAC-SHA1 signature of
 * token+expire) and V2 (an HS256 JWT pinning the upload parameters). Tokens are single use,
 * across restarts too.
 */
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  assertApiError,
  assertClientError,
  assertNothingStored,
  basicAuth,
  getDetails,
  makePng,
  snapshot,
  upload,
  type ApiResponse,
} from '../support/e2e-helpers.js';

let server: TestServer;
let png: Buffer;

const nowS = () => Math.floor(Date.now() / 1000);

function signV1(privateKey: string, token: string, expire: number | string): string {
  return createHmac('sha1', privateKey).update(`${token}${expire}`).digest('hex');
}

interface V1Params {
  token?: string;
  expire?: number;
  publicKey?: string;
  signature?: string;
  signingKey?: string;
}

function v1Fields(p: V1Params = {}): Record<string, string> {
  const token = p.token ?? randomUUID();
  // Well inside the hour, so a slow machine cannot push a valid request past its expiry.
  const expire = p.expire ?? nowS() + 1800;
  return {
    publicKey: p.publicKey ?? server.publicKey,
    token,
    expire: String(expire),
    signature: p.signature ?? signV1(p.signingKey ?? server.privateKey, token, expire),
  };
}

async function v1Upload(fields: Record<string, string>, extra: Record<string, string> = {}, auth: string | null = null): Promise<ApiResponse> {
  return upload(server, { fileName: 'client-v1.png', ...extra, ...fields }, { bytes: png, type: 'image/png' }, { version: 1, auth });
}

async function makeJwt(
  payload: Record<string, string>,
  opts: { key?: string; kid?: string; expSeconds?: number; exp?: number } = {},
): Promise<string> {
  const jwt = new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: opts.kid ?? server.publicKey });
  jwt.setIssuedAt();
  jwt.setExpirationTime(opts.exp ?? nowS() + (opts.expSeconds ?? 1800));
  return jwt.sign(new TextEncoder().encode(opts.key ?? server.privateKey));
}

async function v2Upload(fields: Record<string, string>, token: string, auth: string | null = null): Promise<ApiResponse> {
  return upload(server, { ...fields, token }, { bytes: png, type: 'image/png' }, { version: 2, auth });
}

before(async () => {
  png = await makePng(20, 20);
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

describe('V1: publicKey + signature + expire + token', () => {
  test('a valid signature uploads', async () => {
    const r = await v1Upload(v1Fields(), { tags: 'client' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.name, /^client-v1_\w+\.png$/);
    const d = await getDetails(server, r.body.fileId);
    assert.equal(d.status, 200);
    assert.deepEqual(d.body.tags, ['client']);
  });

  test('the signature is case-insensitive hex', async () => {
    const f = v1Fields();
    const r = await v1Upload({ ...f, signature: f.signature!.toUpperCase() });
    assert.equal(r.status, 200, r.text);
  });

  test('an expire in the past is refused', async () => {
    const before = await snapshot(server.dataDir);
    const r = await v1Upload(v1Fields({ expire: nowS() - 120 }));
    assertApiError(
      r,
      400,
      'Your request contains invalid expire parameter. Expire parameter should be a Unix time in less than 1 hour into the future.',
    );
    await assertNothingStored(server.dataDir, before);
  });

  test('an expire more than one hour ahead is refused', async () => {
    const before = await snapshot(server.dataDir);
    for (const ahead of [3600 + 300, 2 * 3600, 365 * 24 * 3600]) {
      const r = await v1Upload(v1Fields({ expire: nowS() + ahead }));
      assertApiError(r, 400, /expire/);
    }
    for (const expire of ['soon', '1.5e9', '-1', '']) {
      const token = randomUUID();
      const r = await v1Upload({ publicKey: server.publicKey, token, expire, signature: signV1(server.privateKey, token, expire) });
      assertClientError(r, [400]);
    }
    await assertNothingStored(server.dataDir, before);
  });

  test('a wrong signature is refused', async () => {
    const before = await snapshot(server.dataDir);
    const signedWithOtherKey = await v1Upload(v1Fields({ signingKey: 'private_not_the_right_key' }));
    assertClientError(signedWithOtherKey, [400, 401, 403]);
    const f = v1Fields();
    const flipped = f.signature!.slice(0, -1) + (f.signature!.endsWith('0') ? '1' : '0');
    assertClientError(await v1Upload({ ...f, signature: flipped }), [400, 401, 403]);
    // Signed over a different expire than the one sent.
    const token = randomUUID();
    const expire = nowS() + 1800;
    const r = await v1Upload({ publicKey: server.publicKey, token, expire: String(expire), signature: signV1(server.privateKey, token, expire + 1) });
    assertClientError(r, [400, 401, 403]);
    await assertNothingStored(server.dataDir, before);
  });

  test('a wrong publicKey is refused', async () => {
    const before = await snapshot(server.dataDir);
    const r = await v1Upload(v1Fields({ publicKey: 'public_someone_else' }));
    assertClientError(r, [400, 401, 403]);
    await assertNothingStored(server.dataDir, before);
  });

  test('missing pieces are refused', async () => {
    const before = await snapshot(server.dataDir);
    for (const drop of ['publicKey', 'signature', 'expire', 'token']) {
      const f = v1Fields();
      delete f[drop];
      assertClientError(await v1Upload(f), [400, 401, 403]);
    }
    await assertNothingStored(server.dataDir, before);
  });

  test('a token is accepted once: a replay is refused', async () => {
    const f = v1Fields();
    const first = await v1Upload(f);
    assert.equal(first.status, 200, first.text);
    const before = await snapshot(server.dataDir);
    const replay = await v1Upload(f);
    assertApiError(replay, 400, /used before/);
    // Even with another file name: the token, not the request, is single use.
    assertApiError(await v1Upload(f, { fileName: 'other.png' }), 400, /used before/);
    await assertNothingStored(server.dataDir, before);
  });

  test('both a signature and basic auth → 400', async () => {
    const before = await snapshot(server.dataDir);
    const r = await v1Upload(v1Fields(), {}, basicAuth(server.privateKey));
    assertApiError(
      r,
      400,
      'Your request contains both signature and basic auth parameter. Use only one method, you might be exposing your private API key.',
    );
    await assertNothingStored(server.dataDir, before);
  });

  test('a used token stays used after a restart on the same data dir', async () => {
    const f = v1Fields({ expire: nowS() + 3000 });
    const first = await v1Upload(f);
    assert.equal(first.status, 200, first.text);

    await server.stop({ keepData: true });
    server = await startTestServer({ dataDir: server.dataDir });

    const before = await snapshot(server.dataDir);
    const replay = await v1Upload(f);
    assertApiError(replay, 400, /used before/);
    await assertNothingStored(server.dataDir, before);
    // The restarted server still takes fresh tokens and still has the first file.
    assert.equal((await v1Upload(v1Fields())).status, 200);
    assert.equal((await getDetails(server, first.body.fileId)).status, 200);
  });
});

describe('V2: JWT pinning the upload parameters', () => {
  test('a valid token uploads, with the pinned parameters applied', async () => {
    const fields = { fileName: 'jwt.png', useUniqueFileName: 'false', tags: 't1,t2', folder: '/jwt' };
    const r = await v2Upload(fields, await makeJwt(fields));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.filePath, '/jwt/jwt.png');
    const d = await getDetails(server, r.body.fileId);
    assert.deepEqual(d.body.tags, ['t1', 't2']);
  });

  test('a tampered request is refused: a field changed, added or removed', async () => {
    const pinned = { fileName: 'tamper.png', tags: 'safe' };
    const before = await snapshot(server.dataDir);
    const cases: Array<[string, Record<string, string>]> = [
      ['changed', { fileName: 'tamper.png', tags: 'evil' }],
      ['renamed', { fileName: 'other.png', tags: 'safe' }],
      ['added', { fileName: 'tamper.png', tags: 'safe', isPrivateFile: 'true' }],
      ['removed', { fileName: 'tamper.png' }],
    ];
    for (const [what, sent] of cases) {
      const r = await v2Upload(sent, await makeJwt(pinned));
      assertApiError(r, 400);
      assert.match(r.body.message, /payload|token/i, `${what}: ${r.body.message}`);
    }
    await assertNothingStored(server.dataDir, before);
  });

  test('a token whose payload was edited after signing is refused', async () => {
    const pinned = { fileName: 'edited.png' };
    const token = await makeJwt(pinned);
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ fileName: 'edited.png', isPrivateFile: 'true', exp: nowS() + 600 })).toString('base64url');
    const before = await snapshot(server.dataDir);
    const r = await v2Upload({ fileName: 'edited.png', isPrivateFile: 'true' }, `${h}.${forged}.${s}`);
    assertApiError(r, 400);
    await assertNothingStored(server.dataDir, before);
  });

  test('a token signed with the wrong key, or for another public key, is refused', async () => {
    const fields = { fileName: 'wrongkey.png' };
    const before = await snapshot(server.dataDir);
    assertClientError(await v2Upload(fields, await makeJwt(fields, { key: 'private_not_the_right_key' })), [400, 401, 403]);
    assertClientError(await v2Upload(fields, await makeJwt(fields, { kid: 'public_someone_else' })), [400, 401, 403]);
    assertClientError(await v2Upload(fields, 'not.a.jwt'), [400, 401, 403]);
    assertClientError(await v2Upload(fields, 'garbage'), [400, 401, 403]);
    await assertNothingStored(server.dataDir, before);
  });

  test('an expired token → 400', async () => {
    const fields = { fileName: 'expired.png' };
    const before = await snapshot(server.dataDir);
    const r = await v2Upload(fields, await makeJwt(fields, { exp: nowS() - 300 }));
    assertApiError(r, 400, /expired/);
    await assertNothingStored(server.dataDir, before);
  });

  test('a token valid for more than an hour → 400', async () => {
    const fields = { fileName: 'long.png' };
    const r = await v2Upload(fields, await makeJwt(fields, { expSeconds: 3 * 3600 }));
    assertApiError(r, 400);
  });

  test('a replayed token → 400', async () => {
    const fields = { fileName: 'once.png' };
    const token = await makeJwt(fields);
    const first = await v2Upload(fields, token);
    assert.equal(first.status, 200, first.text);
    const before = await snapshot(server.dataDir);
    assertApiError(await v2Upload(fields, token), 400, /used before/);
    await assertNothingStored(server.dataDir, before);
  });

  test('both a token and basic auth → 400', async () => {
    const fields = { fileName: 'both.png' };
    const before = await snapshot(server.dataDir);
    const r = await v2Upload(fields, await makeJwt(fields), basicAuth(server.privateKey));
    assertApiError(
      r,
      400,
      'Your request contains both token and basic auth parameter. Use only one method, you might be exposing your private API key.',
    );
    await assertNothingStored(server.dataDir, before);
  });

  test('no token and no basic auth → refused', async () => {
    const before = await snapshot(server.dataDir);
    const r = await upload(server, { fileName: 'anon.png' }, { bytes: png }, { version: 2, auth: null });
    assertClientError(r, [400, 401]);
    await assertNothingStored(server.dataDir, before);
  });
});
