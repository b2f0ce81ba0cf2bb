/**
 * The attribute names xgate's spans use. The GenAI ones are still incubating in the semantic conventions:
 * they are written out here, as the conventions package advises, rather than imported from its
 * `incubating` entry (whose names may change in a minor release). xgate's own are prefixed `xgate.`.
 */
export {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
} from "@opentelemetry/semantic-conventions";

export const ATTR_GEN_AI_OPERATION_NAME = "gen_ai.operation.name";
export const ATTR_GEN_AI_PROVIDER_NAME = "gen_ai.provider.name";
export const ATTR_GEN_AI_REQUEST_MODEL = "gen_ai.request.model";
export const ATTR_GEN_AI_RESPONSE_MODEL = "gen_ai.response.model";
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens";
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens";

export const ATTR_XGATE_DEPLOYMENT = "xgate.deployment";
export const ATTR_XGATE_MODEL_GROUP = "xgate.model_group";
/** 1 for a request's first upstream call, 2 for the next (a retry or a fallback's first), and so on. */
export const ATTR_XGATE_ATTEMPT = "xgate.attempt";
/** Upstream calls a request made, the answering one included. */
export const ATTR_XGATE_ATTEMPTS = "xgate.attempts";
/** `k/n`: how many of an embedding request's inputs the cache answered. */
export const ATTR_XGATE_CACHE_HITS = "xgate.cache_hits";
export const ATTR_XGATE_FALLBACK_FROM = "xgate.fallback.from";
export const ATTR_XGATE_FALLBACK_TO = "xgate.fallback.to";

/** Events on a request's span. */
export const EVENT_RETRY = "xgate.retry";
export const EVENT_FALLBACK = "xgate.fallback";

/** The operations whose answers have output tokens: the others' spans carry none. */
const GENERATES_TEXT: ReadonlySet<string> = new Set(["chat", "text_completion"]);

export function generatesText(genAiOperationName: string | undefined): boolean {
  return genAiOperationName !== undefined && GENERATES_TEXT.has(genAiOperationName);
}
