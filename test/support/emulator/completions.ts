// POST /v1/completions: validation (text 500), `logit_bias` (501), access, model lookup (404/503), then the
// engine: request limit, model type (every LLM can generate, chat models included), context window.
import { checkModelAccess } from "./auth.js";
import { specStr } from "./catalog.js";
import type { Reply, RouteContext } from "./context.js";
import { detailError, engineError } from "./errors.js";
import { completionDraft, countTokens, generate, pastEos } from "./llm-engine.js";
import { SAMPLING_RULES, engineKwargs, includeUsage, llmWire, refuseLogitBias, runTurn, stopList, tokenBudget } from "./llm-route.js";
import type { CompletionTurn } from "./llm-wire.js";
import type { RunningModel } from "./registry.js";
import { field, jsonBodyOf, str, validateBody } from "./validate.js";

const RULES = { ...SAMPLING_RULES, prompt: { check: str, required: true } };

const EXCLUDED = new Set(["prompt", "model", "n", "best_of", "logit_bias", "logit_bias_type", "user"]);

export async function createCompletion(ctx: RouteContext): Promise<Reply> {
  const body = validateBody("CreateCompletionRequest", jsonBodyOf(ctx.json), RULES);
  ctx.record.kwargs = engineKwargs(body, EXCLUDED);
  refuseLogitBias(ctx, body);
  const uid = body.model as string;
  checkModelAccess(ctx.principal, uid);
  const model = ctx.registry.resolve(uid);
  const wire = llmWire(ctx);
  return runTurn<CompletionTurn>(ctx, {
    model,
    stream: field(body, "stream", false),
    framing: wire.framing,
    prepare: async () => prepareTurn(ctx, model, body),
    completionTokens: (turn) => Math.max(...turn.choices.map((g) => g.completionTokens)),
    body: (turn) => wire.completionBody(turn),
    events: (turn) => wire.completionEvents(turn),
    failure: (message) => wire.failureEvents(message, "completion"),
  });
}

function prepareTurn(ctx: RouteContext, model: RunningModel, body: Record<string, unknown>): CompletionTurn {
  const spec = model.spec;
  if (spec.model_type !== "LLM") {
    throw ctx.flavor === "xinference"
      ? engineError(`Model ${specStr(spec)} is not for generate.`)
      : detailError(400, `The model \`${model.uid}\` does not support Completions API.`);
  }
  const prompt = body.prompt as string;
  const promptTokens = countTokens(prompt);
  const budget = tokenBudget(ctx, spec.context_length, promptTokens, field<number | null>(body, "max_tokens", null) ?? undefined);
  // Xinference leaves `n` out of the engine's arguments: one choice, whatever the request asks.
  const n = ctx.flavor === "openai" ? Math.max(1, field(body, "n", 1)) : 1;
  const choices = Array.from({ length: n }, (_, k) => {
    const seedText = `${prompt}\u0000${String(body.seed ?? "")}\u0000${k}`;
    const draft = completionDraft(seedText);
    return generate(body.ignore_eos === true ? pastEos(draft, budget, seedText) : draft, budget, stopList(body.stop));
  });
  return { uid: model.uid, choices, promptTokens, includeUsage: includeUsage(body) };
}
