/**
 * The loaded config resolved once into what the running proxy reads: times in milliseconds, sizes in bytes,
 * the master key from the config or the environment, deployments with their connection settled (their own
 * api_base and api_key, else the provider's environment variables, else its default) and their provider
 * parameters split from the gateway's. Nothing else reads the raw config or the environment per request.
 */
import { getProvider, parseModelString } from "../providers/index.js";
import { type Environment, resolveTarget } from "../upstream/target.js";
import type { ProxyConfig } from "./config/index.js";
import type { UploadLimits } from "./files/uploads.js";
import { isSecretKey } from "./config/deployment-keys.js";
import { buildDeployments, type ConnectionOf, type Deployment } from "./router/deployment.js";
import { routerSettingsFrom, type RouterSettings } from "./router/config.js";
import { type RedisConnection, redisConnectionFrom } from "./router/create-state.js";

export interface ServerSettings {
  bodyLimitBytes: number;
  /** Time a client has to send its request headers. */
  headersTimeoutMs: number;
  /** Time a client has to send its whole request, body included. */
  requestTimeoutMs: number;
  /** How long in-flight requests may take to finish on a graceful stop. */
  gracefulShutdownMs: number;
}

/** A model name clients may use besides the groups' own. */
export interface ModelAlias {
  group: string;
  /** Served, but not listed by `/v1/models`. */
  hidden: boolean;
}

/** A deployment as `/model/info` shows it: everything but secrets. */
export interface ModelInfoEntry {
  model_name: string;
  litellm_params: Record<string, unknown>;
  model_info: Record<string, unknown>;
}

export interface Settings {
  /** Clients must send it; undefined: the proxy is open. */
  masterKey: string | undefined;
  server: ServerSettings;
  uploads: UploadLimits;
  /** How long a hosted image stays fetchable. */
  imageUrlTtlSeconds: number;
  /** Base of hosted image URLs; without it, the address the client connected to. */
  publicBaseUrl: string | undefined;
  /** `general_settings.trust_proxy`: hosted image URLs follow X-Forwarded-Host / X-Forwarded-Proto. */
  trustProxy: boolean;
  /** `litellm_settings.drop_params`. */
  dropParams: boolean;
  /** Idle time after which a streamed answer gets a keep-alive comment; 0 for none. */
  streamKeepAliveMs: number;
  allowClientCredentials: boolean;
  router: RouterSettings;
  deployments: readonly Deployment[];
  /** `router_settings.model_group_alias`. */
  aliases: ReadonlyMap<string, ModelAlias>;
  /** Where router state is shared; undefined: in this process. */
  redis: RedisConnection | undefined;
  modelInfo: readonly ModelInfoEntry[];
}

const MB = 1024 * 1024;
/** Files an image edit may carry: the images and a mask. */
const MAX_UPLOAD_FILES = 16;

function nonEmpty(value: string | null | undefined): string | undefined {
  return value === undefined || value === null || value === "" ? undefined : value;
}

/**
 * A deployment's connection: its own api_base and api_key, else its provider's environment variables, else
 * the default — the SDK's own rule (resolveTarget), applied once here rather than per request.
 */
function connectionFrom(env: Environment): ConnectionOf {
  return (params) => {
    const { connection } = getProvider(parseModelString(params.model).provider);
    const target = resolveTarget(connection, { api_base: nonEmpty(params.api_base), api_key: nonEmpty(params.api_key) }, env);
    return { apiBase: target.apiBase, apiKey: target.apiKey };
  };
}

function modelInfoOf(config: ProxyConfig): ModelInfoEntry[] {
  return config.model_list.map((entry) => ({
    model_name: entry.model_name,
    litellm_params: Object.fromEntries(Object.entries(entry.litellm_params).filter(([key]) => !isSecretKey(key))),
    model_info: { ...entry.model_info },
  }));
}

function aliasesOf(config: ProxyConfig): Map<string, ModelAlias> {
  const aliases = new Map<string, ModelAlias>();
  for (const [name, target] of Object.entries(config.router_settings.model_group_alias)) {
    aliases.set(name, typeof target === "string" ? { group: target, hidden: false } : { group: target.model, hidden: target.hidden });
  }
  return aliases;
}

/**
 * @example
 * const settings = resolveSettings((await loadConfig("config.yaml")).config, process.env);
 */
export function resolveSettings(config: ProxyConfig, env: Environment): Settings {
  const general = config.general_settings;
  const maxBytes = Math.floor(general.max_request_size_mb * MB);
  const router = routerSettingsFrom(config);
  return {
    masterKey: nonEmpty(general.master_key) ?? nonEmpty(env.XGATE_MASTER_KEY),
    server: {
      bodyLimitBytes: maxBytes,
      headersTimeoutMs: general.request_header_timeout_seconds * 1000,
      requestTimeoutMs: general.request_body_timeout_seconds * 1000,
      gracefulShutdownMs: general.graceful_shutdown_seconds * 1000,
    },
    uploads: { maxFileBytes: maxBytes, maxTotalBytes: maxBytes, maxFiles: MAX_UPLOAD_FILES },
    imageUrlTtlSeconds: general.image_url_ttl_seconds,
    publicBaseUrl: general.public_base_url,
    trustProxy: general.trust_proxy,
    dropParams: config.litellm_settings.drop_params,
    streamKeepAliveMs: general.stream_keepalive_seconds * 1000,
    allowClientCredentials: general.allow_client_side_credentials,
    router,
    deployments: buildDeployments(config.model_list, router, connectionFrom(env)),
    aliases: aliasesOf(config),
    redis: redisConnectionFrom(config.router_settings),
    modelInfo: modelInfoOf(config),
  };
}
