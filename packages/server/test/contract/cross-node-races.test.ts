/**
 * Races between two nodes, decided by the shared PostgreSQL database: two services over two
 * connection pools on one database stand in for two nodes.
 * - Client-side upload tokens are single-use across nodes: racing with the same V1 signature or
 *   V2 JWT, exactly one node lets the upload through (the "used" record is a unique-key insert).
 * - Custom metadata fields: two creates racing with one label admit exactly one (the check and
 *   the insert run under an advisory lock on PostgreSQL).
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { after, before, describe, test } from 'node:test';
import type { KyselyMetadataStore } from '../../src/adapters/db/kysely-store.js';
import { openPostgresStore } from '../../src/adapters/db/postgres/index.js';
import { isApiError } from '../../src/errors/index.js';
import { customFieldStoreFor } from '../../src/adapters/db/custom-field-repo.js';
import { CustomMetadataService } from '../../src/services/custom-metadata-service.js';
import { UploadAuthService } from '../../src/services/upload-auth.js';
import { freshPgDatabase, postgresForTests, type FreshDatabase } from '../support/pg-fresh.js';

const keys = { privateKey: 'private_race_key_0123456789', publicKey: 'public_race_key_0123456789' };
const PG = await postgresForTests('the cross-node races');

describe('races between two nodes (PostgreSQL)', { skip: !PG }, () => {
  let db: FreshDatabase;
  let a: KyselyMetadataStore;
  let b: KyselyMetadataStore;
  before(async () => {
    db = await freshPgDatabase();
    a = await openPostgresStore({ url: db.url, poolMax: 6 });
    b = await openPostgresStore({ url: db.url, poolMax: 6 });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  async function race(attempt: (svc: UploadAuthService) => Promise<void>) {
    const nodes = [new UploadAuthService(keys, a), new UploadAuthService(keys, b)];
    const results = await Promise.allSettled([0, 1, 0, 1, 0, 1].map((i) => attempt(nodes[i]!)));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    for (const r of results) {
      if (r.status === 'rejected') {
        assert.ok(isApiError(r.reason), `a refusal is an API error, got ${String(r.reason)}`);
        assert.match((r.reason as Error).message, /used before/);
      }
    }
    return ok;
  }

  test('a V1 signature raced on both nodes lets exactly one upload through', async () => {
    for (let round = 0; round < 15; round++) {
      const token = randomBytes(12).toString('hex');
      const expire = String(Math.floor(Date.now() / 1000) + 600);
      const signature = createHmac('sha1', keys.privateKey).update(token + expire).digest('hex');
      const fields = { token: [token], expire: [expire], signature: [signature], publicKey: [keys.publicKey], fileName: ['a.jpg'] };
      assert.equal(await race((svc) => svc.authorize(1, fields, false)), 1, `round ${round}`);
    }
  });

  test('a V2 JWT raced on both nodes lets exactly one upload through', async () => {
    for (let round = 0; round < 15; round++) {
      const jwt = await new SignJWT({ fileName: 'a.jpg', nonce: randomBytes(6).toString('hex') })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: keys.publicKey })
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(keys.privateKey));
      const fields = { token: [jwt], fileName: ['a.jpg'], nonce: [''] };
      // The payload pins every field sent: send the nonce it carries.
      const payload = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { nonce: string };
      fields.nonce = [payload.nonce];
      assert.equal(await race((svc) => svc.authorize(2, fields, false)), 1, `round ${round}`);
    }
  });

  test('custom metadata fields: two creates racing with one label admit exactly one', async () => {
    const nodes = [a, b].map((s) => new CustomMetadataService(customFieldStoreFor(s)));
    for (let round = 0; round < 5; round++) {
      const label = `Race label ${round}`;
      const results = await Promise.allSettled(
        [0, 1, 0, 1].map((i, k) => nodes[i]!.create({ name: `race_${round}_${k}`, label, schema: { type: 'Text' } })),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `round ${round}`);
      for (const r of results) if (r.status === 'rejected') assert.ok(isApiError(r.reason), String(r.reason));
      const live = (await nodes[0]!.list()).filter((f) => f.label === label);
      assert.equal(live.length, 1);
    }
  });
  test('a transaction that keeps losing serialization races is retried, then refused with 503 and Retry-After', async () => {
    let runs = 0;
    const failing = a.transaction(async () => {
      runs++;
      throw Object.assign(new Error('could not serialize access due to concurrent update'), { code: '40001' });
    });
    await assert.rejects(failing, (e: unknown) => {
      assert.ok(isApiError(e), `an API error, got ${String(e)}`);
      assert.equal(e.status, 503);
      assert.equal(e.headers['Retry-After'], '1');
      return true;
    });
    assert.ok(runs > 1, `retried (${runs} runs)`);
    let later = 0;
    const value = await a.transaction(async () => {
      if (later++ < 2) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      return 'done';
    });
    assert.equal(value, 'done', 'a transaction that wins on a later attempt returns its value');
  });
});
