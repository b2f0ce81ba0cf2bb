/**
 * `/global/spend/report` in LiteLLM's shapes, from spend summed by day, team, key and model:
 * - `team`: per day, `{group_by_day, teams: [{team_name, total_spend, metadata: [{model, api_key, spend,
 *   total_tokens}]}]}`; a row without a team (or whose team is gone) is 'Unassigned Team', as in LiteLLM;
 * - `api_key`: not by day (LiteLLM's shape): `{api_key, total_cost, total_input_tokens, total_output_tokens,
 *   model_details: [{model, total_cost, total_input_tokens, total_output_tokens}]}`, most spent first;
 * - `model` (xgate's): per day like `team`, `{group_by_day, models: [{model, total_spend, metadata:
 *   [{api_key, team_id, spend, total_tokens}]}]}`.
 */

export const SPEND_REPORT_GROUPINGS = ["team", "api_key", "model"] as const;
export type SpendReportGrouping = (typeof SPEND_REPORT_GROUPINGS)[number];

/** Spend of one key on one model for one team on one UTC day. */
export interface ReportRow {
  day: string;
  team_id: string | null;
  team_alias: string | null;
  api_key: string;
  model: string;
  spend: number;
  total_tokens: number;
  prompt_tokens: number;
  completion_tokens: number;
}

export interface TeamDay {
  group_by_day: string;
  teams: Array<{ team_name: string; total_spend: number; metadata: Array<{ model: string; api_key: string; spend: number; total_tokens: number }> }>;
}

export interface ModelDay {
  group_by_day: string;
  models: Array<{ model: string; total_spend: number; metadata: Array<{ api_key: string; team_id: string | null; spend: number; total_tokens: number }> }>;
}

export interface KeySpend {
  api_key: string;
  total_cost: number;
  total_input_tokens: number;
  total_output_tokens: number;
  model_details: Array<{ model: string; total_cost: number; total_input_tokens: number; total_output_tokens: number }>;
}

export type SpendReport = TeamDay[] | KeySpend[] | ModelDay[];

const UNASSIGNED_TEAM = "Unassigned Team";

/** Groups `items` by `keyOf`, keeping first-seen order. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

const total = (rows: readonly ReportRow[], field: "spend" | "prompt_tokens" | "completion_tokens"): number => rows.reduce((sum, row) => sum + row[field], 0);

/** `rows` ordered by day. */
export function spendReport(grouping: SpendReportGrouping, rows: readonly ReportRow[]): SpendReport {
  if (grouping === "api_key") return byKey(rows);
  return grouping === "team" ? byTeam(rows) : byModel(rows);
}

function byTeam(rows: readonly ReportRow[]): TeamDay[] {
  return [...groupBy(rows, (row) => row.day)].map(([group_by_day, dayRows]) => ({
    group_by_day,
    teams: [...groupBy(dayRows, (row) => row.team_alias ?? UNASSIGNED_TEAM)].map(([team_name, teamRows]) => ({
      team_name,
      total_spend: total(teamRows, "spend"),
      metadata: teamRows.map((row) => ({ model: row.model, api_key: row.api_key, spend: row.spend, total_tokens: row.total_tokens })),
    })),
  }));
}

function byModel(rows: readonly ReportRow[]): ModelDay[] {
  return [...groupBy(rows, (row) => row.day)].map(([group_by_day, dayRows]) => ({
    group_by_day,
    models: [...groupBy(dayRows, (row) => row.model)].map(([model, modelRows]) => ({
      model,
      total_spend: total(modelRows, "spend"),
      metadata: modelRows.map((row) => ({ api_key: row.api_key, team_id: row.team_id, spend: row.spend, total_tokens: row.total_tokens })),
    })),
  }));
}

function byKey(rows: readonly ReportRow[]): KeySpend[] {
  return [...groupBy(rows, (row) => row.api_key)]
    .map(([api_key, keyRows]) => ({
      api_key,
      total_cost: total(keyRows, "spend"),
      total_input_tokens: total(keyRows, "prompt_tokens"),
      total_output_tokens: total(keyRows, "completion_tokens"),
      model_details: [...groupBy(keyRows, (row) => row.model)].map(([model, modelRows]) => ({
        model,
        total_cost: total(modelRows, "spend"),
        total_input_tokens: total(modelRows, "prompt_tokens"),
        total_output_tokens: total(modelRows, "completion_tokens"),
      })),
    }))
    .sort((a, b) => b.total_cost - a.total_cost);
}
