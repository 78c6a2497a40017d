/**
 * Fresh PostgreSQL databases for contract and unit tests that talk to PostgreSQL directly (the
 * cache bus, the shared rate limiter, the queue with several workers). Each test file creates its
 * own and drops it when done; names carry a prefix so a leftover is easy to spot.
 *
 * When PostgreSQL is unreachable the PostgreSQL cases skip with a loud message, unless
 * TESSERA_REQUIRE_SCALEOUT=1 (CI), where that is a failure.
 */
import { randomBytes } from 'node:crypto';
import { MAINTENANCE_URL, postgresReachable, withPg } from './scaleout.js';

export interface FreshDatabase {
  readonly name: string;
  readonly url: string;
  /** Drops the database, closing whatever connections are still open on it. */
  drop(): Promise<void>;
}

export async function freshPgDatabase(prefix = 'tessera_c_'): Promise<FreshDatabase> {
  const name = `${prefix}${randomBytes(5).toString('hex')}`;
  await withPg(MAINTENANCE_URL, (c) => c.query(`create database ${name}`));
  const u = new URL(MAINTENANCE_URL);
  u.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: u.toString(),
    drop() {
      dropped ??= withPg(MAINTENANCE_URL, (c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined);
      return dropped;
    },
  };
}

/**
 * Whether the PostgreSQL cases of a suite run. Prints why not, loudly; throws when
 * TESSERA_REQUIRE_SCALEOUT=1 demands them.
 */
export async function postgresForTests(suite: string): Promise<boolean> {
  if (await postgresReachable()) return true;
  const msg = `PostgreSQL is not reachable at ${MAINTENANCE_URL.replace(/:[^:@/]*@/, ':***@')}: the PostgreSQL cases of ${suite} are SKIPPED`;
  if (process.env.TESSERA_REQUIRE_SCALEOUT === '1') throw new Error(`${msg} — and TESSERA_REQUIRE_SCALEOUT=1 requires them`);
  console.warn(`\n!!! ${msg}\n`);
  return false;
}
