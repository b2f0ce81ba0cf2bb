// The "openai" flavor, apart from its LLM answers (llm-openai.ts): what a plain OpenAI-compatible server such
// as vLLM does where Xinference differs. Errors are `{"error": {"message", "type", "param", "code"}}` with
// vLLM's type names, request validation fails with a 400 (not a text 500 or a 422), and embeddings honour
// `encoding_format: "base64"` (little-endian float32, as OpenAI encodes them).
import type { BodyReply, Reply, RouteContext, RouteHandler } from "./context.js";
import { JSON_TYPE, TEXT_TYPE } from "./errors.js";
import type { HttpError } from "./errors.js";

const ERROR_TYPES: Record<number, string> = {
  400: "BadRequestError",
  401: "AuthenticationError",
  403: "PermissionDeniedError",
  404: "NotFoundError",
  405: "MethodNotAllowedError",
  409: "ConflictError",
  429: "RateLimitError",
  500: "InternalServerError",
  501: "NotImplementedError",
  503: "ServiceUnavailableError",
};

const UNCAUGHT_PREFIX = "Internal Server Error: ";

export function openAIErrorReply(error: HttpError): BodyReply {
  // What Xinference lets through uncaught (a text 500) or FastAPI's 422 are request validation failures.
  const invalid = (error.status === 500 && error.contentType === TEXT_TYPE) || error.status === 422;
  const status = invalid ? 400 : error.status;
  const message = errorMessage(error);
  return {
    status,
    contentType: JSON_TYPE,
    headers: error.headers,
    body: JSON.stringify({ error: { message, type: ERROR_TYPES[status] ?? "APIError", param: null, code: status } }),
  };
}

function errorMessage(error: HttpError): string {
  if (error.contentType === TEXT_TYPE) return error.body.startsWith(UNCAUGHT_PREFIX) ? error.body.slice(UNCAUGHT_PREFIX.length) : error.body;
  const detail = error.detail ?? (JSON.parse(error.body) as { detail?: unknown }).detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((issue: { loc?: unknown[]; msg?: unknown }) => `${(issue.loc ?? []).join(".")}: ${String(issue.msg)}`)
      .join("; ");
  }
  return JSON.stringify(detail);
}

interface EmbeddingList {
  data: { embedding: number[] | string }[];
}

/** The embeddings route, answering base64 when asked (Xinference ignores `encoding_format`). */
export function withBase64Embeddings(handler: RouteHandler): RouteHandler {
  return async (ctx: RouteContext): Promise<Reply> => {
    const reply = await handler(ctx);
    const asked = ctx.json.ok && (ctx.json.value as { encoding_format?: unknown } | null)?.encoding_format === "base64";
    if (!asked || reply.status !== 200 || !("body" in reply)) return reply;
    const list = JSON.parse(reply.body.toString()) as EmbeddingList;
    for (const item of list.data) {
      const floats = Float32Array.from(item.embedding as number[]);
      item.embedding = Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString("base64");
    }
    return { ...reply, body: JSON.stringify(list) };
  };
}
