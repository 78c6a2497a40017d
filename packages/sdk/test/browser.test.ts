/**
 * The SDK in a real browser: headless Chromium (Debian's `chromium`, driven by playwright-core)
 * loads the ESM build from a page on one origin and uploads to a Tessera server on another.
 *
 * - The page is served by a local node:http server, together with `dist/esm` and an auth route
 *   that signs client-side upload parameters with `getAuthenticationParameters(privateKey)`. The
 *   private key stays in Node: the page gets `{ token, expire, signature, publicKey }` only.
 * - In the page, a PNG drawn on a canvas becomes a `File`, and `ImageKitClient` (no credentials)
 *   uploads it with V1 client-side authentication across origins (the server answers CORS).
 * - Listing needs the private key, so Node lists the folder with the SDK and finds the file there
 *   with the dimensions the page drew.
 *
 * When Chromium is missing or does not start, the test FAILS with the reason; set
 * TESSERA_SKIP_BROWSER=1 to skip it on a machine without a browser. `.ci/run` installs Chromium.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { ImageKitClient, getAuthenticationParameters, type ImageKit } from '../src/index.js';
import { startTestServer, type TestServer } from '../../server/test/support/server.js';
import { json, startLocalServer, type LocalServer } from './support/local-server.js';

const SKIP = process.env.TESSERA_SKIP_BROWSER === '1';
const CHROMIUM = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium';
const ESM_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'esm');
/** The machine running the suite may be busy: be patient with the browser, keep the test small. */
const PATIENCE_MS = 60_000;
const WIDTH = 64;
const HEIGHT = 48;

/**
 * The page: a module script that imports the ESM build, draws a PNG, fetches auth parameters from
 * its own origin and uploads to the API origin given in `?api=`. It exposes the outcome as
 * `window.uploadResult` (a promise of the upload response, or of `{ error }`).
 */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Tessera SDK browser test</title>
<script type="module">
  import { ImageKitClient } from '/sdk/index.js';

  async function run() {
    const params = new URLSearchParams(location.search);
    const canvas = document.createElement('canvas');
    canvas.width = ${WIDTH};
    canvas.height = ${HEIGHT};
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#0a78c8';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = '#fab400';
    ctx.fillRect(8, 8, 24, 16);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    const file = new File([blob], 'from-browser.png', { type: 'image/png' });

    const auth = await (await fetch('/auth')).json();
    const client = new ImageKitClient({ baseUrl: params.get('api') });
    return client.files.upload({ file, folder: params.get('folder'), useUniqueFileName: false, ...auth });
  }

  window.uploadResult = run().catch((e) => ({ error: String(e && e.stack || e) }));
</script>
`;

const MIME: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.map': 'application/json' };

let server: TestServer;
let site: LocalServer;
/** Every auth response the page received. */
const authIssued: Record<string, unknown>[] = [];

before(async () => {
  if (SKIP) return;
  assert.ok(
    existsSync(join(ESM_DIR, 'index.js')),
    `${ESM_DIR}/index.js is missing: build the SDK first (npm run build -w @tessera/sdk)`,
  );
  server = await startTestServer();
  // The page's origin: the page, the SDK's ESM build under /sdk/, and the auth route.
  site = await startLocalServer((req, res) => {
    if (req.path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (req.path === '/auth') {
      const auth = { ...getAuthenticationParameters(server.privateKey), publicKey: server.publicKey };
      authIssued.push(auth);
      json(res, 200, auth);
    } else if (req.path.startsWith('/sdk/')) {
      const file = normalize(join(ESM_DIR, decodeURIComponent(req.path.slice('/sdk/'.length))));
      if (!file.startsWith(ESM_DIR + sep) || !existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    } else {
      res.writeHead(404).end();
    }
  });
});

after(async () => {
  await site?.close();
  await server?.stop();
});

async function launchChromium(userDataDir: string): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. Install it (apt-get install -y chromium; .ci/run does this), ` +
        'point TESSERA_CHROMIUM at a Chromium binary, or set TESSERA_SKIP_BROWSER=1 to skip the browser test.',
    );
  }
  try {
    // playwright-core passes --user-data-dir itself (and refuses it in args), and --headless with headless: true.
    return await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: PATIENCE_MS,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-quic',
        '--no-first-run',
        '--disable-sync',
      ],
    });
  } catch (err) {
    throw new Error(
      `Chromium at ${CHROMIUM} did not start (set TESSERA_SKIP_BROWSER=1 to skip the browser test): ${String(err)}`,
      { cause: err },
    );
  }
}

test(
  'Chromium loads the ESM build, uploads a File with client-side auth, and Node lists it',
  { skip: SKIP ? 'TESSERA_SKIP_BROWSER=1' : false, timeout: 3 * PATIENCE_MS },
  async () => {
    const folder = `/browser-${randomUUID().slice(0, 8)}/`;
    const userDataDir = mkdtempSync(join(tmpdir(), 'tessera-chromium-'));
    const context = await launchChromium(userDataDir);
    const pageErrors: string[] = [];
    const apiRequests: { method: string; url: string; headers: Record<string, string> }[] = [];
    let upload: ImageKit.Upload & { error?: string };
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      page.setDefaultTimeout(PATIENCE_MS);
      page.on('pageerror', (e) => pageErrors.push(String(e)));
      page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
      page.on('request', (r) => {
        if (r.url().startsWith(server.baseUrl)) {
          apiRequests.push({ method: r.method(), url: r.url(), headers: r.headers() });
        }
      });

      const pageUrl = `${site.url}/?${new URLSearchParams({ api: server.baseUrl, folder })}`;
      assert.notEqual(new URL(pageUrl).origin, new URL(server.baseUrl).origin, 'the page and the API must be cross-origin');
      await page.goto(pageUrl, { timeout: PATIENCE_MS });
      await page.waitForFunction(() => 'uploadResult' in window, undefined, { timeout: PATIENCE_MS });
      upload = (await page.evaluate(() => (window as unknown as { uploadResult: Promise<unknown> }).uploadResult)) as typeof upload;
    } finally {
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    }

    assert.equal(upload.error, undefined, `the upload failed in the page: ${upload.error}\npage errors: ${pageErrors.join('\n')}`);
    assert.match(upload.fileId ?? '', /^[0-9a-f]{24}$/);
    assert.equal(upload.name, 'from-browser.png', 'fileName is taken from the File');
    assert.equal(upload.filePath, `${folder}from-browser.png`);
    assert.equal(upload.width, WIDTH);
    assert.equal(upload.height, HEIGHT);

    // What went over the wire: the page got signed parameters, never the key; the upload is
    // authenticated by them alone (no Authorization header), across origins.
    assert.equal(authIssued.length, 1, 'the page asked the auth route once');
    assert.deepEqual(Object.keys(authIssued[0]!).sort(), ['expire', 'publicKey', 'signature', 'token']);
    assert.ok(!JSON.stringify(authIssued[0]).includes(server.privateKey));
    const uploads = apiRequests.filter((r) => r.method === 'POST' && new URL(r.url).pathname === '/api/v1/files/upload');
    assert.equal(uploads.length, 1, `one upload request (saw ${apiRequests.map((r) => `${r.method} ${r.url}`).join(', ')})`);
    assert.equal(uploads[0]!.headers.authorization, undefined, 'a client-side upload carries no Authorization header');
    assert.match(uploads[0]!.headers['content-type'] ?? '', /^multipart\/form-data; boundary=/);
    for (const r of apiRequests) assert.ok(!JSON.stringify(r.headers).includes(server.privateKey), 'the private key never leaves Node');

    // Listing needs the private key: Node does it with the SDK.
    const client = new ImageKitClient({ privateKey: server.privateKey, baseUrl: server.baseUrl });
    const listed = await client.assets.list({ path: folder });
    assert.equal(listed.length, 1, `one file in ${folder}: ${JSON.stringify(listed)}`);
    const item = listed[0]!;
    assert.equal(item.type, 'file');
    if (item.type !== 'file') return;
    assert.equal(item.fileId, upload.fileId);
    assert.equal(item.name, 'from-browser.png');
    assert.equal(item.filePath, `${folder}from-browser.png`);
    assert.equal(item.mime, 'image/png');
    assert.equal(item.width, WIDTH);
    assert.equal(item.height, HEIGHT);
  },
);
