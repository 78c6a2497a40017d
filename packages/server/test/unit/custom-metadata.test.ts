/**
 * Custom metadata fields: the schema rules for every type and constraint, value checks, the
 * upload / update semantics of `validateCustomMetadata`, and the service over a real in-memory
 * SQLite store (name kept after delete, labels, the schema-change check paging through files).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { customFieldStoreFor } from '../../src/adapters/db/custom-field-repo.js';
import { openSqliteStore } from '../../src/adapters/db/sqlite/index.js';
import { ApiError } from '../../src/errors/index.js';
import type { CustomFieldRecord, CustomFieldSchema } from '../../src/ports/custom-field-store.js';
import type { FileRecord } from '../../src/ports/metadata-store.js';
import {
  CustomMetadataRules,
  canonicalDate,
  parseFieldSchema,
  parseIsoDate,
  validateFieldLabel,
  validateFieldName,
  valueProblem,
} from '../../src/services/custom-metadata-rules.js';
import { CustomMetadataService } from '../../src/services/custom-metadata-service.js';
import { assetState } from '../support/records.js';

const is400 = (re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ApiError, `not an ApiError: ${String(e)}`);
  assert.equal(e.status, 400, e.message);
  assert.match(e.message, re);
  return true;
};
const is404 = (e: unknown) => e instanceof ApiError && e.status === 404;

/** The `errors` map of a refused schema. */
function schemaErrors(raw: unknown, fixedType?: CustomFieldSchema['type']): Record<string, string> {
  try {
    parseFieldSchema(raw, fixedType);
  } catch (e) {
    assert.ok(e instanceof ApiError && e.status === 400, String(e));
    assert.match(e.message, /^Invalid schema object/);
    return e.extra.errors as Record<string, string>;
  }
  assert.fail(`schema was accepted: ${JSON.stringify(raw)}`);
}

describe('field schema', () => {
  test('every type is accepted in its minimal form', () => {
    for (const type of ['Text', 'Textarea', 'Number', 'Date', 'Boolean'] as const) {
      assert.deepEqual(parseFieldSchema({ type }), { type });
    }
    assert.deepEqual(parseFieldSchema({ type: 'SingleSelect', selectOptions: ['S', 30, true] }), {
      type: 'SingleSelect',
      selectOptions: ['S', 30, true],
    });
    assert.deepEqual(parseFieldSchema({ type: 'MultiSelect', selectOptions: ['a'] }), { type: 'MultiSelect', selectOptions: ['a'] });
  });

  test('type is required and must be one of the seven', () => {
    assert.deepEqual(Object.keys(schemaErrors({})), ['type']);
    assert.match(schemaErrors({ type: 'Integer' }).type!, /one of Text, Textarea, Number, Date, Boolean, SingleSelect, MultiSelect/);
    assert.ok(schemaErrors({ type: 'text' }).type, 'type names are case-sensitive');
    assert.throws(() => parseFieldSchema('Text'), is400(/schema should be an object/));
    assert.throws(() => parseFieldSchema(['Text']), is400(/schema should be an object/));
  });

  test('keys are refused on types they do not apply to, and unknown keys are refused', () => {
    assert.match(schemaErrors({ type: 'Text', minValue: 1 }).minValue!, /not allowed for type Text/);
    assert.match(schemaErrors({ type: 'Number', maxLength: 3 }).maxLength!, /not allowed for type Number/);
    assert.match(schemaErrors({ type: 'Date', selectOptions: ['a'] }).selectOptions!, /not allowed for type Date/);
    assert.match(schemaErrors({ type: 'Boolean', minLength: 1 }).minLength!, /not allowed/);
    assert.match(schemaErrors({ type: 'SingleSelect', selectOptions: ['a'], minValue: 1 }).minValue!, /not allowed/);
    assert.match(schemaErrors({ type: 'Text', colour: 'red' }).colour!, /not a schema property/);
    // Every problem is reported at once, as ImageKit's errors object does.
    assert.deepEqual(Object.keys(schemaErrors({ type: 'Number', minValue: 'x', maxLength: 3 })).sort(), ['maxLength', 'minValue']);
  });

  test('Text / Textarea: minLength and maxLength are whole numbers, min <= max', () => {
    for (const type of ['Text', 'Textarea'] as const) {
      assert.deepEqual(parseFieldSchema({ type, minLength: 0, maxLength: 10 }), { type, minLength: 0, maxLength: 10 });
      assert.deepEqual(parseFieldSchema({ type, minLength: 5, maxLength: 5 }), { type, minLength: 5, maxLength: 5 });
      assert.ok(schemaErrors({ type, minLength: -1 }).minLength);
      assert.ok(schemaErrors({ type, maxLength: 2.5 }).maxLength);
      assert.ok(schemaErrors({ type, maxLength: '10' }).maxLength);
      assert.match(schemaErrors({ type, minLength: 6, maxLength: 5 }).minLength!, /less than or equal to maxLength/);
    }
  });

  test('Number: minValue and maxValue are numbers, min <= max', () => {
    assert.deepEqual(parseFieldSchema({ type: 'Number', minValue: -1.5, maxValue: 3000 }), { type: 'Number', minValue: -1.5, maxValue: 3000 });
    assert.match(schemaErrors({ type: 'Number', minValue: '1000' }).minValue!, /should be of type number/);
    assert.match(schemaErrors({ type: 'Number', minValue: 10, maxValue: 9 }).minValue!, /less than or equal to maxValue/);
    assert.ok(schemaErrors({ type: 'Number', maxValue: null }).maxValue);
  });

  test('Date: bounds are ISO 8601 strings, stored canonical, min <= max', () => {
    assert.deepEqual(parseFieldSchema({ type: 'Date', minValue: '2020-01-01', maxValue: '2030-12-31T23:59:59+01:00' }), {
      type: 'Date',
      minValue: '2020-01-01T00:00:00.000Z',
      maxValue: '2030-12-31T22:59:59.000Z',
    });
    assert.match(schemaErrors({ type: 'Date', minValue: 1700000000000 }).minValue!, /ISO 8601/);
    assert.ok(schemaErrors({ type: 'Date', minValue: '01/02/2020' }).minValue);
    assert.ok(schemaErrors({ type: 'Date', maxValue: '2023-02-30' }).maxValue, 'a day that does not exist');
    assert.match(schemaErrors({ type: 'Date', minValue: '2030-01-01', maxValue: '2020-01-01' }).minValue!, /on or before maxValue/);
  });

  test('select types: selectOptions required, non-empty, scalar, no duplicates', () => {
    for (const type of ['SingleSelect', 'MultiSelect'] as const) {
      assert.match(schemaErrors({ type }).selectOptions!, /required/);
      assert.ok(schemaErrors({ type, selectOptions: [] }).selectOptions);
      assert.ok(schemaErrors({ type, selectOptions: 'S,M' }).selectOptions);
      assert.ok(schemaErrors({ type, selectOptions: [{ a: 1 }] }).selectOptions);
      assert.ok(schemaErrors({ type, selectOptions: [null] }).selectOptions);
      assert.match(schemaErrors({ type, selectOptions: ['S', 'S'] }).selectOptions!, /twice/);
      assert.ok(schemaErrors({ type, selectOptions: Array.from({ length: 1001 }, (_, i) => i) }).selectOptions);
    }
    // 30 and "30" are different options.
    assert.deepEqual(parseFieldSchema({ type: 'SingleSelect', selectOptions: [30, '30'] }).selectOptions, [30, '30']);
  });

  test('isValueRequired is a boolean and needs a defaultValue', () => {
    assert.match(schemaErrors({ type: 'Text', isValueRequired: 'yes' }).isValueRequired!, /boolean/);
    assert.match(schemaErrors({ type: 'Text', isValueRequired: true }).defaultValue!, /required when isValueRequired/);
    assert.deepEqual(parseFieldSchema({ type: 'Text', isValueRequired: true, defaultValue: 'Nike' }), {
      type: 'Text',
      defaultValue: 'Nike',
      isValueRequired: true,
    });
    assert.deepEqual(parseFieldSchema({ type: 'Boolean', isValueRequired: false }), { type: 'Boolean', isValueRequired: false });
    assert.match(schemaErrors({ type: 'Text', isValueRequired: true, defaultValue: '' }).defaultValue!, /cannot be empty/);
    assert.match(
      schemaErrors({ type: 'MultiSelect', selectOptions: ['a'], isValueRequired: true, defaultValue: [] }).defaultValue!,
      /cannot be empty/,
    );
  });

  test('defaultValue must satisfy the schema it belongs to', () => {
    assert.match(schemaErrors({ type: 'Number', minValue: 0, maxValue: 60, defaultValue: 70 }).defaultValue!, /maxValue/);
    assert.match(schemaErrors({ type: 'Number', defaultValue: '20' }).defaultValue!, /type Number/);
    assert.match(schemaErrors({ type: 'Text', maxLength: 3, defaultValue: 'four' }).defaultValue!, /maxLength/);
    assert.match(schemaErrors({ type: 'Textarea', minLength: 5, defaultValue: 'four' }).defaultValue!, /minLength/);
    assert.match(schemaErrors({ type: 'Boolean', defaultValue: 'true' }).defaultValue!, /type Boolean/);
    assert.match(schemaErrors({ type: 'Date', minValue: '2020-01-01', defaultValue: '2019-12-31' }).defaultValue!, /minValue/);
    assert.match(schemaErrors({ type: 'SingleSelect', selectOptions: ['S', 'M'], defaultValue: 'L' }).defaultValue!, /selectOptions/);
    assert.match(schemaErrors({ type: 'MultiSelect', selectOptions: ['S', 'M'], defaultValue: 'S' }).defaultValue!, /array/);
    assert.match(schemaErrors({ type: 'MultiSelect', selectOptions: ['S', 'M'], defaultValue: ['S', 'L'] }).defaultValue!, /"L"/);
    // Not checked against a schema that is itself broken: only the real problem is reported.
    assert.deepEqual(Object.keys(schemaErrors({ type: 'Number', minValue: 'x', defaultValue: 5 })), ['minValue']);
    assert.deepEqual(parseFieldSchema({ type: 'Date', defaultValue: '2024-06-01' }), { type: 'Date', defaultValue: '2024-06-01T00:00:00.000Z' });
    assert.deepEqual(parseFieldSchema({ type: 'MultiSelect', selectOptions: ['S', 'M', 1], defaultValue: ['M', 1] }).defaultValue, ['M', 1]);
  });

  test('an update keeps the stored type and ignores a type sent with the schema', () => {
    assert.deepEqual(parseFieldSchema({ type: 'Text', minValue: 1 }, 'Number'), { type: 'Number', minValue: 1 });
    assert.match(schemaErrors({ minLength: 1 }, 'Number').minLength!, /not allowed for type Number/);
  });

  test('the canonical key order is fixed', () => {
    const s = parseFieldSchema({ maxValue: 9, isValueRequired: true, defaultValue: 3, minValue: 1, type: 'Number' });
    assert.deepEqual(Object.keys(s), ['type', 'defaultValue', 'isValueRequired', 'minValue', 'maxValue']);
  });
});

describe('names and labels', () => {
  test('name: letters, digits, "_" and "-"', () => {
    assert.equal(validateFieldName('price'), 'price');
    assert.equal(validateFieldName('SKU_2-b'), 'SKU_2-b');
    assert.equal(validateFieldName('größe'), 'größe');
    assert.throws(() => validateFieldName(undefined), is400(/missing name/));
    assert.throws(() => validateFieldName(''), is400(/missing name/));
    assert.throws(() => validateFieldName(5), is400(/invalid name/));
    for (const bad of ['a.b', 'a b', ' price', 'a"b', '__proto__', 'x'.repeat(101)]) {
      assert.throws(() => validateFieldName(bad), is400(/invalid name/), bad);
    }
  });

  test('label: a non-empty string, trimmed', () => {
    assert.equal(validateFieldLabel('  Product price '), 'Product price');
    assert.throws(() => validateFieldLabel('   '), is400(/missing label/));
    assert.throws(() => validateFieldLabel(1), is400(/invalid label/));
    assert.throws(() => validateFieldLabel('a\u0000b'), is400(/control/));
  });
});

describe('dates', () => {
  test('ISO 8601 forms are read; offsets honoured; a missing offset means UTC', () => {
    assert.equal(canonicalDate('2024-06-01'), '2024-06-01T00:00:00.000Z');
    assert.equal(canonicalDate('2010-11-05T05:06:07'), '2010-11-05T05:06:07.000Z');
    assert.equal(canonicalDate('2010-11-05T05:06'), '2010-11-05T05:06:00.000Z');
    assert.equal(canonicalDate('2024-06-01T10:00:00.5+02:00'), '2024-06-01T08:00:00.500Z');
    assert.equal(canonicalDate('2024-06-01T10:00:00-0530'), '2024-06-01T15:30:00.000Z');
    assert.equal(canonicalDate('2024-02-29T23:59:59.999Z'), '2024-02-29T23:59:59.999Z');
    for (const bad of ['2023-02-29', '2024-13-01', '2024-06-01T24:00:00Z', '2024-6-1', 'yesterday', '', '2024-06-01T10:00:00+25:00', '20240601']) {
      assert.equal(parseIsoDate(bad), null, bad);
    }
  });
});

describe('values against a schema', () => {
  const S = (s: Record<string, unknown>) => parseFieldSchema(s);
  test('Text / Textarea', () => {
    const s = S({ type: 'Text', minLength: 2, maxLength: 4 });
    assert.equal(valueProblem(s, 'abc'), null);
    assert.match(valueProblem(s, 5)!, /string/);
    assert.match(valueProblem(s, 'a')!, /minLength/);
    assert.match(valueProblem(s, 'abcde')!, /maxLength/);
    assert.equal(valueProblem(s, '😀😀'), null, 'length counts characters, not UTF-16 units');
    assert.match(valueProblem(S({ type: 'Textarea' }), true)!, /type Textarea/);
  });
  test('Number', () => {
    const s = S({ type: 'Number', minValue: 1000, maxValue: 3000 });
    for (const ok of [1000, 1299, 2459.59, 3000]) assert.equal(valueProblem(s, ok), null);
    assert.match(valueProblem(s, 900)!, /minValue/);
    assert.match(valueProblem(s, 3001)!, /maxValue/);
    assert.match(valueProblem(s, '1500')!, /type Number/);
    assert.match(valueProblem(s, true)!, /type Number/);
    assert.equal(valueProblem(S({ type: 'Number' }), -10), null);
  });
  test('Date', () => {
    const s = S({ type: 'Date', minValue: '2020-01-01', maxValue: '2020-12-31T23:59:59Z' });
    assert.equal(valueProblem(s, '2020-06-01'), null);
    assert.equal(valueProblem(s, '2021-01-01T00:30:00+01:00'), null, 'compared as instants');
    assert.match(valueProblem(s, '2019-12-31T23:59:59Z')!, /minValue/);
    assert.match(valueProblem(s, '2021-01-01')!, /maxValue/);
    assert.match(valueProblem(s, 1593561600000)!, /type Date/);
    assert.match(valueProblem(s, 'June 1st')!, /ISO 8601/);
  });
  test('Boolean', () => {
    const s = S({ type: 'Boolean' });
    assert.equal(valueProblem(s, false), null);
    assert.match(valueProblem(s, 'true')!, /type Boolean/);
    assert.match(valueProblem(s, 1)!, /type Boolean/);
  });
  test('SingleSelect: strict by type', () => {
    const s = S({ type: 'SingleSelect', selectOptions: ['S', 30, true] });
    for (const ok of ['S', 30, true]) assert.equal(valueProblem(s, ok), null);
    for (const bad of ['s', '30', 'true', 31, false, ['S']]) assert.match(valueProblem(s, bad)!, /selectOptions/, JSON.stringify(bad));
  });
  test('MultiSelect: an array of options', () => {
    const s = S({ type: 'MultiSelect', selectOptions: ['L', 'XL', 60, true] });
    assert.equal(valueProblem(s, ['L', 60, true]), null);
    assert.equal(valueProblem(s, []), null);
    assert.match(valueProblem(s, 'L')!, /array/);
    assert.match(valueProblem(s, ['L', 'XXL'])!, /"XXL"/);
    assert.match(valueProblem(s, ['L', null])!, /null/);
  });
});

// ---------------------------------------------------------------------------------------------

let seq = 0;
function field(name: string, schema: Record<string, unknown>, isDeleted = false): CustomFieldRecord {
  seq++;
  return {
    id: seq.toString(16).padStart(24, '0'),
    name,
    label: name,
    schema: parseFieldSchema(schema),
    isDeleted,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
  };
}

const rules = new CustomMetadataRules([
  field('brand', { type: 'Text', maxLength: 10 }),
  field('price', { type: 'Number', minValue: 0 }),
  field('discount', { type: 'Number', minValue: 0, maxValue: 60, defaultValue: 20 }),
  field('size', { type: 'SingleSelect', selectOptions: ['S', 'M', 'L'], isValueRequired: true, defaultValue: 'M' }),
  field('colours', { type: 'MultiSelect', selectOptions: ['red', 'blue'] }),
  field('launch', { type: 'Date' }),
  field('retired', { type: 'Boolean' }, true),
]);

describe('validateCustomMetadata: upload', () => {
  test('defaults fill every field without a value; given values are kept', () => {
    assert.deepEqual(rules.validate(undefined, { mode: 'upload' }), { discount: 20, size: 'M' });
    assert.deepEqual(rules.validate({ brand: 'Nike', discount: 5, size: 'L' }, { mode: 'upload' }), { brand: 'Nike', discount: 5, size: 'L' });
  });

  test('Date values are stored in canonical form', () => {
    assert.equal(rules.validate({ launch: '2024-06-01' }, { mode: 'upload' }).launch, '2024-06-01T00:00:00.000Z');
  });

  test('a violation names the field and the rule', () => {
    assert.throws(() => rules.validate({ brand: 'x'.repeat(11) }, { mode: 'upload' }), is400(/"brand" .*maxLength/));
    assert.throws(() => rules.validate({ price: -1 }, { mode: 'upload' }), is400(/"price" .*minValue/));
    assert.throws(() => rules.validate({ size: 'XL' }, { mode: 'upload' }), is400(/"size" .*selectOptions/));
    assert.throws(() => rules.validate({ colours: 'red' }, { mode: 'upload' }), is400(/"colours" .*array/));
    assert.throws(() => rules.validate({ launch: 'soon' }, { mode: 'upload' }), is400(/"launch" .*ISO 8601/));
  });

  test('unknown and deleted fields are refused; null is refused on upload', () => {
    assert.throws(() => rules.validate({ colour: 'red' }, { mode: 'upload' }), is400(/"colour" is not a custom metadata field/));
    assert.throws(() => rules.validate({ retired: true }, { mode: 'upload' }), is400(/"retired" has been deleted/));
    assert.throws(() => rules.validate({ brand: null }, { mode: 'upload' }), is400(/"brand" is null/));
    assert.throws(() => rules.validate([] as unknown as Record<string, unknown>, { mode: 'upload' }), is400(/object/));
  });

  test('a required field cannot be given an empty value', () => {
    assert.throws(() => rules.validate({ size: '' }, { mode: 'upload' }), is400(/"size"/));
  });

  test('a new version: given values replace the old ones; without them existing values are kept (overwriteCustomMetadata=false)', () => {
    const existing = { brand: 'Old', size: 'S', legacy: 'kept' };
    assert.deepEqual(rules.validate({ brand: 'New' }, { mode: 'upload', existing }), { brand: 'New', discount: 20, size: 'M' });
    assert.deepEqual(rules.validate(undefined, { mode: 'upload', existing }), { brand: 'Old', size: 'S', legacy: 'kept', discount: 20 });
  });

  test('a required field with no default (a row written before the rule) is refused when missing', () => {
    const r = new CustomMetadataRules([{ ...field('sku', { type: 'Text' }), schema: { type: 'Text', isValueRequired: true } }]);
    assert.throws(() => r.validate({}, { mode: 'upload' }), is400(/"sku" is a required field .*no value/));
    assert.deepEqual(r.validate({ sku: 'A1' }, { mode: 'upload' }), { sku: 'A1' });
  });

  test('no fields: nothing to check, and any key is unknown', () => {
    const none = new CustomMetadataRules([]);
    assert.deepEqual(none.validate(undefined, { mode: 'upload' }), {});
    assert.throws(() => none.validate({ a: 1 }, { mode: 'upload' }), is400(/"a" is not a custom metadata field/));
  });
});

describe('validateCustomMetadata: update', () => {
  const existing = { brand: 'Nike', size: 'S', price: 10, legacy: 'x' };

  test('merges into what is stored; non-required defaults are not applied', () => {
    assert.deepEqual(rules.validate({ price: 12 }, { mode: 'update', existing }), { ...existing, price: 12 });
  });

  test('null unsets a key; a required field cannot be unset', () => {
    assert.deepEqual(rules.validate({ brand: null }, { mode: 'update', existing }), { size: 'S', price: 10, legacy: 'x' });
    assert.throws(() => rules.validate({ size: null }, { mode: 'update', existing }), is400(/"size" is a required field .*cannot be unset/));
    // A stored key that is no longer (or never was) a field can still be removed.
    assert.deepEqual(rules.validate({ legacy: null }, { mode: 'update', existing }), { brand: 'Nike', size: 'S', price: 10 });
    assert.throws(() => rules.validate({ nothing: null }, { mode: 'update', existing }), is400(/"nothing" is not a custom metadata field/));
  });

  test('a required field missing from the asset gets its default', () => {
    assert.deepEqual(rules.validate({ brand: 'Puma' }, { mode: 'update', existing: {} }), { brand: 'Puma', size: 'M' });
  });

  test('values are checked like on upload', () => {
    assert.throws(() => rules.validate({ discount: 61 }, { mode: 'update', existing }), is400(/"discount" .*maxValue/));
    assert.throws(() => rules.validate({ colours: ['red', 'green'] }, { mode: 'update', existing }), is400(/"colours" .*"green"/));
    assert.throws(() => rules.validate({ retired: false }, { mode: 'update', existing }), is400(/deleted/));
  });

  test('a key named __proto__ is an unknown field, never a prototype', () => {
    const values = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    assert.throws(() => rules.validate(values, { mode: 'update', existing }), is400(/"__proto__"/));
    const out = rules.validate({ brand: 'A' }, { mode: 'update', existing: JSON.parse('{"__proto__": 1}') as Record<string, unknown> });
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.ok(Object.hasOwn(out, '__proto__'));
  });
});

// ---------------------------------------------------------------------------------------------

function fileRec(id: string, customMetadata: Record<string, unknown>): FileRecord {
  const now = '2024-01-01T00:00:00.000Z';
  const image = { fileType: 'image', mime: 'image/jpeg', format: 'jpg', size: 1, width: 1, height: 1 } as const;
  return {
    id,
    currentVersionId: id,
    ...assetState({ ...image, name: `${id}.jpg`, filePath: `/${id}.jpg`, customMetadata, blobKey: id, checksum: id, createdAt: now, updatedAt: now }),
  };
}

describe('service over SQLite', () => {
  test('create / list / update / delete; the name stays taken; labels are unique among live fields', async () => {
    const store = await openSqliteStore(':memory:');
    try {
      const svc = new CustomMetadataService(customFieldStoreFor(store));
      const a = await svc.create({ name: 'price', label: 'Price', schema: { type: 'Number', minValue: 1 } });
      assert.match(a.id, /^[0-9a-f]{24}$/);
      assert.deepEqual(a, { id: a.id, name: 'price', label: 'Price', schema: { type: 'Number', minValue: 1 } });
      await assert.rejects(svc.create({ name: 'price', label: 'Other', schema: { type: 'Text' } }), is400(/name already exists/));
      await assert.rejects(svc.create({ name: 'cost', label: 'Price', schema: { type: 'Text' } }), is400(/label already exists/));
      await assert.rejects(svc.create({ name: 'cost', label: 'Cost', schema: { type: 'Text' }, description: 'x' }), is400(/unknown parameter/));

      const b = await svc.create({ name: 'cost', label: 'Cost', schema: { type: 'Text' } });
      assert.deepEqual((await svc.list()).map((f) => f.name), ['price', 'cost']);
      await assert.rejects(svc.update(b.id, { label: 'Price' }), is400(/label already exists/));
      assert.equal((await svc.update(b.id, { label: 'Cost' })).label, 'Cost', 'its own label is not a clash');
      assert.deepEqual((await svc.update(a.id, { schema: { type: 'Text', maxValue: 5 } })).schema, { type: 'Number', maxValue: 5 });
      await assert.rejects(svc.update(a.id, { name: 'x' }), is400(/Name cannot be updated/));
      await assert.rejects(svc.update(a.id, {}), is400(/Either label or schema/));
      await assert.rejects(svc.update('nope', { label: 'x' }), is400(/invalid ID/));
      await assert.rejects(svc.update('0'.repeat(24), { label: 'x' }), is404);

      await svc.delete(a.id);
      await assert.rejects(svc.delete(a.id), is404);
      await assert.rejects(svc.update(a.id, { label: 'Again' }), is400(/deleted/));
      assert.deepEqual((await svc.list()).map((f) => f.name), ['cost']);
      assert.deepEqual((await svc.list({ includeDeleted: 'true' })).map((f) => f.name), ['price', 'cost']);
      await assert.rejects(svc.list({ includeDeleted: 'yes' }), is400(/includeDeleted/));
      await assert.rejects(svc.create({ name: 'price', label: 'New price', schema: { type: 'Number' } }), is400(/name already exists/));
      // The label of a deleted field is free again.
      assert.equal((await svc.create({ name: 'price2', label: 'Price', schema: { type: 'Number' } })).label, 'Price');
      assert.equal((await svc.list({ folderPath: '/a/b' })).length, 2);
      await assert.rejects(svc.list({ folderPath: '/a/../b' }), is400(/folderPath/));
    } finally {
      await store.close();
    }
  });

  test('a schema change that stored values break is refused with the count; pages through more than one batch', async () => {
    const store = await openSqliteStore(':memory:');
    try {
      const svc = new CustomMetadataService(customFieldStoreFor(store));
      const f = await svc.create({ name: 'price', label: 'Price', schema: { type: 'Number' } });
      const n = 1203;
      await store.transaction(async (tx) => {
        for (let i = 0; i < n; i++) {
          const id = i.toString(16).padStart(24, '0');
          await tx.insertFile(fileRec(id, i % 100 === 0 ? { price: 5000 + i } : { price: i % 50, other: 'x' }));
        }
        await tx.insertFile(fileRec('f'.repeat(24), { nested: { price: 1 } }));
      });
      await assert.rejects(svc.update(f.id, { schema: { maxValue: 4999 } }), is400(/13 file\(s\) already hold a "price" value/));
      await assert.rejects(svc.update(f.id, { schema: { minValue: 1 } }), is400(/12 file\(s\)/));
      // Loosening (or keeping) the bounds is fine.
      assert.deepEqual((await svc.update(f.id, { schema: { minValue: 0, maxValue: 10000 } })).schema, { type: 'Number', minValue: 0, maxValue: 10000 });
      // Nothing was half-applied by the refused changes.
      assert.deepEqual((await svc.list())[0]!.schema, { type: 'Number', minValue: 0, maxValue: 10000 });
      // Values written before a field existed are checked at creation too.
      await assert.rejects(svc.create({ name: 'other', label: 'Other', schema: { type: 'Number' } }), is400(/cannot be created: \d+ file\(s\)/));
      assert.equal((await svc.create({ name: 'other', label: 'Other', schema: { type: 'Text' } })).name, 'other');
      await assert.rejects(svc.create({ name: 'nested', label: 'Nested', schema: { type: 'Text' } }), is400(/1 file\(s\)/));
    } finally {
      await store.close();
    }
  });
});
