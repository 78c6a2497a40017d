// The published shape: ESM and CommonJS builds load through package.json "exports", expose the
// same API, and the ESM build bundles for browsers with nothing Node-only in it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const PKG_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

before(() => {
  // `npm test` builds first; when a file is run on its own, build here rather than skip.
  if (!existsSync(join(PKG_DIR, 'dist/esm/index.js')) || !existsSync(join(PKG_DIR, 'dist/cjs/index.js'))) {
    const r = spawnSync(process.execPath, [join(PKG_DIR, 'scripts/build.mjs')], { stdio: 'inherit' });
    assert.equal(r.status, 0, 'build failed');
  }
});

test('package.json exports point at files that exist', () => {
  const pkg = JSON.parse(readFileSync(join(PKG_DIR, 'package.json'), 'utf8')) as {
    exports: Record<string, { import: { types: string; default: string }; require: { types: string; default: string } }>;
    dependencies?: Record<string, string>;
  };
  assert.equal(pkg.dependencies, undefined, 'the SDK has no runtime dependencies');
  const root = pkg.exports['.']!;
  for (const p of [root.import.types, root.import.default, root.require.types, root.require.default]) {
    assert.ok(existsSync(join(PKG_DIR, p)), `${p} missing`);
  }
});

test('ESM (import) and CommonJS (require) builds expose the same API', async () => {
  const esm = (await import('@tessera/sdk')) as Record<string, unknown>;
  const cjs = require('@tessera/sdk') as Record<string, unknown>;
  assert.deepEqual(Object.keys(cjs).sort(), Object.keys(esm).sort());
  for (const mod of [esm, cjs]) {
    const Client = mod.ImageKitClient as new (o: object) => { baseUrl: string; files: { get: unknown } };
    const client = new Client({ privateKey: 'k', baseUrl: 'http://localhost:1' });
    assert.equal(typeof client.files.get, 'function');
    assert.equal(typeof mod.NotFoundError, 'function');
    assert.equal(typeof mod.ImageKit, 'object');
    assert.equal(typeof mod.buildSrc, 'function', 'helpers from ./lib are re-exported');
  }
  assert.ok(fileURLToPath(import.meta.resolve('@tessera/sdk')).endsWith(join('dist', 'esm', 'index.js')));
  assert.ok(require.resolve('@tessera/sdk').endsWith(join('dist', 'cjs', 'index.js')));
});

test('the ESM build bundles for the browser (no Node built-ins) — size reported', async () => {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [join(PKG_DIR, 'dist/esm/index.js')],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  assert.deepEqual(result.errors, []);
  const code = result.outputFiles[0]!.contents;
  const text = new TextDecoder().decode(code);
  assert.doesNotMatch(text, /\brequire\(["'](node:)?(fs|path|stream|crypto|http|https|buffer|util)["']\)/);
  const gz = gzipSync(code, { level: 9 }).length;
  console.log(`browser bundle: ${(code.length / 1024).toFixed(1)} KiB minified, ${(gz / 1024).toFixed(1)} KiB gzip`);
  assert.ok(gz < 40 * 1024, `bundle grew to ${gz} bytes gzip`);
});
