/**
 * Finding the keys and teams a request names. A key is named by its value (`sk-…`, hashed here) or by its
 * hash, as LiteLLM's routes accept both; a key still in its grace period after a regenerate is found by its
 * old value too. Messages name a key by its hash or its `sk-...abcd` form, never by its value.
 */
import { BadRequestError, NotFoundError } from "../../../errors.js";
import { hashKey, keyName, looksLikeVirtualKey } from "../../keys/tokens.js";
import type { KeyFilter, KeyRecord, Store, TeamRecord } from "../../store/index.js";
import type { AdminContext } from "./context.js";

/** Rows per store read when a route answers all of them. */
const READ_PAGE = 100;

/** The hash a reference names: a key's value is hashed, a hash is taken as it is. */
export function tokenOf(reference: string): string {
  return looksLikeVirtualKey(reference) ? hashKey(reference) : reference;
}

/** How a message may name a key: `sk-...abcd` for a value, the hash itself for a hash. */
export function describeKey(reference: string): string {
  return looksLikeVirtualKey(reference) ? keyName(reference) : reference;
}

export function keyNotFound(reference: string, param = "key"): NotFoundError {
  return new NotFoundError(`No key ${describeKey(reference)}: check the value, or list the keys with GET /key/list.`, { code: "key_not_found", param });
}

/** The key `reference` names; NotFoundError when none does. */
export async function findKey(ctx: AdminContext, reference: string, param = "key"): Promise<KeyRecord> {
  const key = await ctx.store.keys.findByToken(tokenOf(reference));
  if (!key) throw keyNotFound(reference, param);
  return key;
}

export function teamNotFound(teamId: string, param = "team_id"): NotFoundError {
  return new NotFoundError(`No team '${teamId}': check the id, or list the teams with GET /team/list.`, { code: "team_not_found", param });
}

export async function findTeam(ctx: AdminContext, teamId: string): Promise<TeamRecord> {
  const team = await ctx.store.teams.get(teamId);
  if (!team) throw teamNotFound(teamId);
  return team;
}

/** A key's `team_id` must name a team that exists: a key bound to no team's limits is not what was asked. */
export async function requireTeam(ctx: AdminContext, teamId: string | null | undefined): Promise<void> {
  if (teamId === null || teamId === undefined) return;
  if (await ctx.store.teams.get(teamId)) return;
  throw new BadRequestError(`No team '${teamId}': create it first with POST /team/new, or leave team_id out.`, { code: "team_not_found", param: "team_id" });
}

/** Every key matching `filter`, oldest first. */
export async function everyKey(store: Store, filter: KeyFilter): Promise<KeyRecord[]> {
  const keys: KeyRecord[] = [];
  for (let page = 1; ; page++) {
    const { items, total } = await store.keys.list({ page, size: READ_PAGE }, filter);
    keys.push(...items);
    if (items.length < READ_PAGE || keys.length >= total) return keys;
  }
}

/** Every team, oldest first. */
export async function everyTeam(store: Store): Promise<TeamRecord[]> {
  const teams: TeamRecord[] = [];
  for (let page = 1; ; page++) {
    const { items, total } = await store.teams.list({ page, size: READ_PAGE });
    teams.push(...items);
    if (items.length < READ_PAGE || teams.length >= total) return teams;
  }
}
