import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../src/errors/index.js';
import { folderChain, normalizeFolderPath, parseFilePath, parentOf, sanitizeFileName, withUniqueSuffix } from '../../src/services/paths.js';

const is400 = (e: unknown) => e instanceof ApiError && e.status === 400;

test('file names keep letters, marks, digits, . - _ and replace the rest with _', () => {
  assert.equal(sanitizeFileName('my photo (1).jpg'), 'my_photo__1_.jpg');
  assert.equal(sanitizeFileName('café-ß_ü.png'), 'café-ß_ü.png');
  assert.equal(sanitizeFileName('  x.jpg '), 'x.jpg');
  assert.equal(sanitizeFileName('a+b@c#d.pdf'), 'a_b_c_d.pdf');
});

test('file names that could escape a folder or are absurd are refused', () => {
  for (const bad of ['', '   ', '../x.jpg', 'a/b.jpg', 'a\\b.jpg', '..', '.', 'x'.repeat(1000)]) {
    assert.throws(() => sanitizeFileName(bad), is400, bad);
  }
});

test('folder paths normalise to /a/b/ and refuse dot segments', () => {
  assert.equal(normalizeFolderPath(undefined), '/');
  assert.equal(normalizeFolderPath('/'), '/');
  assert.equal(normalizeFolderPath('a/b'), '/a/b/');
  assert.equal(normalizeFolderPath('//a///b//'), '/a/b/');
  assert.equal(normalizeFolderPath('/my folder/x'), '/my_folder/x/');
  assert.throws(() => normalizeFolderPath('/a/../b'), is400);
  assert.throws(() => normalizeFolderPath('./a'), is400);
  assert.throws(() => normalizeFolderPath('/' + 'a/'.repeat(600)), is400);
});

test('file paths, chains and parents', () => {
  assert.deepEqual(parseFilePath('/a/b/c.jpg', 'p'), { folderPath: '/a/b/', name: 'c.jpg', filePath: '/a/b/c.jpg' });
  assert.deepEqual(parseFilePath('c.jpg', 'p'), { folderPath: '/', name: 'c.jpg', filePath: '/c.jpg' });
  assert.throws(() => parseFilePath('/a/../c.jpg', 'p'), is400);
  assert.throws(() => parseFilePath(42, 'p'), is400);
  assert.deepEqual(folderChain('/a/b/c/'), ['/a/', '/a/b/', '/a/b/c/']);
  assert.deepEqual(folderChain('/'), []);
  assert.equal(parentOf('/a/b/'), '/a/');
  assert.equal(parentOf('/a/'), '/');
});

test('unique suffix goes before the extension', () => {
  assert.equal(withUniqueSuffix('photo.jpg', 'X1'), 'photo_X1.jpg');
  assert.equal(withUniqueSuffix('README', 'X1'), 'README_X1');
  assert.equal(withUniqueSuffix('.hidden', 'X1'), '.hidden_X1');
});
