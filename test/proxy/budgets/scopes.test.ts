// A virtual key's budget scopes, from its row and its team's: the key first, named by alias, never by its
// hash; periods and budgets as the rows keep them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { budgetScopes } from "../../../src/proxy/budgets/index.js";
import type { KeyRecord, TeamRecord } from "../../../src/proxy/store/index.js";

const created = new Date("2026-01-01T00:00:00Z");

function keyRecord(over: Partial<KeyRecord> = {}): KeyRecord {
  return {
    token: "9f86d081884c7d65",
    key_name: "sk-...abcd",
    key_alias: "my-app",
    models: [],
    aliases: {},
    allowed_cache_controls: [],
    metadata: {},
    max_budget: 10,
    soft_budget: 8,
    spend: 2.5,
    budget_duration: "30d",
    budget_reset_at: new Date("2026-01-31T00:00:00Z"),
    rpm_limit: null,
    tpm_limit: null,
    max_parallel_requests: null,
    expires: null,
    blocked: false,
    team_id: "team-7",
    previous_token: null,
    previous_token_expires: null,
    created_at: created,
    updated_at: created,
    ...over,
  };
}

const team: TeamRecord = {
  team_id: "team-7",
  team_alias: null,
  models: [],
  metadata: {},
  max_budget: null,
  spend: 40,
  budget_duration: null,
  budget_reset_at: null,
  rpm_limit: null,
  tpm_limit: null,
  max_parallel_requests: null,
  created_at: created,
  updated_at: created,
};

test("a key with a team: the key's scope first, then the team's, as the rows keep them", () => {
  assert.deepEqual(budgetScopes(keyRecord(), team, 123), [
    {
      kind: "key",
      id: "9f86d081884c7d65",
      name: "my-app",
      maxBudget: 10,
      softBudget: 8,
      storedSpend: 2.5,
      readAt: 123,
      periodEndsAt: Date.parse("2026-01-31T00:00:00Z"),
      budgetDuration: "30d",
    },
    {
      kind: "team",
      id: "team-7",
      name: "team-7",
      maxBudget: undefined,
      softBudget: undefined,
      storedSpend: 40,
      readAt: 123,
      periodEndsAt: undefined,
      budgetDuration: undefined,
    },
  ]);
});

test("a key without an alias is named by its key_name (sk-...abcd), never by its hash; without a team, one scope", () => {
  const scopes = budgetScopes(keyRecord({ key_alias: null }), undefined, 0);
  assert.equal(scopes.length, 1);
  assert.equal(scopes[0]?.name, "sk-...abcd");
});
