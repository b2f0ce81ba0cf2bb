/**
 * The parts of LiteLLM's config.yaml the router reads, and the settings it derives from them.
 *
 * The input types are structural and every key is optional, so the config loader's `ProxyConfig` (which
 * keeps LiteLLM's snake_case names) can be passed as it is, without the router depending on the loader.
 */

/** `fallbacks: [{ "group-a": ["group-b", "group-c"] }]`, as LiteLLM writes it. */
export type FallbackList = ReadonlyArray<Readonly<Record<string, readonly string[]>>>;

export interface LitellmParamsInput {
  model: string;
  api_base?: string | null;
  api_key?: string | null;
  rpm?: number | null;
  tpm?: number | null;
  /** Seconds. */
  timeout?: number | null;
  max_retries?: number | null;
  weight?: number | null;
  order?: number | null;
  readonly [other: string]: unknown;
}

export interface ModelEntryInput {
  model_name: string;
  litellm_params: LitellmParamsInput;
  model_info?: { id?: string | null; readonly [other: string]: unknown } | null;
}

export interface RouterSettingsInput {
  routing_strategy?: string | null;
  num_retries?: number | null;
  /** Seconds: the least time to wait before a retry. */
  retry_after?: number | null;
  allowed_fails?: number | null;
  /** Seconds. */
  cooldown_time?: number | null;
  /** Seconds. */
  timeout?: number | null;
  fallbacks?: FallbackList | null;
  default_fallbacks?: readonly string[] | null;
  redis_host?: string | null;
  redis_port?: number | string | null;
  redis_password?: string | null;
  redis_url?: string | null;
}

export interface LitellmSettingsInput {
  num_retries?: number | null;
  /** Seconds. */
  request_timeout?: number | null;
  fallbacks?: FallbackList | null;
  default_fallbacks?: readonly string[] | null;
}

export interface GeneralSettingsInput {
  background_health_checks?: boolean | null;
  /** Seconds. */
  health_check_interval?: number | null;
  /** Seconds. */
  health_check_timeout?: number | null;
}

export interface RouterConfigInput {
  model_list: readonly ModelEntryInput[];
  router_settings?: RouterSettingsInput | null;
  litellm_settings?: LitellmSettingsInput | null;
  general_settings?: GeneralSettingsInput | null;
}

export const ROUTING_STRATEGIES = ["simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing"] as const;
export type RoutingStrategyName = (typeof ROUTING_STRATEGIES)[number];

/** Everything the router needs from the config, with LiteLLM's defaults filled in and times in milliseconds. */
export interface RouterSettings {
  strategy: RoutingStrategyName;
  /** Retries after the first attempt, when the config sets them for every group; else per-deployment `max_retries`, else 2. */
  numRetries: number | undefined;
  retryAfterMinMs: number;
  allowedFails: number;
  cooldownMs: number;
  /** A request's overall timeout, and each attempt's unless its deployment sets its own. */
  requestTimeoutMs: number;
  fallbacks: ReadonlyMap<string, readonly string[]>;
  defaultFallbacks: readonly string[];
  backgroundHealthChecks: boolean;
  healthCheckIntervalMs: number;
  /** The longest wait for one model list or probe of a health pass, and for a `/health` answer. */
  healthCheckTimeoutMs: number;
}

/** LiteLLM's defaults, declared here once; the config schema shows them as its defaults too. */
export const DEFAULT_NUM_RETRIES = 2;
export const DEFAULT_ALLOWED_FAILS = 3;
export const DEFAULT_COOLDOWN_S = 5;
export const DEFAULT_TIMEOUT_S = 600;
/** LiteLLM's default health check interval. */
export const DEFAULT_HEALTH_CHECK_INTERVAL_S = 300;
/** Short enough for a load balancer's or a person's patience, long enough for a one-input embedding. */
export const DEFAULT_HEALTH_CHECK_TIMEOUT_S = 5;

function seconds(value: number | null | undefined): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
}

function count(value: number | null | undefined): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
}

function strategyName(value: string | null | undefined): RoutingStrategyName {
  if (value === null || value === undefined || value === "") return "simple-shuffle";
  const known = ROUTING_STRATEGIES.find((name) => name === value);
  if (known === undefined) {
    throw new Error(
      `router_settings.routing_strategy '${value}' is not supported; use one of ${ROUTING_STRATEGIES.join(", ")}.`,
    );
  }
  return known;
}

function fallbackMap(list: FallbackList | null | undefined): Map<string, readonly string[]> {
  const map = new Map<string, readonly string[]>();
  for (const item of list ?? []) {
    for (const [group, targets] of Object.entries(item)) map.set(group, [...(map.get(group) ?? []), ...targets]);
  }
  return map;
}

/** The router's settings; `router_settings` wins over `litellm_settings` where both name a setting. */
export function routerSettingsFrom(config: RouterConfigInput): RouterSettings {
  const router = config.router_settings ?? {};
  const litellm = config.litellm_settings ?? {};
  const general = config.general_settings ?? {};
  return {
    strategy: strategyName(router.routing_strategy),
    numRetries: count(router.num_retries) ?? count(litellm.num_retries),
    retryAfterMinMs: seconds(router.retry_after) ?? 0,
    allowedFails: count(router.allowed_fails) ?? DEFAULT_ALLOWED_FAILS,
    cooldownMs: seconds(router.cooldown_time) ?? DEFAULT_COOLDOWN_S * 1000,
    requestTimeoutMs: seconds(litellm.request_timeout) ?? seconds(router.timeout) ?? DEFAULT_TIMEOUT_S * 1000,
    fallbacks: router.fallbacks ? fallbackMap(router.fallbacks) : fallbackMap(litellm.fallbacks),
    defaultFallbacks: router.default_fallbacks ?? litellm.default_fallbacks ?? [],
    backgroundHealthChecks: general.background_health_checks === true,
    healthCheckIntervalMs: seconds(general.health_check_interval) ?? DEFAULT_HEALTH_CHECK_INTERVAL_S * 1000,
    healthCheckTimeoutMs: seconds(general.health_check_timeout) ?? DEFAULT_HEALTH_CHECK_TIMEOUT_S * 1000,
  };
}
