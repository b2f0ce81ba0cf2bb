/**
 * What may be written inside a deployment's `litellm_params` and `model_info`. Both maps are open: LiteLLM
 * passes unknown `litellm_params` to the provider and keeps unknown `model_info` as information, so an
 * unknown key cannot simply be refused. But a typo there is the costliest kind (`api_bse:` sends every
 * request to the default server), so the loader tells apart:
 *
 * - settings: keys LiteLLM or xgate read themselves (the schema's keys are settings too); silent;
 * - parameters: request parameters people set per deployment, passed to the provider; silent;
 * - near-misses of a setting (or a known misnomer such as `base_url`): a typo, warned and dropped;
 * - near-misses of a parameter: warned, and still passed on, since it may be a real provider extra;
 * - anything else: passed on with a warning that says so in `litellm_params`, kept silently in `model_info`.
 *
 * The lists follow LiteLLM's `GenericLiteLLMParams`, `all_litellm_params` and `ModelInfo`.
 */

export interface OpenMapVocabulary {
  /** Keys read by LiteLLM or xgate, beyond the schema's own. */
  settings: ReadonlySet<string>;
  /** Other names people write for a setting, and the setting they mean. */
  misnomers: Readonly<Record<string, string>>;
  /** Request parameters that are fine to pass on (empty where nothing is passed on). */
  parameters: ReadonlySet<string>;
  /** Whether a wholly unknown key gets a warning (it does where it would reach the provider). */
  warnUnknown: boolean;
  /** What happens to a key kept here that xgate does not read, for the warning. */
  fate: string;
}

/** LiteLLM's pricing keys are many (per token, image, pixel, second, tier, batch…): the common ones are listed, the rest matched. */
const PRICING_KEY = /(^|_)cost(_|$)/;

const PRICING = [
  "input_cost_per_token",
  "output_cost_per_token",
  "input_cost_per_image",
  "output_cost_per_image",
  "input_cost_per_pixel",
  "output_cost_per_pixel",
  "input_cost_per_second",
  "output_cost_per_second",
  "input_cost_per_character",
  "output_cost_per_character",
  "input_cost_per_query",
  "input_cost_per_audio_token",
  "output_cost_per_audio_token",
  "input_cost_per_image_token",
  "output_cost_per_image_token",
  "output_cost_per_reasoning_token",
  "cache_read_input_token_cost",
  "cache_creation_input_token_cost",
  "tiered_pricing",
];

export const LITELLM_PARAMS_VOCABULARY: OpenMapVocabulary = {
  settings: new Set([
    ...PRICING,
    "num_retries",
    "itpm",
    "otpm",
    "cooldown_time",
    "litellm_trace_id",
    "max_file_size_mb",
    "default_api_key_tpm_limit",
    "default_api_key_rpm_limit",
    "keepalive_seconds",
    "allow_client_keepalive_override",
    "use_litellm_proxy",
    "use_chat_completions_api",
    "tag_regex",
    "allowed_openai_params",
    "supports_system_message",
    "metadata",
  ]),
  misnomers: {
    base_url: "api_base",
    api_url: "api_base",
    url: "api_base",
    endpoint: "api_base",
    request_timeout: "timeout",
  },
  parameters: new Set([
    // OpenAI's request parameters.
    "temperature",
    "top_p",
    "n",
    "stream",
    "stream_options",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "seed",
    "user",
    "response_format",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "reasoning_effort",
    "dimensions",
    "encoding_format",
    "size",
    "quality",
    "style",
    "voice",
    "speed",
    "language",
    "prompt",
    "timestamp_granularities",
    "extra_body",
    "extra_headers",
    // Xinference's generation, image, rerank and chat-template options.
    "top_k",
    "min_p",
    "repetition_penalty",
    "lora_name",
    "chat_template_kwargs",
    "negative_prompt",
    "num_inference_steps",
    "guidance_scale",
    "sampler_name",
    "width",
    "height",
    "strength",
    "padding_image_to_multiple",
    "top_n",
    "return_documents",
    "return_len",
    "max_chunks_per_doc",
  ]),
  warnUnknown: true,
  fate: "is passed to the provider as an extra",
};

export const MODEL_INFO_VOCABULARY: OpenMapVocabulary = {
  settings: new Set([
    ...PRICING,
    "key",
    "db_model",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "tier",
    "team_id",
    "team_public_model_name",
    "blocked",
    "litellm_provider",
    "max_tokens",
    "max_input_tokens",
    "max_output_tokens",
    "output_vector_size",
    "supported_openai_params",
    "rpm",
    "tpm",
    "description",
    "access_groups",
    "direct_access",
    "access_via_team_ids",
    "health_check_model",
    "health_check_timeout",
    "health_check_voice",
  ]),
  misnomers: {},
  parameters: new Set(),
  warnUnknown: false,
  fate: "is kept only as information (shown by /model/info)",
};

/** The vocabulary of each open map, by path pattern. */
export const OPEN_MAP_VOCABULARY: Readonly<Record<string, OpenMapVocabulary>> = {
  "model_list[].litellm_params": LITELLM_PARAMS_VOCABULARY,
  "model_list[].model_info": MODEL_INFO_VOCABULARY,
};

/**
 * A key that holds a credential, by its words: `api_key`, `aws_secret_access_key`, `azure_ad_token`,
 * `vertex_credentials`, `password`. Whole words only, so that counts (`max_tokens`, `max_completion_tokens`)
 * and prices (`input_cost_per_token`) are not taken for secrets: they are parameters and settings to show.
 */
const SECRET_WORD = /(^|_)(api_?key|key|secret|password|passwd|token|credentials?)(_|$)/i;

/** Whether a config key holds a credential: its value is never shown, hashed into an id or sent as an extra. */
export function isSecretKey(key: string): boolean {
  return SECRET_WORD.test(key) && !PRICING_KEY.test(key);
}

/** A key of LiteLLM's long tail: pricing in any unit, `supports_*` capability flags. */
export function isLitellmMetadataKey(key: string): boolean {
  return PRICING_KEY.test(key) || key.startsWith("supports_");
}

/**
 * `litellm_params` only other providers read (Azure's `api_version`, cloud credentials and regions). A
 * config written for LiteLLM carries them; they mean nothing to Xinference, so they are dropped without a
 * word rather than sent along as extras.
 */
export const OTHER_PROVIDER_PARAMS: ReadonlySet<string> = new Set([
  "api_version",
  "azure_ad_token",
  "vertex_project",
  "vertex_location",
  "vertex_credentials",
  "aws_access_key_id",
  "aws_secret_access_key",
  "aws_session_token",
  "aws_region_name",
  "aws_session_name",
  "aws_profile_name",
  "aws_role_name",
  "aws_web_identity_token",
  "aws_sts_endpoint",
  "aws_bedrock_runtime_endpoint",
  "watsonx_region_name",
]);
