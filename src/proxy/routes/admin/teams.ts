/**
 * LiteLLM's `/team/*` routes: new, update, delete, info and list. A team's keys are bound by its models,
 * budget and limits as well as their own; deleting a team deletes its keys (the store's rule, LiteLLM's too).
 */
import { randomUUID } from "node:crypto";
import { NotFoundError } from "../../../errors.js";
import { type AdminRoute, readBody, readQuery, refusingConflicts } from "./context.js";
import { everyKey, everyTeam, findTeam, teamNotFound } from "./lookups.js";
import { deleteTeamsBody, newTeamBody, noQuery, teamInfoQuery, updateTeamBody } from "./validation.js";

/** How many missing teams a message names. */
const MAX_NAMED = 10;

const create: AdminRoute = {
  method: "POST",
  url: "/team/new",
  access: "master",
  async handle(ctx, request, reply) {
    const { team_id: chosen, ...settings } = readBody(request, reply, newTeamBody);
    const team = await refusingConflicts(() => ctx.store.teams.create({ ...settings, team_id: chosen ?? randomUUID() }));
    ctx.notifier.teamChanged(team.team_id);
    return team;
  },
};

const update: AdminRoute = {
  method: "POST",
  url: "/team/update",
  access: "master",
  async handle(ctx, request, reply) {
    const { team_id: teamId, ...changes } = readBody(request, reply, updateTeamBody);
    const team = await ctx.store.teams.update(teamId, changes);
    if (!team) throw teamNotFound(teamId);
    ctx.notifier.teamChanged(team.team_id);
    return { team_id: team.team_id, data: team };
  },
};

const remove: AdminRoute = {
  method: "POST",
  url: "/team/delete",
  access: "master",
  async handle(ctx, request, reply) {
    const { team_ids: asked } = readBody(request, reply, deleteTeamsBody);
    const teamIds = [...new Set(asked)];
    const found = await Promise.all(teamIds.map((teamId) => ctx.store.teams.get(teamId)));
    // All or nothing, as for keys: a list with a mistake in it deletes nothing.
    const missing = teamIds.filter((_, i) => found[i] === undefined);
    if (missing.length > 0) {
      const listed = missing.length > MAX_NAMED ? [...missing.slice(0, MAX_NAMED), `and ${missing.length - MAX_NAMED} more`] : missing;
      throw new NotFoundError(`No team ${listed.map((id) => `'${id}'`).join(", ")}: nothing was deleted. Check the list against GET /team/list.`, {
        code: "team_not_found",
        param: "team_ids",
      });
    }
    const deleted = await ctx.store.teams.delete(teamIds);
    for (const teamId of deleted.team_ids) ctx.notifier.teamChanged(teamId);
    if (deleted.tokens.length > 0) ctx.notifier.keysChanged(deleted.tokens);
    // LiteLLM answers `deleted_teams`; `deleted_keys` (their hashes) is xgate's, since the team's keys go too.
    return { deleted_teams: deleted.team_ids, deleted_keys: deleted.tokens };
  },
};

const info: AdminRoute = {
  method: "GET",
  url: "/team/info",
  access: "master",
  async handle(ctx, request) {
    const { team_id: teamId } = readQuery(request, teamInfoQuery);
    const team = await findTeam(ctx, teamId);
    return { team_id: team.team_id, team_info: team, keys: await everyKey(ctx.store, { team_id: team.team_id }) };
  },
};

const list: AdminRoute = {
  method: "GET",
  url: "/team/list",
  access: "master",
  async handle(ctx, request) {
    readQuery(request, noQuery);
    // LiteLLM's shape: every team, each with its keys.
    const teams = await everyTeam(ctx.store);
    return Promise.all(teams.map(async (team) => ({ ...team, keys: await everyKey(ctx.store, { team_id: team.team_id }) })));
  },
};

export const TEAM_ROUTES: readonly AdminRoute[] = [create, update, remove, info, list];
