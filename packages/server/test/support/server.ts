/**
 * Starts the real Tessera server as a child process on a free port with a temp data dir.
 * Used by the server's e2e tests and by the SDK's tests (tests may use the server; code may not).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendFromEnv, createScaleOutBackend, recordBackend, recordedBackend, testBackend, type ScaleOutBackend, type TestBackend } from './scaleout.js';

export interface TestServer {
  /** e.g. http://127.0.0.1:40123 — the API base (upload and management share it). */
  readonly baseUrl: string;
  readonly port: number;
  readonly privateKey: string;
  readonly publicKey: string;
  readonly imagekitId: string;
  /** The default URL endpoint: `${baseUrl}/${imagekitId}`. */
  readonly urlEndpoint: string;
  readonly dataDir: string;
  readonly process: ChildProcess;
  /** Everything the server printed so far (stdout + stderr). */
  output(): string;
  /** SIGTERM and wait for exit; removes the data dir unless keepData. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
  /** Send a signal and wait for exit (e.g. SIGKILL to simulate a crash). Keeps the data dir. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  /**
   * Extra TESSERA_* environment variables. With a scale-out backend's `env` (createScaleOutBackend)
   * the server joins that database and bucket instead of getting its own.
   */
  env?: Record<string, string>;
  /** Default: TESSERA_TEST_BACKEND (embedded unless it says scaleout). */
  backend?: TestBackend;
  /** Reuse a data dir (e.g. to restart after a crash). Default: a fresh temp dir. */
  dataDir?: string;
  privateKey?: string;
  publicKey?: string;
}

const BIN = fileURLToPath(new URL('../../bin/tessera.mjs', import.meta.url));

export { createScaleOutBackend, testBackend, type ScaleOutBackend, type TestBackend } from './scaleout.js';

/** A webhook secret for scale-out servers (every node must be given the same one). */
const SCALEOUT_WEBHOOK_SECRET = 'whsec_dGVzc2VyYS1zY2FsZW91dC10ZXN0cw==';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Settles which backend a data dir's server runs on, before it starts (a test that seeds the
 * store before the first start calls this itself). Scale-out: the database and bucket the data
 * dir already uses (a restart), the ones the caller passed in env (several nodes on one library),
 * or fresh ones — then `own` is set and belongs to the caller.
 */
export async function prepareTestBackend(
  dataDir: string,
  opts: Pick<StartOptions, 'env' | 'backend'> = {},
): Promise<{ env: Record<string, string>; own?: ScaleOutBackend }> {
  const given = opts.env ? backendFromEnv(opts.env) : undefined;
  const recorded = recordedBackend(dataDir);
  if ((opts.backend ?? testBackend()) !== 'scaleout' && !given && !recorded) return { env: {} };
  let env: Record<string, string>;
  let own: ScaleOutBackend | undefined;
  const rec = recorded ?? given;
  if (rec) {
    env = rec.env;
    recordBackend(dataDir, rec);
  } else {
    own = await createScaleOutBackend();
    env = own.env;
    recordBackend(dataDir, own);
  }
  if (!opts.env?.TESSERA_WEBHOOK_SECRET) env = { ...env, TESSERA_WEBHOOK_SECRET: SCALEOUT_WEBHOOK_SECRET };
  return own ? { env, own } : { env };
}

export async function startTestServer(opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'tessera-test-'));
  const privateKey = opts.privateKey ?? 'private_test_key_0123456789';
  const publicKey = opts.publicKey ?? 'public_test_key_0123456789';
  const imagekitId = opts.env?.TESSERA_IMAGEKIT_ID ?? 'demo';
  const { env: backendEnv, own: ownBackend } = await prepareTestBackend(dataDir, opts);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TESSERA_PORT: String(port),
      TESSERA_HOST: '127.0.0.1',
      TESSERA_DATA_DIR: dataDir,
      TESSERA_PUBLIC_URL: baseUrl,
      TESSERA_PRIVATE_KEY: privateKey,
      TESSERA_PUBLIC_KEY: publicKey,
      TESSERA_IMAGEKIT_ID: imagekitId,
      TESSERA_LOG_LEVEL: process.env.TESSERA_LOG_LEVEL ?? 'warn',
      ...backendEnv,
      ...opts.env,
    };
    const child = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const ready = await waitReady(baseUrl, exited);
    if (!ready) {
      if (attempt < 3 && /EADDRINUSE/.test(out)) continue;
      child.kill('SIGKILL');
      await ownBackend?.dispose();
      throw new Error(`tessera did not start:\n${out}`);
    }
    const waitExit = async (signal: NodeJS.Signals) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    };
    return {
      baseUrl,
      port,
      privateKey,
      publicKey,
      imagekitId,
      urlEndpoint: `${baseUrl}/${imagekitId}`,
      dataDir,
      process: child,
      output: () => out,
      async stop(o = {}) {
        await waitExit('SIGTERM');
        if (!o.keepData && !opts.dataDir) {
          rmSync(dataDir, { recursive: true, force: true });
          // Its database and bucket go with the data dir; otherwise they are dropped when the test process ends.
          await ownBackend?.dispose();
        }
      },
      kill: waitExit,
    };
  }
}

async function waitReady(baseUrl: string, exited: Promise<number | null>): Promise<boolean> {
  let dead = false;
  void exited.then(() => (dead = true));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !dead) {
    try {
      const res = await fetch(`${baseUrl}/healthz`);
      if (res.ok) return true;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
