/**
 * Custom metadata fields against the real server over HTTP: CRUD with plain fetch, every type,
 * values on upload (valid, invalid, defaults, required) and on update (merge, null unset),
 * schema changes against stored values; then the official `@imagekit/nodejs` SDK driving
 * create / list / update / delete, every JSON body validated against the spec.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import ImageKit, { type APIError } from '@imagekit/nodejs';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  api,
  assertApiError,
  assertNothingStored,
  getDetails,
  makePng,
  snapshot,
  upload,
  type ApiResponse,
  type Json,
} from '../support/e2e-helpers.js';
import {
  SPEC_MISSING_MESSAGE,
  assertErrorBody,
  assertMatchesSchema,
  expectSdkError,
  expectSdkOk as ok,
  responseSchemaFor,
  specAvailable,
} from '../support/spec.js';

const LIST = '/v1/customMetadataFields';
const ONE = '/v1/customMetadataFields/{id}';
const MISSING_ID = 'ffffffffffffffffffffffff';
const HEX24 = /^[0-9a-f]{24}$/;
/** ImageKit documents an `errors` map next to message/help when a schema is refused. */
const SCHEMA_ERROR = { allowUndeclared: ['errors'] } as const;

let server: TestServer;
let png: Buffer;

/** Validates a body against the spec's schema for that operation and status (when the spec is here). */
function conforms(res: ApiResponse, path: string, method: string): void {
  if (!specAvailable) return;
  const ref = responseSchemaFor(path, method, res.status);
  if (ref === null) return;
  assertMatchesSchema(res.body, ref);
}

function conformsError(res: ApiResponse, path: string, method: string, status: number, pattern?: RegExp): void {
  assertApiError(res, status, pattern);
  if (specAvailable) assertErrorBody(res.body, path, method, status, status === 400 ? SCHEMA_ERROR : {});
}

async function createField(body: Json): Promise<Json> {
  const res = await api(server, 'POST', LIST, body);
  assert.equal(res.status, 201, res.text);
  conforms(res, LIST, 'post');
  return res.body;
}

async function uploadWith(fields: Record<string, string | undefined>): Promise<ApiResponse> {
  return upload(server, { fileName: 'cm.png', responseFields: 'customMetadata', ...fields }, { bytes: png, name: 'cm.png', type: 'image/png' });
}

const cm = (v: unknown) => JSON.stringify(v);

before(async () => {
  png = await makePng(8, 8);
  server = await startTestServer();
});

after(async () => {
  if (server) await server.stop();
});

describe('custom metadata fields: CRUD over HTTP', () => {
  test('create, list, update, delete; includeDeleted; the name stays taken after delete', async () => {
    const f = await createField({ name: 'crudBrand', label: 'CRUD brand', schema: { type: 'Text', defaultValue: 'Nike' } });
    assert.match(f.id, HEX24);
    assert.deepEqual(f, { id: f.id, name: 'crudBrand', label: 'CRUD brand', schema: { type: 'Text', defaultValue: 'Nike' } });

    let list = await api(server, 'GET', LIST);
    assert.equal(list.status, 200);
    conforms(list, LIST, 'get');
    assert.deepEqual(list.body.find((x: Json) => x.id === f.id), f);

    const upd = await api(server, 'PATCH', `/v1/customMetadataFields/${f.id}`, { label: 'CRUD brand name' });
    assert.equal(upd.status, 200, upd.text);
    conforms(upd, ONE, 'patch');
    assert.deepEqual(upd.body, { ...f, label: 'CRUD brand name' });

    const del = await api(server, 'DELETE', `/v1/customMetadataFields/${f.id}`);
    assert.equal(del.status, 204);
    assert.equal(del.text, '');

    list = await api(server, 'GET', LIST);
    assert.ok(!list.body.some((x: Json) => x.id === f.id), 'deleted fields are not listed by default');
    for (const q of ['?includeDeleted=false', '?includeDeleted=']) {
      assert.ok(!(await api(server, 'GET', LIST + q)).body.some((x: Json) => x.id === f.id), q);
    }
    const withDeleted = await api(server, 'GET', `${LIST}?includeDeleted=true`);
    assert.equal(withDeleted.status, 200);
    conforms(withDeleted, LIST, 'get');
    assert.deepEqual(withDeleted.body.find((x: Json) => x.id === f.id), { ...f, label: 'CRUD brand name' });

    const again = await api(server, 'POST', LIST, { name: 'crudBrand', label: 'Another label', schema: { type: 'Text' } });
    conformsError(again, LIST, 'post', 400, /name already exists/);
    // The label of a deleted field is free.
    await createField({ name: 'crudBrand2', label: 'CRUD brand name', schema: { type: 'Text' } });

    conformsError(await api(server, 'DELETE', `/v1/customMetadataFields/${f.id}`), ONE, 'delete', 404, /No such custom metadata field/);
    conformsError(await api(server, 'PATCH', `/v1/customMetadataFields/${f.id}`, { label: 'x' }), ONE, 'patch', 400, /deleted/);
  });

  test('404 for an unknown id, 400 for a malformed one', async () => {
    conformsError(await api(server, 'PATCH', `/v1/customMetadataFields/${MISSING_ID}`, { label: 'x' }), ONE, 'patch', 404, /No such custom metadata field/);
    conformsError(await api(server, 'DELETE', `/v1/customMetadataFields/${MISSING_ID}`), ONE, 'delete', 404);
    conformsError(await api(server, 'PATCH', '/v1/customMetadataFields/not-an-id', { label: 'x' }), ONE, 'patch', 400, /invalid ID/);
    conformsError(await api(server, 'DELETE', '/v1/customMetadataFields/123'), ONE, 'delete', 400, /invalid ID/);
  });

  test('labels are unique among live fields; update rules', async () => {
    const a = await createField({ name: 'lblA', label: 'Label A', schema: { type: 'Boolean' } });
    const b = await createField({ name: 'lblB', label: 'Label B', schema: { type: 'Boolean' } });
    conformsError(await api(server, 'POST', LIST, { name: 'lblC', label: 'Label A', schema: { type: 'Text' } }), LIST, 'post', 400, /label already exists/);
    conformsError(await api(server, 'PATCH', `/v1/customMetadataFields/${b.id}`, { label: 'Label A' }), ONE, 'patch', 400, /label already exists/);
    conformsError(await api(server, 'PATCH', `/v1/customMetadataFields/${a.id}`, {}), ONE, 'patch', 400, /Either label or schema/);
    conformsError(await api(server, 'PATCH', `/v1/customMetadataFields/${a.id}`, { name: 'renamed' }), ONE, 'patch', 400, /Name cannot be updated/);
    // The type is fixed: one sent with the schema is ignored, and the schema is checked against the stored type.
    const upd = await api(server, 'PATCH', `/v1/customMetadataFields/${a.id}`, { schema: { type: 'Text', isValueRequired: true, defaultValue: false } });
    assert.equal(upd.status, 200, upd.text);
    assert.deepEqual(upd.body.schema, { type: 'Boolean', defaultValue: false, isValueRequired: true });
    const wrong = await api(server, 'PATCH', `/v1/customMetadataFields/${a.id}`, { schema: { type: 'Text', maxLength: 4 } });
    conformsError(wrong, ONE, 'patch', 400, /schema\.maxLength is not allowed for type Boolean/);
    assert.deepEqual(wrong.body.errors, { maxLength: 'is not allowed for type Boolean' });
  });

  test('every type with its constraints is created and returned in the spec shape', async () => {
    const cases: Json[] = [
      { type: 'Text', minLength: 1, maxLength: 20, defaultValue: 'hello', isValueRequired: false },
      { type: 'Textarea', maxLength: 500 },
      { type: 'Number', minValue: 1000, maxValue: 3000, defaultValue: 1500 },
      { type: 'Date', minValue: '2020-01-01T00:00:00.000Z', maxValue: '2030-01-01T00:00:00.000Z', defaultValue: '2024-06-01T00:00:00.000Z' },
      { type: 'Boolean', isValueRequired: true, defaultValue: true },
      { type: 'SingleSelect', selectOptions: ['XS', 'S', 'M', 30, true], isValueRequired: true, defaultValue: 'M' },
      { type: 'MultiSelect', selectOptions: ['L', 'XL', 60, false], defaultValue: ['L', 60] },
    ];
    for (const [i, schema] of cases.entries()) {
      const f = await createField({ name: `every${schema.type}`, label: `Every ${i}`, schema });
      const { type, ...rest } = schema;
      assert.deepEqual(f.schema, { type, ...rest }, schema.type);
    }
    // Date bounds and defaults are stored in canonical ISO form.
    const d = await createField({ name: 'everyDate2', label: 'Every date 2', schema: { type: 'Date', minValue: '2020-01-01', defaultValue: '2021-05-05T12:00:00+02:00' } });
    assert.deepEqual(d.schema, { type: 'Date', defaultValue: '2021-05-05T10:00:00.000Z', minValue: '2020-01-01T00:00:00.000Z' });
  });

  test('inconsistent schemas are refused with 400 naming the property and the rule', async () => {
    const refused: Array<[Json, RegExp]> = [
      [{ type: 'Number', minValue: 10, maxValue: 5 }, /schema\.minValue should be less than or equal to maxValue/],
      [{ type: 'Number', minValue: '10' }, /schema\.minValue should be of type number/],
      [{ type: 'Text', minValue: 1 }, /schema\.minValue is not allowed for type Text/],
      [{ type: 'Number', minLength: 1 }, /schema\.minLength is not allowed for type Number/],
      [{ type: 'Text', minLength: 5, maxLength: 2 }, /schema\.minLength should be less than or equal to maxLength/],
      [{ type: 'Text', selectOptions: ['a'] }, /schema\.selectOptions is not allowed for type Text/],
      [{ type: 'SingleSelect' }, /schema\.selectOptions is required/],
      [{ type: 'MultiSelect', selectOptions: [] }, /schema\.selectOptions should be a non-empty array/],
      [{ type: 'Text', isValueRequired: true }, /schema\.defaultValue is required when isValueRequired is true/],
      [{ type: 'Number', maxValue: 60, defaultValue: 70 }, /schema\.defaultValue should be less than or equal to 60 \(maxValue\)/],
      [{ type: 'SingleSelect', selectOptions: ['S'], defaultValue: 'M' }, /schema\.defaultValue should be one of "S" \(selectOptions\)/],
      [{ type: 'MultiSelect', selectOptions: ['S'], defaultValue: 'S' }, /schema\.defaultValue should be an array/],
      [{ type: 'Date', minValue: 'last year' }, /schema\.minValue should be an ISO 8601 date string/],
      [{ type: 'Colour' }, /schema\.type should be one of/],
      [{}, /schema\.type is required/],
    ];
    for (const [i, [schema, re]] of refused.entries()) {
      const res = await api(server, 'POST', LIST, { name: `bad${i}`, label: `Bad ${i}`, schema });
      conformsError(res, LIST, 'post', 400, re);
      assert.equal(typeof res.body.errors, 'object', res.text);
    }
    const missing: Array<[Json, RegExp]> = [
      [{ label: 'x', schema: { type: 'Text' } }, /missing name/],
      [{ name: 'x1', schema: { type: 'Text' } }, /missing label/],
      [{ name: 'x1', label: 'x' }, /missing schema/],
      [{ name: 'a.b', label: 'x', schema: { type: 'Text' } }, /invalid name/],
      [{ name: 'x1', label: 'x', schema: { type: 'Text' }, extra: 1 }, /unknown parameter/],
    ];
    for (const [body, re] of missing) conformsError(await api(server, 'POST', LIST, body), LIST, 'post', 400, re);
    conformsError(await api(server, 'POST', LIST, undefined, { rawBody: '{', contentType: 'application/json' }), LIST, 'post', 400);
    // The spec lists no 400 for the list; a bad boolean still gets the usual {message, help}.
    assertApiError(await api(server, 'GET', `${LIST}?includeDeleted=maybe`), 400, /includeDeleted/);
  });

  test('folderPath is accepted (every field applies everywhere without path policies)', async () => {
    const all = await api(server, 'GET', LIST);
    const atPath = await api(server, 'GET', `${LIST}?folderPath=${encodeURIComponent('/products/shoes')}`);
    assert.equal(atPath.status, 200);
    conforms(atPath, LIST, 'get');
    assert.deepEqual(atPath.body, all.body);
    assertApiError(await api(server, 'GET', `${LIST}?folderPath=${encodeURIComponent('/a/../b')}`), 400, /folderPath/);
  });

  test('the management key is required', async () => {
    assertApiError(await api(server, 'GET', LIST, undefined, { auth: null }), 401);
    assertApiError(await api(server, 'POST', LIST, { name: 'noauth', label: 'x', schema: { type: 'Text' } }, { auth: null }), 401);
  });
});

describe('custom metadata values on upload and update', () => {
  // A server of its own: the fields of the other suites (with their defaults) would apply here too.
  let shared: TestServer;
  before(async () => {
    shared = server;
    server = await startTestServer();
    await createField({ name: 'brand', label: 'Brand', schema: { type: 'Text', maxLength: 10 } });
    await createField({ name: 'price', label: 'Price', schema: { type: 'Number', minValue: 1000, maxValue: 3000 } });
    await createField({ name: 'discount', label: 'Discount', schema: { type: 'Number', minValue: 0, maxValue: 60, defaultValue: 20 } });
    await createField({ name: 'size', label: 'Size', schema: { type: 'SingleSelect', selectOptions: ['XS', 'S', 'M', 'L'], isValueRequired: true, defaultValue: 'M' } });
    await createField({ name: 'colours', label: 'Colours', schema: { type: 'MultiSelect', selectOptions: ['red', 'blue', 7] } });
    await createField({ name: 'launch', label: 'Launch', schema: { type: 'Date', minValue: '2020-01-01' } });
    await createField({ name: 'onSale', label: 'On sale', schema: { type: 'Boolean' } });
    await createField({ name: 'notes', label: 'Notes', schema: { type: 'Textarea', minLength: 3 } });
  });

  after(async () => {
    await server.stop();
    server = shared;
  });

  test('valid values are stored; defaults fill the rest; Date values come back canonical', async () => {
    const res = await uploadWith({
      customMetadata: cm({ brand: 'Nike', price: 1299.5, colours: ['red', 7], launch: '2024-06-01T10:00:00+02:00', onSale: false, notes: 'abc' }),
    });
    assert.equal(res.status, 200, res.text);
    const expected = { brand: 'Nike', price: 1299.5, colours: ['red', 7], launch: '2024-06-01T08:00:00.000Z', onSale: false, notes: 'abc', discount: 20, size: 'M' };
    assert.deepEqual(res.body.customMetadata, expected);
    assert.deepEqual((await getDetails(server, res.body.fileId)).body.customMetadata, expected);
  });

  test('no customMetadata at all: every default is applied', async () => {
    const res = await uploadWith({});
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.customMetadata, { discount: 20, size: 'M' });
  });

  test('invalid and unknown values are refused with 400 naming the field and the rule; nothing is stored', async () => {
    const refused: Array<[Json, RegExp]> = [
      [{ price: 900 }, /"price" should be greater than or equal to 1000 \(minValue\)/],
      [{ price: 3001 }, /"price" should be less than or equal to 3000 \(maxValue\)/],
      [{ price: '1500' }, /"price" should be a number \(type Number\)/],
      [{ brand: 'Much too long' }, /"brand" should be at most 10 characters long/],
      [{ brand: 42 }, /"brand" should be a string \(type Text\)/],
      [{ notes: 'ab' }, /"notes" should be at least 3 characters long/],
      [{ size: 'XXL' }, /"size" should be one of .*\(selectOptions\)/],
      [{ size: '' }, /"size" should be one of/],
      [{ colours: 'red' }, /"colours" should be an array/],
      [{ colours: ['red', 'green'] }, /"colours" contains "green"/],
      [{ colours: ['7'] }, /"colours" contains "7"/],
      [{ launch: '2019-12-31' }, /"launch" should be on or after .*\(minValue\)/],
      [{ launch: 'tomorrow' }, /"launch" should be an ISO 8601 date/],
      [{ onSale: 'yes' }, /"onSale" should be true or false/],
      [{ colour: 'red' }, /"colour" is not a custom metadata field/],
      [{ brand: null }, /"brand" is null/],
    ];
    const before = await snapshot(server.dataDir);
    for (const [value, re] of refused) {
      const res = await uploadWith({ customMetadata: cm(value) });
      assertApiError(res, 400, re);
      assert.match(res.body.message, /customMetadata/);
    }
    await assertNothingStored(server.dataDir, before, 'after refused uploads');
  });

  test('a new version: values replace, or are kept with overwriteCustomMetadata=false; defaults apply', async () => {
    const name = 'versioned.png';
    const first = await uploadWith({ fileName: name, useUniqueFileName: 'false', customMetadata: cm({ brand: 'Old', size: 'S', discount: 5 }) });
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body.customMetadata, { brand: 'Old', size: 'S', discount: 5 });

    const kept = await uploadWith({ fileName: name, useUniqueFileName: 'false', overwriteCustomMetadata: 'false' });
    assert.equal(kept.status, 200, kept.text);
    assert.equal(kept.body.fileId, first.body.fileId);
    assert.deepEqual(kept.body.customMetadata, { brand: 'Old', size: 'S', discount: 5 });

    const cleared = await uploadWith({ fileName: name, useUniqueFileName: 'false' });
    assert.deepEqual(cleared.body.customMetadata, { discount: 20, size: 'M' }, 'overwrite (default): old values go, defaults come');

    const replaced = await uploadWith({ fileName: name, useUniqueFileName: 'false', overwriteCustomMetadata: 'false', customMetadata: cm({ brand: 'New' }) });
    assert.deepEqual(replaced.body.customMetadata, { brand: 'New', discount: 20, size: 'M' });

    const bad = await uploadWith({ fileName: name, useUniqueFileName: 'false', customMetadata: cm({ price: 1 }) });
    assertApiError(bad, 400, /"price"/);
    assert.deepEqual((await getDetails(server, first.body.fileId)).body.customMetadata, { brand: 'New', discount: 20, size: 'M' });
  });

  test('update: merge, null unsets, a required field cannot be unset, values are checked', async () => {
    const up = await uploadWith({ customMetadata: cm({ brand: 'Puma', price: 2000 }) });
    const id = up.body.fileId as string;
    const patch = (customMetadata: Json) => api(server, 'PATCH', `/v1/files/${id}/details`, { customMetadata });

    let res = await patch({ price: 2500, onSale: true });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.customMetadata, { brand: 'Puma', price: 2500, discount: 20, size: 'M', onSale: true });

    res = await patch({ brand: null, discount: null });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.customMetadata, { price: 2500, size: 'M', onSale: true }, 'null unsets; no default comes back on update');

    assertApiError(await patch({ size: null }), 400, /"size" is a required field \(isValueRequired\) and cannot be unset/);
    assertApiError(await patch({ price: 999 }), 400, /"price" .*minValue/);
    assertApiError(await patch({ nope: 1 }), 400, /"nope" is not a custom metadata field/);
    assertApiError(await patch({ colours: ['blue', 'pink'] }), 400, /"colours" contains "pink"/);
    assertApiError(await patch({ launch: '2024-02-30' }), 400, /"launch" .*ISO 8601/);
    assertApiError(await patch('brand=x' as unknown as Json), 400, /customMetadata/);
    assert.deepEqual((await getDetails(server, id)).body.customMetadata, { price: 2500, size: 'M', onSale: true }, 'refused updates change nothing');

    // An update that does not touch customMetadata leaves it alone.
    res = await api(server, 'PATCH', `/v1/files/${id}/details`, { tags: ['t1'] });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.customMetadata, { price: 2500, size: 'M', onSale: true });
  });

  test('a deleted field: stored values are kept, cannot be set again, can be unset', async () => {
    const f = await createField({ name: 'season', label: 'Season', schema: { type: 'Text' } });
    const up = await uploadWith({ customMetadata: cm({ season: 'summer' }) });
    const id = up.body.fileId as string;
    assert.equal((await api(server, 'DELETE', `/v1/customMetadataFields/${f.id}`)).status, 204);
    assert.equal((await getDetails(server, id)).body.customMetadata.season, 'summer');
    assertApiError(await api(server, 'PATCH', `/v1/files/${id}/details`, { customMetadata: { season: 'winter' } }), 400, /"season" has been deleted/);
    assertApiError(await uploadWith({ customMetadata: cm({ season: 'winter' }) }), 400, /"season" has been deleted/);
    const res = await api(server, 'PATCH', `/v1/files/${id}/details`, { customMetadata: { season: null } });
    assert.equal(res.status, 200, res.text);
    assert.ok(!('season' in res.body.customMetadata));
  });

  test('a schema change that stored values break is refused, naming how many files; values are never touched', async () => {
    const f = await createField({ name: 'stock', label: 'Stock', schema: { type: 'Number', minValue: 0 } });
    const a = await uploadWith({ customMetadata: cm({ stock: 50 }) });
    const b = await uploadWith({ customMetadata: cm({ stock: 500 }) });
    await uploadWith({ customMetadata: cm({ stock: 5 }) });
    const change = (schema: Json) => api(server, 'PATCH', `/v1/customMetadataFields/${f.id}`, { schema });

    let res = await change({ minValue: 0, maxValue: 100 });
    conformsError(res, ONE, 'patch', 400, /1 file\(s\) already hold a "stock" value that the new schema does not accept/);
    assert.match(res.body.message, new RegExp(b.body.fileId));
    assert.equal((await getDetails(server, b.body.fileId)).body.customMetadata.stock, 500);

    res = await change({ minValue: 10, maxValue: 100 });
    conformsError(res, ONE, 'patch', 400, /2 file\(s\)/);
    const list = await api(server, 'GET', LIST);
    assert.deepEqual(list.body.find((x: Json) => x.id === f.id).schema, { type: 'Number', minValue: 0 }, 'a refused change leaves the schema as it was');

    // Once the offending values are fixed, the change goes through.
    await api(server, 'PATCH', `/v1/files/${b.body.fileId}/details`, { customMetadata: { stock: 90 } });
    res = await change({ minValue: 0, maxValue: 100 });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.schema, { type: 'Number', minValue: 0, maxValue: 100 });
    assert.equal((await getDetails(server, a.body.fileId)).body.customMetadata.stock, 50);
    assertApiError(await api(server, 'PATCH', `/v1/files/${a.body.fileId}/details`, { customMetadata: { stock: 101 } }), 400, /maxValue/);

    // Select options: dropping an option that files use is refused too.
    const s = await createField({ name: 'tier', label: 'Tier', schema: { type: 'MultiSelect', selectOptions: ['gold', 'silver', 'bronze'] } });
    await uploadWith({ customMetadata: cm({ tier: ['gold', 'bronze'] }) });
    conformsError(await api(server, 'PATCH', `/v1/customMetadataFields/${s.id}`, { schema: { selectOptions: ['gold', 'silver'] } }), ONE, 'patch', 400, /1 file\(s\)/);
    const ok = await api(server, 'PATCH', `/v1/customMetadataFields/${s.id}`, { schema: { selectOptions: ['gold', 'silver', 'bronze', 'iron'] } });
    assert.equal(ok.status, 200, ok.text);

    // Making a field required (with its default) never rewrites files: they get the default when next written.
    const req = await api(server, 'PATCH', `/v1/customMetadataFields/${f.id}`, { schema: { minValue: 0, maxValue: 100, isValueRequired: true, defaultValue: 1 } });
    assert.equal(req.status, 200, req.text);
    const plain = await uploadWith({});
    assert.equal(plain.body.customMetadata.stock, 1);
  });
});

// ------------------------------------------------------------------------------------------
// The official SDK.

type ErrorClass = new (...args: never[]) => APIError;

describe('custom metadata fields through the official @imagekit/nodejs SDK', { skip: specAvailable ? false : SPEC_MISSING_MESSAGE }, () => {
  let client: ImageKit;

  before(() => {
    client = new ImageKit({ privateKey: server.privateKey, baseURL: server.baseUrl, maxRetries: 0 });
  });

  /** Fails as the spec says (ImageKit's `errors` map allowed beside message/help), the message matching `re`. */
  async function fails(call: Promise<unknown>, Err: ErrorClass, status: number, path: string, method: string, re?: RegExp) {
    const err = await expectSdkError(call, Err, status, path, method, SCHEMA_ERROR);
    if (re) assert.match(String(err.error.message), re);
  }

  test('create / list / update / delete, responses as the spec says', async () => {
    const created = await ok(
      client.customMetadataFields.create({
        name: 'sdkPrice',
        label: 'SDK price',
        schema: { type: 'Number', minValue: 1000, maxValue: 3000, isValueRequired: true, defaultValue: 1500 },
      }),
      LIST,
      'post',
      201,
    );
    assert.match(created.id, HEX24);
    assert.deepEqual(created.schema, { type: 'Number', defaultValue: 1500, isValueRequired: true, minValue: 1000, maxValue: 3000 });

    const select = await ok(
      client.customMetadataFields.create({ name: 'sdkSize', label: 'SDK size', schema: { type: 'MultiSelect', selectOptions: ['S', 'M', 40, true] } }),
      LIST,
      'post',
      201,
    );

    const list = await ok(client.customMetadataFields.list(), LIST, 'get');
    assert.ok(list.some((f) => f.id === created.id) && list.some((f) => f.id === select.id));
    const atPath = await ok(client.customMetadataFields.list({ folderPath: '/sdk/path' }), LIST, 'get');
    assert.deepEqual(atPath.map((f) => f.id), list.map((f) => f.id));

    const updated = await ok(client.customMetadataFields.update(created.id, { label: 'SDK price (EUR)', schema: { minValue: 500, maxValue: 2500, isValueRequired: true, defaultValue: 1500 } }), ONE, 'patch');
    assert.equal(updated.label, 'SDK price (EUR)');
    assert.deepEqual(updated.schema, { type: 'Number', defaultValue: 1500, isValueRequired: true, minValue: 500, maxValue: 2500 });

    await ok(client.customMetadataFields.delete(select.id), ONE, 'delete', 204);
    const after = await ok(client.customMetadataFields.list(), LIST, 'get');
    assert.ok(!after.some((f) => f.id === select.id));
    const withDeleted = await ok(client.customMetadataFields.list({ includeDeleted: true }), LIST, 'get');
    assert.ok(withDeleted.some((f) => f.id === select.id));

    // Values through the SDK's upload and update, checked by the same rules.
    const up = await client.files.upload({
      file: new File([new Uint8Array(png)], 'sdk.png', { type: 'image/png' }),
      fileName: 'sdk.png',
      customMetadata: { sdkPrice: 2000 },
      responseFields: ['customMetadata'],
    });
    assert.equal(up.customMetadata?.sdkPrice, 2000);
    await fails(client.files.update(up.fileId!, { customMetadata: { sdkPrice: 2600 } }), ImageKit.BadRequestError, 400, '/v1/files/{fileId}/details', 'patch', /"sdkPrice" .*maxValue/);
    await fails(client.files.update(up.fileId!, { customMetadata: { sdkPrice: null } }), ImageKit.BadRequestError, 400, '/v1/files/{fileId}/details', 'patch', /cannot be unset/);
  });

  test('errors: 400 for a taken name or a bad schema, 404 for an unknown id', async () => {
    await ok(client.customMetadataFields.create({ name: 'sdkTaken', label: 'SDK taken', schema: { type: 'Text' } }), LIST, 'post', 201);
    await fails(
      client.customMetadataFields.create({ name: 'sdkTaken', label: 'SDK taken 2', schema: { type: 'Text' } }),
      ImageKit.BadRequestError,
      400,
      LIST,
      'post',
      /name already exists/,
    );
    await fails(
      client.customMetadataFields.create({ name: 'sdkBad', label: 'SDK bad', schema: { type: 'Number', minValue: 5, maxValue: 1 } }),
      ImageKit.BadRequestError,
      400,
      LIST,
      'post',
      /minValue/,
    );
    await fails(client.customMetadataFields.update(MISSING_ID, { label: 'x' }), ImageKit.NotFoundError, 404, ONE, 'patch');
    await fails(client.customMetadataFields.delete(MISSING_ID), ImageKit.NotFoundError, 404, ONE, 'delete');
  });
});
