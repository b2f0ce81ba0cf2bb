/**
 * The schema's versions, applied on start. Each migration runs once, in order, recorded in
 * `xgate_migrations`; all pending ones apply in one transaction that holds the database's write lock
 * (an advisory lock on Postgres, `BEGIN IMMEDIATE` on SQLite), so instances starting together apply each
 * exactly once and the others find it done. Both databases roll DDL back with the transaction, so a failed
 * migration leaves the schema as it was. A migration, once released, is never edited: changes are new ones.
 */
import type { Kysely } from "kysely";
import { iso } from "./codec.js";
import { type Database, type DialectName, writeTransaction } from "./database.js";
import type { Tables } from "./tables.js";

interface Migration {
  version: number;
  name: string;
  up(db: Kysely<Tables>, types: ColumnTypes): Promise<void>;
}

/** The column types that differ between the two databases. */
interface ColumnTypes {
  timestamp: "timestamptz" | "text";
  json: "jsonb" | "text";
  boolean: "boolean" | "integer";
}

function columnTypes(dialect: DialectName): ColumnTypes {
  return dialect === "postgres"
    ? { timestamp: "timestamptz", json: "jsonb", boolean: "boolean" }
    : { timestamp: "text", json: "text", boolean: "integer" };
}

/** Any constant the instances agree on; it keeps migrations of concurrent starts one at a time. */
const MIGRATION_LOCK = 0x78676174; // "xgat"

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "keys, teams and spend logs",
    async up(db, t) {
      await db.schema
        .createTable("xgate_keys")
        .addColumn("token", "text", (c) => c.primaryKey())
        .addColumn("key_name", "text")
        .addColumn("key_alias", "text")
        .addColumn("models", t.json, (c) => c.notNull())
        .addColumn("aliases", t.json, (c) => c.notNull())
        .addColumn("metadata", t.json, (c) => c.notNull())
        .addColumn("max_budget", "double precision")
        .addColumn("soft_budget", "double precision")
        .addColumn("spend", "double precision", (c) => c.notNull().defaultTo(0))
        .addColumn("budget_duration", "text")
        .addColumn("budget_reset_at", t.timestamp)
        .addColumn("rpm_limit", "bigint")
        .addColumn("tpm_limit", "bigint")
        .addColumn("max_parallel_requests", "bigint")
        .addColumn("expires", t.timestamp)
        .addColumn("blocked", t.boolean, (c) => c.notNull())
        .addColumn("team_id", "text")
        .addColumn("previous_token", "text")
        .addColumn("previous_token_expires", t.timestamp)
        .addColumn("created_at", t.timestamp, (c) => c.notNull())
        .addColumn("updated_at", t.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex("xgate_keys_key_alias").unique().on("xgate_keys").column("key_alias").execute();
      await db.schema.createIndex("xgate_keys_previous_token").unique().on("xgate_keys").column("previous_token").execute();
      await db.schema.createIndex("xgate_keys_team_id").on("xgate_keys").column("team_id").execute();
      await db.schema.createIndex("xgate_keys_created_at").on("xgate_keys").columns(["created_at", "token"]).execute();

      await db.schema
        .createTable("xgate_teams")
        .addColumn("team_id", "text", (c) => c.primaryKey())
        .addColumn("team_alias", "text")
        .addColumn("models", t.json, (c) => c.notNull())
        .addColumn("metadata", t.json, (c) => c.notNull())
        .addColumn("max_budget", "double precision")
        .addColumn("spend", "double precision", (c) => c.notNull().defaultTo(0))
        .addColumn("budget_duration", "text")
        .addColumn("budget_reset_at", t.timestamp)
        .addColumn("rpm_limit", "bigint")
        .addColumn("tpm_limit", "bigint")
        .addColumn("max_parallel_requests", "bigint")
        .addColumn("created_at", t.timestamp, (c) => c.notNull())
        .addColumn("updated_at", t.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex("xgate_teams_created_at").on("xgate_teams").columns(["created_at", "team_id"]).execute();

      await db.schema
        .createTable("xgate_spend_logs")
        .addColumn("request_id", "text", (c) => c.primaryKey())
        .addColumn("call_type", "text", (c) => c.notNull())
        .addColumn("api_key", "text", (c) => c.notNull())
        .addColumn("spend", "double precision", (c) => c.notNull().defaultTo(0))
        .addColumn("prompt_tokens", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("completion_tokens", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("total_tokens", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("model", "text", (c) => c.notNull())
        .addColumn("model_group", "text")
        .addColumn("model_id", "text")
        .addColumn("api_base", "text")
        .addColumn("user", "text")
        .addColumn("team_id", "text")
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("startTime", t.timestamp, (c) => c.notNull())
        .addColumn("endTime", t.timestamp, (c) => c.notNull())
        .addColumn("metadata", t.json, (c) => c.notNull())
        .execute();
      await db.schema.createIndex("xgate_spend_logs_start_time").on("xgate_spend_logs").column("startTime").execute();
      await db.schema.createIndex("xgate_spend_logs_api_key").on("xgate_spend_logs").columns(["api_key", "startTime"]).execute();
      await db.schema.createIndex("xgate_spend_logs_team_id").on("xgate_spend_logs").columns(["team_id", "startTime"]).execute();
    },
  },
  {
    version: 2,
    name: "keys' allowed_cache_controls",
    async up(db, t) {
      // Existing keys get an empty list: no restriction, as before the column existed.
      await db.schema
        .alterTable("xgate_keys")
        .addColumn("allowed_cache_controls", t.json, (c) => c.notNull().defaultTo("[]"))
        .execute();
    },
  },
];

const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Applies what the database lacks; answers the versions applied now (none when it was up to date). */
export async function migrate(database: Database, now: () => Date): Promise<number[]> {
  return writeTransaction(
    database,
    async (tx) => {
      await tx.schema
        .createTable("xgate_migrations")
        .ifNotExists()
        .addColumn("version", "integer", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("applied_at", "text", (c) => c.notNull())
        .execute();
      const rows = await tx.selectFrom("xgate_migrations").select("version").execute();
      const done = new Set(rows.map((row) => Number(row.version)));
      const newest = Math.max(0, ...done);
      if (newest > LATEST_VERSION) {
        throw new Error(
          `the database's schema is version ${newest}, written by a newer xgate; this one knows versions up to ${LATEST_VERSION}: upgrade xgate, or point it at another database`,
        );
      }
      const applied: number[] = [];
      for (const migration of MIGRATIONS) {
        if (done.has(migration.version)) continue;
        await migration.up(tx, columnTypes(database.dialect));
        await tx.insertInto("xgate_migrations").values({ version: migration.version, name: migration.name, applied_at: iso(now()) }).execute();
        applied.push(migration.version);
      }
      return applied;
    },
    MIGRATION_LOCK,
  );
}

