/**
 * A LiteLLM config often lists models of other providers next to the Xinference ones (`azure/...`,
 * `anthropic/...`), and `openai/gpt-4o` without an api_base, which LiteLLM sends to OpenAI's own API while
 * xgate serves `openai/` models only at the server an api_base names. Such entries are skipped, each with a
 * warning, and the rest of the file loads; `strict` makes them errors instead. Skipping happens before the
 * entries are validated: their `os.environ/` variables (an OpenAI key) need not be set, their keys are not
 * checked, and a file of nothing but such entries is an error that says so.
 */
import { isPlainObject } from "./env.js";
import type { ConfigIssue } from "./errors.js";
import { MODEL_LIST_EXAMPLE } from "./issues.js";
import { formatPath, type KeyPath } from "./paths.js";
import { issueAt, locateKey, type Source } from "./source.js";

/** LiteLLM's provider names (its `LlmProviders`): a model string with one of these prefixes is another provider's. */
export const LITELLM_PROVIDERS: ReadonlySet<string> = new Set([
  "openai", "chatgpt", "openai_like", "jina_ai", "xai", "zai", "custom_openai", "text-completion-openai", "cohere",
  "cohere_chat", "clarifai", "anthropic", "anthropic_text", "bytez", "replicate", "reducto", "runwayml", "aws_polly",
  "huggingface", "together_ai", "openrouter", "datarobot", "vertex_ai", "vertex_ai_beta", "gemini", "ai21", "baseten",
  "black_forest_labs", "azure", "azure_text", "azure_ai", "sagemaker", "sagemaker_chat", "sagemaker_nova", "bedrock",
  "vllm", "nlp_cloud", "petals", "oobabooga", "ollama", "ollama_chat", "deepinfra", "perplexity", "mistral", "milvus",
  "groq", "a2a", "gigachat", "nvidia_nim", "nvidia_riva", "soniox", "cerebras", "ai21_chat", "volcengine", "codestral",
  "text-completion-codestral", "dashscope", "modelscope", "moonshot", "publicai", "v0", "morph", "lambda_ai",
  "inception", "text-completion-inception", "deepseek", "sambanova", "maritalk", "voyage", "cloudflare", "xinference",
  "fireworks_ai", "friendliai", "featherless_ai", "watsonx", "watsonx_text", "triton", "predibase", "databricks",
  "empower", "github", "ragflow", "compactifai", "docker_model_runner", "custom", "litellm_proxy", "hosted_vllm",
  "tencent", "llamafile", "lm_studio", "galadriel", "nebius", "infinity", "deepgram", "elevenlabs", "novita",
  "aiohttp_openai", "langfuse", "humanloop", "topaz", "sap", "assemblyai", "charity_engine", "github_copilot",
  "snowflake", "gradient_ai", "meta_llama", "nscale", "pg_vector", "s3_vectors", "helicone", "hyperbolic", "recraft",
  "fal_ai", "stability", "heroku", "aiml", "cometapi", "oci", "auto_router", "vercel_ai_gateway", "dotprompt", "manus",
  "wandb", "ovhcloud", "scaleway", "lemonade", "amazon_nova", "a2a_agent", "langgraph", "langflow", "minimax",
  "synthetic", "apertis", "nano-gpt", "poe", "chutes", "neosantara", "parasail", "xiaomi_mimo", "tensormesh",
  "libertai", "pinstripes", "darkbloom", "meta", "litellm_agent", "cursor", "bedrock_mantle", "gdc",
]);

/**
 * Providers xgate serves at an api_base of the user's only, whose entries without one LiteLLM sends to the
 * vendor's own API: such an entry is that API's, which xgate does not call unless an api_base names it.
 */
const VENDOR_APIS: Readonly<Record<string, { name: string; apiBase: string }>> = {
  openai: { name: "OpenAI's own API", apiBase: "https://api.openai.com/v1" },
};

export interface SkippedEntry {
  /** The entry's index in the file's model_list. */
  index: number;
  /** Its model_name, when it has one. */
  group: string | undefined;
  model: string;
  provider: string;
  /** A provider xgate serves, but without the api_base it needs: set one to serve the entry. */
  needsApiBase: boolean;
}

function hasApiBase(params: Record<string, unknown>): boolean {
  return typeof params.api_base === "string" && params.api_base.trim() !== "";
}

/**
 * The model_list entries whose model names a LiteLLM provider that xgate does not serve, or a vendor's own API
 * (`openai/` without an api_base).
 */
export function otherProviderEntries(modelList: unknown, knownProviders: readonly string[]): SkippedEntry[] {
  if (!Array.isArray(modelList)) return [];
  const skipped: SkippedEntry[] = [];
  modelList.forEach((entry: unknown, index) => {
    const params = isPlainObject(entry) ? entry.litellm_params : undefined;
    const model = isPlainObject(params) ? params.model : undefined;
    if (!isPlainObject(params) || typeof model !== "string") return;
    const slash = model.indexOf("/");
    const provider = model.slice(0, Math.max(slash, 0)).trim().toLowerCase();
    const known = knownProviders.includes(provider);
    const needsApiBase = known && Object.hasOwn(VENDOR_APIS, provider) && !hasApiBase(params);
    if (provider === "" || (known && !needsApiBase) || !LITELLM_PROVIDERS.has(provider)) return;
    const name = (entry as Record<string, unknown>).model_name;
    const group = typeof name === "string" || typeof name === "number" ? String(name) : undefined;
    skipped.push({ index, group, model, provider, needsApiBase });
  });
  return skipped;
}

function served(knownProviders: readonly string[]): string {
  return knownProviders.map((p) => `${p}/`).join(", ");
}

/** Why an entry is not served: after its model string, in every message about it. */
function whySkipped(entry: SkippedEntry, knownProviders: readonly string[]): string {
  const vendor = VENDOR_APIS[entry.provider];
  if (entry.needsApiBase && vendor !== undefined) {
    return (
      `has no api_base, so LiteLLM would send it to ${vendor.name}, and xgate serves ${entry.provider}/ models only at the ` +
      `OpenAI-compatible server an api_base names (${vendor.apiBase} for ${vendor.name})`
    );
  }
  return `is a model of the provider '${entry.provider}', and xgate serves only ${served(knownProviders)} models`;
}

const modelPath = (entry: SkippedEntry): KeyPath => ["model_list", entry.index, "litellm_params", "model"];

/** `model_list[1] ('gpt', line 9)`: the entry by its index, its name and where it is. */
function describe(entry: SkippedEntry, line: number | undefined): string {
  const about = [entry.group === undefined ? "" : `'${entry.group}'`, line === undefined ? "" : `line ${line}`].filter(Boolean);
  return `model_list[${entry.index}]${about.length > 0 ? ` (${about.join(", ")})` : ""}`;
}

/** The warning for a skipped entry. */
export function skippedWarning(entry: SkippedEntry, source: Source, knownProviders: readonly string[]): string {
  const line = locateKey(source, modelPath(entry))?.line;
  return `${describe(entry, line)} is skipped: '${entry.model}' ${whySkipped(entry, knownProviders)}`;
}

/** With `strict`, each entry of another provider is an error at its model. */
export function strictIssue(entry: SkippedEntry, source: Source, knownProviders: readonly string[]): ConfigIssue {
  const path = modelPath(entry);
  return issueAt(
    source,
    path,
    `${formatPath(path)}: '${entry.model}' ${whySkipped(entry, knownProviders)}. ` +
      `${entry.needsApiBase ? "Set api_base, remove" : "Remove"} this entry, or start without --strict to skip it with a warning.`,
  );
}

/** When every entry is skipped there is nothing to serve: an error, at model_list. */
export function nothingLeftIssue(skipped: readonly SkippedEntry[], source: Source, knownProviders: readonly string[]): ConfigIssue {
  const providers = [...new Set(skipped.map((e) => (e.needsApiBase ? `${e.provider}/ without an api_base` : e.provider)))].join(", ");
  const whose = skipped.some((e) => e.needsApiBase) ? "another provider or a vendor's own API" : "another provider";
  return issueAt(
    source,
    ["model_list"],
    `model_list has no model xgate can serve: every entry is skipped, being a model of ${whose} (${providers}), ` +
      `and xgate serves only ${served(knownProviders)} models. Add one, for example:\n\n${MODEL_LIST_EXAMPLE}`,
    true,
  );
}

/**
 * Translates key paths between the model_list that is validated (skipped entries left out) and the file's,
 * so every message names an entry by its index in the file.
 */
export class EntryIndex {
  private readonly kept: number[];

  constructor(length: number, skipped: readonly SkippedEntry[]) {
    const gone = new Set(skipped.map((e) => e.index));
    this.kept = Array.from({ length }, (_, i) => i).filter((i) => !gone.has(i));
  }

  /** The file's index of the validated list's entry `i`. */
  inFile(i: number): number {
    return this.kept[i] ?? i;
  }

  /** `path` with a validated list's index replaced by the file's. */
  filePath<T extends PropertyKey>(path: readonly T[]): T[] {
    const out = [...path];
    if (out[0] === "model_list" && typeof out[1] === "number") out[1] = this.inFile(out[1]) as T;
    return out;
  }
}
