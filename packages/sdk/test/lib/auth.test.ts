import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import ImageKit from '@imagekit/nodejs';
import { getAuthenticationParameters, DEFAULT_AUTH_EXPIRY_SECONDS } from '../../src/lib/index.js';

const PRIVATE_KEY = 'private_key_auth_test';
const official = new ImageKit({ privateKey: PRIVATE_KEY });
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('getAuthenticationParameters', () => {
  const fixed: Array<[string, number]> = [
    ['c0ffee00-1111-4222-8333-444455556666', 1_700_001_800],
    ['plain-token', 1_800_000_000],
    ['ünïcode-tökën ✓', 1_700_000_000],
    ['x', 1],
  ];
  for (const [token, expire] of fixed) {
    test(`matches the official helper for token ${JSON.stringify(token)}`, () => {
      assert.deepEqual(getAuthenticationParameters(PRIVATE_KEY, token, expire), official.helper.getAuthenticationParameters(token, expire));
    });
  }

  test('signature is HMAC-SHA1(privateKey, token + expire) in lowercase hex', () => {
    const { signature } = getAuthenticationParameters(PRIVATE_KEY, 'abc', 1700000000);
    assert.equal(signature, createHmac('sha1', PRIVATE_KEY).update('abc1700000000').digest('hex'));
  });

  test('defaults: random UUID v4 token, expire 30 minutes ahead (as the official helper)', (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_700_000_000_500 });
    const ours = getAuthenticationParameters(PRIVATE_KEY);
    const theirs = official.helper.getAuthenticationParameters();
    assert.match(ours.token, UUID_V4);
    assert.notEqual(ours.token, getAuthenticationParameters(PRIVATE_KEY).token);
    assert.equal(DEFAULT_AUTH_EXPIRY_SECONDS, 1800);
    assert.equal(ours.expire, 1_700_000_000 + 1800);
    assert.equal(ours.expire, theirs.expire);
    // Same token and expire → same signature as the official helper.
    assert.deepEqual(ours, official.helper.getAuthenticationParameters(ours.token, ours.expire));
  });

  test('empty token / zero expire take the defaults, like the official helper', (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_700_000_000_000 });
    const ours = getAuthenticationParameters(PRIVATE_KEY, '', 0);
    assert.match(ours.token, UUID_V4);
    assert.equal(ours.expire, 1_700_001_800);
  });

  test('a missing private key is refused', () => {
    assert.throws(() => getAuthenticationParameters(''), /privateKey/);
  });
});
