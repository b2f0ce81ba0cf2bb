/**
 * The config schema: LiteLLM's config.yaml as users write it (snake_case keys kept, since users read them in
 * their files), plus xgate's own settings. Defaults are filled where LiteLLM documents one, so the rest of
 * the proxy reads `config.router_settings.allowed_fails` without second-guessing.
 *
 * Values may arrive as strings after `os.environ/NAME` substitution, so numbers and booleans accept their
 * string spelling. Objects drop keys they do not know (the loader warns about them); `litellm_params` and
 * `model_info` keep them, since LiteLLM passes those through to the provider and to `/model/info`.
 */
import { z } from "zod";
import { DURATION_HELP, parseDuration } from "../duration.js";
import {
  DEFAULT_ALLOWED_FAILS,
  DEFAULT_COOLDOWN_S,
  DEFAULT_HEALTH_CHECK_INTERVAL_S,
  DEFAULT_HEALTH_CHECK_TIMEOUT_S,
  ROUTING_STRATEGIES,
  type RoutingStrategyName,
} from "../router/config.js";

export { ROUTING_STRATEGIES };
export type RoutingStrategy = RoutingStrategyName;

/** `model_info.mode` values LiteLLM knows; other values load with a warning. */
export const MODEL_MODES = [
  "embedding",
  "image_generation",
  "image_edit",
  "rerank",
  "chat",
  "completion",
  "responses",
  "audio_transcription",
  "audio_speech",
  "moderation",
  "video_generation",
  "batch",
  "realtime",
] as const;

/** The modes xgate serves routes for. */
export const SERVED_MODES: ReadonlySet<string> = new Set([
  "embedding",
  "image_generation",
  "image_edit",
  "rerank",
  "chat",
  "completion",
  "audio_transcription",
  "audio_speech",
]);

/** Xinference's `model_type` values for `POST /v1/models`. */
export const XINFERENCE_MODEL_TYPES = ["LLM", "embedding", "image", "rerank", "audio", "video", "flexible"] as const;

export const CACHE_TYPES = ["local", "redis"] as const;

const NUMERIC = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

function numeric(value: unknown): unknown {
  return typeof value === "string" && NUMERIC.test(value.trim()) ? Number(value.trim()) : value;
}

function booleanish(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const word = value.trim().toLowerCase();
  if (["true", "yes", "on", "1"].includes(word)) return true;
  if (["false", "no", "off", "0"].includes(word)) return false;
  return value;
}

/** A number where text is expected (`model_name: 2024`, a numeric password) is meant as text. */
function textual(value: unknown): unknown {
  return typeof value === "number" || typeof value === "bigint" ? String(value) : value;
}

const text = z.preprocess(textual, z.string());
const name = z.preprocess(textual, z.string().trim().min(1));
const flag = z.preprocess(booleanish, z.boolean());
/** A switch that is only true or false (their text too, as os.environ/ gives it): no `yes`, no `1`. */
const strictFlag = (message: string) =>
  z.preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.custom<boolean>((v) => typeof v === "boolean", { message }));
const count = z.preprocess(numeric, z.int().min(0));
const nonNegative = z.preprocess(numeric, z.number().min(0));
const positive = z.preprocess(numeric, z.number().positive());
const port = z.preprocess(numeric, z.int().min(1).max(65535));

function hasScheme(value: string, schemes: readonly string[]): boolean {
  try {
    return schemes.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function isDuration(value: string): boolean {
  try {
    parseDuration(value);
    return true;
  } catch {
    return false;
  }
}

export function isPostgresUrl(value: string): boolean {
  return hasScheme(value, ["postgres:", "postgresql:"]);
}

export const POSTGRES_URL_HELP =
  "a PostgreSQL URL such as postgresql://user:password@127.0.0.1:5432/xgate (leave it out to use the embedded SQLite store)";

/** LiteLLM's `30s`, `1h`, `7d`, `1mo` (see duration.ts). */
const duration = text.refine(isDuration, { message: `must be a duration: ${DURATION_HELP}` });

const httpUrl = text.refine((v) => hasScheme(v, ["http:", "https:"]), {
  message: "must be an http:// or https:// URL, such as http://127.0.0.1:9997/v1",
});

/** `[{group: [other groups]}]`: one map per group, each naming the groups to try, in order. */
const fallbacks = z.array(
  z
    .record(z.string(), z.preprocess((v) => (typeof v === "string" ? [v] : v), z.array(name)))
    .refine((entry) => Object.keys(entry).length === 1, {
      message: "must be a map with exactly one group, like `- my-group: [other-group]`; put each group in its own list item",
    }),
);

const groupNames = z.preprocess((v) => (typeof v === "string" ? [v] : v), z.array(name));

export const autoLaunchSchema = z.looseObject({
  /** The model's name in Xinference's registry, e.g. `bge-base-en-v1.5`. */
  model_name: name,
  /** Filled from `model_info.mode` by the loader when not given. */
  model_type: z.enum(XINFERENCE_MODEL_TYPES).optional(),
});

export const litellmParamsSchema = z.looseObject({
  /** `<provider>/<model>`, e.g. `xinference/stabilityai/stable-diffusion-3.5-large`, or `xinference/*`. */
  model: name,
  api_base: httpUrl.optional(),
  api_key: text.optional(),
  rpm: count.optional(),
  tpm: count.optional(),
  /** Seconds per attempt. */
  timeout: positive.optional(),
  stream_timeout: positive.optional(),
  max_retries: count.optional(),
  weight: nonNegative.optional(),
  /** Tiers: lower orders are tried first. */
  order: z.preprocess(numeric, z.int().min(1)).optional(),
  drop_params: flag.optional(),
  input_cost_per_token: nonNegative.optional(),
  output_cost_per_token: nonNegative.optional(),
  input_cost_per_image: nonNegative.optional(),
  output_cost_per_image: nonNegative.optional(),
});

export const modelInfoSchema = z.looseObject({
  mode: text.optional(),
  /** Identifies the deployment; unique across model_list. */
  id: name.optional(),
  base_model: text.optional(),
  input_cost_per_token: nonNegative.optional(),
  output_cost_per_token: nonNegative.optional(),
  input_cost_per_image: nonNegative.optional(),
  output_cost_per_image: nonNegative.optional(),
  auto_launch: autoLaunchSchema.optional(),
});

export const deploymentSchema = z.object({
  /** The model group: the name clients send as `model`. */
  model_name: name,
  litellm_params: litellmParamsSchema,
  model_info: modelInfoSchema.prefault({}),
});

const redisUrl = text.refine((v) => hasScheme(v, ["redis:", "rediss:"]), { message: "must be a redis:// or rediss:// URL" });

/** Megabytes the local cache may hold when `max_size_mb` is not given. */
export const DEFAULT_CACHE_SIZE_MB = 256;

export const cacheParamsSchema = z.object({
  type: z.enum(CACHE_TYPES).default("local"),
  host: text.optional(),
  port: port.optional(),
  password: text.optional(),
  url: redisUrl.optional(),
  namespace: text.optional(),
  /** Seconds. */
  ttl: positive.optional(),
  supported_call_types: z.array(text).optional(),
  /** xgate's own: what the local cache may hold (its LRU evicts beyond it). */
  max_size_mb: positive.default(DEFAULT_CACHE_SIZE_MB),
});

export const litellmSettingsSchema = z.object({
  drop_params: flag.default(false),
  num_retries: count.optional(),
  /** Seconds. */
  request_timeout: positive.optional(),
  fallbacks: fallbacks.optional(),
  default_fallbacks: groupNames.optional(),
  allowed_fails: count.optional(),
  cooldown_time: nonNegative.optional(),
  cache: flag.default(false),
  cache_params: cacheParamsSchema.prefault({}),
  set_verbose: flag.default(false),
  json_logs: flag.default(false),
});

export const generalSettingsSchema = z.object({
  master_key: text
    .refine((v) => v.startsWith("sk-"), {
      message: "must start with 'sk-' (as in LiteLLM), e.g. sk-<a long random string>; set it with os.environ/XGATE_MASTER_KEY to keep it out of the file",
    })
    .optional(),
  database_url: text.refine(isPostgresUrl, { message: `must be ${POSTGRES_URL_HELP}` }).optional(),
  /** The SQLite file keys, teams and spend live in when database_url is not set; its folder is the data directory. */
  database_path: name.default("./xgate-data/xgate.db"),
  /** Postgres connections per process. */
  database_connection_pool_limit: z.preprocess(numeric, z.int().min(1)).default(10),
  /** Spend-log rows older than this are deleted; without it they are kept. */
  maximum_spend_logs_retention_period: duration.optional(),
  max_request_size_mb: positive.default(50),
  background_health_checks: flag.default(false),
  /** Seconds between background health passes. */
  health_check_interval: positive.default(DEFAULT_HEALTH_CHECK_INTERVAL_S),
  /** Seconds a health check (one model list or probe) and a `/health` answer may take. */
  health_check_timeout: positive.default(DEFAULT_HEALTH_CHECK_TIMEOUT_S),
  disable_spend_logs: flag.default(false),
  /** Seconds between batched spend-log writes. */
  proxy_batch_write_at: positive.default(10),
  allow_client_side_credentials: flag.default(false),
  /** How long a hosted image (`response_format: url`) stays fetchable. */
  image_url_ttl_seconds: z.preprocess(numeric, z.int().positive()).default(3600),
  /** Base of hosted image URLs behind a load balancer; without it, the address the client connected to. */
  public_base_url: httpUrl.optional(),
  /** Believe X-Forwarded-Host / X-Forwarded-Proto: only true behind a proxy that sets them. */
  trust_proxy: flag.default(false),
  request_header_timeout_seconds: positive.default(30),
  request_body_timeout_seconds: positive.default(300),
  graceful_shutdown_seconds: nonNegative.default(30),
  /** Seconds a streamed answer may go without a byte before a keep-alive comment is sent; 0 for none. */
  stream_keepalive_seconds: nonNegative.default(15),
  /** OpenTelemetry traces to OTEL_EXPORTER_OTLP_ENDPOINT (its default without it); unset: on when that is set. */
  otel: strictFlag(
    "must be true or false: true sends OpenTelemetry traces over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (by default http://localhost:4318), false keeps them off",
  ).optional(),
  /** `GET /metrics` without a key; by default it needs the master key, as the admin routes do. */
  metrics_public: strictFlag("must be true or false: true serves GET /metrics without a key, false (the default) asks for the master key").default(false),
  /** A `key_alias` label on spend metrics: one series per virtual key, so off by default. */
  metrics_key_labels: strictFlag(
    "must be true or false: true labels the spend metric with each virtual key's key_alias (a series per key), false (the default) labels it by model group and team only",
  ).default(false),
});

const groupAlias = z.union([name, z.object({ model: name, hidden: flag.default(false) })]);

export const routerSettingsSchema = z.object({
  routing_strategy: z.enum(ROUTING_STRATEGIES).default("simple-shuffle"),
  num_retries: count.optional(),
  /** Minimum seconds to wait before a retry. */
  retry_after: nonNegative.default(0),
  allowed_fails: count.default(DEFAULT_ALLOWED_FAILS),
  /** Seconds a deployment stays out after too many failures. */
  cooldown_time: nonNegative.default(DEFAULT_COOLDOWN_S),
  /** Seconds for a whole call, retries included. */
  timeout: positive.optional(),
  fallbacks: fallbacks.optional(),
  default_fallbacks: groupNames.optional(),
  redis_host: text.optional(),
  redis_port: port.optional(),
  redis_password: text.optional(),
  redis_url: redisUrl.optional(),
  /** Other names for a model group: `alias: group` or `alias: {model: group, hidden: true}`. */
  model_group_alias: z.record(z.string(), groupAlias).default({}),
});

export const proxyConfigSchema = z.object({
  model_list: z.array(deploymentSchema).min(1),
  /** The variables the file defines (already applied when `os.environ/` references were resolved). */
  environment_variables: z.record(z.string(), z.string()).default({}),
  litellm_settings: litellmSettingsSchema.prefault({}),
  general_settings: generalSettingsSchema.prefault({}),
  router_settings: routerSettingsSchema.prefault({}),
});

/**
 * The loaded config. Besides the defaults, the loader copies `num_retries`, `fallbacks`, `default_fallbacks`,
 * `allowed_fails` and `cooldown_time` from `litellm_settings` into `router_settings` when only
 * `litellm_settings` sets them (LiteLLM accepts them in both; `router_settings` wins), so the router reads
 * one place, and fills `model_info.auto_launch.model_type` from `model_info.mode`.
 */
export type ProxyConfig = z.output<typeof proxyConfigSchema>;
export type ModelDeployment = ProxyConfig["model_list"][number];
export type LitellmParams = ModelDeployment["litellm_params"];
export type ModelInfo = ModelDeployment["model_info"];
export type AutoLaunch = z.output<typeof autoLaunchSchema>;
export type LitellmSettings = ProxyConfig["litellm_settings"];
export type CacheParams = LitellmSettings["cache_params"];
export type GeneralSettings = ProxyConfig["general_settings"];
export type RouterSettings = ProxyConfig["router_settings"];
export type Fallbacks = NonNullable<RouterSettings["fallbacks"]>;
