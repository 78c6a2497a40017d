/**
 * Upload API end to end: every way of sending the file, every FileUploadV1 field, versions and
 * the overwrite rules, upload checks, metadata from the real bytes, and the size limit.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  api,
  assertApiError,
  assertNothingStored,
  blobFiles,
  download,
  getDetails,
  makeJpeg,
  makePng,
  postUploadForm,
  seedAITags,
  sha256,
  snapshot,
  tmpFiles,
  upload,
} from '../support/e2e-helpers.js';

const ID_RE = /^[0-9a-f]{24}$/;

let server: TestServer;
let origin: Server;
let originUrl: string;
let png: Buffer;
let alphaPng: Buffer;
let jpeg: Buffer;

before(async () => {
  [png, alphaPng, jpeg] = await Promise.all([makePng(40, 30), makePng(64, 48, true), makeJpeg(120, 80)]);
  origin = createServer((req, res) => {
    if (req.url === '/photo.png') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(png.length) });
      res.end(png);
    } else if (req.url === '/photo-as-text') {
      // A lying origin: JPEG bytes served as text.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(jpeg);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  server = await startTestServer({ env: { TESSERA_ALLOW_PRIVATE_URLS: 'true' } });
  // Custom metadata values are only accepted for fields that exist (ImageKit: create the field first).
  for (const name of ['brand', 'k']) {
    const res = await api(server, 'POST', '/v1/customMetadataFields', { name, label: name, schema: { type: 'Text' } });
    assert.equal(res.status, 201, res.text);
  }
});

after(async () => {
  await server?.stop();
  await new Promise<void>((r) => (origin ? origin.close(() => r()) : r()));
});

describe('the file field', () => {
  test('multipart binary: stored byte-identical, metadata from the bytes, url serves it', async () => {
    const res = await upload(server, { fileName: 'binary.png' }, { bytes: png, name: 'binary.png', type: 'image/png' });
    assert.equal(res.status, 200, res.text);
    const b = res.body;
    assert.match(b.fileId, ID_RE);
    assert.match(b.name, /^binary_[A-Za-z0-9]+\.png$/);
    assert.equal(b.filePath, `/${b.name}`);
    assert.equal(b.size, png.length);
    assert.equal(b.width, 40);
    assert.equal(b.height, 30);
    assert.equal(b.fileType, 'image');
    assert.deepEqual(b.versionInfo.name, 'Version 1');
    assert.match(b.versionInfo.id, ID_RE);
    assert.equal(typeof b.url, 'string');
    assert.equal(typeof b.thumbnailUrl, 'string');
    assert.equal(b.AITags, null);

    const got = await download(b.url);
    assert.equal(got.status, 200);
    assert.equal(got.contentType, 'image/png');
    assert.equal(sha256(got.bytes), sha256(png));

    const head = await fetch(b.url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), 'image/png');
    assert.equal(head.headers.get('content-length'), String(png.length));

    const d = await getDetails(server, b.fileId);
    assert.equal(d.status, 200, d.text);
    assert.equal(d.body.name, b.name);
    assert.equal(d.body.mime, 'image/png');
    assert.equal(d.body.hasAlpha, false);
  });

  test('fields may come before or after the file part', async () => {
    const form = new FormData();
    form.append('fileName', 'fields-first.png');
    form.append('useUniqueFileName', 'false');
    form.append('tags', 'early');
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'whatever.png');
    form.append('responseFields', 'tags');
    const res = await postUploadForm(server, form);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.name, 'fields-first.png');
    assert.deepEqual(res.body.tags, ['early']);
  });

  test('the v2 endpoint takes the same fields with the private key', async () => {
    const res = await upload(server, { fileName: 'v2.png', useUniqueFileName: 'false', folder: 'v2' }, { bytes: png }, { version: 2 });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.filePath, '/v2/v2.png');
  });

  test('base64, plain', async () => {
    const res = await upload(server, { fileName: 'plain64.jpg' }, jpeg.toString('base64'));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.size, jpeg.length);
    assert.equal(res.body.width, 120);
    assert.equal(res.body.height, 80);
    assert.equal(sha256((await download(res.body.url)).bytes), sha256(jpeg));
  });

  test('base64, as a data URI', async () => {
    const res = await upload(server, { fileName: 'datauri.png' }, `data:image/png;base64,${alphaPng.toString('base64')}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.size, alphaPng.length);
    assert.equal(res.body.width, 64);
    assert.equal((await download(res.body.url)).bytes.equals(alphaPng), true);
  });

  test('an http URL fetched by the server', async () => {
    const res = await upload(server, { fileName: 'fromurl.png' }, `${originUrl}/photo.png`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.size, png.length);
    assert.equal(res.body.width, 40);
    assert.equal(sha256((await download(res.body.url)).bytes), sha256(png));
  });

  test('a URL whose origin lies about the content type: the bytes decide', async () => {
    const res = await upload(server, { fileName: 'fromurl.txt' }, `${originUrl}/photo-as-text`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.fileType, 'image');
    assert.equal(res.body.width, 120);
    const d = await getDetails(server, res.body.fileId);
    assert.equal(d.body.mime, 'image/jpeg');
  });

  test('a URL that answers 404 is a 400 and stores nothing', async () => {
    const before = await snapshot(server.dataDir);
    const res = await upload(server, { fileName: 'missing.png' }, `${originUrl}/nope.png`);
    assertApiError(res, 400);
    await assertNothingStored(server.dataDir, before);
  });
});

describe('names and folders', () => {
  test('fileName is sanitised as documented: spaces and other characters become "_"', async () => {
    const res = await upload(server, { fileName: 'my photo (1)@#!+,;=&.png', useUniqueFileName: 'false' }, { bytes: png });
    assert.equal(res.status, 200, res.text);
    // "my" " " "photo" " " "(" "1" then ")@#!+,;=&" (9 characters): each one becomes "_".
    const expected = `my_photo__1${'_'.repeat(9)}.png`;
    assert.equal(res.body.name, expected);
    assert.equal(res.body.filePath, `/${expected}`);
  });

  test('letters, digits, ".", "-" and "_" are kept', async () => {
    const res = await upload(server, { fileName: 'Keep-Me_v1.2.final.png', useUniqueFileName: 'false' }, { bytes: png });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.name, 'Keep-Me_v1.2.final.png');
  });

  test('useUniqueFileName defaults to true: a suffix is added and names never collide', async () => {
    const a = await upload(server, { fileName: 'same.png' }, { bytes: png });
    const b = await upload(server, { fileName: 'same.png' }, { bytes: png });
    const c = await upload(server, { fileName: 'same.png', useUniqueFileName: 'true' }, { bytes: png });
    for (const r of [a, b, c]) {
      assert.equal(r.status, 200, r.text);
      assert.match(r.body.name, /^same_[A-Za-z0-9]+\.png$/);
      assert.equal(r.body.versionInfo.name, 'Version 1');
    }
    assert.equal(new Set([a.body.name, b.body.name, c.body.name]).size, 3);
    assert.equal(new Set([a.body.fileId, b.body.fileId, c.body.fileId]).size, 3);
  });

  test('useUniqueFileName=false keeps the name exactly', async () => {
    const r = await upload(server, { fileName: 'exact-name.png', useUniqueFileName: 'false' }, { bytes: png });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.name, 'exact-name.png');
    assert.equal(r.body.filePath, '/exact-name.png');
  });

  test('a nested folder is created on demand', async () => {
    const r = await upload(server, { fileName: 'deep.png', folder: 'nest/ed/deeply', useUniqueFileName: 'false' }, { bytes: png });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.filePath, '/nest/ed/deeply/deep.png');
    // The same folder written with slashes around it lands in the same place.
    const r2 = await upload(server, { fileName: 'deep2.png', folder: '/nest/ed/deeply/', useUniqueFileName: 'false' }, { bytes: png });
    assert.equal(r2.body.filePath, '/nest/ed/deeply/deep2.png');
    const got = await download(r.body.url);
    assert.equal(got.status, 200);
    assert.equal(got.bytes.equals(png), true);
    // Every ancestor exists as a folder, listed where it belongs.
    for (const [parent, name] of [
      ['/', 'nest'],
      ['/nest/', 'ed'],
      ['/nest/ed/', 'deeply'],
    ] as const) {
      const list = await api(server, 'GET', `/v1/files?type=folder&path=${encodeURIComponent(parent)}`);
      assert.equal(list.status, 200, list.text);
      const names = (list.body as unknown as Array<{ type: string; name: string }>).filter((x) => x.type === 'folder').map((x) => x.name);
      assert.ok(names.includes(name), `folder ${name} not listed under ${parent}: ${JSON.stringify(names)}`);
    }
  });
});

describe('tags, coordinates, flags, description, responseFields', () => {
  test('tags as a comma string, echoed with responseFields=tags', async () => {
    const r = await upload(server, { fileName: 't.png', tags: 'red, green ,blue', responseFields: 'tags' }, { bytes: png });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.tags, ['red', 'green', 'blue']);
    const d = await getDetails(server, r.body.fileId);
    assert.deepEqual(d.body.tags, ['red', 'green', 'blue']);
  });

  test('tags: 500 characters in all is accepted, 501 is refused, "%" is refused', async () => {
    const t500 = ['a'.repeat(250), 'b'.repeat(250)].join(',');
    const ok = await upload(server, { fileName: 't500.png', tags: t500, responseFields: 'tags' }, { bytes: png });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.tags.join('').length, 500);

    const before = await snapshot(server.dataDir);
    const long = await upload(server, { fileName: 't501.png', tags: ['a'.repeat(250), 'b'.repeat(251)].join(',') }, { bytes: png });
    assertApiError(long, 400, /tags/);
    const pct = await upload(server, { fileName: 'tpct.png', tags: 'fine,50%off' }, { bytes: png });
    assertApiError(pct, 400, /tags/);
    await assertNothingStored(server.dataDir, before);
  });

  test('customCoordinates stored and validated', async () => {
    const r = await upload(
      server,
      { fileName: 'cc.png', customCoordinates: '10,5,20,15', responseFields: 'customCoordinates' },
      { bytes: png },
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.customCoordinates, '10,5,20,15');
    assert.equal((await getDetails(server, r.body.fileId)).body.customCoordinates, '10,5,20,15');
    const none = await upload(server, { fileName: 'nocc.png', responseFields: 'customCoordinates' }, { bytes: png });
    assert.equal(none.body.customCoordinates, null);

    const before = await snapshot(server.dataDir);
    for (const bad of ['10,5,20', 'a,b,c,d', '10,5,0,15', '-1,5,20,15']) {
      assertApiError(await upload(server, { fileName: 'badcc.png', customCoordinates: bad }, { bytes: png }), 400, /customCoordinates/);
    }
    await assertNothingStored(server.dataDir, before);
  });

  test('isPrivateFile, isPublished and description', async () => {
    const r = await upload(
      server,
      {
        fileName: 'flags.png',
        isPrivateFile: 'true',
        isPublished: 'false',
        description: 'A small blue rectangle',
        responseFields: 'isPrivateFile,isPublished',
      },
      { bytes: png },
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.isPrivateFile, true);
    assert.equal(r.body.isPublished, false);
    assert.equal(r.body.description, 'A small blue rectangle');
    const d = await getDetails(server, r.body.fileId);
    assert.equal(d.body.isPrivateFile, true);
    assert.equal(d.body.isPublished, false);
    assert.equal(d.body.description, 'A small blue rectangle');

    const dflt = await getDetails(server, (await upload(server, { fileName: 'dflt.png' }, { bytes: png })).body.fileId);
    assert.equal(dflt.body.isPrivateFile, false);
    assert.equal(dflt.body.isPublished, true);

    assertApiError(await upload(server, { fileName: 'x.png', isPrivateFile: 'maybe' }, { bytes: png }), 400, /isPrivateFile/);
  });

  test('responseFields: only what was asked for is returned', async () => {
    const plain = await upload(server, { fileName: 'rf.png', tags: 'x' }, { bytes: png });
    assert.equal(plain.status, 200, plain.text);
    for (const k of ['tags', 'customCoordinates', 'isPrivateFile', 'isPublished', 'customMetadata', 'metadata']) {
      assert.equal(k in plain.body, false, `${k} returned without being asked for`);
    }
    const all = await upload(
      server,
      {
        fileName: 'rf.png',
        tags: 'x',
        customMetadata: '{"brand":"acme"}',
        responseFields: 'tags,customCoordinates,isPrivateFile,isPublished,customMetadata,metadata',
      },
      { bytes: alphaPng },
    );
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(all.body.tags, ['x']);
    assert.equal(all.body.customCoordinates, null);
    assert.equal(all.body.isPrivateFile, false);
    assert.equal(all.body.isPublished, true);
    assert.deepEqual(all.body.customMetadata, { brand: 'acme' });
    assert.equal(all.body.metadata.width, 64);
    assert.equal(all.body.metadata.height, 48);
    assert.equal(all.body.metadata.hasTransparency, true);
    assert.equal(all.body.metadata.format, 'png');

    assertApiError(await upload(server, { fileName: 'rf.png', responseFields: 'tags,nonsense' }, { bytes: png }), 400, /responseFields/);
  });
});

describe('existing paths: conflicts, versions and the overwrite rules', () => {
  test('overwriteFile=false with useUniqueFileName=false on an existing path → 400, nothing changes', async () => {
    const first = await upload(server, { fileName: 'conflict.png', useUniqueFileName: 'false' }, { bytes: png });
    assert.equal(first.status, 200, first.text);
    const before = await snapshot(server.dataDir);
    const second = await upload(
      server,
      { fileName: 'conflict.png', useUniqueFileName: 'false', overwriteFile: 'false' },
      { bytes: jpeg },
    );
    assertApiError(
      second,
      400,
      'A file with the same name already exists at the exact location. We could not overwrite it because both overwriteFile and useUniqueFileName are set to false.',
    );
    await assertNothingStored(server.dataDir, before);
    const d = await getDetails(server, first.body.fileId);
    assert.equal(d.body.versionInfo.name, 'Version 1');
    assert.equal(d.body.size, png.length);
  });

  test('useUniqueFileName=false on an existing path makes a new version of the same file', async () => {
    const v1 = await upload(server, { fileName: 'versioned.png', useUniqueFileName: 'false' }, { bytes: png });
    const v2 = await upload(server, { fileName: 'versioned.png', useUniqueFileName: 'false' }, { bytes: jpeg, name: 'x.png' });
    assert.equal(v2.status, 200, v2.text);
    assert.equal(v2.body.fileId, v1.body.fileId);
    assert.equal(v2.body.versionInfo.name, 'Version 2');
    assert.notEqual(v2.body.versionInfo.id, v1.body.versionInfo.id);
    assert.equal(v2.body.width, 120);

    const d = await getDetails(server, v1.body.fileId);
    assert.equal(d.body.versionInfo.id, v2.body.versionInfo.id);
    assert.equal(d.body.mime, 'image/jpeg');
    assert.equal(sha256((await download(d.body.url)).bytes), sha256(jpeg));

    const versions = await api(server, 'GET', `/v1/files/${v1.body.fileId}/versions`);
    assert.equal(versions.status, 200, versions.text);
    assert.deepEqual(
      versions.body.map((v: { versionInfo: { name: string } }) => v.versionInfo.name).sort(),
      ['Version 1', 'Version 2'],
    );
  });

  test('overwriteTags / overwriteCustomMetadata / overwriteAITags', async () => {
    const name = 'overwrite-rules.png';
    const v1 = await upload(
      server,
      { fileName: name, useUniqueFileName: 'false', tags: 'a,b', customMetadata: '{"k":"v"}' },
      { bytes: png },
    );
    assert.equal(v1.status, 200, v1.text);
    const fileId = v1.body.fileId as string;
    // Nothing in this issue produces AITags (extensions run later), so seed them in the store.
    await seedAITags(server.dataDir, fileId, [{ name: 'Rectangle', confidence: 91.5, source: 'google-auto-tagging' }]);
    assert.equal((await getDetails(server, fileId)).body.AITags[0].name, 'Rectangle');

    // Flags false: what the request does not carry is kept.
    const v2 = await upload(
      server,
      {
        fileName: name,
        useUniqueFileName: 'false',
        overwriteTags: 'false',
        overwriteCustomMetadata: 'false',
        overwriteAITags: 'false',
      },
      { bytes: png },
    );
    assert.equal(v2.status, 200, v2.text);
    assert.equal(v2.body.versionInfo.name, 'Version 2');
    let d = await getDetails(server, fileId);
    assert.deepEqual(d.body.tags, ['a', 'b']);
    assert.deepEqual(d.body.customMetadata, { k: 'v' });
    assert.deepEqual(d.body.AITags, [{ name: 'Rectangle', confidence: 91.5, source: 'google-auto-tagging' }]);

    // Request values win even when the flag says keep.
    const v3 = await upload(
      server,
      { fileName: name, useUniqueFileName: 'false', overwriteTags: 'false', tags: 'c', overwriteAITags: 'false' },
      { bytes: png },
    );
    assert.equal(v3.status, 200, v3.text);
    d = await getDetails(server, fileId);
    assert.deepEqual(d.body.tags, ['c']);
    assert.deepEqual(d.body.customMetadata, {}, 'overwriteCustomMetadata defaults to true: absent customMetadata is removed');
    assert.equal(d.body.AITags.length, 1);

    // Defaults (all true): tags and AITags removed.
    const v4 = await upload(server, { fileName: name, useUniqueFileName: 'false' }, { bytes: png });
    assert.equal(v4.status, 200, v4.text);
    assert.equal(v4.body.versionInfo.name, 'Version 4');
    d = await getDetails(server, fileId);
    assert.equal(d.body.tags, null);
    assert.equal(d.body.AITags, null);
    assert.deepEqual(d.body.customMetadata, {});
  });

  test('at most 100 versions: the 101st upload to a path is refused and stores nothing', async () => {
    const name = 'hundred.png';
    let fileId = '';
    for (let i = 1; i <= 100; i++) {
      const r = await upload(server, { fileName: name, useUniqueFileName: 'false' }, { bytes: png });
      assert.equal(r.status, 200, `upload ${i}: ${r.text}`);
      assert.equal(r.body.versionInfo.name, `Version ${i}`);
      fileId = r.body.fileId;
    }
    const before = await snapshot(server.dataDir);
    const r = await upload(server, { fileName: name, useUniqueFileName: 'false' }, { bytes: png });
    assertApiError(r, 400, /100 versions/);
    await assertNothingStored(server.dataDir, before);
    const versions = await api(server, 'GET', `/v1/files/${fileId}/versions`);
    assert.equal(versions.body.length, 100);
  });
});

describe('checks', () => {
  test('passing checks let the upload through', async () => {
    for (const checks of [
      '"file.size" < "1mb"',
      '"file.mime" = "image/png" AND "mediaMetadata.width" >= 40',
      '"mediaMetadata.width" > 1000 OR "request.folder" : "checked"',
      '"request.tags" IN ["x", "y"]',
    ]) {
      const r = await upload(server, { fileName: 'checked.png', folder: 'checked', tags: 'x', checks }, { bytes: png });
      assert.equal(r.status, 200, `${checks}: ${r.text}`);
    }
  });

  test('a failing check is a 400 and stores nothing', async () => {
    const before = await snapshot(server.dataDir);
    for (const checks of ['"file.size" > "1mb"', '"file.size" < "100b"', '"file.mime" = "image/jpeg"', '"mediaMetadata.height" > 30']) {
      const r = await upload(server, { fileName: 'failing.png', checks }, { bytes: png, type: 'image/jpeg' });
      assertApiError(r, 400, "Your request failed 'checks' validation.");
    }
    await assertNothingStored(server.dataDir, before);
  });

  test('checks with bad syntax are a 400', async () => {
    const before = await snapshot(server.dataDir);
    for (const checks of ['"file.size" <', 'file.size < 1mb', '"file.size" < 1mb', '"no.such.field" = "x"', '("file.size" < "1mb"']) {
      const r = await upload(server, { fileName: 'syntax.png', checks }, { bytes: png });
      assertApiError(r, 400, /^Your request contains invalid syntax for the checks parameter\./);
    }
    await assertNothingStored(server.dataDir, before);
  });
});

describe('extensions, webhookUrl, transformation: accepted and validated', () => {
  test('valid values are accepted', async () => {
    const r = await upload(
      server,
      {
        fileName: 'ext.png',
        extensions: JSON.stringify([{ name: 'google-auto-tagging', minConfidence: 80, maxTags: 5 }, { name: 'remove-bg' }]),
        // Extensions now run and report to webhookUrl: a loopback address keeps the test off the network.
        webhookUrl: 'http://127.0.0.1:9/hooks/imagekit',
        // Video post types (thumbnail, gif-to-video, abs) are refused: see upload-transforms.test.ts.
        transformation: JSON.stringify({ pre: 'w-20,h-20', post: [{ type: 'transformation', value: 'w-10' }] }),
      },
      { bytes: png },
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(typeof r.body.extensionStatus, 'object');
    assert.deepEqual(Object.keys(r.body.extensionStatus).sort(), ['google-auto-tagging', 'remove-bg']);
  });

  test('bad JSON, wrong shapes and bad URLs are 400', async () => {
    const before = await snapshot(server.dataDir);
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ extensions: '[{"name":' }, /extensions/],
      [{ extensions: '{"name":"remove-bg"}' }, /extensions/],
      [{ extensions: '[{"name":"no-such-extension"}]' }, /extensions/],
      [{ extensions: '[{"name":"google-auto-tagging","minConfidence":"high","maxTags":5}]' }, /extensions/],
      [{ webhookUrl: 'not a url' }, /webhookUrl/],
      [{ webhookUrl: 'ftp://example.com/hook' }, /webhookUrl/],
      [{ transformation: '{pre:' }, /transformation/],
      [{ transformation: '{"sideways":"w-10"}' }, /transformation/],
      [{ transformation: '{"post":[{"type":"nonsense","value":"w-10"}]}' }, /transformation/],
      [{ customMetadata: '{"k":' }, /customMetadata/],
      [{ customMetadata: '["not","an","object"]' }, /customMetadata/],
    ];
    for (const [fields, msg] of cases) {
      const r = await upload(server, { fileName: 'bad.png', ...fields }, { bytes: png });
      assertApiError(r, 400, msg);
    }
    await assertNothingStored(server.dataDir, before);
  });

  test('a pre-transformation on a non-image file is refused', async () => {
    const before = await snapshot(server.dataDir);
    const r = await upload(
      server,
      { fileName: 'notes.txt', transformation: '{"pre":"w-100"}' },
      { bytes: Buffer.from('plain text, not an image\n'), type: 'text/plain' },
    );
    assertApiError(r, 400, 'The file could not be uploaded because transformations are supported only for image and video files.');
    await assertNothingStored(server.dataDir, before);
  });
});

describe('media facts come from the bytes, not the client', () => {
  test('a PNG with alpha sent as image/jpeg named .jpg', async () => {
    const r = await upload(server, { fileName: 'liar.jpg' }, { bytes: alphaPng, name: 'liar.jpg', type: 'image/jpeg' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.fileType, 'image');
    assert.equal(r.body.width, 64);
    assert.equal(r.body.height, 48);
    assert.equal(r.body.size, alphaPng.length);
    const d = await getDetails(server, r.body.fileId);
    assert.equal(d.body.mime, 'image/png');
    assert.equal(d.body.hasAlpha, true);
    assert.equal((await download(r.body.url)).contentType, 'image/png');
  });

  test('a JPEG sent as image/png named .png', async () => {
    const r = await upload(server, { fileName: 'liar.png' }, { bytes: jpeg, name: 'liar.png', type: 'image/png' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.width, 120);
    assert.equal(r.body.height, 80);
    const d = await getDetails(server, r.body.fileId);
    assert.equal(d.body.mime, 'image/jpeg');
    assert.equal(d.body.hasAlpha, false);
  });

  test('a text file sent as image/png is a non-image without dimensions', async () => {
    const text = Buffer.from('hello, this is just text\n'.repeat(20));
    const r = await upload(server, { fileName: 'readme.txt' }, { bytes: text, name: 'readme.txt', type: 'image/png' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.fileType, 'non-image');
    assert.equal(r.body.size, text.length);
    assert.equal('width' in r.body, false);
    assert.equal('height' in r.body, false);
    assert.equal('thumbnailUrl' in r.body, false);
    const d = await getDetails(server, r.body.fileId);
    assert.equal(d.body.fileType, 'non-image');
    assert.equal(d.body.mime, 'text/plain');
    assert.equal(d.body.hasAlpha, false);
  });

  test('text bytes named .png are not reported as a PNG', async () => {
    const text = Buffer.from('definitely not a png\n'.repeat(10));
    const r = await upload(server, { fileName: 'fake.png' }, { bytes: text, name: 'fake.png', type: 'image/png' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.fileType, 'non-image');
    assert.equal('width' in r.body, false);
    const d = await getDetails(server, r.body.fileId);
    assert.notEqual(d.body.mime, 'image/png', 'bytes that are not a PNG must not be served as image/png');
  });
});

describe('the size limit', () => {
  const LIMIT = 64 * 1024;
  let small: TestServer;
  let big: Server;
  let bigUrl: string;

  before(async () => {
    small = await startTestServer({ env: { TESSERA_MAX_UPLOAD_BYTES: String(LIMIT), TESSERA_ALLOW_PRIVATE_URLS: 'true' } });
    big = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(randomBytes(LIMIT * 3));
    });
    await new Promise<void>((r) => big.listen(0, '127.0.0.1', r));
    bigUrl = `http://127.0.0.1:${(big.address() as AddressInfo).port}/big.bin`;
  });
  after(async () => {
    await small?.stop();
    await new Promise<void>((r) => (big ? big.close(() => r()) : r()));
  });

  test('exactly at the limit is accepted', async () => {
    const bytes = randomBytes(LIMIT);
    const r = await upload(small, { fileName: 'at-limit.bin' }, { bytes });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.size, LIMIT);
  });

  test('over the limit → 413, and nothing is stored (no row, no blob, no temp file)', async () => {
    const before = await snapshot(small.dataDir);
    const attempts = [
      ['binary', () => upload(small, { fileName: 'over.bin' }, { bytes: randomBytes(LIMIT + 1) })],
      ['binary, 4x', () => upload(small, { fileName: 'over4.bin' }, { bytes: randomBytes(LIMIT * 4) })],
      ['base64', () => upload(small, { fileName: 'over64.bin' }, randomBytes(LIMIT + 1024).toString('base64'))],
      ['url', () => upload(small, { fileName: 'overurl.bin' }, bigUrl)],
    ] as const;
    for (const [what, attempt] of attempts) {
      const r = await attempt();
      assertApiError(r, 413, /size exceeds|larger than/);
      await assertNothingStored(small.dataDir, before, `after the ${what} attempt`);
    }
    assert.deepEqual(tmpFiles(small.dataDir), []);
    assert.equal((await blobFiles(small.dataDir)).length, 1, 'only the at-limit upload has bytes');
    const list = await api(small, 'GET', '/v1/files?type=all');
    assert.equal(list.status, 200, list.text);
    const names = (list.body as unknown as Array<{ name: string }>).map((x) => x.name);
    assert.equal(names.length, 1, `only the at-limit file is listed: ${JSON.stringify(names)}`);
    assert.match(names[0]!, /^at-limit/);
    assert.equal((await api(small, 'GET', '/healthz', undefined, { auth: null })).status, 200, 'the server is still healthy');
  });
});
