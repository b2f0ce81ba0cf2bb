/**
 * Small rewrites of the parsed data on its way to and from the schema, each one a LiteLLM convention that
 * the rest of the proxy should not have to know about.
 */
import { isPlainObject, setOwn } from "./env.js";
import { OTHER_PROVIDER_PARAMS } from "./deployment-keys.js";
import { valueAt } from "./issues.js";
import type { ProxyConfig, RoutingStrategy } from "./schema.js";
import type { KeyFinding } from "./unknown-keys.js";

/** LiteLLM's names for strategies xgate implements under another name. */
const STRATEGY_ALIASES: Readonly<Record<string, RoutingStrategy>> = {
  "usage-based-routing-v2": "usage-based-routing",
};

/** `key:` with nothing after it means "not set", as in LiteLLM; list items are kept so they still fail. */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) if (child !== null) setOwn(out, key, withoutNulls(child));
  return out;
}

/** Renames a LiteLLM strategy xgate serves under another name; returns what to tell the user, if anything. */
export function normalizeRoutingStrategy(input: Record<string, unknown>): string | undefined {
  const router = input.router_settings;
  if (!isPlainObject(router) || typeof router.routing_strategy !== "string") return undefined;
  const alias = STRATEGY_ALIASES[router.routing_strategy];
  if (alias === undefined) return undefined;
  const note = `'${router.routing_strategy}' is served by xgate's ${alias}`;
  router.routing_strategy = alias;
  return note;
}

/**
 * Keys the loader warned are ignored (LiteLLM settings xgate lacks, typos of settings) and keys only other
 * providers read must not reach a provider as extras, nor /model/info: they are removed from the open maps
 * that keep unknown keys (the closed ones never had them).
 */
export function dropIgnoredKeys(config: ProxyConfig, findings: readonly KeyFinding[]): void {
  for (const deployment of config.model_list) {
    for (const key of Object.keys(deployment.litellm_params)) if (OTHER_PROVIDER_PARAMS.has(key)) delete deployment.litellm_params[key];
  }
  for (const { path, kind } of findings) {
    if (kind === "extra") continue;
    const parent = valueAt(config, path.slice(0, -1));
    if (isPlainObject(parent)) delete parent[String(path.at(-1))];
  }
}

const SHARED_ROUTER_KEYS = ["num_retries", "fallbacks", "default_fallbacks", "allowed_fails", "cooldown_time"] as const;

/**
 * LiteLLM accepts these in litellm_settings too; router_settings wins. Copying them lets the router read
 * one place. Presence is judged on the input, since router_settings defaults are already filled.
 */
export function adoptLitellmRouterSettings(config: ProxyConfig, input: Record<string, unknown>): void {
  const givenRouter = isPlainObject(input.router_settings) ? input.router_settings : {};
  const router = config.router_settings as Record<string, unknown>;
  const litellm = config.litellm_settings as Record<string, unknown>;
  for (const key of SHARED_ROUTER_KEYS) {
    if (!(key in givenRouter) && litellm[key] !== undefined) router[key] = litellm[key];
  }
}
