// GET/POST /v1/models, GET/DELETE /v1/models/{uid}: the supervisor's model management, as much of it as a
// gateway touches.
import { checkModelAccess, requireAdmin } from "./auth.js";
import { jsonReply } from "./context.js";
import type { Reply, RouteContext } from "./context.js";
import { detailError } from "./errors.js";
import type { LaunchSpec, ModelType } from "./types.js";
import { jsonBodyOf } from "./validate.js";

const MODEL_TYPES = new Set<string>(["embedding", "image", "rerank", "LLM", "audio"]);

export async function listModels(ctx: RouteContext): Promise<Reply> {
  const data = ctx.registry.list().map((model) => ({
    id: model.uid,
    object: "model",
    created: 0,
    owned_by: "xinference",
    ...ctx.registry.describe(model),
  }));
  return jsonReply({ object: "list", data });
}

export async function describeModel(ctx: RouteContext): Promise<Reply> {
  const uid = ctx.uid ?? "";
  checkModelAccess(ctx.principal, uid);
  const model = ctx.registry.get(uid);
  if (model === undefined) throw detailError(400, `Model not found in the model list, uid: ${uid}`);
  return jsonReply(ctx.registry.describe(model));
}

export async function launchModel(ctx: RouteContext): Promise<Reply> {
  requireAdmin(ctx.principal);
  const body = jsonBodyOf(ctx.json);
  const payload = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const modelName = payload.model_name;
  if (typeof modelName !== "string" || modelName === "") {
    throw detailError(400, "Invalid input. Please specify the model name");
  }
  const modelType = payload.model_type ?? "LLM";
  if (typeof modelType !== "string" || !MODEL_TYPES.has(modelType)) {
    throw detailError(400, `Unsupported model type: ${String(modelType)}`);
  }
  if (modelType === "LLM" && (typeof payload.model_engine !== "string" || payload.model_engine === "")) {
    throw detailError(400, "Invalid input. Please specify the `model_engine` field.");
  }
  const spec: LaunchSpec = { model_name: modelName, model_type: modelType as ModelType };
  if (typeof payload.model_engine === "string") spec.model_engine = payload.model_engine;
  if (payload.reasoning_content === true) spec.reasoning_content = true;
  if (typeof payload.model_uid === "string" && payload.model_uid !== "") spec.model_uid = payload.model_uid;
  if (payload.replica !== undefined && payload.replica !== null) spec.replica = Number(payload.replica);
  if (typeof payload.loading_ms === "number") spec.loading_ms = payload.loading_ms;
  if (typeof payload.max_concurrent === "number") spec.max_concurrent = payload.max_concurrent;
  const model = ctx.registry.launch(spec);
  const waitReady = !["false", "0", "no"].includes((ctx.query.get("wait_ready") ?? "true").toLowerCase());
  if (waitReady) await ctx.registry.whenReady(model);
  return jsonReply({ model_uid: model.uid });
}

export async function terminateModel(ctx: RouteContext): Promise<Reply> {
  requireAdmin(ctx.principal);
  ctx.registry.terminate(ctx.uid ?? "");
  return jsonReply(null);
}
