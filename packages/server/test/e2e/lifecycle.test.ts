/**
 * Process lifecycle: graceful shutdown on SIGTERM, bad settings stopping the server at start with
 * one clear line, generated keys printed once and reused, and the health check.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.js';
import { api, basicAuth, download, getDetails, openRawUpload, sha256, sleep, tmpFiles } from '../support/e2e-helpers.js';

const BIN = fileURLToPath(new URL('../../bin/tessera.mjs', import.meta.url));

const cleanup: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tessera-life-'));
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** The parent's environment without any TESSERA_* setting, so each case controls all of them. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TESSERA_')) env[k] = v;
  return { ...env, ...extra };
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `tessera serve` expecting it to exit by itself (killed after a timeout otherwise). */
async function runToExit(env: Record<string, string>, args: string[] = [], timeoutMs = 90_000): Promise<Exit> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}

describe('graceful shutdown', () => {
  test('SIGTERM during an upload lets it finish; the file is stored; the process exits 0', async () => {
    const dataDir = tempDir();
    const server = await startTestServer({ dataDir });
    const exited = once(server.process, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

    const payload = randomBytes(24 * 1024 * 1024);
    const { req, head, tail, response } = openRawUpload(server, { fileName: 'inflight.bin', useUniqueFileName: 'false' }, payload.length);

    // Send the first third, wait until the server is spooling it, then SIGTERM.
    const third = Math.floor(payload.length / 3);
    req.write(head);
    req.write(payload.subarray(0, third));
    for (let i = 0; i < 400 && tmpFiles(dataDir).length === 0; i++) await sleep(25);
    assert.equal(tmpFiles(dataDir).length, 1, 'the upload is in flight');
    server.process.kill('SIGTERM');
    await sleep(500);
    assert.equal(server.process.exitCode, null, 'the server waits for the in-flight upload');

    // A new connection is no longer served while it drains.
    const late = await fetch(`${server.baseUrl}/healthz`).then(
      (r) => r.status,
      () => 'refused',
    );
    assert.notEqual(late, 200, 'no new work is accepted after SIGTERM');

    req.write(payload.subarray(third));
    req.end(tail);
    const res = await response;
    assert.equal(res.status, 200, res.body);
    const uploaded = JSON.parse(res.body) as { fileId: string; size: number };
    assert.equal(uploaded.size, payload.length);

    const [code, signal] = await Promise.race([
      exited,
      sleep(20_000).then(() => [-1, null] as [number, null]),
    ]);
    assert.equal(signal, null);
    assert.equal(code, 0, `exit code ${code}; output:\n${server.output()}`);

    // Nothing half-written: on restart the file is whole and tmp/ is empty.
    const again = await startTestServer({ dataDir });
    cleanup.push(() => again.stop());
    const d = await getDetails(again, uploaded.fileId);
    assert.equal(d.status, 200, d.text);
    assert.equal(d.body.size, payload.length);
    assert.equal(sha256((await download(d.body.url)).bytes), sha256(payload));
    assert.deepEqual(tmpFiles(dataDir), []);
  });
});

describe('bad settings stop the server at start with one clear line', () => {
  const cases: Array<{ name: string; env: Record<string, string>; args?: string[]; mentions: RegExp }> = [
    { name: 'TESSERA_PORT=abc', env: { TESSERA_PORT: 'abc' }, mentions: /TESSERA_PORT/ },
    { name: 'TESSERA_MAX_UPLOAD_BYTES=-1', env: { TESSERA_MAX_UPLOAD_BYTES: '-1' }, mentions: /TESSERA_MAX_UPLOAD_BYTES/ },
    {
      name: 'only the private key',
      env: { TESSERA_PRIVATE_KEY: 'private_only_one' },
      mentions: /TESSERA_PRIVATE_KEY.*TESSERA_PUBLIC_KEY|TESSERA_PUBLIC_KEY.*TESSERA_PRIVATE_KEY/,
    },
    {
      name: 'only the public key',
      env: { TESSERA_PUBLIC_KEY: 'public_only_one' },
      mentions: /TESSERA_PRIVATE_KEY.*TESSERA_PUBLIC_KEY|TESSERA_PUBLIC_KEY.*TESSERA_PRIVATE_KEY/,
    },
    { name: 'TESSERA_RATE_LIMIT=lots', env: { TESSERA_RATE_LIMIT: 'lots' }, mentions: /TESSERA_RATE_LIMIT/ },
    { name: 'TESSERA_WORKERS=many', env: { TESSERA_WORKERS: 'many' }, mentions: /TESSERA_WORKERS/ },
    { name: '--port abc (flag)', env: {}, args: ['--port', 'abc'], mentions: /TESSERA_PORT|port/ },
  ];

  test('each exits non-zero with a single line on stderr naming the setting', async () => {
    const results: Array<[(typeof cases)[number], Exit]> = [];
    // A few at a time: each is a Node process start.
    for (let i = 0; i < cases.length; i += 3) {
      const batch = cases.slice(i, i + 3);
      const outs = await Promise.all(
        batch.map((c) => runToExit({ TESSERA_DATA_DIR: tempDir(), TESSERA_HOST: '127.0.0.1', TESSERA_PORT: '0', ...c.env }, c.args)),
      );
      batch.forEach((c, j) => results.push([c, outs[j]!]));
    }
    for (const [c, out] of results) {
      assert.equal(out.signal, null, `${c.name}: did not exit by itself (killed)`);
      assert.notEqual(out.code, 0, `${c.name}: exit code 0`);
      const lines = out.stderr.split('\n').filter((l) => l.trim() !== '');
      assert.equal(lines.length, 1, `${c.name}: expected one line on stderr, got:\n${out.stderr}`);
      assert.match(lines[0]!, c.mentions, `${c.name}: ${lines[0]}`);
      assert.doesNotMatch(lines[0]!, /\bat .*\.(ts|js):\d+/, `${c.name}: a stack trace`);
      assert.doesNotMatch(out.stdout, /listening/, `${c.name}: it started anyway`);
    }
  });
});

describe('generated keys', () => {
  test('printed once on first start, kept in the data dir, reused on restart', async () => {
    const dataDir = tempDir();
    const noKeys = { TESSERA_PRIVATE_KEY: '', TESSERA_PUBLIC_KEY: '' };
    // Embedded only: keys are generated into one node's data dir, which a shared database forbids (config.test covers that refusal).
    const first = await startTestServer({ dataDir, env: noKeys, backend: 'embedded' });
    const out1 = first.output();
    const priv = /private key:\s*(\S+)/.exec(out1)?.[1];
    const pub = /public key:\s*(\S+)/.exec(out1)?.[1];
    assert.ok(priv && pub, `keys not printed:\n${out1}`);
    assert.notEqual(priv, first.privateKey, 'the generated key is not the test default');
    assert.equal(out1.split(priv).length - 1, 1, 'the private key is printed exactly once');

    const keysFile = join(dataDir, 'keys.json');
    assert.ok(existsSync(keysFile));
    const stored = JSON.parse(readFileSync(keysFile, 'utf8')) as { privateKey: string; publicKey: string };
    assert.deepEqual(stored, { privateKey: priv, publicKey: pub });
    assert.equal(statSync(keysFile).mode & 0o077, 0, 'keys.json is readable by its owner only');

    const unknownId = 'bbbbbbbbbbbbbbbbbbbbbbbb';
    assert.equal((await api(first, 'GET', `/v1/files/${unknownId}/details`, undefined, { auth: basicAuth(priv) })).status, 404);
    assert.equal((await api(first, 'GET', `/v1/files/${unknownId}/details`)).status, 401, 'the test default key is not valid here');
    await first.stop({ keepData: true });

    const second = await startTestServer({ dataDir, env: noKeys, backend: 'embedded' });
    cleanup.push(() => second.stop());
    const out2 = second.output();
    assert.doesNotMatch(out2, /generated/i);
    assert.equal(out2.includes(priv), false, 'the private key is not printed again');
    assert.equal((await api(second, 'GET', `/v1/files/${unknownId}/details`, undefined, { auth: basicAuth(priv) })).status, 404);
    assert.deepEqual(JSON.parse(readFileSync(keysFile, 'utf8')), stored);
  });
});

describe('health, then an idle shutdown', () => {
  let server: TestServer;
  test('GET /healthz → 200 without credentials', async () => {
    server = await startTestServer();
    cleanup.push(() => rmSync(server.dataDir, { recursive: true, force: true }));
    const res = await fetch(`${server.baseUrl}/healthz`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  test('SIGTERM when idle exits 0 promptly', async () => {
    if (!server) {
      server = await startTestServer();
      cleanup.push(() => rmSync(server.dataDir, { recursive: true, force: true }));
      assert.equal((await fetch(`${server.baseUrl}/healthz`)).status, 200);
    }
    const exited = once(server.process, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    // The idle keep-alive connection left by the health check must not hold the shutdown up.
    const t0 = Date.now();
    server.process.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
  });
});
