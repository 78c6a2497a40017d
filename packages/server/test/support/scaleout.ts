/// <reference path="./s3rver.d.ts" />
/**
 * The scale-out test backend: a fresh PostgreSQL database per server (or per pair of servers) and
 * a bucket on one s3rver per test process. Chosen by TESSERA_TEST_BACKEND=scaleout (scripts/test.mjs
 * runs the e2e and contract suites a second time that way) or per call.
 *
 * A server's data dir records which backend it runs on (BACKEND_FILE), so a restart on the same
 * data dir finds the same database and bucket, and the helpers that read the store beside a running
 * server (queryDb, storeCounts, blob listings) know where to look.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import S3rver from 's3rver';
import type { S3BlobsConfig } from '../../src/adapters/blob/s3/index.js';

export type TestBackend = 'embedded' | 'scaleout';

/** The backend tests run on unless a test asks for one. */
export function testBackend(): TestBackend {
  return process.env.TESSERA_TEST_BACKEND === 'scaleout' ? 'scaleout' : 'embedded';
}

/** Where the maintenance connection goes (CREATE / DROP DATABASE). */
export const MAINTENANCE_URL = process.env.TESSERA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** s3rver's fixed credentials (it checks signatures against them). */
const S3RVER_KEY = 'S3RVER';

/** An S3 blob store's settings for a bucket of a local s3rver (its fixed key, path-style URLs). */
export function s3rverBlobs(endpoint: string, bucket: string, prefix: string): S3BlobsConfig {
  return { kind: 's3', bucket, endpoint, region: 'us-east-1', accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY, forcePathStyle: true, prefix };
}

export interface ScaleOutBackend {
  /** TESSERA_* settings that point a server at this database and bucket. */
  readonly env: Record<string, string>;
  readonly databaseUrl: string;
  readonly s3: S3Location;
  /** Drops the database (WITH FORCE) and empties the bucket; idempotent. */
  dispose(): Promise<void>;
}

export interface S3Location {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** What a data dir records about its backend. */
interface BackendRecord {
  env: Record<string, string>;
  databaseUrl: string;
  s3: S3Location | null;
}

export const BACKEND_FILE = '.tessera-test-backend.json';

const int8AsNumber = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 || oid === 1700 ? (v: string) => Number(v) : format === undefined ? pg.types.getTypeParser(oid) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** A short-lived client; int8 and numeric as numbers, as the server's pool reads them. */
export async function pgClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, types: int8AsNumber });
  await client.connect();
  return client;
}

export async function withPg<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = await pgClient(url);
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Whether PostgreSQL answers at the maintenance URL. */
export async function postgresReachable(): Promise<boolean> {
  try {
    await withPg(MAINTENANCE_URL, (c) => c.query('select 1'));
    return true;
  } catch {
    return false;
  }
}

function databaseUrlFor(name: string): string {
  const u = new URL(MAINTENANCE_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

// --- s3rver: one per test process, started on first use ------------------------------------

let s3server: Promise<{ server: S3rver; endpoint: string; dir: string }> | undefined;

function startS3rver() {
  s3server ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-s3rver-'));
    const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir });
    const addr: AddressInfo = await server.run();
    // Neither the listener nor its connections keep the test process alive: 'beforeExit' below
    // closes it once the tests are done.
    const http = (server as unknown as { httpServer?: import('node:http').Server }).httpServer;
    http?.unref();
    http?.on('connection', (sock) => sock.unref());
    return { server, endpoint: `http://127.0.0.1:${addr.port}`, dir };
  })();
  return s3server;
}

async function s3Client(loc: S3Location) {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({
    endpoint: loc.endpoint,
    region: loc.region,
    forcePathStyle: true,
    credentials: { accessKeyId: loc.accessKeyId, secretAccessKey: loc.secretAccessKey },
  });
}

/** Every key in the bucket, sorted. ListObjects (V1): s3rver's V2 fails past its first page. */
export async function listBucket(loc: S3Location): Promise<string[]> {
  const { ListObjectsCommand } = await import('@aws-sdk/client-s3');
  const client = await s3Client(loc);
  try {
    const out: string[] = [];
    for (let marker: string | undefined; ; ) {
      const page = await client.send(new ListObjectsCommand({ Bucket: loc.bucket, Marker: marker }));
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
      out.push(...keys);
      if (!page.IsTruncated || keys.length === 0) break;
      marker = keys[keys.length - 1];
    }
    return out.sort();
  } finally {
    client.destroy();
  }
}

export async function readBucketObject(loc: S3Location, key: string): Promise<Buffer> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const client = await s3Client(loc);
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: key }));
    return Buffer.from(await res.Body!.transformToByteArray());
  } finally {
    client.destroy();
  }
}

export async function deleteBucketObject(loc: S3Location, key: string): Promise<void> {
  const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
  const client = await s3Client(loc);
  try {
    await client.send(new DeleteObjectCommand({ Bucket: loc.bucket, Key: key }));
  } finally {
    client.destroy();
  }
}

async function emptyAndDeleteBucket(loc: S3Location): Promise<void> {
  const { DeleteObjectCommand, DeleteBucketCommand } = await import('@aws-sdk/client-s3');
  const client = await s3Client(loc);
  try {
    for (const key of await listBucket(loc)) await client.send(new DeleteObjectCommand({ Bucket: loc.bucket, Key: key }));
    await client.send(new DeleteBucketCommand({ Bucket: loc.bucket }));
  } finally {
    client.destroy();
  }
}

// --- backends ----------------------------------------------------------------------------------

const live = new Set<ScaleOutBackend>();

/**
 * A fresh database and bucket. Two servers started with the same `env` share the library (the
 * two-node tests); each still needs its own data dir for spool and cache.
 */
export async function createScaleOutBackend(): Promise<ScaleOutBackend> {
  const id = randomBytes(6).toString('hex');
  const dbName = `tessera_t_${id}`;
  await withPg(MAINTENANCE_URL, (c) => c.query(`create database ${dbName}`));
  const databaseUrl = databaseUrlFor(dbName);
  const { endpoint } = await startS3rver();
  const s3: S3Location = { endpoint, bucket: `tessera-t-${id}`, region: 'us-east-1', accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY };
  const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
  const client = await s3Client(s3);
  try {
    await client.send(new CreateBucketCommand({ Bucket: s3.bucket }));
  } finally {
    client.destroy();
  }
  const env: Record<string, string> = {
    TESSERA_DATABASE_URL: databaseUrl,
    TESSERA_S3_BUCKET: s3.bucket,
    TESSERA_S3_ENDPOINT: s3.endpoint,
    TESSERA_S3_REGION: s3.region,
    TESSERA_S3_ACCESS_KEY_ID: s3.accessKeyId,
    TESSERA_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    TESSERA_S3_FORCE_PATH_STYLE: 'true',
  };
  let disposed: Promise<void> | undefined;
  const backend: ScaleOutBackend = {
    env,
    databaseUrl,
    s3,
    dispose() {
      disposed ??= (async () => {
        live.delete(backend);
        await withPg(MAINTENANCE_URL, (c) => c.query(`drop database if exists ${dbName} with (force)`));
        await emptyAndDeleteBucket(s3).catch(() => undefined);
      })();
      return disposed;
    },
  };
  live.add(backend);
  return backend;
}

let exiting = false;
process.on('beforeExit', () => {
  if (exiting || (live.size === 0 && !s3server)) return;
  exiting = true;
  void (async () => {
    await Promise.allSettled([...live].map((b) => b.dispose()));
    if (s3server) {
      const { server, dir } = await s3server;
      await server.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  })();
});

/** Records in a data dir which backend its server uses. */
export function recordBackend(dataDir: string, b: BackendRecord): void {
  const rec: BackendRecord = { env: b.env, databaseUrl: b.databaseUrl, s3: b.s3 };
  writeFileSync(join(dataDir, BACKEND_FILE), JSON.stringify(rec));
}

/** The scale-out backend a data dir's server runs on; undefined for the embedded one. */
export function recordedBackend(dataDir: string): BackendRecord | undefined {
  const file = join(dataDir, BACKEND_FILE);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as BackendRecord;
}

/** A backend record built from env a caller passed (a shared backend from createScaleOutBackend). */
export function backendFromEnv(env: Record<string, string>): BackendRecord | undefined {
  const databaseUrl = env.TESSERA_DATABASE_URL;
  if (!databaseUrl) return undefined;
  const bucket = env.TESSERA_S3_BUCKET;
  const s3: S3Location | null =
    bucket && env.TESSERA_S3_ENDPOINT
      ? {
          endpoint: env.TESSERA_S3_ENDPOINT,
          bucket,
          region: env.TESSERA_S3_REGION ?? 'us-east-1',
          accessKeyId: env.TESSERA_S3_ACCESS_KEY_ID ?? S3RVER_KEY,
          secretAccessKey: env.TESSERA_S3_SECRET_ACCESS_KEY ?? S3RVER_KEY,
        }
      : null;
  const own: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k === 'TESSERA_DATABASE_URL' || k.startsWith('TESSERA_S3_')) own[k] = v;
  return { env: own, databaseUrl, s3 };
}

export function removeBackendRecord(dataDir: string): void {
  rmSync(join(dataDir, BACKEND_FILE), { force: true });
}
