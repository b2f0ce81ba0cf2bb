// The "openai" flavor, apart from its LLM answers (llm-openai.ts): what a plain OpenAI-compatible server such
// as vLLM does where Xinference differs. Errors are `{"error": {"message", "type", "param", "code"}}` with
// vLLM's type names, request validation fails with a 400 (not a text 500 or a 422), embeddings honour
// `encoding_format: "base64"` (little-endian float32, as OpenAI encodes them), the model list has ids and no
// model types or abilities, and rerank answers carry vLLM's `usage` instead of Xinference's `meta`.
import { randomUUID } from "node:crypto";
import { jsonReply } from "./context.js";
import type { BodyReply, Reply, RouteContext, RouteHandler } from "./context.js";
import { JSON_TYPE, TEXT_TYPE } from "./errors.js";
import type { HttpError } from "./errors.js";
import type { ParsedJson } from "./validate.js";

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

/** The body vLLM answers an error with. */
export function openAIErrorBody(message: string, status: number): string {
  return JSON.stringify({ error: { message, type: ERROR_TYPES[status] ?? "APIError", param: null, code: status } });
}

export function openAIErrorReply(error: HttpError): BodyReply {
  // What Xinference lets through uncaught (a text 500) or FastAPI's 422 are request validation failures.
  const invalid = (error.status === 500 && error.contentType === TEXT_TYPE) || error.status === 422;
  const status = invalid ? 400 : error.status;
  const message = errorMessage(error);
  return {
    status,
    contentType: JSON_TYPE,
    headers: error.headers,
    body: openAIErrorBody(message, status),
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

/** vLLM's `GET /v1/models`: each served name with vLLM's own fields, nothing of a model's type or abilities. */
export async function listOpenAIModels(ctx: RouteContext): Promise<Reply> {
  const created = Math.floor(Date.now() / 1000);
  const data = ctx.registry.list().map((model) => ({
    id: model.uid,
    object: "model",
    created,
    owned_by: "vllm",
    root: model.spec.model_name,
    parent: null,
    max_model_len: maxModelLen(ctx.registry.describe(model)),
    permission: [{ id: `modelperm-${randomUUID().replace(/-/g, "")}`, object: "model_permission", created, allow_sampling: true }],
  }));
  return jsonReply({ object: "list", data });
}

function maxModelLen(description: Record<string, unknown>): number | null {
  const length = description.context_length ?? description.max_tokens;
  return typeof length === "number" ? length : null;
}

interface RerankAnswer {
  results: { index: number; relevance_score: number; document: { text: string } | null }[];
  meta: { tokens: { input_tokens: number } | null };
}

/**
 * vLLM's rerank answer: `{"id", "model", "usage": {"total_tokens"}, "results"}`, each result with its
 * document. The scoring is the emulator's own; Xinference's `return_len` and `kwargs` are not read.
 */
export function withVllmRerank(handler: RouteHandler): RouteHandler {
  return async (ctx: RouteContext): Promise<Reply> => {
    const value = ctx.json.ok ? ctx.json.value : undefined;
    const request = typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    // vLLM always sends the documents back and counts the tokens; it has no kwargs.
    const json: ParsedJson = request === undefined ? ctx.json : { ok: true, value: { ...request, return_documents: true, return_len: true, kwargs: undefined } };
    const reply = await handler({ ...ctx, json });
    if (reply.status !== 200 || !("body" in reply)) return reply;
    const answer = JSON.parse(reply.body.toString()) as RerankAnswer;
    return jsonReply({
      id: `rerank-${randomUUID().replace(/-/g, "")}`,
      model: request?.model,
      usage: { total_tokens: answer.meta.tokens?.input_tokens ?? 0 },
      results: answer.results.map((r) => ({ index: r.index, document: r.document, relevance_score: r.relevance_score })),
    });
  };
}
