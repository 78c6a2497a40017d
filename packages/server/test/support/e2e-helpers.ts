/**
 * Small helpers shared by the server's e2e suites: auth, uploads, API calls, delivery fetches,
 * error-body asserts, test images, and reading the store beside the running server.
 * Everything talks to a real server over loopback with Node's own fetch, FormData and Blob.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import sharp from 'sharp';
import { LocalBlobStore } from '../../src/adapters/blob/local/index.js';
import type { KyselyMetadataStore } from '../../src/adapters/db/kysely-store.js';
import type { BlobStore } from '../../src/ports/blob-store.js';
import { openPostgresStore } from '../../src/adapters/db/postgres/index.js';
import { openSqliteStore } from '../../src/adapters/db/sqlite/index.js';
import { deleteBucketObject, listBucket, readBucketObject, recordedBackend, withPg } from './scaleout.js';
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

/**
 * A real solid-colour image made with sharp; a different colour gives different bytes. A colour
 * with an `alpha` makes an RGBA image. `quality` is for JPEG (sharp's default: 80).
 */
export async function solidImage(
  width: number,
  height: number,
  background: string | { r: number; g: number; b: number; alpha?: number },
  format: 'png' | 'jpeg' | 'webp' = 'png',
  quality?: number,
): Promise<Buffer> {
  const channels = typeof background === 'object' && background.alpha !== undefined ? 4 : 3;
  const image = sharp({ create: { width, height, channels, background } });
  if (format === 'jpeg') return image.jpeg(quality === undefined ? {} : { quality }).toBuffer();
  return (format === 'webp' ? image.webp() : image.png()).toBuffer();
}

/** A real PNG made with sharp; alpha=true gives a semi-transparent RGBA image. */
export async function makePng(width: number, height: number, alpha = false): Promise<Buffer> {
  return solidImage(width, height, alpha ? { r: 200, g: 30, b: 60, alpha: 0.5 } : { r: 10, g: 120, b: 200 }, 'png');
}

export async function makeJpeg(width: number, height: number): Promise<Buffer> {
  return solidImage(width, height, { r: 250, g: 200, b: 0 }, 'jpeg', 80);
}

/** Reads a fetch Response whole: the text, and the JSON body when it parses (else `{}`). */
export async function readResponse(res: Response): Promise<ApiResponse> {
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
  return postUploadForm(server, uploadForm(fields, file), opts);
}

/** POSTs a multipart form built by the caller (odd part order, duplicate or misnamed parts) to the upload API. */
export async function postUploadForm(server: TestServer, form: FormData, opts: UploadOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  const auth = opts.auth === undefined ? basicAuth(server.privateKey) : opts.auth;
  if (auth !== null) headers.authorization = auth;
  const res = await fetch(`${server.baseUrl}/api/v${opts.version ?? 1}/files/upload`, { method: 'POST', headers, body: form });
  return readResponse(res);
}

/** Uploads `bytes` as `fileName` (multipart, private key) with more fields; asserts 200 and returns the body. */
export async function uploadFile(server: TestServer, bytes: Uint8Array, fileName: string, fields: Record<string, string> = {}): Promise<Json> {
  const res = await upload(server, { fileName, ...fields }, { bytes, name: fileName });
  assert.equal(res.status, 200, `upload failed: ${res.text}`);
  return res.body;
}

/**
 * The two ends of a multipart upload body streamed by hand: `head` holds the text fields and the
 * headers of the file part, `tail` closes the body; the file's bytes go between them.
 */
export function multipartEnds(boundary: string, fields: Record<string, string>, fileName: string): { head: Buffer; tail: Buffer } {
  let head = '';
  for (const [name, value] of Object.entries(fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  head +=
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n';
  return { head: Buffer.from(head), tail: Buffer.from(`\r\n--${boundary}--\r\n`) };
}

/**
 * A multipart upload sent by hand, for tests that pace, cut or abandon the body: write `head`, then
 * the file's `size` bytes, then `tail`. `response` settles with the status and text (and rejects
 * when the connection fails; tests that never wait for it need not handle that).
 */
export function openRawUpload(server: TestServer, fields: Record<string, string> & { fileName: string }, size: number) {
  const boundary = `tessera-raw-${randomBytes(6).toString('hex')}`;
  const { head, tail } = multipartEnds(boundary, fields, fields.fileName);
  const req = httpRequest(`${server.baseUrl}/api/v1/files/upload`, {
    method: 'POST',
    agent: false,
    headers: {
      authorization: basicAuth(server.privateKey),
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(head.length + size + tail.length),
    },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
  response.catch(() => undefined);
  return { req, head, tail, response };
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

export interface Fetched {
  status: number;
  headers: Headers;
  bytes: Buffer;
}

/** Any URL (delivery URLs are public: no auth unless `headers` has it), the body read as bytes. */
export async function fetchBytes(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Fetched> {
  const res = await fetch(url, { method, headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

export async function download(url: string): Promise<{ status: number; bytes: Buffer; contentType: string | null }> {
  const res = await fetchBytes(url);
  return { status: res.status, bytes: res.bytes, contentType: res.headers.get('content-type') };
}

/** Asserts `url` answers 200 with exactly `expected` (and this content-type, when given). */
export async function assertServes(url: string, expected: Uint8Array, contentType?: string): Promise<void> {
  const res = await fetchBytes(url);
  assert.equal(res.status, 200, `GET ${url} → ${res.status}: ${res.bytes.toString('utf8').slice(0, 200)}`);
  if (contentType !== undefined) assert.equal(res.headers.get('content-type'), contentType);
  assert.ok(res.bytes.equals(expected), `GET ${url} served other bytes`);
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

/** Asserts a raw answer (e.g. a refused delivery) is a JSON `{message, help}` error with `status`; returns the body. */
export function assertJsonError(res: Fetched, status: number): Json {
  const text = res.bytes.toString('utf8');
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${text.slice(0, 300)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(text) as Json;
  assertApiError({ status: res.status, headers: res.headers, body, text }, status);
  return body;
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

/** Every stored blob of a server: files under <data dir>/blobs, or keys in its S3 bucket. */
export async function blobFiles(dataDir: string): Promise<string[]> {
  const s3 = recordedBackend(dataDir)?.s3;
  return s3 ? listBucket(s3) : filesUnder(join(dataDir, 'blobs'));
}
/** The bytes of one stored blob (a key as blobFiles lists it). */
export async function blobBytes(dataDir: string, key: string): Promise<Buffer> {
  const s3 = recordedBackend(dataDir)?.s3;
  return s3 ? readBucketObject(s3, key) : readFileSync(join(dataDir, 'blobs', key));
}

/** Removes one stored blob behind the server's back (a test of missing bytes). */
export async function removeBlob(dataDir: string, key: string): Promise<void> {
  const s3 = recordedBackend(dataDir)?.s3;
  if (s3) await deleteBucketObject(s3, key);
  else rmSync(join(dataDir, 'blobs', key));
}

export const tmpFiles = (dataDir: string) => filesUnder(join(dataDir, 'tmp'));

export interface StoreCounts {
  files: number;
  versions: number;
  folders: number;
  journal: number;
}

/** Row counts read straight from the store, beside the running server. */
export async function storeCounts(dataDir: string): Promise<StoreCounts> {
  const n = async (t: string) => (await queryDb<{ n: number }>(dataDir, `select count(*) as n from ${t}`))[0]!.n;
  return { files: await n('files'), versions: await n('file_versions'), folders: await n('folders'), journal: await n('blob_journal') };
}

/** `?` placeholders as PostgreSQL's `$1, $2 …` (the tests' SQL has no `?` inside literals). */
const pgPlaceholders = (sql: string) => {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
};

/**
 * Runs SQL against the store (for seeding state the API cannot create yet, e.g. AITags): the
 * SQLite file in the data dir, or the server's PostgreSQL database in scale-out mode. Write SQL
 * both dialects speak, with `?` placeholders.
 */
export async function execSql(dataDir: string, sql: string, params: unknown[] = []): Promise<void> {
  const pgBackend = recordedBackend(dataDir);
  if (pgBackend) {
    await withPg(pgBackend.databaseUrl, (c) => c.query(pgPlaceholders(sql), params));
    return;
  }
  const db = new BetterSqlite3(join(dataDir, 'tessera.db'));
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

/**
 * Rows of a read-only query against the store, beside the running server (SQLite or, in
 * scale-out mode, PostgreSQL; int8 counts come back as numbers on both). JSON columns that are
 * jsonb on PostgreSQL come back parsed there: read them with `jsonValue`.
 */
export async function queryDb<T>(dataDir: string, sql: string, ...params: unknown[]): Promise<T[]> {
  const pgBackend = recordedBackend(dataDir);
  if (pgBackend) return withPg(pgBackend.databaseUrl, async (c) => (await c.query(pgPlaceholders(sql), params)).rows as T[]);
  const db = new BetterSqlite3(join(dataDir, 'tessera.db'), { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

export interface FileRow {
  id: string;
  file_path: string;
  checksum: string;
  versions: number;
}

/** Files in a subtree with their version counts, by path. */
export async function filesIn(dataDir: string, prefix: string): Promise<Map<string, FileRow>> {
  const rows = await queryDb<FileRow>(
    dataDir,
    `select f.id, f.file_path, f.checksum, (select count(*) from file_versions v where v.file_id = f.id) as versions
       from files f where substr(f.file_path, 1, ?) = ? order by f.file_path`,
    prefix.length,
    prefix,
  );
  return new Map(rows.map((r) => [r.file_path, r]));
}

/** A JSON column as read by queryDb: text on SQLite, already parsed (jsonb) on PostgreSQL. */
export function jsonValue<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

/** The server's blob store opened beside it: <data dir>/blobs, or its bucket in scale-out mode. */
export async function openBlobsFor(dataDir: string): Promise<BlobStore> {
  const s3 = recordedBackend(dataDir)?.s3;
  if (s3) {
    const { S3BlobStore } = await import('../../src/adapters/blob/s3/index.js');
    return S3BlobStore.open({ kind: 's3', ...s3, forcePathStyle: true, prefix: '' });
  }
  const local = new LocalBlobStore(join(dataDir, 'blobs'));
  await local.init();
  return local;
}

/**
 * The server's metadata store opened beside it (for seeding many rows fast, or a crash
 * scenario): SQLite in the data dir, or its PostgreSQL database in scale-out mode.
 */
export async function openStoreFor(dataDir: string): Promise<KyselyMetadataStore> {
  const pgBackend = recordedBackend(dataDir);
  if (pgBackend) return openPostgresStore({ url: pgBackend.databaseUrl, poolMax: 4 });
  return openSqliteStore(join(dataDir, 'tessera.db'));
}

export interface AITag {
  name: string;
  confidence: number;
  source: string;
}

/** Seeds AITags on a file and its current version (the API cannot set them; extensions do). */
export async function seedAITags(dataDir: string, fileId: string, tags: AITag[]): Promise<void> {
  const json = JSON.stringify(tags);
  await execSql(dataDir, 'update files set ai_tags = ? where id = ?', [json, fileId]);
  await execSql(dataDir, 'update file_versions set ai_tags = ? where id = (select current_version_id from files where id = ?)', [json, fileId]);
}

export interface Snapshot {
  counts: StoreCounts;
  blobs: string[];
  tmp: string[];
}

export async function snapshot(dataDir: string): Promise<Snapshot> {
  return { counts: await storeCounts(dataDir), blobs: await blobFiles(dataDir), tmp: tmpFiles(dataDir) };
}

/**
 * Asserts nothing was half-stored since `before`: same rows, same blobs, an empty tmp/.
 * The spool file of a refused upload is removed when the response is sent, so allow a moment.
 */
export async function assertNothingStored(dataDir: string, before: Snapshot, what = ''): Promise<void> {
  let now = await snapshot(dataDir);
  for (let i = 0; i < 40 && (now.tmp.length > 0 || now.blobs.length !== before.blobs.length); i++) {
    await new Promise((r) => setTimeout(r, 25));
    now = await snapshot(dataDir);
  }
  assert.deepEqual(now.counts, before.counts, `rows changed ${what}`);
  assert.deepEqual(now.blobs, before.blobs, `blobs changed ${what}`);
  assert.deepEqual(now.tmp, [], `stray temp files ${what}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
