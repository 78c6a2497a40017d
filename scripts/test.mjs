#!/usr/bin/env node
// Runs every *.test.ts under packages/*/test with node:test through tsx, in two passes: everything
// on the embedded backend (SQLite + disk), then the server's e2e and contract suites again on the
// scale-out backend (PostgreSQL + S3; test/support/scaleout.ts). A filter applies to both passes.
// Node 20's --test does not expand globs, so the file list is built here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';

const root = new URL('..', import.meta.url).pathname;
const filter = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = [];
for (const pkg of readdirSync(join(root, 'packages'))) {
  const testDir = join(root, 'packages', pkg, 'test');
  try {
    if (statSync(testDir).isDirectory()) walk(testDir, files);
  } catch {}
}
const matches = (f) => filter.length === 0 || filter.some((s) => f.includes(s));
const selected = files.filter(matches).sort();
if (selected.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

function run(label, list, env) {
  console.log(`\n=== ${label}: ${list.length} test file(s) ===\n`);
  const started = Date.now();
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...list],
    { stdio: 'inherit', cwd: root, env },
  );
  const ok = result.status === 0;
  console.log(`\n=== ${label}: ${ok ? 'passed' : 'FAILED'} in ${Math.round((Date.now() - started) / 1000)} s ===`);
  return ok;
}

/** Whether PostgreSQL accepts TCP connections at 127.0.0.1:5432. */
function postgresAnswers() {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port: 5432 });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(2000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

// TESSERA_TEST_BACKEND set by hand: one pass on that backend (e.g. while fixing one file).
if (process.env.TESSERA_TEST_BACKEND) {
  process.exit(run(`${process.env.TESSERA_TEST_BACKEND} backend`, selected, process.env) ? 0 : 1);
}

// Pass 1: everything, embedded (SQLite + local disk).
let ok = run('embedded (SQLite + disk)', selected, { ...process.env, TESSERA_TEST_BACKEND: 'embedded' });

// Pass 2: the server's integration and contract suites again on PostgreSQL + S3 (s3rver).
const serverTests = join(root, 'packages', 'server', 'test');
const scaleout = selected.filter((f) => f.startsWith(join(serverTests, 'e2e') + '/') || f.startsWith(join(serverTests, 'contract') + '/'));
if (scaleout.length > 0) {
  if (await postgresAnswers()) {
    ok = run('scale-out (PostgreSQL + S3)', scaleout, { ...process.env, TESSERA_TEST_BACKEND: 'scaleout' }) && ok;
  } else {
    const msg = 'PostgreSQL does not answer at 127.0.0.1:5432';
    if (process.env.TESSERA_REQUIRE_SCALEOUT === '1') {
      console.error(`\n!!! ${msg}, and TESSERA_REQUIRE_SCALEOUT=1: the scale-out pass cannot run. FAILING.\n`);
      ok = false;
    } else {
      console.error(`\n${'!'.repeat(78)}\n!!! ${msg}: the scale-out pass (${scaleout.length} files) is SKIPPED.\n!!! Start PostgreSQL, or set TESSERA_REQUIRE_SCALEOUT=1 to make this a failure.\n${'!'.repeat(78)}\n`);
    }
  }
}
process.exit(ok ? 0 : 1);
