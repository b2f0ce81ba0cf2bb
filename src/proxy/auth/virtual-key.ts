/**
 * What a found virtual key may do: whether it is usable at all (blocked, expired — judged against the clock
 * at each request, not when the key was read), which models it may call, and which model a name it asks
 * for means (the key's own `aliases`).
 *
 * Model access follows LiteLLM's `_can_object_call_model`: the key's `models` and its team's `models` must
 * both allow the model (an empty list allows all); `*` and `all-proxy-models` allow all; `all-team-models`
 * on a key defers to its team's list; a name with `*` is a pattern (`xinference/*`). A request passes when
 * the name it asks for, or what that name stands for (a key alias, or the model group it resolves to), is
 * allowed. Not supported: model access groups (xgate's config has none) and LiteLLM's matching of a bare
 * model name to a `provider/*` pattern by guessing its provider.
 */
import type { Principal, VirtualKey } from "./principal.js";
import { keyBlocked, keyExpired, modelAccessDenied } from "./errors.js";

const ALL_MODELS = new Set(["*", "all-proxy-models"]);
const ALL_TEAM_MODELS = "all-team-models";

/** Throws the 401 for a key that may not be used at `now` (ms since the epoch): blocked first, then expired. */
export function checkVirtualKey(key: VirtualKey, now: number): void {
  const { record } = key;
  if (record.blocked) throw keyBlocked(record);
  if (record.expires !== null && record.expires.getTime() <= now) throw keyExpired(record, record.expires);
}

/** `*` matches any run of characters, everything else itself. */
function matchesPattern(model: string, pattern: string): boolean {
  const parts = pattern.split("*");
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  if (model.length < first.length + last.length || !model.startsWith(first) || !model.endsWith(last)) return false;
  let at = first.length;
  const end = model.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const found = model.indexOf(parts[i] as string, at);
    if (found === -1 || found + (parts[i] as string).length > end) return false;
    at = found + (parts[i] as string).length;
  }
  return true;
}

/** Whether a `models` list allows one name; `deferToTeam`: `all-team-models` passes (the team's list decides). */
function listAllows(models: readonly string[], model: string, deferToTeam: boolean): boolean {
  if (models.length === 0) return true;
  for (const allowed of models) {
    if (allowed === model || ALL_MODELS.has(allowed)) return true;
    if (deferToTeam && allowed === ALL_TEAM_MODELS) return true;
    if (allowed.includes("*") && matchesPattern(model, allowed)) return true;
  }
  return false;
}

function anyAllowed(models: readonly string[], names: readonly string[], deferToTeam: boolean): boolean {
  return names.some((name) => listAllows(models, name, deferToTeam));
}

/** The model group a virtual key's alias names for `model`, else `model` itself. */
export function resolveKeyAlias(principal: Principal, model: string): string {
  if (principal.kind !== "virtual") return model;
  const { aliases } = principal.key.record;
  return Object.hasOwn(aliases, model) ? (aliases[model] as string) : model;
}

/** The names a request for `model` goes by: itself, its key alias's target, and the group it resolves to. */
function namesOf(key: VirtualKey, model: string, resolvedGroup: string | undefined): string[] {
  const names = [model];
  const aliased = Object.hasOwn(key.record.aliases, model) ? key.record.aliases[model] : undefined;
  if (aliased !== undefined && aliased !== model) names.push(aliased);
  if (resolvedGroup !== undefined && !names.includes(resolvedGroup)) names.push(resolvedGroup);
  return names;
}

function mayUse(key: VirtualKey, names: readonly string[]): boolean {
  return anyAllowed(key.record.models, names, true) && (key.team === undefined || anyAllowed(key.team.models, names, false));
}

/**
 * Throws the 401 (`key_model_access_denied`, or `team_model_access_denied` when its team's list is what
 * refuses) naming the models the key may use when a virtual key may not
 * call `requestedModel`; the master key and an open proxy may call any. `resolvedGroup`: the model group
 * the name resolves to (through a `model_group_alias`, as LiteLLM allows, or a deployment's own model
 * name): a key allowed a group may reach it by any of its names.
 */
export function assertModelAccess(principal: Principal, requestedModel: string, resolvedGroup?: string): void {
  if (principal.kind !== "virtual") return;
  const { key } = principal;
  const names = namesOf(key, requestedModel, resolvedGroup);
  if (!anyAllowed(key.record.models, names, true)) throw modelAccessDenied(key.record, requestedModel, "key", key.record.models);
  if (key.team !== undefined && !anyAllowed(key.team.models, names, false)) {
    throw modelAccessDenied(key.record, requestedModel, { team: key.team.team_alias ?? key.team.team_id }, key.team.models);
  }
}

/** Whether a principal may call a model by this name (as `/model/info` lists them); the master key and an open proxy may call any. */
export function mayCall(principal: Principal | null, model: string): boolean {
  return principal === null || principal.kind !== "virtual" || mayUse(principal.key, [model]);
}

/**
 * The `/v1/models` entries a principal may call: for a virtual key, those its key and team allow, and its
 * aliases (each shown as the entry of the model it stands for, under the alias's name) whose target it may
 * call. The master key and an open proxy see every entry.
 */
export function modelsFor<Entry extends { id: string }>(principal: Principal | null, entries: readonly Entry[]): Entry[] {
  if (principal === null || principal.kind !== "virtual") return [...entries];
  const { key } = principal;
  const visible = entries.filter((entry) => mayUse(key, [entry.id]));
  const listed = new Set(visible.map((entry) => entry.id));
  for (const [alias, target] of Object.entries(key.record.aliases)) {
    const entry = entries.find((candidate) => candidate.id === target);
    if (entry === undefined || listed.has(alias) || !mayUse(key, [alias, target])) continue;
    visible.push({ ...entry, id: alias });
    listed.add(alias);
  }
  return visible;
}
