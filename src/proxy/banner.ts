/** The one startup banner: where the proxy listens, what it serves, how it authenticates, where state lives. */
import type { AddressInfo } from "node:net";
import { getProvider, listProviders } from "../providers/index.js";
import type { ModelDeployment, ProxyConfig } from "./config/index.js";
import { redactUrl } from "./config/paths.js";
import { describeCache } from "./cache/settings.js";
import { describeListening, type HostChoice } from "./listen-address.js";
import { resolveSettings, type StoreSettings } from "./settings.js";

export interface BannerFacts {
  /** The socket's address (`server.address()`); undefined for `--check`, which does not listen. */
  address: AddressInfo | string | null | undefined;
  /** Why the proxy listens where it does. */
  host: HostChoice;
  workers: number;
  version: string;
}

/** Where the router's state (cooldowns, usage) lives, for the banner and /health/readiness. */
export function stateDescription(config: ProxyConfig, workers = 1): string {
  const router = config.router_settings;
  if (router.redis_url) return `redis (${new URL(router.redis_url).host}), shared by all instances`;
  if (router.redis_host) return `redis (${router.redis_host}:${router.redis_port ?? 6379}), shared by all instances`;
  // Each worker routes on its own: a cooldown one worker sets, the others do not see.
  if (workers > 1) return `in-process, per worker (${workers} workers; set router_settings.redis_host to share)`;
  return "in-process (one instance)";
}

/** Where keys, teams and spend live; never a password. */
export function describeStore(store: StoreSettings | undefined): string {
  if (store === undefined) return "none (virtual keys and spend tracking need general_settings.master_key)";
  const { database } = store;
  const where = database.kind === "sqlite" ? `SQLite at ${database.path}` : `Postgres at ${redactUrl(database.url)}`;
  return `${where}; spend journal in ${store.dataDir}`;
}

function authDescription(config: ProxyConfig, host: HostChoice): string {
  if (config.general_settings.master_key ?? process.env.XGATE_MASTER_KEY) return "master key required";
  if (host === "loopback-without-key") {
    return (
      "OPEN to this machine only — no master_key is set, so xgate listens on 127.0.0.1; " +
      "set general_settings.master_key (or XGATE_MASTER_KEY) to listen on every interface, or pass --host"
    );
  }
  return "OPEN — no master_key is set, anyone who can reach this port can use it (set general_settings.master_key)";
}

export function banner(config: ProxyConfig, facts: BannerFacts): string {
  const groups = new Map<string, number>();
  for (const entry of config.model_list) groups.set(entry.model_name, (groups.get(entry.model_name) ?? 0) + 1);
  const models = [...groups].map(([name, n]) => (n > 1 ? `${name} (${n} deployments)` : name)).join(", ");
  const listening = facts.address === undefined ? "" : ` ${describeListening(facts.address)}`;
  const lines = [
    `xgate ${facts.version}${listening}${facts.workers > 1 ? ` (${facts.workers} workers)` : ""}`,
    `  models: ${models}`,
    `  auth:   ${authDescription(config, facts.host)}`,
    `  state:  ${stateDescription(config, facts.workers)}`,
    `  cache:  ${describeCache(resolveSettings(config, process.env).cache, facts.workers)}`,
    `  store:  ${describeStore(resolveSettings(config, process.env).store)}`,
  ];
  return lines.join("\n");
}

/**
 * The server a deployment's requests go to, and why: its api_base, else the provider's variable, else the
 * provider's default. A typo such as `api_bse` shows here as "(default …)". Never shows a password.
 */
export function apiBaseDescription(params: ModelDeployment["litellm_params"], env: NodeJS.ProcessEnv): string {
  if (params.api_base) return redactUrl(params.api_base);
  const name = params.model.slice(0, Math.max(params.model.indexOf("/"), 0));
  if (!listProviders().includes(name)) return "(the provider's default)";
  const { apiBaseEnv, defaultApiBase } = getProvider(name).connection;
  const fromEnv = apiBaseEnv === undefined ? undefined : env[apiBaseEnv];
  if (fromEnv) return `${redactUrl(fromEnv)} (from ${apiBaseEnv}; no api_base is set)`;
  if (defaultApiBase === undefined) return "(none: api_base is required)";
  return `${defaultApiBase} (the default: ${apiBaseEnv === undefined ? "no api_base" : `neither api_base nor ${apiBaseEnv}`} is set)`;
}

/** What `--check` lists for each deployment: its group, its model and the server it calls. */
export function deploymentLines(config: ProxyConfig, env: NodeJS.ProcessEnv): string[] {
  return [
    "  deployments:",
    ...config.model_list.map((d) => `    ${d.model_name}: ${d.litellm_params.model} at ${apiBaseDescription(d.litellm_params, env)}`),
  ];
}
