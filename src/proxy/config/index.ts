/** The proxy's config: LiteLLM's config.yaml, loaded, validated and typed. */
export { ConfigError, type ConfigIssue } from "./errors.js";
export { loadConfig, parseConfig, type LoadedConfig, type LoadOptions } from "./load.js";
export { DEFAULT_KNOWN_PROVIDERS } from "./semantic.js";
export {
  CACHE_TYPES,
  isPostgresUrl,
  MODEL_MODES,
  POSTGRES_URL_HELP,
  ROUTING_STRATEGIES,
  SERVED_MODES,
  XINFERENCE_MODEL_TYPES,
  type AutoLaunch,
  type CacheParams,
  type Fallbacks,
  type GeneralSettings,
  type LitellmParams,
  type LitellmSettings,
  type ModelDeployment,
  type ModelInfo,
  type ProxyConfig,
  type RouterSettings,
  type RoutingStrategy,
} from "./schema.js";
