/**
 * `tessera migrate`, spawned as a user runs it: applies pending migrations to SQLite or
 * PostgreSQL and names them, is a no-op the second time, is safe when two nodes run it at once,
 * and fails with one clear line (exit 1) when the database does not answer.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { migrationsFor } from '../../src/adapters/db/migrations.js';
import { freshPgDatabase, postgresForTests, type FreshDatabase } from '../support/pg-fresh.js';
import { withPg } from '../support/scaleout.js';

const BIN = fileURLToPath(new URL('../../bin/tessera.mjs', import.meta.url));
const ALL = Object.keys(migrationsFor('sqlite'));
const KEYS = { TESSERA_PRIVATE_KEY: 'private_migrate_test', TESSERA_PUBLIC_KEY: 'public_migrate_test', TESSERA_WEBHOOK_SECRET: 'whsec_migrate_test' };

const dirs: string[] = [];
const dbs: FreshDatabase[] = [];
after(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const db of dbs) await db.drop();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tessera-migrate-'));
  dirs.push(d);
  return d;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function tessera(args: string[], env: Record<string, string>): Promise<Run> {
  // Only the settings given here: none inherited from the test process (TESSERA_TEST_BACKEND …).
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_')));
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...base, TESSERA_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** The migration names a run reports as applied ([] when it says the database is up to date). */
function applied(r: Run): string[] {
  const m = /applied \d+ migration\(s\) to .*?: (.*)$/m.exec(r.stdout);
  if (m) return m[1]!.split(', ');
  assert.match(r.stdout, /up to date; no migrations to apply/);
  return [];
}

describe('tessera migrate', () => {
  test('SQLite: applies every migration to a new data dir and names them; a second run has nothing to do', async () => {
    const dataDir = tempDir();
    const first = await tessera(['migrate'], { TESSERA_DATA_DIR: dataDir, ...KEYS });
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(applied(first), ALL);
    assert.ok(existsSync(join(dataDir, 'tessera.db')));
    const second = await tessera(['migrate'], { TESSERA_DATA_DIR: dataDir, ...KEYS });
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(applied(second), []);
  });

  test('PostgreSQL: two nodes migrating at once apply each migration exactly once', async (t) => {
    if (!(await postgresForTests('tessera migrate'))) return t.skip('PostgreSQL is not reachable');
    const db = await freshPgDatabase('tessera_t_');
    dbs.push(db);
    const env = (dir: string) => ({ TESSERA_DATA_DIR: dir, TESSERA_DATABASE_URL: db.url, ...KEYS });
    const [a, b] = await Promise.all([tessera(['migrate'], env(tempDir())), tessera(['migrate'], env(tempDir()))]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual([...applied(a), ...applied(b)].sort(), ALL);
    const rows = await withPg(db.url, async (c) => (await c.query<{ name: string }>('select name from kysely_migration order by name')).rows);
    assert.deepEqual(rows.map((r) => r.name), ALL);
    const again = await tessera(['migrate'], env(tempDir()));
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(applied(again), []);
  });

  test('an unreachable PostgreSQL: exit 1 and one line that names the server, never the password', async () => {
    const r = await tessera(['migrate'], { TESSERA_DATA_DIR: tempDir(), TESSERA_DATABASE_URL: 'postgres://tessera:s3cret@127.0.0.1:1/tessera', ...KEYS });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^tessera: cannot connect to PostgreSQL at postgres:\/\/tessera:\*\*\*@127\.0\.0\.1:1\/tessera: .+\n$/);
    assert.doesNotMatch(r.stderr + r.stdout, /s3cret/);
  });

  test('an unknown command prints the usage (exit 2), which lists migrate', async () => {
    const r = await tessera(['migrat'], { TESSERA_DATA_DIR: tempDir() });
    assert.equal(r.code, 2);
    assert.match(r.stdout, /tessera migrate/);
  });
});
