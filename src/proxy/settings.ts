/**
 * The loaded config resolved once into what the running proxy reads: times in milliseconds, sizes in bytes,
 * the master key from the config or the environment, deployments with their connection settled (their own
 * api_base and api_key, else the provider's environment variables, else its default) and their provider
 * parameters split from the gateway's. Nothing else reads the raw config or the environment per request.
 */
import { dirname, resolve } from "node:path";
import { getProvider, parseModelString } from "../providers/index.js";
import { type Environment, resolveTarget } from "../upstream/target.js";
import { type CacheSettings, DEFAULT_CACHE_NAMESPACE, EMBEDDING_CALL_TYPES } from "./cache/settings.js";
import { type GeneralSettings, isPostgresUrl, type LitellmSettings, POSTGRES_URL_HELP, type ProxyConfig } from "./config/index.js";
import { type Duration, parseDuration } from "./duration.js";
import type { UploadLimits } from "./files/uploads.js";
import { isSecretKey } from "./config/deployment-keys.js";
import { redactUrl } from "./config/paths.js";
import type { RedisConnection } from "./kv/redis.js";
import { buildDeployments, type ConnectionOf, type Deployment } from "./router/deployment.js";
import { routerSettingsFrom, type RouterSettings } from "./router/config.js";
import { redisConnectionFrom } from "./router/create-state.js";
import type { DatabaseTarget } from "./store/index.js";
import { metricsSettingsFrom, type MetricsSettings } from "./telemetry/metrics-settings.js";
import { tracingSettingsFrom, type TracingSettings } from "./telemetry/tracing-settings.js";

export interface ServerSettings {
  bodyLimitBytes: number;
  /** Time a client has to send its request headers. */
  headersTimeoutMs: number;
  /** Time a client has to send its whole request, body included. */
  requestTimeoutMs: number;
  /** How long in-flight requests may take to finish on a graceful stop. */
  gracefulShutdownMs: number;
}

/** Where keys, teams and spend are kept, and how spend reaches them. */
export interface StoreSettings {
  /** Postgres when `database_url` (or env DATABASE_URL) is set, else the SQLite file at `database_path`. */
  database: DatabaseTarget;
  /** The data directory, `database_path`'s folder: the spend journals live there, whichever the database. */
  dataDir: string;
  /** `proxy_batch_write_at`: time between batches of spend rows. */
  spendBatchIntervalMs: number;
  /** `maximum_spend_logs_retention_period`; undefined: rows are kept. */
  spendLogRetention: Duration | undefined;
}

/** A setting that the config's schema could not check, such as one from the environment. */
export class SettingsError extends Error {
  override readonly name = "SettingsError";
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
  /** The embedding cache; undefined when `litellm_settings.cache` is off or no embedding call type is cached. */
  cache: CacheSettings | undefined;
  /** Undefined without a master key (see storeSettingsFrom). */
  store: StoreSettings | undefined;
  /** OpenTelemetry traces; undefined when off (the default). */
  tracing: TracingSettings | undefined;
  /** `GET /metrics`: who may read it, and whether spend is labelled per key. */
  metrics: MetricsSettings;
}

const MB = 1024 * 1024;
/** Files a form may carry: an edit's images and its mask (an audio call carries one). */
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
    // No secrets: neither a key, nor the password of an api_base such as https://user:secret@host/v1.
    litellm_params: Object.fromEntries(
      Object.entries(entry.litellm_params)
        .filter(([key]) => !isSecretKey(key))
        .map(([key, value]) => [key, typeof value === "string" ? redactUrl(value) : value]),
    ),
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

/** A port from the environment, where the schema has not checked it. */
function envPort(value: string, name: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`${name} must be a port number, not '${value}'.`);
  return port;
}

/**
 * The cache's Redis: `cache_params.url`, else its host/port/password, else — as LiteLLM does — the REDIS_URL,
 * REDIS_HOST, REDIS_PORT and REDIS_PASSWORD variables, else Redis's own default, 127.0.0.1:6379.
 */
function cacheRedis(params: LitellmSettings["cache_params"], env: Environment): CacheSettings["store"] {
  const url = params.url ?? (params.host === undefined ? nonEmpty(env.REDIS_URL) : undefined);
  if (url !== undefined) return { type: "redis", connection: { url } };
  const host = params.host ?? nonEmpty(env.REDIS_HOST) ?? "127.0.0.1";
  const fromEnv = nonEmpty(env.REDIS_PORT);
  const port = params.port ?? (fromEnv === undefined ? 6379 : envPort(fromEnv, "REDIS_PORT"));
  return { type: "redis", connection: { host, port, password: params.password ?? nonEmpty(env.REDIS_PASSWORD) } };
}

function cacheSettingsFrom(litellm: LitellmSettings, env: Environment): CacheSettings | undefined {
  const params = litellm.cache_params;
  const types = params.supported_call_types;
  if (!litellm.cache || (types !== undefined && !types.some((type) => EMBEDDING_CALL_TYPES.includes(type)))) return undefined;
  return {
    store: params.type === "redis" ? cacheRedis(params, env) : { type: "local", maxBytes: Math.floor(params.max_size_mb * MB) },
    namespace: nonEmpty(params.namespace) ?? DEFAULT_CACHE_NAMESPACE,
    ttlSeconds: params.ttl,
  };
}

/**
 * The store's settings, or undefined when no master key is set: with no key there is nothing to manage, so
 * the store stays closed and the proxy runs open. This is the one place that decides whether it opens.
 * Relative paths are from the working directory.
 */
export function storeSettingsFrom(general: GeneralSettings, env: Environment, masterKey: string | undefined): StoreSettings | undefined {
  if (masterKey === undefined) return undefined;
  const path = resolve(general.database_path);
  const url = general.database_url ?? nonEmpty(env.DATABASE_URL);
  if (url !== undefined && !isPostgresUrl(url)) throw new SettingsError(`the environment's DATABASE_URL must be ${POSTGRES_URL_HELP}`);
  const retention = general.maximum_spend_logs_retention_period;
  return {
    database: url === undefined ? { kind: "sqlite", path } : { kind: "postgres", url, poolLimit: general.database_connection_pool_limit },
    dataDir: dirname(path),
    spendBatchIntervalMs: general.proxy_batch_write_at * 1000,
    spendLogRetention: retention === undefined ? undefined : parseDuration(retention),
  };
}

/**
 * @example
 * const settings = resolveSettings((await loadConfig("config.yaml")).config, process.env);
 */
export function resolveSettings(config: ProxyConfig, env: Environment): Settings {
  const general = config.general_settings;
  const maxBytes = Math.floor(general.max_request_size_mb * MB);
  const router = routerSettingsFrom(config);
  const masterKey = nonEmpty(general.master_key) ?? nonEmpty(env.XGATE_MASTER_KEY);
  return {
    masterKey,
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
    cache: cacheSettingsFrom(config.litellm_settings, env),
    store: storeSettingsFrom(general, env, masterKey),
    tracing: tracingSettingsFrom(general.otel, env),
    metrics: metricsSettingsFrom(general),
  };
}
