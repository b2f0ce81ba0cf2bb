/**
 * The tables as Kysely sees them. One query layer serves two databases whose drivers hand values back
 * differently, so the select types here are what either may return (Postgres: Date, parsed JSON, booleans,
 * bigint as text; SQLite: ISO text, JSON text, 0/1) and the repositories turn rows into records through
 * codec.ts. Writes are the same for both: timestamps as ISO-8601 UTC text (Postgres parses it into
 * timestamptz; on SQLite it sorts as time does), JSON as text, flags as 0/1 (Postgres reads '1' as true).
 */
import type { ColumnType } from "kysely";

type Timestamp = ColumnType<Date | string, string, string>;
type NullableTimestamp = ColumnType<Date | string | null, string | null | undefined, string | null>;
type Json = ColumnType<unknown, string, string>;
/** A JSON column with a default, so inserts may leave it out. */
type JsonWithDefault = ColumnType<unknown, string | undefined, string>;
type Flag = ColumnType<boolean | number, number, number>;
type Money = ColumnType<number, number | undefined, number>;
type NullableMoney = ColumnType<number | null, number | null | undefined, number | null>;
/** bigint on Postgres, which pg returns as text. */
type NullableCount = ColumnType<number | string | null, number | null | undefined, number | null>;
type Count = ColumnType<number | string, number | undefined, number>;
type NullableText = ColumnType<string | null, string | null | undefined, string | null>;

export interface KeysTable {
  /** SHA-256 hex of the key; the key itself is never stored. */
  token: string;
  /** `sk-...` and the key's last four characters, as LiteLLM shows a key. */
  key_name: NullableText;
  key_alias: NullableText;
  models: Json;
  aliases: Json;
  metadata: Json;
  max_budget: NullableMoney;
  soft_budget: NullableMoney;
  spend: Money;
  budget_duration: NullableText;
  budget_reset_at: NullableTimestamp;
  rpm_limit: NullableCount;
  tpm_limit: NullableCount;
  max_parallel_requests: NullableCount;
  expires: NullableTimestamp;
  blocked: Flag;
  team_id: NullableText;
  /** The hash a regenerated key had, still accepted until `previous_token_expires` (a grace period). */
  previous_token: NullableText;
  previous_token_expires: NullableTimestamp;
  /** LiteLLM's per-request cache controls the key may use (`no-cache`, `no-store`, `ttl`, `namespace`); empty: all. */
  allowed_cache_controls: JsonWithDefault;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TeamsTable {
  team_id: string;
  team_alias: NullableText;
  models: Json;
  metadata: Json;
  max_budget: NullableMoney;
  spend: Money;
  budget_duration: NullableText;
  budget_reset_at: NullableTimestamp;
  rpm_limit: NullableCount;
  tpm_limit: NullableCount;
  max_parallel_requests: NullableCount;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** LiteLLM's LiteLLM_SpendLogs columns, under its names (`startTime`, `endTime` included). */
export interface SpendLogsTable {
  request_id: string;
  call_type: string;
  /** The key's hash (`token`), or '' for the master key. */
  api_key: string;
  spend: Money;
  prompt_tokens: Count;
  completion_tokens: Count;
  total_tokens: Count;
  model: string;
  model_group: NullableText;
  model_id: NullableText;
  api_base: NullableText;
  user: NullableText;
  team_id: NullableText;
  status: string;
  startTime: Timestamp;
  endTime: Timestamp;
  metadata: Json;
}

export interface MigrationsTable {
  version: number;
  name: string;
  applied_at: string;
}

export interface Tables {
  xgate_keys: KeysTable;
  xgate_teams: TeamsTable;
  xgate_spend_logs: SpendLogsTable;
  xgate_migrations: MigrationsTable;
}
