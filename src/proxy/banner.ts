/** The one startup banner: where the proxy listens, what it serves, how it authenticates, where state lives. */
import type { ProxyConfig } from "./config/index.js";

export interface BannerFacts {
  url: string | undefined;
  workers: number;
  version: string;
}

export function stateDescription(config: ProxyConfig): string {
  const router = config.router_settings;
  if (router.redis_url) return `redis (${new URL(router.redis_url).host}), shared by all instances`;
  if (router.redis_host) return `redis (${router.redis_host}:${router.redis_port ?? 6379}), shared by all instances`;
  return "in-process (one instance)";
}

export function banner(config: ProxyConfig, facts: BannerFacts): string {
  const groups = new Map<string, number>();
  for (const entry of config.model_list) groups.set(entry.model_name, (groups.get(entry.model_name) ?? 0) + 1);
  const models = [...groups].map(([name, n]) => (n > 1 ? `${name} (${n} deployments)` : name)).join(", ");
  const masterKey = config.general_settings.master_key ?? process.env.XGATE_MASTER_KEY;
  const auth = masterKey
    ? "master key required"
    : "OPEN — no master_key is set, anyone who can reach this port can use it (set general_settings.master_key)";
  const lines = [
    `xgate ${facts.version}${facts.url ? ` listening on ${facts.url}` : ""}${facts.workers > 1 ? ` (${facts.workers} workers)` : ""}`,
    `  models: ${models}`,
    `  auth:   ${auth}`,
    `  state:  ${stateDescription(config)}`,
    `  store:  none (spend tracking is not enabled yet)`,
  ];
  return lines.join("\n");
}
