/**
 * The store's rows as tests build them: every field at a plain default (what the store gives a field left
 * unset, where it has one), so that a test names only the fields it is about.
 */
import type { KeyRecord, SpendLogRow, TeamRecord } from "../../src/proxy/store/index.js";

/** When the rows were written, unless a test says otherwise. */
export const RECORDED_AT = Date.parse("2025-03-10T12:00:00.000Z");

/** A key's row: no limits, no budget, no team. */
export function keyRecord(fields: Partial<KeyRecord> = {}): KeyRecord {
  return {
    token: "a".repeat(64),
    key_name: "sk-...abcd",
    key_alias: null,
    models: [],
    aliases: {},
    allowed_cache_controls: [],
    metadata: {},
    max_budget: null,
    soft_budget: null,
    spend: 0,
    budget_duration: null,
    budget_reset_at: null,
    rpm_limit: null,
    tpm_limit: null,
    max_parallel_requests: null,
    expires: null,
    blocked: false,
    team_id: null,
    previous_token: null,
    previous_token_expires: null,
    created_at: new Date(RECORDED_AT),
    updated_at: new Date(RECORDED_AT),
    ...fields,
  };
}

/** A team's row: no limits, no budget. */
export function teamRecord(fields: Partial<TeamRecord> = {}): TeamRecord {
  return {
    team_id: "t1",
    team_alias: null,
    models: [],
    metadata: {},
    max_budget: null,
    spend: 0,
    budget_duration: null,
    budget_reset_at: null,
    rpm_limit: null,
    tpm_limit: null,
    max_parallel_requests: null,
    created_at: new Date(RECORDED_AT),
    updated_at: new Date(RECORDED_AT),
    ...fields,
  };
}

/** A spend-log row of an embedding call that started at `at` and took 25 ms. */
export function spendRow(request_id: string, at: number, fields: Partial<SpendLogRow> = {}): SpendLogRow {
  return {
    request_id,
    call_type: "aembedding",
    api_key: "",
    spend: 0.5,
    prompt_tokens: 10,
    completion_tokens: 0,
    total_tokens: 10,
    model: "embed",
    model_group: "embed",
    model_id: "deployment-1",
    api_base: "http://127.0.0.1:9997/v1",
    user: null,
    team_id: null,
    status: "success",
    startTime: new Date(at),
    endTime: new Date(at + 25),
    metadata: {},
    ...fields,
  };
}
