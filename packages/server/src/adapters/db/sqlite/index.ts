import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver } from 'kysely';
import { serviceUnavailable } from '../../../errors/index.js';
import { KyselyMetadataStore, type ArrayRowQuery } from '../kysely-store.js';
import { SQLITE_WORDS_FUNCTION, wordsText } from '../../../search/index.js';
import type { Database } from '../schema.js';

/** The embedded store: one SQLite file in the data dir, WAL mode, migrated at open (unless told not to). */
export async function openSqliteStore(file: string, opts: { migrate?: boolean } = {}): Promise<KyselyMetadataStore> {
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL in WAL mode is durable across process crashes; only an OS crash can lose the last commits.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Read pages through a memory map rather than a read() call and a copy each: a page of search
  // results touches about a thousand rows at random. SQLite caps the map at 2 GiB by default.
  sqlite.pragma('mmap_size = 2147418112');
  // HAS outside the full-text index (folders, versions, one metadata field) splits text into
  // words exactly as searchQuery does; see search/compile.ts.
  sqlite.function(SQLITE_WORDS_FUNCTION, { deterministic: true }, (v: unknown) => wordsText(typeof v === 'string' ? v : ''));
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) });
  const store = new KyselyMetadataStore(db, { dialect: 'sqlite' }, arrayRowsOf(db, sqlite));
  if (opts.migrate !== false) await store.migrate();
  return store;
}

/**
 * Transactions begin IMMEDIATE: the write lock is taken at BEGIN, waiting (busy_timeout) while
 * another process writes. A deferred transaction that reads and then writes fails at once with
 * SQLITE_BUSY when another process committed in between — there is nothing to wait for then —
 * which worker processes sharing the file (TESSERA_WORKERS) hit under concurrent uploads. One
 * process alone is unaffected: its single connection runs one transaction at a time anyway.
 *
 * A statement that still finds the file locked once the busy timeout has passed (another process
 * held the write lock that long) is contention, not a fault: a 503 with Retry-After.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection();
    return {
      executeQuery: async (query) => {
        try {
          return await connection.executeQuery(query);
        } catch (e) {
          throw busyAsUnavailable(e);
        }
      },
      streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
    };
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

function busyAsUnavailable(e: unknown): unknown {
  if ((e as { code?: unknown }).code !== 'SQLITE_BUSY') return e;
  return serviceUnavailable('The library is busy with other changes; try again shortly.', {
    help: 'Another process kept writing to the library while this request waited. Retry after the number of seconds in Retry-After.',
    headers: { 'Retry-After': '1' },
    cause: e,
  });
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: { database: BetterSqlite3.Database }) {
    super(settings);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.settings);
  }
}

/** Prepared statements kept for arrayRows; list pages repeat a few shapes of SQL. */
const STATEMENT_CACHE_MAX = 64;

/**
 * better-sqlite3's raw mode: rows as arrays, about half the cost of its object rows. Run while
 * holding Kysely's connection (its mutex), so it never reads in the middle of a transaction.
 */
function arrayRowsOf(db: Kysely<Database>, sqlite: BetterSqlite3.Database): ArrayRowQuery {
  const statements = new Map<string, BetterSqlite3.Statement<unknown[], unknown[]>>();
  return (text, parameters) =>
    db.connection().execute(async () => {
      let statement = statements.get(text);
      if (!statement) {
        if (statements.size >= STATEMENT_CACHE_MAX) statements.clear();
        statement = sqlite.prepare<unknown[], unknown[]>(text).raw(true);
        statements.set(text, statement);
      }
      return statement.all(...parameters);
    });
}
