/**
 * The connection to either database, and the one way to write: a transaction that holds the write lock
 * from its first statement.
 *
 * SQLite is a file shared by every `--num_workers` process: WAL mode lets readers run beside the one writer,
 * a busy timeout makes a writer wait for the lock instead of failing with "database is locked", and
 * `BEGIN IMMEDIATE` takes the lock up front — a deferred transaction that reads first and writes later
 * cannot wait for it (SQLite answers SQLITE_BUSY at once), which is how that error usually escapes.
 * `synchronous = NORMAL` keeps every commit through a crash of the process; only a power cut can undo the
 * last ones (see spend/journal.ts for the same line drawn for spend rows).
 *
 * Postgres gets a bounded pool (`database_connection_pool_limit` per process), so that many instances never
 * exhaust its connections, and a connect timeout, so that a database that went away fails a write rather
 * than hanging it.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, PostgresDialect, sql, SqliteDialect } from "kysely";
import type PgModule from "pg";
import { loadOnUse } from "../load-on-use.js";
import type { Tables } from "./tables.js";

/** Loaded when a Postgres database is opened: a proxy on SQLite never holds it (~3 MB of heap). */
const pg = loadOnUse<typeof PgModule>("pg");

export type DatabaseTarget =
  | { kind: "sqlite"; path: string }
  | { kind: "postgres"; url: string; poolLimit: number };

export type DialectName = DatabaseTarget["kind"];

/** How long a SQLite writer waits for another process's write to finish. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;
/** How long opening a Postgres connection may take before the query that needed it fails. */
const POSTGRES_CONNECT_TIMEOUT_MS = 10_000;

export interface Database {
  db: Kysely<Tables>;
  dialect: DialectName;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Errors of idle Postgres connections (a restarted server, say): reported, never thrown. */
  onError?: (error: Error) => void;
}

export function connect(target: DatabaseTarget, options: DatabaseOptions = {}): Database {
  if (target.kind === "sqlite") {
    mkdirSync(dirname(target.path), { recursive: true });
    const file = new BetterSqlite3(target.path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    file.pragma("journal_mode = WAL");
    file.pragma("synchronous = NORMAL");
    const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: file }) });
    return { db, dialect: "sqlite", close: () => db.destroy() };
  }
  const pool = new (pg().Pool)({ connectionString: target.url, max: target.poolLimit, connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS });
  pool.on("error", (error) => options.onError?.(error));
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: "postgres", close: () => db.destroy() };
}

/**
 * Runs `work` in a transaction on one connection, committed when it resolves and rolled back when it throws.
 * On SQLite it begins IMMEDIATE (see above); on Postgres `lockKey` makes it wait for an advisory lock first,
 * held until commit, for work that no two instances may do at once.
 */
export async function writeTransaction<T>(database: Database, work: (tx: Kysely<Tables>) => Promise<T>, lockKey?: number): Promise<T> {
  return database.db.connection().execute(async (tx) => {
    await sql.raw(database.dialect === "sqlite" ? "begin immediate" : "begin").execute(tx);
    try {
      if (lockKey !== undefined && database.dialect === "postgres") await sql`select pg_advisory_xact_lock(${lockKey})`.execute(tx);
      const result = await work(tx);
      await sql.raw("commit").execute(tx);
      return result;
    } catch (error) {
      await sql
        .raw("rollback")
        .execute(tx)
        .catch(() => undefined);
      throw error;
    }
  });
}
