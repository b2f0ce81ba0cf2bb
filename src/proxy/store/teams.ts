/**
 * Teams: a key inside a team is bound by both its own and the team's models, budget and limits. Deleting a
 * team deletes its keys with it, as LiteLLM does, so that no key outlives the limits it was given under.
 */
import type { Kysely, Selectable } from "kysely";
import { addSpend, firstResetAt, periodWasOver } from "./budget.js";
import { fromJson, iso, isoOrNull, toDate, toDateOrNull, toNumber, toNumberOrNull } from "./codec.js";
import { type Database, writeTransaction } from "./database.js";
import { StoreConflictError } from "./errors.js";
import type { NewTeam, Page, PageRequest, TeamChanges, TeamRecord } from "./records.js";
import type { Tables, TeamsTable } from "./tables.js";

function toTeam(row: Selectable<TeamsTable>): TeamRecord {
  return {
    team_id: row.team_id,
    team_alias: row.team_alias,
    models: fromJson<string[]>(row.models),
    metadata: fromJson<Record<string, unknown>>(row.metadata),
    max_budget: row.max_budget,
    spend: toNumber(row.spend),
    budget_duration: row.budget_duration,
    budget_reset_at: toDateOrNull(row.budget_reset_at),
    rpm_limit: toNumberOrNull(row.rpm_limit),
    tpm_limit: toNumberOrNull(row.tpm_limit),
    max_parallel_requests: toNumberOrNull(row.max_parallel_requests),
    created_at: toDate(row.created_at),
    updated_at: toDate(row.updated_at),
  };
}

function columnsOf(changes: TeamChanges) {
  return {
    ...(changes.team_alias !== undefined && { team_alias: changes.team_alias }),
    ...(changes.models !== undefined && { models: JSON.stringify(changes.models) }),
    ...(changes.metadata !== undefined && { metadata: JSON.stringify(changes.metadata) }),
    ...(changes.max_budget !== undefined && { max_budget: changes.max_budget }),
    ...(changes.spend !== undefined && { spend: changes.spend }),
    ...(changes.budget_duration !== undefined && { budget_duration: changes.budget_duration }),
    ...(changes.rpm_limit !== undefined && { rpm_limit: changes.rpm_limit }),
    ...(changes.tpm_limit !== undefined && { tpm_limit: changes.tpm_limit }),
    ...(changes.max_parallel_requests !== undefined && { max_parallel_requests: changes.max_parallel_requests }),
  };
}

/** Adds spend to the team, resetting a period that is over; an unknown team: nothing. */
export async function addTeamSpend(tx: Kysely<Tables>, teamId: string, amount: number, now: Date): Promise<void> {
  const row = await tx.selectFrom("xgate_teams").select(["team_id", "budget_duration", "budget_reset_at"]).where("team_id", "=", teamId).executeTakeFirst();
  if (row) await addSpend(tx, "xgate_teams", { id: row.team_id, ...row }, amount, now);
}

export class TeamRepository {
  constructor(
    private readonly database: Database,
    private readonly now: () => Date,
  ) {}

  /** Throws StoreConflictError when the team_id is taken. */
  async create(team: NewTeam): Promise<TeamRecord> {
    const now = this.now();
    const row = await this.database.db
      .insertInto("xgate_teams")
      .values({
        team_id: team.team_id,
        models: "[]",
        metadata: "{}",
        ...columnsOf(team),
        budget_reset_at: isoOrNull(firstResetAt(team.budget_duration, now)),
        created_at: iso(now),
        updated_at: iso(now),
      })
      .onConflict((oc) => oc.column("team_id").doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new StoreConflictError("team_id");
    return toTeam(row);
  }

  /** The team, with its budget reset if the period is over. */
  async get(teamId: string): Promise<TeamRecord | undefined> {
    const row = await this.database.db.selectFrom("xgate_teams").selectAll().where("team_id", "=", teamId).executeTakeFirst();
    return row && this.withCurrentBudget(toTeam(row), this.now());
  }

  async update(teamId: string, changes: TeamChanges): Promise<TeamRecord | undefined> {
    const now = this.now();
    return writeTransaction(this.database, async (tx) => {
      const current = await tx.selectFrom("xgate_teams").select("budget_duration").where("team_id", "=", teamId).executeTakeFirst();
      if (!current) return undefined;
      const period =
        changes.budget_duration !== undefined && changes.budget_duration !== current.budget_duration
          ? { budget_reset_at: isoOrNull(firstResetAt(changes.budget_duration, now)) }
          : {};
      const row = await tx
        .updateTable("xgate_teams")
        .set({ ...columnsOf(changes), ...period, updated_at: iso(now) })
        .where("team_id", "=", teamId)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toTeam(row);
    });
  }

  /** Deletes the teams and their keys; answers what was deleted, so that caches can forget the keys. */
  async delete(teamIds: readonly string[]): Promise<{ team_ids: string[]; tokens: string[] }> {
    if (teamIds.length === 0) return { team_ids: [], tokens: [] };
    return writeTransaction(this.database, async (tx) => {
      const keys = await tx.deleteFrom("xgate_keys").where("team_id", "in", teamIds).returning("token").execute();
      const teams = await tx.deleteFrom("xgate_teams").where("team_id", "in", teamIds).returning("team_id").execute();
      return { team_ids: teams.map((t) => t.team_id), tokens: keys.map((k) => k.token) };
    });
  }

  /** Oldest first. */
  async list(page: PageRequest): Promise<Page<TeamRecord>> {
    const db = this.database.db;
    const [count, rows] = await Promise.all([
      db
        .selectFrom("xgate_teams")
        .select((eb) => eb.fn.countAll().as("total"))
        .executeTakeFirstOrThrow(),
      db
        .selectFrom("xgate_teams")
        .selectAll()
        .orderBy("created_at")
        .orderBy("team_id")
        .limit(page.size)
        .offset((page.page - 1) * page.size)
        .execute(),
    ]);
    const now = this.now();
    const items = await Promise.all(rows.map((row) => this.withCurrentBudget(toTeam(row), now)));
    return { items, total: toNumber(count.total) };
  }

  async addSpend(teamId: string, amount: number): Promise<void> {
    const now = this.now();
    await writeTransaction(this.database, (tx) => addTeamSpend(tx, teamId, amount, now));
  }

  private async withCurrentBudget(team: TeamRecord, now: Date): Promise<TeamRecord> {
    if (!(await periodWasOver(this.database.db, "xgate_teams", { id: team.team_id, ...team }, now))) return team;
    const row = await this.database.db.selectFrom("xgate_teams").selectAll().where("team_id", "=", team.team_id).executeTakeFirst();
    return row ? toTeam(row) : team;
  }
}
