/**
 * What the repositories take and answer. Field names are LiteLLM's (snake_case, `startTime`), the same in the
 * tables and in the admin API's bodies, so a field has one name from the wire to the database.
 */

export interface KeyRecord {
  /** SHA-256 hex of the key. */
  token: string;
  key_name: string | null;
  key_alias: string | null;
  /** Model names the key may use; empty: all. */
  models: string[];
  /** Per-key model aliases: name asked → model group. */
  aliases: Record<string, string>;
  metadata: Record<string, unknown>;
  max_budget: number | null;
  soft_budget: number | null;
  spend: number;
  budget_duration: string | null;
  /** When `spend` next goes back to 0; set from `budget_duration`. */
  budget_reset_at: Date | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
  max_parallel_requests: number | null;
  expires: Date | null;
  blocked: boolean;
  team_id: string | null;
  /** The token before the last regenerate, accepted until `previous_token_expires`. */
  previous_token: string | null;
  previous_token_expires: Date | null;
  /** The per-request cache controls (`no-cache`, `no-store`, `ttl`, `namespace`) the key may use; empty: all. */
  allowed_cache_controls: string[];
  created_at: Date;
  updated_at: Date;
}

/** What a caller may set on a key; the rest (spend, timestamps, budget_reset_at) the store keeps. */
export type KeyFields = Pick<
  KeyRecord,
  | "key_name"
  | "key_alias"
  | "models"
  | "aliases"
  | "metadata"
  | "max_budget"
  | "soft_budget"
  | "budget_duration"
  | "rpm_limit"
  | "tpm_limit"
  | "max_parallel_requests"
  | "expires"
  | "blocked"
  | "team_id"
  | "allowed_cache_controls"
>;

export type NewKey = { token: string } & Partial<KeyFields>;

/** `spend` may be set too, as LiteLLM's /key/update allows. */
export type KeyChanges = Partial<KeyFields & { spend: number }>;

export interface TeamRecord {
  team_id: string;
  team_alias: string | null;
  models: string[];
  metadata: Record<string, unknown>;
  max_budget: number | null;
  spend: number;
  budget_duration: string | null;
  budget_reset_at: Date | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
  max_parallel_requests: number | null;
  created_at: Date;
  updated_at: Date;
}

export type TeamFields = Pick<TeamRecord, "team_alias" | "models" | "metadata" | "max_budget" | "budget_duration" | "rpm_limit" | "tpm_limit" | "max_parallel_requests">;

export type NewTeam = { team_id: string } & Partial<TeamFields>;

export type TeamChanges = Partial<TeamFields & { spend: number }>;

/** One request's row: never a prompt, an input or a key. */
export interface SpendLogRow {
  /** The response's `x-request-id`: a row is written once per id. */
  request_id: string;
  call_type: string;
  /** The key's hash, '' for the master key. */
  api_key: string;
  spend: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** As the client asked. */
  model: string;
  model_group: string | null;
  /** The deployment that answered. */
  model_id: string | null;
  api_base: string | null;
  /** The client's `user`. */
  user: string | null;
  team_id: string | null;
  status: "success" | "failure";
  startTime: Date;
  endTime: Date;
  metadata: Record<string, unknown>;
}

export interface PageRequest {
  /** From 1. */
  page: number;
  size: number;
}

export interface Page<T> {
  items: T[];
  /** Rows matching, over all pages. */
  total: number;
}

/** A time range: `start` included, `end` not. */
export interface TimeRange {
  start?: Date;
  end?: Date;
}
