// What the chat and completion routes share: the sampling parameters' validation (pydantic's checks on
// Xinference's CreateCompletionTorch), the context-window rules, and running a turn either as one JSON body
// or as a paced stream — with the engine failures of a Xinference stream reported in-band at HTTP 200.
import type { Reply, RouteContext } from "./context.js";
import { HttpError, detailError, engineError } from "./errors.js";
import { OPENAI_LLM_WIRE } from "./llm-openai.js";
import type { LlmWire } from "./llm-wire.js";
import { XINFERENCE_LLM_WIRE } from "./llm-xinference.js";
import type { RunningModel } from "./registry.js";
import { DEFAULT_FAILURE_MESSAGE, engineSleep, pacedStream } from "./stream.js";
import type { Framing, PacedEvent } from "./stream.js";
import { bool, int, listOf, oneOf, optional, str } from "./validate.js";
import type { Checker, FieldRule } from "./validate.js";

export function llmWire(ctx: RouteContext): LlmWire {
  return ctx.flavor === "openai" ? OPENAI_LLM_WIRE : XINFERENCE_LLM_WIRE;
}

export function numberIn(min: number, max: number): Checker {
  return (v) => {
    const value = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
    if (typeof value !== "number" || Number.isNaN(value)) {
      return { ok: false, msg: "Input should be a valid number", type: typeof v === "string" ? "float_parsing" : "float_type" };
    }
    if (value < min) return { ok: false, msg: `Input should be greater than or equal to ${min}`, type: "greater_than_equal" };
    if (value > max) return { ok: false, msg: `Input should be less than or equal to ${max}`, type: "less_than_equal" };
    return { ok: true, value };
  };
}

const positiveInt: Checker = (v) => {
  const checked = int(v);
  if (checked.ok && (checked.value as number) < 1) return { ok: false, msg: "Input should be greater than or equal to 1", type: "greater_than_equal" };
  return checked;
};

export const dict: Checker = (v) =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? { ok: true, value: v } : { ok: false, msg: "Input should be a valid dictionary", type: "dict_type" };

/** The parameters both routes validate (Xinference's CreateCompletionTorch and OpenAI's params). */
export const SAMPLING_RULES: Record<string, FieldRule> = {
  model: { check: str, required: true },
  max_tokens: { check: optional(positiveInt) },
  temperature: { check: numberIn(0, 2) },
  top_p: { check: numberIn(0, 1) },
  top_k: { check: int },
  n: { check: optional(int) },
  stop: { check: optional(oneOf(str, listOf(str))) },
  stream: { check: bool },
  stream_options: { check: optional(dict) },
  seed: { check: optional(int) },
  user: { check: optional(str) },
};

export function stopList(stop: unknown): string[] {
  if (typeof stop === "string") return [stop];
  return Array.isArray(stop) ? (stop as string[]) : [];
}

export function includeUsage(body: Record<string, unknown>): boolean {
  const options = body.stream_options as Record<string, unknown> | null | undefined;
  return options?.include_usage === true;
}

/** `logit_bias` is refused before anything else looks at the model. */
export function refuseLogitBias(ctx: RouteContext, body: Record<string, unknown>): void {
  if (ctx.flavor === "xinference" && body.logit_bias !== undefined && body.logit_bias !== null) {
    throw detailError(501, "Not implemented");
  }
}

/** What the request's keys leave for the engine as kwargs, as the route computes them (for the request log). */
export function engineKwargs(body: Record<string, unknown>, excluded: ReadonlySet<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !excluded.has(key)));
}

/**
 * The tokens a turn may generate: Xinference's vLLM engine stops at the context window; a plain
 * OpenAI-compatible server refuses a request that cannot fit.
 */
export function tokenBudget(ctx: RouteContext, contextLength: number, promptTokens: number, maxTokens: number | undefined): number {
  if (promptTokens > contextLength) {
    throw ctx.flavor === "xinference"
      ? engineError(
          `The decoder prompt (length ${promptTokens}) is longer than the maximum model length of ${contextLength}. ` +
            "Make sure that `max_model_len` is no smaller than the number of text tokens.",
        )
      : detailError(
          400,
          `This model's maximum context length is ${contextLength} tokens. However, your request has ${promptTokens} input tokens. ` +
            "Please reduce the length of the input messages.",
        );
  }
  const room = contextLength - promptTokens;
  if (maxTokens !== undefined && maxTokens > room && ctx.flavor === "openai") {
    throw detailError(
      400,
      `'max_tokens' is too large: ${maxTokens}. This model's maximum context length is ${contextLength} tokens and your request has ` +
        `${promptTokens} input tokens (${maxTokens} > ${contextLength} - ${promptTokens}).`,
    );
  }
  return Math.min(maxTokens ?? room, room);
}

export interface TurnRunner<T> {
  model: RunningModel;
  stream: boolean;
  framing: Framing;
  /** The engine's work: throws an HttpError (engine errors are 500s) or returns the decided turn. */
  prepare: () => Promise<T>;
  completionTokens: (turn: T) => number;
  body: (turn: T) => string;
  events: (turn: T) => PacedEvent[];
  failure: (message: string) => PacedEvent[];
}

export async function runTurn<T>(ctx: RouteContext, runner: TurnRunner<T>): Promise<Reply> {
  if (runner.stream) return ctx.flavor === "xinference" ? xinferenceStream(ctx, runner) : openAIStream(ctx, runner);
  return ctx.engine.run(runner.model, undefined, async () => {
    const turn = await runner.prepare();
    const tokens = runner.completionTokens(turn);
    await engineSleep(ctx.pacing.tokenDelayMs * Math.max(0, tokens - 1), ctx.signal);
    const failed = await bodyFault(ctx);
    if (failed !== undefined) throw failed;
    return { status: 200, contentType: "application/json", body: runner.body(turn) };
  });
}

const CONTENT_TYPE = "text/event-stream; charset=utf-8";

/**
 * Xinference answers 200 at once (sse-starlette sends the headers before the generator runs): the request
 * limit (as "429: ..."), a wrong model type and engine errors all arrive as `data: {"error": ...}`.
 */
async function xinferenceStream<T>(ctx: RouteContext, runner: TurnRunner<T>): Promise<Reply> {
  let release = (): void => undefined;
  let events: PacedEvent[];
  try {
    release = ctx.registry.acquire(runner.model);
    events = runner.events(await runner.prepare());
  } catch (error) {
    events = runner.failure(inStreamMessage(error));
  }
  return pacedStream(ctx, { contentType: CONTENT_TYPE, framing: runner.framing, events, failure: runner.failure, release });
}

/** A plain OpenAI-compatible server decides everything before it starts the stream: errors keep their status. */
async function openAIStream<T>(ctx: RouteContext, runner: TurnRunner<T>): Promise<Reply> {
  const release = ctx.registry.acquire(runner.model);
  let events: PacedEvent[];
  try {
    events = runner.events(await runner.prepare());
  } catch (error) {
    release();
    throw error;
  }
  return pacedStream(ctx, { contentType: CONTENT_TYPE, framing: runner.framing, events, failure: runner.failure, release });
}

/** `str(exception)`: an HTTPException prints as "<status>: <detail>", an engine error as its message. */
function inStreamMessage(error: unknown): string {
  if (error instanceof HttpError) {
    const detail = typeof error.detail === "string" ? error.detail : error.body;
    return error.status === 500 ? detail : `${error.status}: ${detail}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The stream-* faults on a reply that is not streamed: the engine fails, or the connection dies, at once. */
async function bodyFault(ctx: RouteContext): Promise<HttpError | undefined> {
  const fault = ctx.fault;
  if (fault?.kind === "stream-error") return engineError(fault.message ?? DEFAULT_FAILURE_MESSAGE);
  if (fault?.kind === "stream-reset") await ctx.dropConnection("reset");
  if (fault?.kind === "stream-stall" && !ctx.signal.aborted) {
    await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
  }
  return undefined;
}
