/**
 * End to end: the media library through ImageKitClient against a real Tessera server: folders
 * (create, delete, and copy / move / rename as background jobs polled with folders.job.get),
 * custom metadata field definitions, and assets.list with path, type, sort, paging and searchQuery.
 * Every effect is checked by reading it back through the SDK (listing, file details, versions).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BadRequestError, ImageKitClient, NotFoundError, type ImageKit } from '../../src/index.js';
import { startTestServer, type TestServer } from '../../../server/test/support/server.js';
import {
  conforms,
  conformsResponse,
  ID,
  ISO_MS,
  makeJpeg,
  makePng,
  names,
  unique,
  waitForJob,
  warnIfSpecMissing,
} from '../support/e2e.js';

let server: TestServer;
let client: ImageKitClient;

before(async () => {
  warnIfSpecMissing();
  server = await startTestServer();
  client = new ImageKitClient({ privateKey: server.privateKey, baseUrl: server.baseUrl });
});

after(async () => {
  await server?.stop();
});

/** Uploads PNGs of the given sizes into `folder` under their exact names. */
async function seed(folder: string, files: Record<string, [number, number]>, tags: string[] = []): Promise<ImageKit.Upload[]> {
  const out: ImageKit.Upload[] = [];
  for (const [name, [w, h]] of Object.entries(files)) {
    out.push(await client.files.upload({ file: await makePng(w, h), fileName: name, folder, useUniqueFileName: false, tags }));
  }
  return out;
}

const files = (items: ImageKit.AssetsListResponseItem[]): ImageKit.FileDetails[] =>
  items.filter((i): i is ImageKit.FileDetails => i.type === 'file' || i.type === 'file-version');

describe('folders.create and folders.delete', () => {
  test('create makes the folder (and missing parents); it is listed as a folder', async () => {
    const root = unique('/lib');
    const res = await client.folders.create({ folderName: 'child', parentFolderPath: `${root}/parent/` }).withRawResponse();
    assert.equal(res.rawResponse.status, 201);
    assert.deepEqual(res.data, {});

    const top = await client.assets.list({ type: 'folder', path: '/' });
    assert.ok(top.some((i) => i.type === 'folder' && i.folderPath === root), `${root} created as a missing parent`);
    const inParent = await client.assets.list({ type: 'folder', path: `${root}/parent/` });
    assert.equal(inParent.length, 1);
    const folder = inParent[0]!;
    conforms(folder, '#/components/schemas/FolderDetails');
    assert.equal(folder.type, 'folder');
    assert.equal(folder.name, 'child');
    assert.equal((folder as ImageKit.FolderDetails).folderPath, `${root}/parent/child`);
    assert.match((folder as ImageKit.FolderDetails).folderId ?? '', ID);
    assert.match(folder.createdAt ?? '', ISO_MS);

    // Creating it again is not an error.
    assert.deepEqual(await client.folders.create({ folderName: 'child', parentFolderPath: `${root}/parent/` }), {});
  });

  test('delete removes the folder with its files and subfolders; a missing folder is NotFoundError', async () => {
    const root = unique('/lib-del');
    const [top] = await seed(`${root}/`, { 'top.png': [10, 10] });
    const [nested] = await seed(`${root}/sub/`, { 'nested.png': [12, 12] });
    assert.equal((await client.assets.list({ type: 'all', path: `${root}/` })).length, 2);

    const { data, rawResponse } = await client.folders.delete({ folderPath: root }).withRawResponse();
    assert.equal(rawResponse.status, 204);
    assert.deepEqual(data, {});
    assert.deepEqual(await client.assets.list({ type: 'all', path: `${root}/` }), []);
    assert.ok(!(await client.assets.list({ type: 'folder', path: '/' })).some((i) => i.name === root.slice(1)));
    await assert.rejects(client.files.get(top!.fileId!), NotFoundError);
    await assert.rejects(client.files.get(nested!.fileId!), NotFoundError);

    await assert.rejects(client.folders.delete({ folderPath: root }), NotFoundError);
  });
});

describe('folders.copy / move / rename and folders.job.get', () => {
  test('copy: a job that completes; the copies are listable under the destination; the source stays', async () => {
    const src = unique('/lib-src');
    const dest = unique('/lib-dest');
    const originals = await seed(`${src}/`, { 'a.png': [20, 10], 'b.png': [30, 15] }, ['copied']);
    await client.folders.create({ folderName: dest.slice(1), parentFolderPath: '/' });

    const started = await client.folders.copy({ sourceFolderPath: src, destinationPath: dest }).withRawResponse();
    assert.equal(started.rawResponse.status, 200);
    conformsResponse(started.data, '/v1/bulkJobs/copyFolder', 'post', 200);
    assert.match(started.data.jobId, ID);

    const job = await waitForJob(client, started.data.jobId);
    conformsResponse(job, '/v1/bulkJobs/{jobId}', 'get', 200);
    assert.deepEqual({ jobId: job.jobId, type: job.type, status: job.status }, {
      jobId: started.data.jobId,
      type: 'COPY_FOLDER',
      status: 'Completed',
    });

    // The source folder lands inside the destination, under its own name.
    const copiedPath = `${dest}${src}/`;
    const copies = files(await client.assets.list({ path: copiedPath, sort: 'ASC_NAME' }));
    assert.deepEqual(names(copies), ['a.png', 'b.png']);
    assert.deepEqual(copies.map((c) => [c.filePath, c.width, c.height]), [
      [`${copiedPath}a.png`, 20, 10],
      [`${copiedPath}b.png`, 30, 15],
    ]);
    assert.deepEqual(copies.map((c) => c.tags), [['copied'], ['copied']]);
    for (const c of copies) assert.ok(!originals.some((o) => o.fileId === c.fileId), 'a copy is a new file');
    const stillThere = files(await client.assets.list({ path: `${src}/`, sort: 'ASC_NAME' }));
    assert.deepEqual(stillThere.map((f) => f.fileId), originals.map((o) => o.fileId));
  });

  test('copy with includeVersions carries the history; without it only the current version', async () => {
    const src = unique('/lib-ver');
    const first = await client.files.upload({ file: await makePng(10, 10), fileName: 'v.png', folder: src, useUniqueFileName: false });
    await client.files.upload({ file: await makePng(40, 20), fileName: 'v.png', folder: src, useUniqueFileName: false, overwriteFile: true });
    assert.equal((await client.files.versions.list(first.fileId!)).length, 2);

    const withHistory = unique('/lib-with');
    const withoutHistory = unique('/lib-without');
    // One job at a time on a folder: the second copy waits for the first (the server answers 423 meanwhile).
    const a = await client.folders.copy({ sourceFolderPath: src, destinationPath: withHistory, includeVersions: true });
    await waitForJob(client, a.jobId);
    const b = await client.folders.copy({ sourceFolderPath: src, destinationPath: withoutHistory, includeVersions: false });
    await waitForJob(client, b.jobId);

    const [full] = files(await client.assets.list({ path: `${withHistory}${src}/` }));
    const [current] = files(await client.assets.list({ path: `${withoutHistory}${src}/` }));
    assert.ok(full && current, 'both copies are listed');
    assert.equal(full.width, 40, 'the current version is still current');
    assert.equal(current.width, 40);
    assert.equal((await client.files.versions.list(full.fileId!)).length, 2);
    assert.equal((await client.files.versions.list(current.fileId!)).length, 1);
  });

  test('move: same file ids at the destination; nothing left at the source', async () => {
    const src = unique('/lib-mv');
    const dest = unique('/lib-mv-to');
    const moved = await seed(`${src}/inner/`, { 'm.png': [16, 8] });
    await client.folders.create({ folderName: dest.slice(1), parentFolderPath: '/' });

    const { jobId } = await client.folders.move({ sourceFolderPath: `${src}/inner`, destinationPath: dest });
    conformsResponse({ jobId }, '/v1/bulkJobs/moveFolder', 'post', 200);
    const job = await waitForJob(client, jobId);
    assert.equal(job.type, 'MOVE_FOLDER');

    const there = files(await client.assets.list({ path: `${dest}/inner/` }));
    assert.deepEqual(there.map((f) => [f.fileId, f.filePath, f.width]), [[moved[0]!.fileId, `${dest}/inner/m.png`, 16]]);
    assert.equal((await client.files.get(moved[0]!.fileId!)).filePath, `${dest}/inner/m.png`);
    assert.deepEqual(await client.assets.list({ type: 'all', path: `${src}/` }), [], 'the moved folder is gone from the source');
  });

  test('rename: same ids under the new name; purgeCache gives the job a purge request id', async () => {
    const parent = unique('/lib-rn');
    const [file] = await seed(`${parent}/old/`, { 'r.png': [9, 9] });

    const started = await client.folders.rename({ folderPath: `${parent}/old`, newFolderName: 'new' }).withRawResponse();
    assert.equal(started.rawResponse.status, 202);
    conformsResponse(started.data, '/v1/bulkJobs/renameFolder', 'post', 202);
    const job = await waitForJob(client, started.data.jobId);
    assert.equal(job.type, 'RENAME_FOLDER');
    assert.equal(job.purgeRequestId, undefined);

    assert.equal((await client.files.get(file!.fileId!)).filePath, `${parent}/new/r.png`);
    assert.deepEqual(names(await client.assets.list({ type: 'folder', path: `${parent}/` })), ['new']);
    assert.deepEqual(await client.assets.list({ path: `${parent}/old/` }), []);

    const again = await client.folders.rename({ folderPath: `${parent}/new`, newFolderName: 'newer', purgeCache: true });
    const purged = await waitForJob(client, again.jobId);
    assert.match(purged.purgeRequestId ?? '', ID);
    const purge = await client.cache.invalidation.get(purged.purgeRequestId!);
    assert.ok(purge.status === 'Pending' || purge.status === 'Completed', JSON.stringify(purge));
    assert.equal((await client.files.get(file!.fileId!)).filePath, `${parent}/newer/r.png`);
  });

  test('refusals: unknown job, missing source folder', async () => {
    await assert.rejects(client.folders.job.get('0123456789abcdef01234567'), NotFoundError);
    const missing = unique('/lib-missing');
    const dest = unique('/lib-refusals');
    await client.folders.create({ folderName: dest.slice(1), parentFolderPath: '/' });
    await assert.rejects(client.folders.copy({ sourceFolderPath: missing, destinationPath: dest }), NotFoundError);
    await assert.rejects(client.folders.move({ sourceFolderPath: missing, destinationPath: dest }), NotFoundError);
    await assert.rejects(client.folders.rename({ folderPath: missing, newFolderName: 'x' }), NotFoundError);
  });
});

describe('customMetadataFields', () => {
  test('create, list, update, delete; the deleted field is listed only with includeDeleted', async () => {
    const name = unique('price').replace('-', '_');
    const created = await client.customMetadataFields
      .create({ name, label: `Price ${name}`, schema: { type: 'Number', minValue: 0, maxValue: 100 } })
      .withRawResponse();
    assert.equal(created.rawResponse.status, 201);
    conforms(created.data, '#/components/schemas/CustomMetadataField');
    const field = created.data;
    assert.match(field.id, ID);
    assert.deepEqual(
      { name: field.name, label: field.label, schema: field.schema },
      { name, label: `Price ${name}`, schema: { type: 'Number', minValue: 0, maxValue: 100 } },
    );

    const listed = await client.customMetadataFields.list();
    for (const f of listed) conforms(f, '#/components/schemas/CustomMetadataField');
    assert.deepEqual(listed.find((f) => f.id === field.id), field);

    // The schema is replaced as a whole (its type stays); the label changes alone.
    const updated = await client.customMetadataFields.update(field.id, {
      label: `Cost ${name}`,
      schema: { minValue: 1, maxValue: 500 },
    });
    conforms(updated, '#/components/schemas/CustomMetadataField');
    assert.deepEqual(updated, { id: field.id, name, label: `Cost ${name}`, schema: { type: 'Number', minValue: 1, maxValue: 500 } });
    const relabelled = await client.customMetadataFields.update(field.id, { label: `Amount ${name}` });
    assert.equal(relabelled.label, `Amount ${name}`);
    assert.deepEqual(relabelled.schema, updated.schema);
    assert.deepEqual((await client.customMetadataFields.list()).find((f) => f.id === field.id), relabelled);

    // The field is usable on files, with its rules enforced.
    const up = await client.files.upload({ file: await makePng(5, 5), fileName: 'priced.png', customMetadata: { [name]: 42 } });
    assert.deepEqual((await client.files.get(up.fileId!)).customMetadata, { [name]: 42 });
    await assert.rejects(
      client.files.upload({ file: await makePng(5, 5), fileName: 'too-dear.png', customMetadata: { [name]: 501 } }),
      BadRequestError,
    );

    assert.deepEqual(await client.customMetadataFields.delete(field.id), {});
    assert.ok(!(await client.customMetadataFields.list()).some((f) => f.id === field.id));
    const withDeleted = await client.customMetadataFields.list({ includeDeleted: true });
    assert.equal(withDeleted.find((f) => f.id === field.id)?.name, name);
    // The name stays taken after delete.
    await assert.rejects(
      client.customMetadataFields.create({ name, label: `Other ${name}`, schema: { type: 'Text' } }),
      BadRequestError,
    );
  });

  test('select fields keep their options; folderPath filter is accepted', async () => {
    const name = unique('size').replace('-', '_');
    const field = await client.customMetadataFields.create({
      name,
      label: `Size ${name}`,
      schema: { type: 'MultiSelect', selectOptions: ['S', 'M', 'L'], defaultValue: ['M'], isValueRequired: true },
    });
    assert.deepEqual(field.schema, {
      type: 'MultiSelect',
      selectOptions: ['S', 'M', 'L'],
      defaultValue: ['M'],
      isValueRequired: true,
    });
    assert.ok((await client.customMetadataFields.list({ folderPath: '/' })).some((f) => f.id === field.id));
    await client.customMetadataFields.delete(field.id);
  });

  test('errors: a bad schema is BadRequestError; an unknown id is NotFoundError', async () => {
    await assert.rejects(
      client.customMetadataFields.create({ name: unique('bad').replace('-', '_'), label: unique('Bad'), schema: { type: 'Number', minValue: 10, maxValue: 1 } }),
      BadRequestError,
    );
    await assert.rejects(client.customMetadataFields.update('0123456789abcdef01234567', { label: 'x' }), NotFoundError);
    await assert.rejects(client.customMetadataFields.delete('0123456789abcdef01234567'), NotFoundError);
  });
});

describe('assets.list', () => {
  let root: string;
  let tag: string;
  let uploaded: ImageKit.Upload[];

  before(async () => {
    root = `${unique('/lib-list')}/`;
    tag = unique('tag');
    // Created in this order, so ASC_CREATED is a, c, b, then the JPEG.
    uploaded = [
      ...(await seed(root, { 'a.png': [10, 40] }, [tag, 'red'])),
      ...(await seed(root, { 'c.png': [30, 20] }, [tag])),
      ...(await seed(root, { 'b.png': [20, 30] }, [tag, 'red'])),
    ];
    uploaded.push(await client.files.upload({ file: await makeJpeg(50, 10), fileName: 'd.jpg', folder: root, useUniqueFileName: false }));
    await client.files.upload({ file: Buffer.from('plain text'), fileName: 'notes.txt', folder: root, useUniqueFileName: false });
    await seed(`${root}sub/`, { 'deep.png': [8, 8] }, [tag]);
  });

  test('path lists the direct children; every item is a FileDetails of the spec', async () => {
    const items = await client.assets.list({ path: root });
    for (const i of items) conforms(i, '#/components/schemas/FileDetails');
    assert.deepEqual(names(items), ['a.png', 'c.png', 'b.png', 'd.jpg', 'notes.txt'], 'default: files only, oldest first');
    const a = items[0] as ImageKit.FileDetails;
    assert.deepEqual([a.fileId, a.filePath, a.width, a.height, a.mime], [uploaded[0]!.fileId, `${root}a.png`, 10, 40, 'image/png']);
  });

  test('type: folder, all, file-version', async () => {
    assert.deepEqual(names(await client.assets.list({ path: root, type: 'folder' })), ['sub']);
    const all = await client.assets.list({ path: root, type: 'all', sort: 'ASC_NAME' });
    assert.deepEqual(names(all), ['sub', 'a.png', 'b.png', 'c.png', 'd.jpg', 'notes.txt'], 'folders first, then files');
    assert.equal(all[0]!.type, 'folder');

    const f = `${unique('/lib-versions')}/`;
    const v1 = await client.files.upload({ file: await makePng(11, 11), fileName: 'v.png', folder: f, useUniqueFileName: false });
    await client.files.upload({ file: await makePng(22, 22), fileName: 'v.png', folder: f, useUniqueFileName: false, overwriteFile: true });
    const versions = files(await client.assets.list({ path: f, type: 'file-version' }));
    assert.equal(versions.length, 1, 'only the older version; the current one is the file');
    assert.equal(versions[0]!.type, 'file-version');
    assert.equal(versions[0]!.fileId, v1.fileId);
    assert.equal(versions[0]!.versionInfo?.id, v1.versionInfo?.id);
    assert.equal(versions[0]!.width, 11);
  });

  test('sort by name, width, height, size and creation', async () => {
    assert.deepEqual(names(await client.assets.list({ path: root, fileType: 'image', sort: 'ASC_NAME' })), ['a.png', 'b.png', 'c.png', 'd.jpg']);
    assert.deepEqual(names(await client.assets.list({ path: root, fileType: 'image', sort: 'DESC_NAME' })), ['d.jpg', 'c.png', 'b.png', 'a.png']);
    assert.deepEqual(names(await client.assets.list({ path: root, fileType: 'image', sort: 'DESC_WIDTH' })), ['d.jpg', 'c.png', 'b.png', 'a.png']);
    assert.deepEqual(names(await client.assets.list({ path: root, fileType: 'image', sort: 'ASC_HEIGHT' })), ['d.jpg', 'c.png', 'b.png', 'a.png']);
    assert.deepEqual(names(await client.assets.list({ path: root, fileType: 'image', sort: 'DESC_CREATED' })), ['d.jpg', 'b.png', 'c.png', 'a.png']);
    const bySize = files(await client.assets.list({ path: root, sort: 'ASC_SIZE' }));
    const sizes = bySize.map((f) => f.size ?? -1);
    assert.deepEqual(sizes, [...sizes].sort((x, y) => x - y));
  });

  test('fileType: image and non-image', async () => {
    assert.deepEqual(names(await client.assets.list({ path: root, fileType: 'non-image' })), ['notes.txt']);
    assert.equal((await client.assets.list({ path: root, fileType: 'image' })).length, 4);
  });

  test('limit and skip page through the results without overlap', async () => {
    const page = (skip: number) => client.assets.list({ path: root, sort: 'ASC_NAME', limit: 2, skip });
    assert.deepEqual(names(await page(0)), ['a.png', 'b.png']);
    assert.deepEqual(names(await page(2)), ['c.png', 'd.jpg']);
    assert.deepEqual(names(await page(4)), ['notes.txt']);
    assert.deepEqual(await page(6), []);
    await assert.rejects(client.assets.list({ limit: 0 }), BadRequestError);
  });

  test('searchQuery: tags, names, dimensions, and the path subtree', async () => {
    const q = (searchQuery: string) => client.assets.list({ searchQuery, sort: 'ASC_NAME' });
    assert.deepEqual(names(await q(`tags IN ["${tag}"]`)), ['a.png', 'b.png', 'c.png', 'deep.png']);
    assert.deepEqual(names(await q(`tags IN ["${tag}"] AND tags IN ["red"]`)), ['a.png', 'b.png']);
    assert.deepEqual(names(await q(`tags IN ["${tag}"] AND width > 15`)), ['b.png', 'c.png']);
    assert.deepEqual(names(await q(`tags IN ["${tag}"] AND (name = "a.png" OR height >= 30)`)), ['a.png', 'b.png']);
    assert.deepEqual(names(await q(`path : "${root.slice(0, -1)}" AND format = "jpg"`)), ['d.jpg']);
    // With path, only the direct children of the folder are searched.
    assert.deepEqual(
      names(await client.assets.list({ searchQuery: `tags IN ["${tag}"]`, path: root, sort: 'DESC_NAME' })),
      ['c.png', 'b.png', 'a.png'],
    );
    await assert.rejects(q('tags IN ['), BadRequestError);
  });
});
