import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, decodeProtectedHeader, jwtVerify } from 'jose';
import { createUploadToken, serializeUploadPayload } from '../../src/lib/index.js';
import type { UploadTokenPayload } from '../../src/lib/index.js';

const PRIVATE_KEY = 'private_key_jwt_test';
const PUBLIC_KEY = 'public_key_jwt_test';
const SECRET = new TextEncoder().encode(PRIVATE_KEY);
const NOW_MS = 1_700_000_000_000;
const NOW = NOW_MS / 1000;

const PAYLOAD: UploadTokenPayload = {
  fileName: 'dress.jpg',
  useUniqueFileName: false,
  tags: ['summer', 'dress'],
  folder: '/products/2024',
  isPrivateFile: true,
  responseFields: ['tags', 'customMetadata'],
  customMetadata: { brand: 'Nike', price: 120 },
  extensions: [{ name: 'google-auto-tagging', minConfidence: 80, maxTags: 10 }],
  transformation: { pre: 'w-300', post: [{ type: 'thumbnail', value: 'w-150' }] },
  description: 'Red dress — ünïcode',
  webhookUrl: undefined,
};

const SERIALIZED = {
  fileName: 'dress.jpg',
  useUniqueFileName: 'false',
  tags: 'summer,dress',
  folder: '/products/2024',
  isPrivateFile: 'true',
  responseFields: 'tags,customMetadata',
  customMetadata: '{"brand":"Nike","price":120}',
  extensions: '[{"name":"google-auto-tagging","minConfidence":80,"maxTags":10}]',
  transformation: '{"pre":"w-300","post":[{"type":"thumbnail","value":"w-150"}]}',
  description: 'Red dress — ünïcode',
};

describe('serializeUploadPayload', () => {
  test('turns upload parameters into the strings a multipart request sends', () => {
    assert.deepEqual(serializeUploadPayload(PAYLOAD), SERIALIZED);
  });

  test('numbers become text; null and undefined are dropped', () => {
    assert.deepEqual(serializeUploadPayload({ a: 1.5, b: null, c: undefined }), { a: '1.5' });
  });
});

describe('createUploadToken', () => {
  test('an HS256 JWT that jose verifies, with kid = public key and string-valued upload parameters', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW_MS });
    const token = await createUploadToken({ privateKey: PRIVATE_KEY, publicKey: PUBLIC_KEY, uploadPayload: PAYLOAD, expireSeconds: 600 });
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'HS256', typ: 'JWT', kid: PUBLIC_KEY });
    const { payload, protectedHeader } = await jwtVerify(token, SECRET, { algorithms: ['HS256'], currentDate: new Date(NOW_MS) });
    assert.equal(protectedHeader.kid, PUBLIC_KEY);
    assert.deepEqual(payload, { ...SERIALIZED, iat: NOW, exp: NOW + 600 });
  });

  test('byte-identical to the same token minted with jose (as ImageKit\'s jsonwebtoken example would)', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW_MS });
    const ours = await createUploadToken({ privateKey: PRIVATE_KEY, publicKey: PUBLIC_KEY, uploadPayload: PAYLOAD, expireSeconds: 3600 });
    const theirs = await new SignJWT(SERIALIZED)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: PUBLIC_KEY })
      .setIssuedAt(NOW)
      .setExpirationTime(NOW + 3600)
      .sign(SECRET);
    assert.equal(ours, theirs);
  });

  test('default lifetime is 600 seconds', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW_MS });
    const token = await createUploadToken({ privateKey: PRIVATE_KEY, publicKey: PUBLIC_KEY, uploadPayload: { fileName: 'a.jpg' } });
    const { payload } = await jwtVerify(token, SECRET, { currentDate: new Date(NOW_MS) });
    assert.equal(payload.exp, NOW + 600);
  });

  test('the token fails verification with another key, after tampering, and after expiry', async () => {
    const token = await createUploadToken({ privateKey: PRIVATE_KEY, publicKey: PUBLIC_KEY, uploadPayload: { fileName: 'a.jpg' }, expireSeconds: 60 });
    await assert.rejects(jwtVerify(token, new TextEncoder().encode('other')), /signature verification failed/);
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ fileName: 'evil.exe', iat: 1, exp: 9e9 })).toString('base64url')}.${s}`;
    await assert.rejects(jwtVerify(forged, SECRET), /signature verification failed/);
    await assert.rejects(jwtVerify(token, SECRET, { currentDate: new Date(Date.now() + 61_000) }), /"exp" claim timestamp check failed/);
  });

  test('refuses lifetimes outside 1..3600 s and signing file or token', async () => {
    const base = { privateKey: PRIVATE_KEY, publicKey: PUBLIC_KEY, uploadPayload: { fileName: 'a.jpg' } };
    for (const expireSeconds of [0, -5, 3601, 1.5, Number.NaN]) {
      await assert.rejects(createUploadToken({ ...base, expireSeconds }), RangeError);
    }
    await assert.rejects(createUploadToken({ ...base, uploadPayload: { fileName: 'a', file: 'x' } }), /`file` is not signed/);
    await assert.rejects(createUploadToken({ ...base, uploadPayload: { fileName: 'a', token: 'x' } }), /`token` is not signed/);
    await assert.rejects(createUploadToken({ ...base, privateKey: '' }), /privateKey/);
    await assert.rejects(createUploadToken({ ...base, publicKey: '' }), /publicKey/);
  });
});
