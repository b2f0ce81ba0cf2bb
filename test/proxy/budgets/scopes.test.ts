// A virtual key's budget scopes, from its row and its team's: the key first, named by alias, never by its
// hash; periods and budgets as the rows keep them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { budgetScopes } from "../../../src/proxy/budgets/index.js";
import type { KeyRecord } from "../../../src/proxy/store/index.js";
import { keyRecord, teamRecord } from "../../support/records.js";

const created = new Date("2026-01-01T00:00:00Z");

/** A budgeted key of team-7, named by its alias. */
function budgetedKey(fields: Partial<KeyRecord> = {}): KeyRecord {
  return keyRecord({
    token: "9f86d081884c7d65",
    key_alias: "my-app",
    max_budget: 10,
    soft_budget: 8,
    spend: 2.5,
    budget_duration: "30d",
    budget_reset_at: new Date("2026-01-31T00:00:00Z"),
    team_id: "team-7",
    created_at: created,
    updated_at: created,
    ...fields,
  });
}

const team = teamRecord({ team_id: "team-7", spend: 40, created_at: created, updated_at: created });

test("a key with a team: the key's scope first, then the team's, as the rows keep them", () => {
  assert.deepEqual(budgetScopes(budgetedKey(), team, 123), [
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

test("a regenerated key's scope names its previous token, under which requests may still have settled spend", () => {
  const [scope] = budgetScopes(budgetedKey({ previous_token: "2c26b46b68ffc68f" }), undefined, 0);
  assert.equal(scope?.id, "9f86d081884c7d65");
  assert.equal(scope?.previousId, "2c26b46b68ffc68f");
});

test("a key without an alias is named by its key_name (sk-...abcd), never by its hash; without a team, one scope", () => {
  const scopes = budgetScopes(budgetedKey({ key_alias: null }), undefined, 0);
  assert.equal(scopes.length, 1);
  assert.equal(scopes[0]?.name, "sk-...abcd");
});
