// Upload encoding: what reaches the server for each kind of input, parsed by the platform's own
// multipart parser (Response.formData), from a real local HTTP server.
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { ImageKitClient, ImageKitError } from '../src/index.js';
import { json, parseForm, startLocalServer, type LocalServer } from './support/local-server.js';

let server: LocalServer;
let client: ImageKitClient;
let dir: string;

before(async () => {
  server = await startLocalServer((req, res) => json(res, 200, { fileId: 'f1', name: 'x' }));
  client = new ImageKitClient({ privateKey: 'pk', baseUrl: server.url });
  dir = mkdtempSync(join(tmpdir(), 'tessera-sdk-'));
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const BYTES = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));

async function lastForm(): Promise<FormData> {
  return parseForm(server.requests.at(-1)!);
}

async function fileBytes(form: FormData): Promise<Buffer> {
  const f = form.get('file');
  assert.ok(f instanceof Blob, 'file part should be binary');
  return Buffer.from(await f.arrayBuffer());
}

describe('upload fields', () => {
  test('encodes every parameter the way the ImageKit upload API reads it', async () => {
    await client.files.upload({
      file: BYTES,
      fileName: 'photo.jpg',
      useUniqueFileName: false,
      tags: ['summer', 'sale 2024'],
      folder: '/products/',
      isPrivateFile: true,
      isPublished: false,
      customCoordinates: '10,10,100,100',
      responseFields: ['tags', 'customMetadata', 'metadata'],
      extensions: [{ name: 'google-auto-tagging', minConfidence: 80, maxTags: 5 }],
      webhookUrl: 'https://example.com/hook',
      overwriteFile: true,
      overwriteAITags: false,
      overwriteTags: true,
      overwriteCustomMetadata: false,
      customMetadata: { brand: 'Nike', price: 10 },
      transformation: { pre: 'w-100', post: [{ type: 'thumbnail', value: 'h-50' }] },
      checks: '"file.size" < "1mb"',
      description: 'A photo',
    });
    const req = server.requests.at(-1)!;
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/api/v1/files/upload');
    assert.match(String(req.headers['content-type']), /^multipart\/form-data; boundary=/);
    assert.ok(req.headers.authorization?.startsWith('Basic '));
    const form = await lastForm();
    const text = (k: string): unknown => form.get(k);
    assert.equal(text('fileName'), 'photo.jpg');
    assert.equal(text('useUniqueFileName'), 'false');
    assert.equal(text('tags'), 'summer,sale 2024');
    assert.equal(text('folder'), '/products/');
    assert.equal(text('isPrivateFile'), 'true');
    assert.equal(text('isPublished'), 'false');
    assert.equal(text('customCoordinates'), '10,10,100,100');
    assert.equal(text('responseFields'), 'tags,customMetadata,metadata');
    assert.deepEqual(JSON.parse(String(text('extensions'))), [{ name: 'google-auto-tagging', minConfidence: 80, maxTags: 5 }]);
    assert.equal(text('webhookUrl'), 'https://example.com/hook');
    assert.equal(text('overwriteFile'), 'true');
    assert.equal(text('overwriteAITags'), 'false');
    assert.equal(text('overwriteTags'), 'true');
    assert.equal(text('overwriteCustomMetadata'), 'false');
    assert.deepEqual(JSON.parse(String(text('customMetadata'))), { brand: 'Nike', price: 10 });
    assert.deepEqual(JSON.parse(String(text('transformation'))), { pre: 'w-100', post: [{ type: 'thumbnail', value: 'h-50' }] });
    assert.equal(text('checks'), '"file.size" < "1mb"');
    assert.equal(text('description'), 'A photo');
    const file = form.get('file') as File;
    assert.equal(file.name, 'photo.jpg');
    assert.deepEqual(await fileBytes(form), BYTES);
  });

  test('unset parameters are left out', async () => {
    await client.files.upload({ file: BYTES, fileName: 'a.bin', tags: undefined });
    const form = await lastForm();
    assert.deepEqual([...form.keys()].sort(), ['file', 'fileName']);
  });

  test('names with quotes and newlines stay inside their header', async () => {
    await client.files.upload({ file: BYTES, fileName: 'we"ird\r\nname.jpg' });
    const form = await lastForm();
    assert.equal(form.get('fileName'), 'we"ird\r\nname.jpg');
    assert.deepEqual(await fileBytes(form), BYTES);
  });
});

describe('file inputs', () => {
  test('Uint8Array view into a larger buffer sends only its own bytes', async () => {
    const big = new Uint8Array(100).fill(7);
    big.set([1, 2, 3], 10);
    await client.files.upload({ file: big.subarray(10, 13), fileName: 'v.bin' });
    assert.deepEqual(await fileBytes(await lastForm()), Buffer.from([1, 2, 3]));
  });

  test('ArrayBuffer', async () => {
    const ab = BYTES.buffer.slice(BYTES.byteOffset, BYTES.byteOffset + BYTES.byteLength);
    await client.files.upload({ file: ab, fileName: 'ab.bin' });
    assert.deepEqual(await fileBytes(await lastForm()), BYTES);
  });

  test('Blob keeps its type; File gives its name as fileName', async () => {
    await client.files.upload({ file: new Blob([BYTES], { type: 'image/png' }), fileName: 'b.png' });
    const f1 = (await lastForm()).get('file') as File;
    assert.equal(f1.type, 'image/png');
    await client.files.upload({ file: new File([BYTES], 'from-file.gif', { type: 'image/gif' }) });
    const form = await lastForm();
    assert.equal(form.get('fileName'), 'from-file.gif');
    assert.deepEqual(await fileBytes(form), BYTES);
  });

  test('a Blob from another realm (duck-typed) is streamed, named, and can still be retried', async () => {
    const foreign = {
      size: BYTES.length,
      type: 'image/png',
      name: 'foreign.png',
      arrayBuffer: async () => new Uint8Array(BYTES).buffer,
      stream: () => new Blob([BYTES]).stream(),
    } as unknown as Blob;
    const flaky = await startLocalServer((req, res, i) =>
      i === 0 ? json(res, 503, {}, { 'retry-after': '0' }) : json(res, 200, { fileId: 'f' }),
    );
    try {
      const c = new ImageKitClient({ privateKey: 'pk', baseUrl: flaky.url });
      await c.files.upload({ file: foreign });
      assert.equal(flaky.requests.length, 2);
      for (const rec of flaky.requests) {
        const form = await parseForm(rec);
        assert.equal(form.get('fileName'), 'foreign.png');
        assert.equal((form.get('file') as File).type, 'image/png');
        assert.deepEqual(await fileBytes(form), BYTES);
      }
    } finally {
      await flaky.close();
    }
  });

  test('fs.ReadStream: streamed with chunked encoding; fileName from its path', async () => {
    const path = join(dir, 'on-disk.jpg');
    writeFileSync(path, BYTES);
    await client.files.upload({ file: createReadStream(path) });
    const req = server.requests.at(-1)!;
    assert.equal(req.headers['transfer-encoding'], 'chunked');
    assert.equal(req.headers['content-length'], undefined);
    const form = await lastForm();
    assert.equal(form.get('fileName'), 'on-disk.jpg');
    assert.deepEqual(await fileBytes(form), BYTES);
  });

  test('a stream is sent while it is still being produced (never buffered whole)', async () => {
    // The source will not produce its last chunk until the server has received the first one:
    // if the SDK read the whole stream before sending, this would deadlock and time out.
    let sawFirst!: () => void;
    const firstArrived = new Promise<void>((r) => (sawFirst = r));
    const streaming = await startLocalServer(
      (rec, res, _i, raw) => {
        const chunks: Buffer[] = [];
        raw.on('data', (c: Buffer) => {
          chunks.push(c);
          if (Buffer.concat(chunks).includes('FIRST-CHUNK')) sawFirst();
        });
        raw.on('end', () => {
          rec.body = Buffer.concat(chunks);
          json(res, 200, { fileId: 's' });
        });
      },
      { rawBody: true },
    );
    try {
      async function* produce(): AsyncGenerator<Buffer> {
        yield Buffer.from('FIRST-CHUNK');
        await firstArrived;
        yield Buffer.from('-SECOND-CHUNK');
      }
      const c = new ImageKitClient({ privateKey: 'pk', baseUrl: streaming.url, timeoutInSeconds: 5 });
      await c.files.upload({ file: Readable.from(produce()), fileName: 's.txt' });
      const form = await parseForm(streaming.requests[0]!);
      assert.equal((await fileBytes(form)).toString(), 'FIRST-CHUNK-SECOND-CHUNK');
    } finally {
      await streaming.close();
    }
  });

  test('web ReadableStream and string chunks', async () => {
    const web = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('web-'));
        controller.enqueue(new TextEncoder().encode('stream'));
        controller.close();
      },
    });
    await client.files.upload({ file: web, fileName: 'w.txt' });
    assert.equal((await fileBytes(await lastForm())).toString(), 'web-stream');
    await client.files.upload({ file: Readable.from(['text ', 'chunks']), fileName: 't.txt' });
    assert.equal((await fileBytes(await lastForm())).toString(), 'text chunks');
  });

  test('an http(s) URL string is sent as a plain field for the server to fetch', async () => {
    await client.files.upload({ file: 'https://example.com/img.jpg', fileName: 'remote.jpg' });
    const form = await lastForm();
    assert.equal(form.get('file'), 'https://example.com/img.jpg');
    assert.equal(form.get('fileName'), 'remote.jpg');
  });

  test('a base64 string is sent as a plain field', async () => {
    const b64 = BYTES.toString('base64');
    await client.files.upload({ file: b64, fileName: 'b.bin' });
    assert.equal((await lastForm()).get('file'), b64);
  });

  test('fileName is required when the input carries none; nothing is sent', async () => {
    const before = server.requests.length;
    await assert.rejects(client.files.upload({ file: BYTES }), (e: unknown) => e instanceof ImageKitError && /fileName/.test((e as Error).message));
    await assert.rejects(client.files.upload({ file: 'https://example.com/x.jpg' }), ImageKitError);
    assert.equal(server.requests.length, before);
  });

  test('an unsupported input is refused', async () => {
    await assert.rejects(
      client.files.upload({ file: 42 as unknown as string, fileName: 'n' }),
      (e: unknown) => e instanceof ImageKitError && /Unsupported upload input/.test((e as Error).message),
    );
  });
});

describe('upload authentication', () => {
  test('V1 client-side (signature): no Authorization header, credentials as fields', async () => {
    await client.files.upload({
      file: BYTES,
      fileName: 'c.bin',
      publicKey: 'public_k',
      signature: 'sig',
      expire: 1700000000,
      token: 'tok-1',
    });
    const req = server.requests.at(-1)!;
    assert.equal(req.headers.authorization, undefined);
    const form = await lastForm();
    assert.equal(form.get('publicKey'), 'public_k');
    assert.equal(form.get('signature'), 'sig');
    assert.equal(form.get('expire'), '1700000000');
    assert.equal(form.get('token'), 'tok-1');
  });

  test('V2 client-side (token): no Authorization header, to /api/v2/files/upload', async () => {
    await client.beta.v2.files.upload({ file: BYTES, fileName: 'c.bin', token: 'jwt.jwt.jwt', tags: ['a', 'b'] });
    const req = server.requests.at(-1)!;
    assert.equal(req.path, '/api/v2/files/upload');
    assert.equal(req.headers.authorization, undefined);
    const form = await lastForm();
    assert.equal(form.get('token'), 'jwt.jwt.jwt');
    assert.equal(form.get('tags'), 'a,b');
  });

  test('server-side V2: private key in the Authorization header', async () => {
    await client.beta.v2.files.upload({ file: BYTES, fileName: 's.bin' });
    assert.equal(server.requests.at(-1)!.headers.authorization, `Basic ${Buffer.from('pk:').toString('base64')}`);
  });
});
