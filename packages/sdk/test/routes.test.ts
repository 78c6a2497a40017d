// Every method of the reference against a recording server: the HTTP verb, path, query and JSON body
// must match the OpenAPI spec's operation.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ImageKitClient } from '../src/index.js';
import { startLocalServer, type LocalServer } from './support/local-server.js';

let server: LocalServer;
let client: ImageKitClient;
let api: LocalServer;

before(async () => {
  // Echo an empty JSON object (or array for list endpoints: the SDK does not care).
  server = await startLocalServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  api = server;
  client = new ImageKitClient({ privateKey: 'pk', baseUrl: server.url });
});
after(() => server.close());

interface Case {
  name: string;
  call: (c: ImageKitClient) => PromiseLike<unknown>;
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
}

const cases: Case[] = [
  { name: 'files.get', call: (c) => c.files.get('F1'), method: 'GET', path: '/v1/files/F1/details' },
  {
    name: 'files.update',
    call: (c) => c.files.update('F1', { tags: null, customCoordinates: null }),
    method: 'PATCH',
    path: '/v1/files/F1/details',
    body: { tags: null, customCoordinates: null },
  },
  {
    name: 'files.update (publish)',
    call: (c) => c.files.update('F1', { publish: { isPublished: true, includeFileVersions: true } }),
    method: 'PATCH',
    path: '/v1/files/F1/details',
    body: { publish: { isPublished: true, includeFileVersions: true } },
  },
  { name: 'files.delete', call: (c) => c.files.delete('F1'), method: 'DELETE', path: '/v1/files/F1' },
  {
    name: 'files.copy',
    call: (c) => c.files.copy({ sourceFilePath: '/a.jpg', destinationPath: '/b/', includeFileVersions: true }),
    method: 'POST',
    path: '/v1/files/copy',
    body: { sourceFilePath: '/a.jpg', destinationPath: '/b/', includeFileVersions: true },
  },
  {
    name: 'files.move',
    call: (c) => c.files.move({ sourceFilePath: '/a.jpg', destinationPath: '/b/' }),
    method: 'POST',
    path: '/v1/files/move',
    body: { sourceFilePath: '/a.jpg', destinationPath: '/b/' },
  },
  {
    name: 'files.rename',
    call: (c) => c.files.rename({ filePath: '/a.jpg', newFileName: 'b.jpg', purgeCache: true }),
    method: 'PUT',
    path: '/v1/files/rename',
    body: { filePath: '/a.jpg', newFileName: 'b.jpg', purgeCache: true },
  },
  {
    name: 'files.bulk.delete',
    call: (c) => c.files.bulk.delete({ fileIds: ['a', 'b'] }),
    method: 'POST',
    path: '/v1/files/batch/deleteByFileIds',
    body: { fileIds: ['a', 'b'] },
  },
  {
    name: 'files.bulk.addTags',
    call: (c) => c.files.bulk.addTags({ fileIds: ['a'], tags: ['t'] }),
    method: 'POST',
    path: '/v1/files/addTags',
    body: { fileIds: ['a'], tags: ['t'] },
  },
  {
    name: 'files.bulk.removeTags',
    call: (c) => c.files.bulk.removeTags({ fileIds: ['a'], tags: ['t'] }),
    method: 'POST',
    path: '/v1/files/removeTags',
    body: { fileIds: ['a'], tags: ['t'] },
  },
  {
    name: 'files.bulk.removeAiTags',
    call: (c) => c.files.bulk.removeAiTags({ fileIds: ['a'], AITags: ['Shirt'] }),
    method: 'POST',
    path: '/v1/files/removeAITags',
    body: { fileIds: ['a'], AITags: ['Shirt'] },
  },
  { name: 'files.versions.list', call: (c) => c.files.versions.list('F1'), method: 'GET', path: '/v1/files/F1/versions' },
  {
    name: 'files.versions.get',
    call: (c) => c.files.versions.get('F1', 'V1'),
    method: 'GET',
    path: '/v1/files/F1/versions/V1',
  },
  {
    name: 'files.versions.delete',
    call: (c) => c.files.versions.delete('F1', 'V1'),
    method: 'DELETE',
    path: '/v1/files/F1/versions/V1',
  },
  {
    name: 'files.versions.restore',
    call: (c) => c.files.versions.restore('F1', 'V1'),
    method: 'PUT',
    path: '/v1/files/F1/versions/V1/restore',
  },
  { name: 'files.metadata.get', call: (c) => c.files.metadata.get('F1'), method: 'GET', path: '/v1/files/F1/metadata' },
  {
    name: 'files.metadata.getFromUrl',
    call: (c) => c.files.metadata.getFromUrl({ url: 'https://ik.imagekit.io/demo/a.jpg?tr=w-10&x=1' }),
    method: 'GET',
    path: '/v1/metadata',
    query: { url: 'https://ik.imagekit.io/demo/a.jpg?tr=w-10&x=1' },
  },
  { name: 'customMetadataFields.list', call: (c) => c.customMetadataFields.list(), method: 'GET', path: '/v1/customMetadataFields', query: {} },
  {
    name: 'customMetadataFields.list (params)',
    call: (c) => c.customMetadataFields.list({ includeDeleted: true, folderPath: '/a/' }),
    method: 'GET',
    path: '/v1/customMetadataFields',
    query: { includeDeleted: 'true', folderPath: '/a/' },
  },
  {
    name: 'customMetadataFields.create',
    call: (c) => c.customMetadataFields.create({ name: 'price', label: 'Price', schema: { type: 'Number', minValue: 1 } }),
    method: 'POST',
    path: '/v1/customMetadataFields',
    body: { name: 'price', label: 'Price', schema: { type: 'Number', minValue: 1 } },
  },
  {
    name: 'customMetadataFields.update',
    call: (c) => c.customMetadataFields.update('M1', { label: 'P' }),
    method: 'PATCH',
    path: '/v1/customMetadataFields/M1',
    body: { label: 'P' },
  },
  {
    name: 'customMetadataFields.delete',
    call: (c) => c.customMetadataFields.delete('M1'),
    method: 'DELETE',
    path: '/v1/customMetadataFields/M1',
  },
  { name: 'assets.list', call: (c) => c.assets.list(), method: 'GET', path: '/v1/files', query: {} },
  {
    name: 'assets.list (params)',
    call: (c) =>
      c.assets.list({
        type: 'all',
        sort: 'DESC_CREATED',
        path: '/a/',
        searchQuery: 'size > 10',
        fileType: 'image',
        limit: 10,
        skip: 0,
      }),
    method: 'GET',
    path: '/v1/files',
    query: { type: 'all', sort: 'DESC_CREATED', path: '/a/', searchQuery: 'size > 10', fileType: 'image', limit: '10', skip: '0' },
  },
  {
    name: 'folders.create',
    call: (c) => c.folders.create({ folderName: 'summer', parentFolderPath: '/p/' }),
    method: 'POST',
    path: '/v1/folder',
    body: { folderName: 'summer', parentFolderPath: '/p/' },
  },
  {
    name: 'folders.delete',
    call: (c) => c.folders.delete({ folderPath: '/p/summer' }),
    method: 'DELETE',
    path: '/v1/folder',
    body: { folderPath: '/p/summer' },
  },
  {
    name: 'folders.copy',
    call: (c) => c.folders.copy({ sourceFolderPath: '/a', destinationPath: '/b', includeVersions: true }),
    method: 'POST',
    path: '/v1/bulkJobs/copyFolder',
    body: { sourceFolderPath: '/a', destinationPath: '/b', includeVersions: true },
  },
  {
    name: 'folders.move',
    call: (c) => c.folders.move({ sourceFolderPath: '/a', destinationPath: '/b' }),
    method: 'POST',
    path: '/v1/bulkJobs/moveFolder',
    body: { sourceFolderPath: '/a', destinationPath: '/b' },
  },
  {
    name: 'folders.rename',
    call: (c) => c.folders.rename({ folderPath: '/a', newFolderName: 'c', purgeCache: false }),
    method: 'POST',
    path: '/v1/bulkJobs/renameFolder',
    body: { folderPath: '/a', newFolderName: 'c', purgeCache: false },
  },
  { name: 'folders.job.get', call: (c) => c.folders.job.get('J1'), method: 'GET', path: '/v1/bulkJobs/J1' },
  {
    name: 'accounts.usage.get',
    call: (c) => c.accounts.usage.get({ startDate: '2024-01-01', endDate: '2024-02-01' }),
    method: 'GET',
    path: '/v1/accounts/usage',
    query: { startDate: '2024-01-01', endDate: '2024-02-01' },
  },
  { name: 'accounts.origins.list', call: (c) => c.accounts.origins.list(), method: 'GET', path: '/v1/accounts/origins' },
  {
    name: 'accounts.origins.create',
    call: (c) => c.accounts.origins.create({ type: 'WEB_FOLDER', name: 'Site', baseUrl: 'https://e.com' }),
    method: 'POST',
    path: '/v1/accounts/origins',
    body: { type: 'WEB_FOLDER', name: 'Site', baseUrl: 'https://e.com' },
  },
  { name: 'accounts.origins.get', call: (c) => c.accounts.origins.get('O1'), method: 'GET', path: '/v1/accounts/origins/O1' },
  {
    name: 'accounts.origins.update',
    call: (c) => c.accounts.origins.update('O1', { type: 'WEB_PROXY', name: 'P' }),
    method: 'PUT',
    path: '/v1/accounts/origins/O1',
    body: { type: 'WEB_PROXY', name: 'P' },
  },
  {
    name: 'accounts.origins.delete',
    call: (c) => c.accounts.origins.delete('O1'),
    method: 'DELETE',
    path: '/v1/accounts/origins/O1',
  },
  {
    name: 'accounts.urlEndpoints.list',
    call: (c) => c.accounts.urlEndpoints.list(),
    method: 'GET',
    path: '/v1/accounts/url-endpoints',
  },
  {
    name: 'accounts.urlEndpoints.create',
    call: (c) => c.accounts.urlEndpoints.create({ description: 'd', urlPrefix: 'p', origins: ['O1'] }),
    method: 'POST',
    path: '/v1/accounts/url-endpoints',
    body: { description: 'd', urlPrefix: 'p', origins: ['O1'] },
  },
  {
    name: 'accounts.urlEndpoints.get',
    call: (c) => c.accounts.urlEndpoints.get('default'),
    method: 'GET',
    path: '/v1/accounts/url-endpoints/default',
  },
  {
    name: 'accounts.urlEndpoints.update',
    call: (c) => c.accounts.urlEndpoints.update('U1', { description: 'd', urlRewriter: { type: 'IMGIX' } }),
    method: 'PUT',
    path: '/v1/accounts/url-endpoints/U1',
    body: { description: 'd', urlRewriter: { type: 'IMGIX' } },
  },
  {
    name: 'accounts.urlEndpoints.delete',
    call: (c) => c.accounts.urlEndpoints.delete('U1'),
    method: 'DELETE',
    path: '/v1/accounts/url-endpoints/U1',
  },
  {
    name: 'cache.invalidation.create',
    call: (c) => c.cache.invalidation.create({ url: 'https://ik.imagekit.io/demo/a.jpg' }),
    method: 'POST',
    path: '/v1/files/purge',
    body: { url: 'https://ik.imagekit.io/demo/a.jpg' },
  },
  {
    name: 'cache.invalidation.get',
    call: (c) => c.cache.invalidation.get('R1'),
    method: 'GET',
    path: '/v1/files/purge/R1',
  },
  {
    name: 'files.upload',
    call: (c) => c.files.upload({ file: Buffer.from('x'), fileName: 'x.txt' }),
    method: 'POST',
    path: '/api/v1/files/upload',
  },
  {
    name: 'beta.v2.files.upload',
    call: (c) => c.beta.v2.files.upload({ file: Buffer.from('x'), fileName: 'x.txt' }),
    method: 'POST',
    path: '/api/v2/files/upload',
  },
];

for (const c of cases) {
  test(`${c.name} → ${c.method} ${c.path}`, async () => {
    const before = api.requests.length;
    await c.call(client);
    assert.equal(api.requests.length, before + 1);
    const req = api.requests.at(-1)!;
    assert.equal(req.method, c.method);
    assert.equal(req.path, c.path);
    if (c.query) assert.deepEqual(Object.fromEntries(req.query), c.query);
    if (c.body !== undefined) {
      assert.equal(req.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(req.body.toString()), c.body);
    } else if (!c.path.includes('/upload')) {
      assert.equal(req.body.length, 0, 'no body expected');
    }
  });
}

test('every reference method is covered by the table above', () => {
  const names = new Set(cases.map((c) => c.name.replace(/ \(.*\)$/, '')));
  const methods: string[] = [];
  const walk = (obj: object, prefix: string): void => {
    let proto: object | null = Object.getPrototypeOf(obj);
    while (proto && proto !== Object.prototype) {
      for (const key of Object.getOwnPropertyNames(proto)) {
        if (key !== 'constructor' && typeof (obj as Record<string, unknown>)[key] === 'function') methods.push(`${prefix}${key}`);
      }
      proto = Object.getPrototypeOf(proto);
    }
    for (const [key, value] of Object.entries(obj)) {
      if (key.startsWith('_') || typeof value !== 'object' || value === null) continue;
      walk(value as object, `${prefix}${key}.`);
    }
  };
  walk(client, '');
  assert.deepEqual(methods.filter((m) => !names.has(m)), []);
  // 42 = the methods of sdk-reference.md.
  assert.equal(methods.length, 42);
});
