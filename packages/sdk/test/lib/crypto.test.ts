// The bundled hashes back the synchronous helpers: pin them to node:crypto.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
  fromBase64,
  hmacAsync,
  hmacSync,
  randomUuid,
  sha1,
  sha256,
  timingSafeEqual,
  toBase64,
  toBase64Url,
  toHex,
  utf8,
} from '../../src/lib/crypto.js';

describe('bundled crypto', () => {
  test('SHA-1 and SHA-256 match node:crypto for lengths 0–300 (every padding boundary)', () => {
    for (let len = 0; len <= 300; len++) {
      const m = randomBytes(len);
      assert.equal(toHex(sha1(m)), createHash('sha1').update(m).digest('hex'), `sha1 len ${len}`);
      assert.equal(toHex(sha256(m)), createHash('sha256').update(m).digest('hex'), `sha256 len ${len}`);
    }
  });

  test('known vectors (FIPS 180-2 "abc")', () => {
    assert.equal(toHex(sha1(utf8('abc'))), 'a9993e364706816aba3e25717850c26c9cd0d89d');
    assert.equal(toHex(sha256(utf8('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  test('a 1 MiB message', () => {
    const m = randomBytes(1 << 20);
    assert.equal(toHex(sha256(m)), createHash('sha256').update(m).digest('hex'));
  });

  test('HMAC-SHA1 / SHA-256, sync and Web Crypto, match node:crypto incl. keys longer than a block', async () => {
    for (const keyLen of [1, 20, 63, 64, 65, 200]) {
      for (const msgLen of [0, 1, 55, 56, 64, 1000]) {
        const key = randomBytes(keyLen);
        const msg = randomBytes(msgLen);
        const h1 = createHmac('sha1', key).update(msg).digest('hex');
        const h256 = createHmac('sha256', key).update(msg).digest('hex');
        assert.equal(toHex(hmacSync('SHA-1', key, msg)), h1);
        assert.equal(toHex(hmacSync('SHA-256', key, msg)), h256);
        assert.equal(toHex(await hmacAsync('SHA-1', key, msg)), h1);
        assert.equal(toHex(await hmacAsync('SHA-256', key, msg)), h256);
      }
    }
  });

  test('hmacAsync falls back to the bundled code when crypto.subtle is missing', async (t) => {
    const original = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
    Object.defineProperty(globalThis, 'crypto', { value: {}, configurable: true, writable: true });
    t.after(() => {
      if (original) Object.defineProperty(globalThis, 'crypto', original);
    });
    const key = utf8('k');
    const msg = utf8('message');
    assert.equal(toHex(await hmacAsync('SHA-256', key, msg)), createHmac('sha256', 'k').update('message').digest('hex'));
    // Without randomUUID/getRandomValues a v4-shaped UUID is still produced.
    assert.match(randomUuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('base64 / base64url round trips and matches Buffer', () => {
    for (let len = 0; len < 70; len++) {
      const b = randomBytes(len);
      assert.equal(toBase64(b), b.toString('base64'));
      assert.equal(toBase64Url(b), b.toString('base64url'));
      assert.deepEqual(Buffer.from(fromBase64(b.toString('base64'))), b);
      assert.deepEqual(Buffer.from(fromBase64(b.toString('base64url'))), b);
    }
    assert.throws(() => fromBase64('ab$d'), /Invalid base64/);
  });

  test('timingSafeEqual', () => {
    assert.equal(timingSafeEqual(utf8('abc'), utf8('abc')), true);
    assert.equal(timingSafeEqual(utf8('abc'), utf8('abd')), false);
    assert.equal(timingSafeEqual(utf8('abc'), utf8('ab')), false);
  });
});
