import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../src/errors/index.js';
import { parseUploadParams } from '../../src/services/upload-params.js';

const is400 = (re: RegExp) => (e: unknown) => e instanceof ApiError && e.status === 400 && re.test(e.message);

test('defaults follow the spec', () => {
  const p = parseUploadParams({ fileName: ['a.jpg'] });
  assert.equal(p.useUniqueFileName, true);
  assert.equal(p.isPrivateFile, false);
  assert.equal(p.isPublished, true);
  assert.equal(p.overwriteFile, true);
  assert.equal(p.overwriteTags, true);
  assert.equal(p.folder, '/');
  assert.equal(p.tags, undefined);
});

test('lists arrive as comma strings, JSON arrays or repeated fields', () => {
  assert.deepEqual(parseUploadParams({ fileName: ['a'], tags: ['x, y,,z'] }).tags, ['x', 'y', 'z']);
  assert.deepEqual(parseUploadParams({ fileName: ['a'], tags: ['["x","y"]'] }).tags, ['x', 'y']);
  assert.deepEqual(parseUploadParams({ fileName: ['a'], tags: ['x', 'y'] }).tags, ['x', 'y']);
  assert.deepEqual([...parseUploadParams({ fileName: ['a'], responseFields: ['tags,metadata'] }).responseFields], ['tags', 'metadata']);
});

test('bad values are refused with a message naming the field', () => {
  assert.throws(() => parseUploadParams({}), is400(/missing fileName/));
  assert.throws(() => parseUploadParams({ fileName: ['a'], useUniqueFileName: ['yes'] }), is400(/useUniqueFileName/));
  assert.throws(() => parseUploadParams({ fileName: ['a'], tags: ['50%'] }), is400(/%/));
  assert.throws(() => parseUploadParams({ fileName: ['a'], tags: ['x'.repeat(501)] }), is400(/500/));
  assert.throws(() => parseUploadParams({ fileName: ['a'], customCoordinates: ['1,2,3'] }), is400(/customCoordinates/));
  assert.throws(() => parseUploadParams({ fileName: ['a'], customMetadata: ['[1]'] }), is400(/customMetadata/));
  assert.throws(() => parseUploadParams({ fileName: ['a'], customMetadata: ['{'] }), is400(/valid JSON/));
  assert.throws(() => parseUploadParams({ fileName: ['a'], responseFields: ['everything'] }), is400(/responseFields/));
  assert.throws(() => parseUploadParams({ fileName: ['a'], extensions: ['[{"name":"nope"}]'] }), is400(/Unknown extension/));
  assert.throws(() => parseUploadParams({ fileName: ['a'], extensions: ['[{"name":"google-auto-tagging"}]'] }), is400(/minConfidence/));
  assert.throws(() => parseUploadParams({ fileName: ['a'], webhookUrl: ['not a url'] }), is400(/webhookUrl/));
  assert.throws(() => parseUploadParams({ fileName: ['a'], transformation: ['{"pre":1}'] }), is400(/transformation/));
  assert.throws(() => parseUploadParams({ fileName: ['a'], transformation: ['{"post":[{"type":"abs","value":"x"}]}'] }), is400(/protocol/));
  assert.throws(() => parseUploadParams({ fileName: ['a'], surprise: ['1'] }), is400(/unknown parameter/));
});

test('valid extensions and transformation pass through', () => {
  const p = parseUploadParams({
    fileName: ['a'],
    extensions: ['[{"name":"google-auto-tagging","minConfidence":80,"maxTags":5},{"name":"remove-bg","options":{"add_shadow":true}}]'],
    transformation: ['{"pre":"w-100","post":[{"type":"thumbnail","value":"w-10"},{"type":"abs","value":"sr-240","protocol":"hls"}]}'],
    customCoordinates: ['10, 20, 30, 40'],
  });
  assert.equal(p.extensions?.length, 2);
  assert.equal(p.transformation?.pre, 'w-100');
  assert.equal(p.customCoordinates, '10,20,30,40');
});
