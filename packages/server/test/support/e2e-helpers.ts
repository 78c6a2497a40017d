/**
 * Small helpers shared by the upload / auth / bad-input / crash / lifecycle / rate-limit e2e suites.
 * Everything talks to a real server over loopback with Node's own fetch, FormData and Blob.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import sharp from 'sharp';
import type { TestServer } from './server.js';

export type Json = Record<string, any>;

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: Json;
  text: string;
}

export function basicAuth(privateKey: string): string {
  return `Basic ${Buffer.from(`${privateKey}:`).toString('base64')}`;
}

export function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** A real PNG made with sharp; alpha=true gives a semi-transparent RGBA image. */
export async function makePng(width: number, height: number, alpha = false): Promise<Buffer> {
  return sharp({
    create: {
      width,
      height,
      channels: alpha ? 4 : 3,
      background: alpha ? { r: 200, g: 30, b: 60, alpha: 0.5 } : { r: 10, g: 120, b: 200 },
    },
  })
    .png()
    .toBuffer();
}

export async function makeJpeg(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 250, g: 200, b: 0 } } })
    .jpeg({ quality: 80 })
    .toBuffer();
}

async function readResponse(res: Response): Promise<ApiResponse> {
  const text = await res.text();
  let body: Json = {};
  if (text !== '') {
    try {
      body = JSON.parse(text) as Json;
    } catch {
      body = {};
    }
  }
  return { status: res.status, headers: res.headers, body, text };
}

export interface FileArg {
  bytes: Uint8Array;
  /** Multipart filename; defaults to "blob". */
  name?: string;
  /** The client's (possibly lying) Content-Type. */
  type?: string;
}

/** Builds the multipart form: `file` as bytes (FileArg) or as a text value (base64 / URL). */
export function uploadForm(fields: Record<string, string | undefined>, file?: FileArg | string): FormData {
  const form = new FormData();
  if (typeof file === 'string') form.append('file', file);
  else if (file) form.append('file', new Blob([new Uint8Array(file.bytes)], { type: file.type ?? 'application/octet-stream' }), file.name ?? 'blob');
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) form.append(k, v);
  return form;
}

export interface UploadOptions {
  version?: 1 | 2;
  /** Authorization header; default the server's private key. null sends none. */
  auth?: string | null;
}

export async function upload(
  server: TestServer,
  fields: Record<string, string | undefined>,
  file?: FileArg | string,
  opts: UploadOptions = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  const auth = opts.auth === undefined ? basicAuth(server.privateKey) : opts.auth;
  if (auth !== null) headers.authorization = auth;
  const res = await fetch(`${server.baseUrl}/api/v${opts.version ?? 1}/files/upload`, {
    method: 'POST',
    headers,
    body: uploadForm(fields, file),
  });
  return readResponse(res);
}

/** A management API call with the private key (unless auth says otherwise). */
export async function api(
  server: TestServer,
  method: string,
  path: string,
  body?: unknown,
  opts: { auth?: string | null; rawBody?: string; contentType?: string } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  const auth = opts.auth === undefined ? basicAuth(server.privateKey) : opts.auth;
  if (auth !== null) headers.authorization = auth;
  let payload: string | undefined;
  if (opts.rawBody !== undefined) payload = opts.rawBody;
  else if (body !== undefined) payload = JSON.stringify(body);
  if (payload !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  const res = await fetch(`${server.baseUrl}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  return readResponse(res);
}

export async function getDetails(server: TestServer, fileId: string): Promise<ApiResponse> {
  return api(server, 'GET', `/v1/files/${fileId}/details`);
}

export async function download(url: string): Promise<{ status: number; bytes: Buffer; contentType: string | null }> {
  const res = await fetch(url);
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), contentType: res.headers.get('content-type') };
}

/** Asserts an ImageKit-style error: the status, and a `{message, help}` body of strings. */
export function assertApiError(res: ApiResponse, status: number, messagePattern?: RegExp | string): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.equal(typeof res.body.message, 'string', `no string message in ${res.text}`);
  assert.ok(res.body.message.length > 0, 'empty message');
  assert.equal(typeof res.body.help, 'string', `no string help in ${res.text}`);
  if (typeof messagePattern === 'string') assert.equal(res.body.message, messagePattern);
  else if (messagePattern) assert.match(res.body.message, messagePattern);
}

/** Any 4xx with the `{message, help}` body (never a 500). */
export function assertClientError(res: ApiResponse, allowed: number[] = []): void {
  assert.ok(res.status >= 400 && res.status < 500, `expected a 4xx, got ${res.status}: ${res.text}`);
  if (allowed.length > 0) assert.ok(allowed.includes(res.status), `expected one of ${allowed.join('/')}, got ${res.status}: ${res.text}`);
  assertApiError(res, res.status);
}

/** Every regular file under dir (recursively), as paths relative to dir. Missing dir → []. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(p).isDirectory()) walk(p, r);
      else out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

export const blobFiles = (dataDir: string) => filesUnder(join(dataDir, 'blobs'));
export const tmpFiles = (dataDir: string) => filesUnder(join(dataDir, 'tmp'));

export interface StoreCounts {
  files: number;
  versions: number;
  folders: number;
  journal: number;
}

/** Row counts read straight from the SQLite file (read-only, alongside the running server). */
export function storeCounts(dataDir: string): StoreCounts {
  const db = new BetterSqlite3(join(dataDir, 'tessera.db'), { readonly: true, fileMustExist: true });
  try {
    const n = (t: string) => (db.prepare(`select count(*) as n from ${t}`).get() as { n: number }).n;
    return { files: n('files'), versions: n('file_versions'), folders: n('folders'), journal: n('blob_journal') };
  } finally {
    db.close();
  }
}

/** Runs SQL against the store (for seeding state the API cannot create yet, e.g. AITags). */
export function execSql(dataDir: string, sql: string, params: unknown[] = []): void {
  const db = new BetterSqlite3(join(dataDir, 'tessera.db'));
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

export interface Snapshot {
  counts: StoreCounts;
  blobs: string[];
  tmp: string[];
}

export function snapshot(dataDir: string): Snapshot {
  return { counts: storeCounts(dataDir), blobs: blobFiles(dataDir), tmp: tmpFiles(dataDir) };
}

/**
 * Asserts nothing was half-stored since `before`: same rows, same blobs, an empty tmp/.
 * The spool file of a refused upload is removed when the response is sent, so allow a moment.
 */
export async function assertNothingStored(dataDir: string, before: Snapshot, what = ''): Promise<void> {
  let now = snapshot(dataDir);
  for (let i = 0; i < 40 && (now.tmp.length > 0 || now.blobs.length !== before.blobs.length); i++) {
    await new Promise((r) => setTimeout(r, 25));
    now = snapshot(dataDir);
  }
  assert.deepEqual(now.counts, before.counts, `rows changed ${what}`);
  assert.deepEqual(now.blobs, before.blobs, `blobs changed ${what}`);
  assert.deepEqual(now.tmp, [], `stray temp files ${what}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
