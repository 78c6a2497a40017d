import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { KyselyMetadataStore } from '../kysely-store.js';
import type { Database } from '../schema.js';

/** The embedded store: one SQLite file in the data dir, WAL mode, migrated at open. */
export async function openSqliteStore(file: string): Promise<KyselyMetadataStore> {
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL in WAL mode is durable across process crashes; only an OS crash can lose the last commits.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const store = new KyselyMetadataStore(db, { dialect: 'sqlite' });
  await store.migrate();
  return store;
}
