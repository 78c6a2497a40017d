#!/usr/bin/env node
// Builds dist/esm and dist/cjs with two tsc runs; the nested package.json files tell Node
// which module system each tree uses regardless of the package's own "type".
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(join(pkgDir, 'dist'), { recursive: true, force: true });
for (const config of ['tsconfig.build.json', 'tsconfig.build.cjs.json']) {
  const r = spawnSync(process.execPath, [tsc, '-p', join(pkgDir, config)], { stdio: 'inherit', cwd: pkgDir });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
for (const [dir, type] of [['esm', 'module'], ['cjs', 'commonjs']]) {
  mkdirSync(join(pkgDir, 'dist', dir), { recursive: true });
  writeFileSync(join(pkgDir, 'dist', dir, 'package.json'), JSON.stringify({ type }) + '\n');
}
console.log('built dist/esm and dist/cjs');
