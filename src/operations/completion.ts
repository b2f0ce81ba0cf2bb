/** Text completions (`/completions`): a prompt to its continuation, whole or streamed (see llm-answer.ts). */
import { BadRequestError } from "../errors.js";
import type { Completion, CompletionCreateParams } from "../openai/completions.js";
import type { TextCompletionParams } from "../providers/index.js";
import { createUpstreamClient } from "../upstream/client.js";
import { type LlmKind, type LlmResult, llmResult } from "./llm-answer.js";
import { defined, SHARED_KEYS, sharedParams, streamOf } from "./llm-params.js";
import { estimateCompletionUsage } from "./tokens.js";
import { extrasOf, mergedExtras, type OperationTarget, type RawParams } from "./types.js";
import { optionalBoolean, optionalInteger, optionalString } from "./validate.js";

const OWN: ReadonlySet<string> = new Set(["prompt", ...SHARED_KEYS, "logprobs", "echo", "suffix", "best_of"]);

/** A text completion, checked. */
export interface TextCompletionCall {
  prompt: CompletionCreateParams["prompt"];
  params: TextCompletionParams;
  stream: boolean;
  includeUsage: boolean;
  extras: Record<string, unknown>;
}

export type TextCompletionResult = LlmResult<Completion, Completion>;

function isTokenIds(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((id) => Number.isInteger(id) && id >= 0);
}

function promptOf(value: unknown): CompletionCreateParams["prompt"] {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.length > 0 && (value.every((p) => typeof p === "string") || isTokenIds(value) || value.every(isTokenIds))) {
    return value as CompletionCreateParams["prompt"];
  }
  throw new BadRequestError('prompt is required: a string such as "Once upon a time" (or a list of strings, or token ids).', {
    param: "prompt",
  });
}

export function parseTextCompletion(raw: RawParams): TextCompletionCall {
  const shared = sharedParams(raw);
  const bestOf = optionalInteger(raw.best_of, "best_of", 1, 20);
  if (bestOf !== undefined && shared.n !== undefined && bestOf < shared.n) {
    throw new BadRequestError(`best_of (${bestOf}) must be at least n (${shared.n}).`, { param: "best_of" });
  }
  return {
    prompt: promptOf(raw.prompt),
    params: defined({
      ...shared,
      logprobs: optionalInteger(raw.logprobs, "logprobs", 0, 5),
      echo: optionalBoolean(raw.echo, "echo"),
      suffix: optionalString(raw.suffix, "suffix"),
      best_of: bestOf,
    }),
    ...streamOf(raw),
    extras: extrasOf(raw, OWN),
  };
}

function completionKind(request: TextCompletionCall): LlmKind<Completion, Completion> {
  const output = (answer: Completion): string => answer.choices.map((choice) => (typeof choice.text === "string" ? choice.text : "")).join("");
  return {
    outputOf: output,
    outputOfChunk: output,
    estimate: (text) => estimateCompletionUsage(request.prompt, text),
    usageChunk: (last, usage) => ({ id: last.id, object: "text_completion", created: last.created, model: last.model, choices: [], usage }),
  };
}

export async function runTextCompletion(request: TextCompletionCall, target: OperationTarget): Promise<TextCompletionResult> {
  const answer = await target.provider.completion(
    {
      uid: target.uid,
      dropParams: target.dropParams,
      extras: mergedExtras(target, request.extras),
      prompt: request.prompt,
      params: request.params,
      stream: request.stream,
      includeUsage: request.includeUsage,
    },
    createUpstreamClient(target.upstream, target.provider.toError),
  );
  return llmResult(answer, completionKind(request), request.includeUsage, target.upstream.signal);
}
