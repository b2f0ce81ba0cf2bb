/**
 * A virtual key's budget scopes, from its row and its team's as the key cache read them: the key first,
 * then its team, the order in which a refusal names them.
 */
import type { KeyRecord, TeamRecord } from "../store/index.js";
import type { BudgetScope } from "./types.js";

/** `readAt`: when the rows were read (ms), taken before the query was sent. */
export function budgetScopes(key: KeyRecord, team: TeamRecord | undefined, readAt: number): BudgetScope[] {
  const scopes: BudgetScope[] = [
    {
      kind: "key",
      id: key.token,
      name: key.key_alias ?? key.key_name ?? "unnamed",
      maxBudget: key.max_budget ?? undefined,
      softBudget: key.soft_budget ?? undefined,
      storedSpend: key.spend,
      readAt,
      periodEndsAt: key.budget_reset_at?.getTime(),
      budgetDuration: key.budget_duration ?? undefined,
      ...(key.previous_token !== null && { previousId: key.previous_token }),
    },
  ];
  if (team !== undefined) {
    scopes.push({
      kind: "team",
      id: team.team_id,
      name: team.team_alias ?? team.team_id,
      maxBudget: team.max_budget ?? undefined,
      softBudget: undefined,
      storedSpend: team.spend,
      readAt,
      periodEndsAt: team.budget_reset_at?.getTime(),
      budgetDuration: team.budget_duration ?? undefined,
    });
  }
  return scopes;
}
