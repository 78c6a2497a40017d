/**
 * Accounts: origins (every type), URL endpoints and usage, against a real server.
 *
 * Raw-fetch cases check the wire itself (status codes, secrets never in any body, every error a
 * `{message, help}`); official-SDK cases (`@imagekit/nodejs`) check the same routes the way users
 * call them. Every JSON body is validated against the spec (../support/spec.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import ImageKit, { BadRequestError, NotFoundError, type APIError } from '@imagekit/nodejs';
import { startTestServer, type TestServer } from '../support/server.js';
import { api, makePng, upload, type ApiResponse, type Json } from '../support/e2e-helpers.js';
import {
  SPEC_MISSING_MESSAGE,
  assertErrorBody,
  assertMatchesSchema,
  expectSdkError as fails,
  expectSdkOk as ok,
  responseSchemaFor,
  specAvailable,
} from '../support/spec.js';

const P = {
  origins: '/v1/accounts/origins',
  origin: '/v1/accounts/origins/{id}',
  endpoints: '/v1/accounts/url-endpoints',
  endpoint: '/v1/accounts/url-endpoints/{id}',
  usage: '/v1/accounts/usage',
} as const;

/** Asserts status and validates the body against the spec's schema for that response. */
function expectOk(res: ApiResponse, specPath: string, method: string, status: number): Json {
  assert.equal(res.status, status, `${method} ${specPath}: expected ${status}, got ${res.status}: ${res.text}`);
  const ref = responseSchemaFor(specPath, method, status);
  if (ref === null) {
    assert.equal(res.text, '', 'no body expected');
    return {};
  }
  assertMatchesSchema(res.body, ref);
  return res.body;
}

function expectError(res: ApiResponse, specPath: string, method: string, status: number, pattern?: RegExp): void {
  assert.equal(res.status, status, `${method} ${specPath}: expected ${status}, got ${res.status}: ${res.text}`);
  assertErrorBody(res.body, specPath, method, status);
  if (pattern) assert.match(String(res.body.message), pattern);
}

/**
 * The spec says deleting an origin in use "returns an error" but lists no status for it; Tessera
 * answers 400 like its other refusals, with the usual `{message, help}` body.
 */
function assertInUseError(res: { status: number; body: Json; text: string }): void {
  assert.equal(res.status, 400, res.text);
  assert.equal(typeof res.body.message, 'string');
  assert.equal(typeof res.body.help, 'string');
  assert.match(res.body.message, /in use/i);
  assert.deepEqual(Object.keys(res.body).sort(), ['help', 'message']);
}

// Every secret is a unique marker, so "never echoed" is a substring check on every response text.
const SECRETS = [
  'AKIA_SECRET_ACCESS_1',
  'SK_SECRET_VALUE_1',
  'AKIA_SECRET_ACCESS_2',
  'SK_SECRET_VALUE_2',
  'AKIA_SECRET_ACCESS_3',
  'SK_SECRET_VALUE_3',
  '-----BEGIN PRIVATE KEY-----SECRETGCS',
  '?sv=2023&sig=SECRETSAS',
  'akeneo-SECRET-client-id',
  'akeneo-SECRET-client-secret',
  'akeneo-SECRET-user',
  'akeneo-SECRET-password',
];

/** One valid request per origin type, with every optional field set somewhere. */
const ORIGIN_REQUESTS: Record<string, Json> = {
  S3: {
    type: 'S3',
    name: 'Product bucket',
    bucket: 'product-images',
    prefix: 'raw',
    accessKey: SECRETS[0],
    secretKey: SECRETS[1],
    includeCanonicalHeader: true,
    baseUrlForCanonicalHeader: 'https://cdn.example.com',
  },
  S3_IAM: { type: 'S3', name: 'Role bucket', bucket: 'role-bucket', useIAMRole: true, accessKey: '', secretKey: '' },
  S3_COMPATIBLE: {
    type: 'S3_COMPATIBLE',
    name: 'Wasabi',
    bucket: 'media',
    accessKey: SECRETS[2],
    secretKey: SECRETS[3],
    endpoint: 'https://s3.eu-central-1.wasabisys.com',
    s3ForcePathStyle: true,
  },
  CLOUDINARY_BACKUP: { type: 'CLOUDINARY_BACKUP', name: 'Cloudinary backup', bucket: 'cld-backup', accessKey: SECRETS[4], secretKey: SECRETS[5] },
  WEB_FOLDER: { type: 'WEB_FOLDER', name: 'Website', baseUrl: 'https://www.example.com/assets', forwardHostHeaderToOrigin: true },
  WEB_PROXY: { type: 'WEB_PROXY', name: 'Proxy' },
  GCS: { type: 'GCS', name: 'GCS media', bucket: 'gcs-media', prefix: 'products', clientEmail: 'svc@project.iam.gserviceaccount.com', privateKey: SECRETS[6] },
  AZURE_BLOB: { type: 'AZURE_BLOB', name: 'Azure', container: 'images', accountName: 'account123', sasToken: SECRETS[7] },
  AKENEO_PIM: {
    type: 'AKENEO_PIM',
    name: 'Akeneo',
    baseUrl: 'https://akeneo.example.com',
    clientId: SECRETS[8],
    clientSecret: SECRETS[9],
    username: SECRETS[10],
    password: SECRETS[11],
  },
};

/** Fields that must never appear in a response, per type. */
const SECRET_FIELDS = ['accessKey', 'secretKey', 'privateKey', 'sasToken', 'clientId', 'clientSecret', 'username', 'password'];

function assertNoSecrets(res: ApiResponse | { text: string }): void {
  for (const s of SECRETS) assert.ok(!res.text.includes(s), `a secret was echoed: ${res.text}`);
  for (const f of SECRET_FIELDS) assert.ok(!res.text.includes(`"${f}"`), `secret field ${f} in ${res.text}`);
}

/** The public part of a request: what the response must carry back (plus defaults and id). */
function expectedPublic(req: Json): Json {
  const out: Json = { ...req };
  for (const f of SECRET_FIELDS) delete out[f];
  out.includeCanonicalHeader ??= false;
  if (['S3', 'S3_COMPATIBLE', 'CLOUDINARY_BACKUP', 'GCS', 'AZURE_BLOB'].includes(req.type)) out.prefix ??= '';
  if (req.type === 'S3' || req.type === 'CLOUDINARY_BACKUP') out.useIAMRole ??= false;
  if (req.type === 'S3_COMPATIBLE') out.s3ForcePathStyle ??= false;
  if (req.type === 'WEB_FOLDER') out.forwardHostHeaderToOrigin ??= false;
  return out;
}

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

describe('accounts: origins, URL endpoints, usage', { skip: specAvailable ? false : SPEC_MISSING_MESSAGE }, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.stop();
  });

  describe('origins', () => {
    test('create, get, list, update and delete every origin type; secrets are never returned', async () => {
      const created: Json[] = [];
      for (const [label, req] of Object.entries(ORIGIN_REQUESTS)) {
        const res = await api(server, 'POST', '/v1/accounts/origins', req);
        const body = expectOk(res, P.origins, 'post', 201);
        assertNoSecrets(res);
        assert.match(body.id, /^[0-9a-f]{24}$/);
        const { id, ...rest } = body;
        assert.deepEqual(rest, expectedPublic(req), label);
        created.push(body);

        const got = await api(server, 'GET', `/v1/accounts/origins/${id}`);
        assert.deepEqual(expectOk(got, P.origin, 'get', 200), body);
        assertNoSecrets(got);
      }

      const list = await api(server, 'GET', '/v1/accounts/origins');
      const listed = expectOk(list, P.origins, 'get', 200) as unknown as Json[];
      assertNoSecrets(list);
      for (const c of created) assert.deepEqual(listed.find((o) => o.id === c.id), c);

      // PUT replaces the origin: new values, secrets re-sent, never echoed.
      for (const c of created) {
        const req = { ...ORIGIN_REQUESTS[Object.keys(ORIGIN_REQUESTS)[created.indexOf(c)]!]!, name: `${c.name} renamed` };
        const res = await api(server, 'PUT', `/v1/accounts/origins/${c.id}`, req);
        const body = expectOk(res, P.origin, 'put', 200);
        assertNoSecrets(res);
        assert.equal(body.id, c.id);
        assert.equal(body.name, `${c.name} renamed`);
      }
      // A PUT can change the type; fields of the old type are gone.
      const web = created.find((o) => o.type === 'WEB_PROXY')!;
      const changed = expectOk(
        await api(server, 'PUT', `/v1/accounts/origins/${web.id}`, { type: 'WEB_FOLDER', name: 'Now a folder', baseUrl: 'http://files.example.com' }),
        P.origin,
        'put',
        200,
      );
      assert.deepEqual(changed, { id: web.id, type: 'WEB_FOLDER', name: 'Now a folder', baseUrl: 'http://files.example.com', includeCanonicalHeader: false, forwardHostHeaderToOrigin: false });

      for (const c of created) {
        expectOk(await api(server, 'DELETE', `/v1/accounts/origins/${c.id}`), P.origin, 'delete', 204);
        expectError(await api(server, 'GET', `/v1/accounts/origins/${c.id}`), P.origin, 'get', 404, /not found/i);
        expectError(await api(server, 'DELETE', `/v1/accounts/origins/${c.id}`), P.origin, 'delete', 404);
      }
    });

    test('every type\'s required fields and formats are validated with a 400', async () => {
      const bad: Array<[Json, RegExp]> = [
        [{ name: 'No type' }, /Invalid origin type/],
        [{ type: 'FTP', name: 'Bad type' }, /Invalid origin type/],
        [{ type: 'WEB_PROXY' }, /name is required/],
        [{ type: 'WEB_PROXY', name: 42 }, /name/],
        [{ type: 'WEB_PROXY', name: 'bad/name!' }, /name/],
        [{ type: 'WEB_PROXY', name: 'x'.repeat(101) }, /name/],
        [{ type: 'WEB_PROXY', name: 'Proxy', bucket: 'not for proxies' }, /bucket is not a valid field/],
        [{ type: 'WEB_PROXY', name: 'Proxy', includeCanonicalHeader: 'yes' }, /includeCanonicalHeader must be a boolean/],
        [{ type: 'WEB_PROXY', name: 'Proxy', baseUrlForCanonicalHeader: 'not a url' }, /baseUrlForCanonicalHeader/],
        [{ type: 'S3', name: 'S3', accessKey: 'a', secretKey: 'b' }, /bucket is required/],
        [{ type: 'S3', name: 'S3', bucket: 'b', secretKey: 'b' }, /accessKey is required/],
        [{ type: 'S3', name: 'S3', bucket: 'b', accessKey: 'a' }, /secretKey is required/],
        [{ type: 'S3', name: 'S3', bucket: 'b', accessKey: '', secretKey: '' }, /useIAMRole/],
        [{ type: 'S3', name: 'S3', bucket: 'b', useIAMRole: true, accessKey: 'a', secretKey: 'b' }, /useIAMRole/],
        [{ type: 'S3', name: 'S3', bucket: 'b'.repeat(101), accessKey: 'a', secretKey: 'b' }, /bucket/],
        [{ type: 'S3', name: 'S3', bucket: 'b', prefix: 'p'.repeat(101), accessKey: 'a', secretKey: 'b' }, /prefix/],
        [{ type: 'S3_COMPATIBLE', name: 'S3C', bucket: 'b', accessKey: 'a', secretKey: 'b' }, /endpoint is required/],
        [{ type: 'S3_COMPATIBLE', name: 'S3C', bucket: 'b', accessKey: 'a', secretKey: 'b', endpoint: 'ftp://x' }, /endpoint/],
        [{ type: 'S3_COMPATIBLE', name: 'S3C', bucket: 'b', accessKey: '', secretKey: 'b', endpoint: 'https://x' }, /accessKey/],
        [{ type: 'S3_COMPATIBLE', name: 'S3C', bucket: 'b', accessKey: 'a', secretKey: 'b', endpoint: 'https://x', useIAMRole: true }, /useIAMRole is not a valid field/],
        [{ type: 'CLOUDINARY_BACKUP', name: 'Cld', accessKey: 'a', secretKey: 'b' }, /bucket is required/],
        [{ type: 'WEB_FOLDER', name: 'Web' }, /baseUrl is required/],
        [{ type: 'WEB_FOLDER', name: 'Web', baseUrl: 'example.com/no-scheme' }, /baseUrl/],
        [{ type: 'WEB_FOLDER', name: 'Web', baseUrl: 'https://x', forwardHostHeaderToOrigin: 1 }, /forwardHostHeaderToOrigin/],
        [{ type: 'GCS', name: 'Gcs', clientEmail: 'a@b.io', privateKey: 'k' }, /bucket is required/],
        [{ type: 'GCS', name: 'Gcs', bucket: 'b', privateKey: 'k' }, /clientEmail is required/],
        [{ type: 'GCS', name: 'Gcs', bucket: 'b', clientEmail: 'not-an-email', privateKey: 'k' }, /clientEmail/],
        [{ type: 'GCS', name: 'Gcs', bucket: 'b', clientEmail: 'a@b.io' }, /privateKey is required/],
        [{ type: 'AZURE_BLOB', name: 'Az', accountName: 'a', sasToken: 't' }, /container is required/],
        [{ type: 'AZURE_BLOB', name: 'Az', container: 'c', sasToken: 't' }, /accountName is required/],
        [{ type: 'AZURE_BLOB', name: 'Az', container: 'c', accountName: 'a' }, /sasToken is required/],
        [{ type: 'AKENEO_PIM', name: 'Ak', clientId: 'i', clientSecret: 's', username: 'u', password: 'p' }, /baseUrl is required/],
        [{ type: 'AKENEO_PIM', name: 'Ak', baseUrl: 'https://a', clientSecret: 's', username: 'u', password: 'p' }, /clientId is required/],
        [{ type: 'AKENEO_PIM', name: 'Ak', baseUrl: 'https://a', clientId: 'i', username: 'u', password: 'p' }, /clientSecret is required/],
        [{ type: 'AKENEO_PIM', name: 'Ak', baseUrl: 'https://a', clientId: 'i', clientSecret: 's', password: 'p' }, /username is required/],
        [{ type: 'AKENEO_PIM', name: 'Ak', baseUrl: 'https://a', clientId: 'i', clientSecret: 's', username: 'u' }, /password is required/],
      ];
      for (const [body, pattern] of bad) {
        const res = await api(server, 'POST', '/v1/accounts/origins', body);
        expectError(res, P.origins, 'post', 400, pattern);
        assert.ok(!res.text.includes('"id"'), `nothing created for ${JSON.stringify(body)}`);
      }
      // Not a JSON object at all.
      expectError(await api(server, 'POST', '/v1/accounts/origins', ['S3']), P.origins, 'post', 400);
      expectError(await api(server, 'POST', '/v1/accounts/origins', undefined, { rawBody: '{not json' }), P.origins, 'post', 400);
      // Nothing was stored by any of them.
      assert.deepEqual(expectOk(await api(server, 'GET', '/v1/accounts/origins'), P.origins, 'get', 200), []);

      // PUT validates the same way and answers 404 for an unknown id.
      const o = expectOk(await api(server, 'POST', '/v1/accounts/origins', ORIGIN_REQUESTS.WEB_PROXY), P.origins, 'post', 201);
      expectError(await api(server, 'PUT', `/v1/accounts/origins/${o.id}`, { type: 'S3', name: 'S3' }), P.origin, 'put', 400, /bucket/);
      expectError(await api(server, 'PUT', '/v1/accounts/origins/0123456789abcdef01234567', ORIGIN_REQUESTS.WEB_PROXY), P.origin, 'put', 404);
      expectOk(await api(server, 'DELETE', `/v1/accounts/origins/${o.id}`), P.origin, 'delete', 204);
    });

    test('the management key is required', async () => {
      const res = await api(server, 'GET', '/v1/accounts/origins', undefined, { auth: null });
      expectError(res, P.origins, 'get', 401);
    });
  });

  describe('URL endpoints', () => {
    test('the default endpoint is listed with id "default" and cannot be deleted', async () => {
      const list = expectOk(await api(server, 'GET', '/v1/accounts/url-endpoints'), P.endpoints, 'get', 200) as unknown as Json[];
      const dflt = list.find((e) => e.id === 'default');
      assert.ok(dflt, 'default endpoint listed');
      assert.equal(list[0]!.id, 'default', 'default endpoint first');
      assert.equal(dflt.urlPrefix, '');
      assert.deepEqual(dflt.origins, []);
      assert.deepEqual(expectOk(await api(server, 'GET', '/v1/accounts/url-endpoints/default'), P.endpoint, 'get', 200), dflt);
      expectError(await api(server, 'DELETE', '/v1/accounts/url-endpoints/default'), P.endpoint, 'delete', 400, /default/i);
      expectOk(await api(server, 'GET', '/v1/accounts/url-endpoints/default'), P.endpoint, 'get', 200);
      // Its prefix stays empty.
      expectError(
        await api(server, 'PUT', '/v1/accounts/url-endpoints/default', { description: 'x', urlPrefix: 'images' }),
        P.endpoint,
        'put',
        400,
        /urlPrefix/,
      );
    });

    test('create, get, list, update and delete; origins in order; url rewriters', async () => {
      const o1 = expectOk(await api(server, 'POST', '/v1/accounts/origins', ORIGIN_REQUESTS.WEB_FOLDER), P.origins, 'post', 201);
      const o2 = expectOk(await api(server, 'POST', '/v1/accounts/origins', ORIGIN_REQUESTS.S3), P.origins, 'post', 201);

      const res = await api(server, 'POST', '/v1/accounts/url-endpoints', {
        description: 'Product images',
        urlPrefix: 'product-images',
        origins: [o2.id, o1.id],
        urlRewriter: { type: 'CLOUDINARY' },
      });
      const ep = expectOk(res, P.endpoints, 'post', 201);
      assertNoSecrets(res);
      assert.match(ep.id, /^[0-9a-f]{24}$/);
      assert.deepEqual(ep, {
        id: ep.id,
        description: 'Product images',
        urlPrefix: 'product-images',
        origins: [o2.id, o1.id],
        urlRewriter: { type: 'CLOUDINARY', preserveAssetDeliveryTypes: false },
      });
      assert.deepEqual(expectOk(await api(server, 'GET', `/v1/accounts/url-endpoints/${ep.id}`), P.endpoint, 'get', 200), ep);
      const list = expectOk(await api(server, 'GET', '/v1/accounts/url-endpoints'), P.endpoints, 'get', 200) as unknown as Json[];
      assert.deepEqual(list.map((e) => e.id), ['default', ep.id]);

      // PUT replaces: new order, another rewriter; omitted fields take the spec's defaults.
      const upd = expectOk(
        await api(server, 'PUT', `/v1/accounts/url-endpoints/${ep.id}`, {
          description: 'Products',
          urlPrefix: 'products',
          origins: [o1.id, o2.id],
          urlRewriter: { type: 'IMGIX' },
        }),
        P.endpoint,
        'put',
        200,
      );
      assert.deepEqual(upd, { id: ep.id, description: 'Products', urlPrefix: 'products', origins: [o1.id, o2.id], urlRewriter: { type: 'IMGIX' } });
      const upd2 = expectOk(
        await api(server, 'PUT', `/v1/accounts/url-endpoints/${ep.id}`, { description: 'Products', urlPrefix: 'products' }),
        P.endpoint,
        'put',
        200,
      );
      assert.deepEqual(upd2, { id: ep.id, description: 'Products', urlPrefix: 'products', origins: [] });
      const ak = expectOk(
        await api(server, 'PUT', `/v1/accounts/url-endpoints/${ep.id}`, {
          description: 'Products',
          urlPrefix: 'products',
          urlRewriter: { type: 'CLOUDINARY', preserveAssetDeliveryTypes: true },
        }),
        P.endpoint,
        'put',
        200,
      );
      assert.deepEqual(ak.urlRewriter, { type: 'CLOUDINARY', preserveAssetDeliveryTypes: true });
      expectOk(
        await api(server, 'PUT', `/v1/accounts/url-endpoints/${ep.id}`, { description: 'Products', urlPrefix: 'products', urlRewriter: { type: 'AKAMAI' } }),
        P.endpoint,
        'put',
        200,
      );

      // The default endpoint's origins can be edited.
      const d = expectOk(
        await api(server, 'PUT', '/v1/accounts/url-endpoints/default', { description: 'Default', origins: [o1.id] }),
        P.endpoint,
        'put',
        200,
      );
      assert.deepEqual(d, { id: 'default', description: 'Default', urlPrefix: '', origins: [o1.id] });

      // An origin in use cannot be deleted; once no endpoint lists it, it can.
      assertInUseError(await api(server, 'DELETE', `/v1/accounts/origins/${o1.id}`));
      expectOk(await api(server, 'GET', `/v1/accounts/origins/${o1.id}`), P.origin, 'get', 200);
      expectOk(await api(server, 'PUT', '/v1/accounts/url-endpoints/default', { description: 'Default', origins: [] }), P.endpoint, 'put', 200);
      expectOk(await api(server, 'DELETE', `/v1/accounts/origins/${o1.id}`), P.origin, 'delete', 204);

      expectOk(await api(server, 'PUT', `/v1/accounts/url-endpoints/${ep.id}`, { description: 'P', urlPrefix: 'products', origins: [o2.id] }), P.endpoint, 'put', 200);
      assertInUseError(await api(server, 'DELETE', `/v1/accounts/origins/${o2.id}`));
      // Deleting the endpoint releases its origins.
      expectOk(await api(server, 'DELETE', `/v1/accounts/url-endpoints/${ep.id}`), P.endpoint, 'delete', 204);
      expectError(await api(server, 'GET', `/v1/accounts/url-endpoints/${ep.id}`), P.endpoint, 'get', 404, /not found/i);
      expectError(await api(server, 'DELETE', `/v1/accounts/url-endpoints/${ep.id}`), P.endpoint, 'delete', 404);
      expectError(await api(server, 'PUT', `/v1/accounts/url-endpoints/${ep.id}`, { description: 'x', urlPrefix: 'x' }), P.endpoint, 'put', 404);
      expectOk(await api(server, 'DELETE', `/v1/accounts/origins/${o2.id}`), P.origin, 'delete', 204);
    });

    test('validation errors are 400 with {message, help}', async () => {
      const o = expectOk(await api(server, 'POST', '/v1/accounts/origins', ORIGIN_REQUESTS.WEB_PROXY), P.origins, 'post', 201);
      const taken = expectOk(
        await api(server, 'POST', '/v1/accounts/url-endpoints', { description: 'Taken', urlPrefix: 'taken' }),
        P.endpoints,
        'post',
        201,
      );
      const eleven = Array.from({ length: 11 }, (_, i) => `0123456789abcdef012345${String(i).padStart(2, '0')}`);
      const bad: Array<[unknown, RegExp]> = [
        [{ urlPrefix: 'a' }, /description is required/],
        [{ description: '', urlPrefix: 'a' }, /description is required/],
        [{ description: 'x'.repeat(1001), urlPrefix: 'a' }, /description/],
        [{ description: 'No prefix' }, /urlPrefix cannot be an empty string/],
        [{ description: 'Empty', urlPrefix: '' }, /urlPrefix cannot be an empty string/],
        [{ description: 'Number', urlPrefix: 7 }, /urlPrefix must be a string/],
        [{ description: 'Slash', urlPrefix: 'a/b' }, /letters, digits and hyphens/],
        [{ description: 'Underscore', urlPrefix: 'a_b' }, /letters, digits and hyphens/],
        [{ description: 'Long', urlPrefix: 'a'.repeat(101) }, /urlPrefix/],
        [{ description: 'Taken', urlPrefix: 'taken' }, /already used/],
        [{ description: 'Ghost', urlPrefix: 'ghost', origins: ['0123456789abcdef01234567'] }, /does not exist/],
        [{ description: 'Dup', urlPrefix: 'dup', origins: [o.id, o.id] }, /twice/],
        [{ description: 'Many', urlPrefix: 'many', origins: eleven }, /at most 10/],
        [{ description: 'Not array', urlPrefix: 'na', origins: o.id }, /origins must be an array/],
        [{ description: 'Rewriter', urlPrefix: 'rw', urlRewriter: { type: 'FASTLY' } }, /urlRewriter/],
        [{ description: 'Rewriter', urlPrefix: 'rw', urlRewriter: { type: 'IMGIX', extra: 1 } }, /extra is not a valid field/],
        [{ description: 'Rewriter', urlPrefix: 'rw', urlRewriter: { type: 'CLOUDINARY', preserveAssetDeliveryTypes: 'yes' } }, /preserveAssetDeliveryTypes/],
        [{ description: 'Extra', urlPrefix: 'extra', id: 'mine' }, /id is not a valid field/],
        ['just a string', /JSON object/],
      ];
      for (const [body, pattern] of bad) {
        expectError(await api(server, 'POST', '/v1/accounts/url-endpoints', body), P.endpoints, 'post', 400, pattern);
      }
      // The same rules on update, plus: another endpoint's prefix is taken.
      const other = expectOk(await api(server, 'POST', '/v1/accounts/url-endpoints', { description: 'Other', urlPrefix: 'other' }), P.endpoints, 'post', 201);
      expectError(await api(server, 'PUT', `/v1/accounts/url-endpoints/${other.id}`, { description: 'Other', urlPrefix: 'taken' }), P.endpoint, 'put', 400, /already used/);
      expectError(await api(server, 'PUT', `/v1/accounts/url-endpoints/${other.id}`, { description: 'Other' }), P.endpoint, 'put', 400, /empty string/);
      // Keeping its own prefix is fine.
      expectOk(await api(server, 'PUT', `/v1/accounts/url-endpoints/${other.id}`, { description: 'Other 2', urlPrefix: 'other' }), P.endpoint, 'put', 200);

      const list = expectOk(await api(server, 'GET', '/v1/accounts/url-endpoints'), P.endpoints, 'get', 200) as unknown as Json[];
      assert.deepEqual(list.map((e) => e.urlPrefix).sort(), ['', 'other', 'taken'], 'no invalid endpoint was stored');
      for (const e of [taken, other]) expectOk(await api(server, 'DELETE', `/v1/accounts/url-endpoints/${e.id}`), P.endpoint, 'delete', 204);
      expectOk(await api(server, 'DELETE', `/v1/accounts/origins/${o.id}`), P.origin, 'delete', 204);
    });
  });

  describe('usage', () => {
    test('date rules: both required, YYYY-MM-DD, start before end, at most 90 days', async () => {
      const bad: Array<[string, RegExp]> = [
        ['', /required/],
        ['?startDate=2024-01-01', /required/],
        ['?endDate=2024-01-01', /required/],
        ['?startDate=&endDate=2024-01-01', /required/],
        ['?startDate=2024-1-01&endDate=2024-02-01', /YYYY-MM-DD/],
        ['?startDate=2024-01-01&endDate=20240201', /YYYY-MM-DD/],
        ['?startDate=2024-02-30&endDate=2024-03-05', /YYYY-MM-DD/],
        ['?startDate=2024-01-01T00:00:00Z&endDate=2024-02-01', /YYYY-MM-DD/],
        ['?startDate=2024-01-01&startDate=2024-01-02&endDate=2024-02-01', /YYYY-MM-DD/],
        ['?startDate=2024-02-01&endDate=2024-02-01', /before/],
        ['?startDate=2024-03-01&endDate=2024-02-01', /before/],
        ['?startDate=2024-01-01&endDate=2024-04-01', /90 days/], // 91 days (2024 is a leap year)
      ];
      for (const [q, pattern] of bad) {
        expectError(await api(server, 'GET', `/v1/accounts/usage${q}`), P.usage, 'get', 400, pattern);
      }
      // Exactly 90 days is allowed (the end date is excluded: 90 days of data).
      const ok = expectOk(await api(server, 'GET', '/v1/accounts/usage?startDate=2024-01-01&endDate=2024-03-31'), P.usage, 'get', 200);
      assert.deepEqual(Object.keys(ok).sort(), [
        'bandwidthBytes',
        'extensionUnitsCount',
        'mediaLibraryStorageBytes',
        'originalCacheStorageBytes',
        'videoProcessingUnitsCount',
      ]);
    });

    test('real numbers: delivered bytes per UTC day (end date excluded), stored bytes, kept across a restart', async () => {
      // A server of its own, so other suites' traffic does not mix in.
      const own = await startTestServer();
      try {
        const png = await makePng(64, 48);
        const png2 = await makePng(32, 32, true);
        const up = await upload(own, { fileName: 'usage.png', useUniqueFileName: 'false' }, { bytes: png, name: 'usage.png' });
        assert.equal(up.status, 200, up.text);
        const url: string = up.body.url;

        const yesterday = day(-1);
        const today = day(0);
        const tomorrow = day(1);
        const usage = async (from: string, to: string) =>
          expectOk(await api(own, 'GET', `/v1/accounts/usage?startDate=${from}&endDate=${to}`), P.usage, 'get', 200);

        const before = await usage(yesterday, tomorrow);
        assert.equal(before.bandwidthBytes, 0);
        assert.equal(before.mediaLibraryStorageBytes, png.length);

        // Two full downloads, a 100-byte range, a HEAD (no body) and a 304 (no body).
        for (let i = 0; i < 2; i++) {
          const r = await fetch(url);
          assert.equal(r.status, 200);
          assert.equal((await r.arrayBuffer()).byteLength, png.length);
        }
        const ranged = await fetch(url, { headers: { range: 'bytes=0-99' } });
        assert.equal(ranged.status, 206);
        await ranged.arrayBuffer();
        assert.equal((await fetch(url, { method: 'HEAD' })).status, 200);
        const etag = (await fetch(url, { method: 'HEAD' })).headers.get('etag')!;
        assert.equal((await fetch(url, { headers: { 'if-none-match': etag } })).status, 304);
        assert.equal((await fetch(`${own.urlEndpoint}/missing.png`)).status, 404);

        const expected = 2 * png.length + 100;
        const now = await usage(yesterday, tomorrow);
        assert.equal(now.bandwidthBytes, expected);
        assert.equal(now.videoProcessingUnitsCount, 0);
        assert.equal(now.extensionUnitsCount, 0);
        assert.equal(now.originalCacheStorageBytes, 0);
        if (day(0) === today) {
          // Same UTC day throughout: [today, tomorrow) has it all, [yesterday, today) none of it.
          assert.equal((await usage(today, tomorrow)).bandwidthBytes, expected);
          assert.equal((await usage(yesterday, today)).bandwidthBytes, 0);
        }

        // Stored bytes follow the library: a second file adds its size.
        const up2 = await upload(own, { fileName: 'second.png' }, { bytes: png2, name: 'second.png' });
        assert.equal(up2.status, 200, up2.text);
        assert.equal((await usage(yesterday, tomorrow)).mediaLibraryStorageBytes, png.length + png2.length);

        // Counted bytes survive a restart: the last batch is flushed on shutdown.
        assert.equal((await fetch(url).then((r) => r.arrayBuffer())).byteLength, png.length);
        await own.stop({ keepData: true });
        const again = await startTestServer({ dataDir: own.dataDir });
        try {
          const after = expectOk(await api(again, 'GET', `/v1/accounts/usage?startDate=${yesterday}&endDate=${tomorrow}`), P.usage, 'get', 200);
          assert.equal(after.bandwidthBytes, expected + png.length);
          assert.equal(after.mediaLibraryStorageBytes, png.length + png2.length);
        } finally {
          await again.stop();
        }
      } finally {
        await own.stop();
      }
    });
  });

  describe('official SDK (@imagekit/nodejs)', () => {
    let client: ImageKit;
    before(() => {
      client = new ImageKit({ privateKey: server.privateKey, baseURL: server.baseUrl, maxRetries: 0 });
    });

    test('accounts.origins: create/list/get/update/delete for every type, secrets never returned', async () => {
      for (const req of Object.values(ORIGIN_REQUESTS)) {
        const created = await ok(client.accounts.origins.create(req as never), P.origins, 'post', 201);
        assertNoSecrets({ text: JSON.stringify(created) });
        const got = await ok(client.accounts.origins.get(created.id), P.origin, 'get', 200);
        assert.deepEqual(got, created);
        const listed = await ok(client.accounts.origins.list(), P.origins, 'get', 200);
        assert.ok(listed.some((o) => o.id === created.id));
        assertNoSecrets({ text: JSON.stringify(listed) });
        const updated = await ok(client.accounts.origins.update(created.id, { ...req, name: 'Updated by SDK' } as never), P.origin, 'put', 200);
        assert.equal(updated.name, 'Updated by SDK');
        assertNoSecrets({ text: JSON.stringify(updated) });
        await ok(client.accounts.origins.delete(created.id), P.origin, 'delete', 204);
        await fails(client.accounts.origins.get(created.id), NotFoundError, 404, P.origin, 'get');
      }
      await fails(client.accounts.origins.create({ type: 'S3', name: 'No bucket', accessKey: 'a', secretKey: 'b' } as never), BadRequestError, 400, P.origins, 'post');
    });

    test('accounts.urlEndpoints: list/create/get/update/delete; default undeletable; in-use origin undeletable', async () => {
      const origin = await ok(client.accounts.origins.create(ORIGIN_REQUESTS.WEB_FOLDER as never), P.origins, 'post', 201);
      const list = await ok(client.accounts.urlEndpoints.list(), P.endpoints, 'get', 200);
      assert.equal(list[0]!.id, 'default');

      const ep = await ok(
        client.accounts.urlEndpoints.create({ description: 'SDK endpoint', urlPrefix: 'sdk', origins: [origin.id], urlRewriter: { type: 'IMGIX' } }),
        P.endpoints,
        'post',
        201,
      );
      assert.deepEqual(ep, { id: ep.id, description: 'SDK endpoint', urlPrefix: 'sdk', origins: [origin.id], urlRewriter: { type: 'IMGIX' } });
      assert.deepEqual(await ok(client.accounts.urlEndpoints.get(ep.id), P.endpoint, 'get', 200), ep);
      const upd = await ok(client.accounts.urlEndpoints.update(ep.id, { description: 'SDK v2', urlPrefix: 'sdk-v2', origins: [origin.id] }), P.endpoint, 'put', 200);
      assert.deepEqual(upd, { id: ep.id, description: 'SDK v2', urlPrefix: 'sdk-v2', origins: [origin.id] });

      const inUse = await client.accounts.origins.delete(origin.id).then(
        () => assert.fail('an origin in use was deleted'),
        (e: unknown) => e as APIError & { error: Json },
      );
      assert.ok(inUse instanceof BadRequestError);
      assertInUseError({ status: inUse.status, body: inUse.error, text: JSON.stringify(inUse.error) });
      await fails(client.accounts.urlEndpoints.delete('default'), BadRequestError, 400, P.endpoint, 'delete');
      await fails(client.accounts.urlEndpoints.create({ description: 'Bad', urlPrefix: '' }), BadRequestError, 400, P.endpoints, 'post');

      await ok(client.accounts.urlEndpoints.delete(ep.id), P.endpoint, 'delete', 204);
      await fails(client.accounts.urlEndpoints.get(ep.id), NotFoundError, 404, P.endpoint, 'get');
      await ok(client.accounts.origins.delete(origin.id), P.origin, 'delete', 204);
    });

    test('accounts.usage.get', async () => {
      const usage = await ok(client.accounts.usage.get({ startDate: day(-7), endDate: day(1) }), P.usage, 'get', 200);
      for (const k of ['bandwidthBytes', 'mediaLibraryStorageBytes', 'videoProcessingUnitsCount', 'extensionUnitsCount', 'originalCacheStorageBytes'] as const) {
        assert.equal(typeof usage[k], 'number', k);
      }
      await fails(client.accounts.usage.get({ startDate: day(-100), endDate: day(0) }), BadRequestError, 400, P.usage, 'get');
      await fails(client.accounts.usage.get({ startDate: day(0), endDate: day(-1) }), BadRequestError, 400, P.usage, 'get');
    });
  });
});
