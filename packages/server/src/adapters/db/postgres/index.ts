import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { KyselyMetadataStore, type ArrayRowQuery } from '../kysely-store.js';
import type { Database } from '../schema.js';

/**
 * The scale-out store: a shared PostgreSQL database behind the same Kysely queries as SQLite,
 * migrated at open. Any number of nodes may open it at once: Kysely's Migrator takes a
 * PostgreSQL advisory lock, so one node migrates and the others wait, then find nothing to do.
 */

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Connections this node's pool may open. */
  poolMax: number;
  /** How long an unused connection stays open. */
  idleTimeoutMs?: number;
  /** How long to wait for a connection (a new one, or a free one from a busy pool). */
  connectionTimeoutMs?: number;
  /** Errors of idle connections (the server restarted, the network dropped); the pool replaces them. */
  onIdleError?: (err: Error) => void;
  /** Default true; `tessera migrate` migrates itself to report what it applied. */
  migrate?: boolean;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * bigint (sizes, usage counters, count(*)) and numeric (sum()) arrive as strings from pg; the
 * code expects numbers as SQLite gives them. Sizes stay far below 2^53, so nothing is lost.
 */
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => (v === null ? null : Number(v));
    return format === undefined ? pg.types.getTypeParser(oid) : pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

/** The URL without its password, for messages. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured database';
  }
}

/** A pg Pool with this project's limits and type parsing. */
export function createPool(opts: PostgresStoreOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolMax,
    idleTimeoutMillis: opts.idleTimeoutMs ?? 30_000,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 10_000,
    types: typeParsers,
    application_name: 'tessera',
  });
  // Without a listener an idle connection's error (server restart) would crash the process.
  pool.on('error', (err) => opts.onIdleError?.(err));
  return pool;
}

/** One line for a connection error: Node reports a refused dual-stack connect as an AggregateError with no message. */
function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const inner = e instanceof AggregateError ? e.errors.map((x: unknown) => (x instanceof Error ? x.message : String(x))) : [];
  const code = (e as Error & { code?: unknown }).code;
  const text = e.message || inner.join('; ') || (typeof code === 'string' ? code : e.name);
  return text.replace(/\s*\n\s*/g, ' ');
}

/** Thrown when the database cannot be reached or refuses us at start; the message is one line. */
export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
}

/** Opens (and migrates) the PostgreSQL store; a database that does not answer fails with one clear line. */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<KyselyMetadataStore> {
  const pool = createPool(opts);
  try {
    const client = await pool.connect();
    client.release();
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new DatabaseUnreachableError(`cannot connect to PostgreSQL at ${redactDatabaseUrl(opts.url)}: ${describeError(e)}`);
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  // Rows as arrays (pg's rowMode) for the list page: no per-row object keyed by column name.
  const arrayRows: ArrayRowQuery = async (text, parameters) => (await pool.query<unknown[]>({ text, values: [...parameters], rowMode: 'array' })).rows;
  const store = new KyselyMetadataStore(db, { dialect: 'postgres' }, arrayRows);
  try {
    if (opts.migrate !== false) await store.migrate();
  } catch (e) {
    await db.destroy().catch(() => undefined);
    throw e;
  }
  return store;
}
