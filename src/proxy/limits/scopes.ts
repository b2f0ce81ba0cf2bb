/**
 * A virtual key's limit scopes, from its row and its team's as the key cache read them: those that have a
 * limit, the key first, then its team. A scope without limits is left out: it would cost a count for nothing.
 */
import type { KeyRecord, TeamRecord } from "../store/index.js";
import { isLimited, type Scope } from "./types.js";

export function limitScopes(key: KeyRecord, team: TeamRecord | undefined): Scope[] {
  const scopes: Scope[] = [
    {
      kind: "key",
      id: key.token,
      name: key.key_alias ?? key.key_name ?? "unnamed",
      limits: { rpm: key.rpm_limit ?? undefined, tpm: key.tpm_limit ?? undefined, maxParallel: key.max_parallel_requests ?? undefined },
    },
  ];
  if (team !== undefined) {
    scopes.push({
      kind: "team",
      id: team.team_id,
      name: team.team_alias ?? team.team_id,
      limits: { rpm: team.rpm_limit ?? undefined, tpm: team.tpm_limit ?? undefined, maxParallel: team.max_parallel_requests ?? undefined },
    });
  }
  return scopes.filter(isLimited);
}
