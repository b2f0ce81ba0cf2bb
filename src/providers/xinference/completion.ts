/**
 * Text completions: OpenAI's request to Xinference's `POST /v1/completions`. Xinference takes one prompt
 * string; `n` > 1 and `logit_bias` are unsupported, as on chat. Its streams end without `[DONE]` and carry the
 * usage so far on every chunk: the chunks passed on carry none, and the usage chunk only when asked for.
 */
import { BadRequestError } from "../../errors.js";
import type { Completion } from "../../openai/completions.js";
import type { UpstreamClient } from "../../upstream/client.js";
import { isRecord, unexpectedResponse } from "../shape.js";
import type { LlmAnswer, TextCompletionRequest } from "../types.js";
import { LABEL, PROVIDER } from "./constants.js";
import { llmAnswer } from "../llm-answer.js";
import { llmBody, xinferenceStream } from "./llm.js";

const PATH = "/completions";

function completionBody(request: TextCompletionRequest): Record<string, unknown> {
  if (typeof request.prompt !== "string") {
    throw new BadRequestError("Xinference takes one prompt string for text completions, not a list or token ids: send one call per prompt.", {
      provider: PROVIDER,
      param: "prompt",
    });
  }
  const body = llmBody(request, "text completions");
  body.prompt = request.prompt;
  return body;
}

function wholeAnswer(json: unknown): Completion {
  if (!isRecord(json) || !Array.isArray(json.choices)) throw unexpectedResponse(PROVIDER, LABEL, "no `choices` list");
  return { ...(json as unknown as Completion), object: "text_completion" };
}

export function completion(request: TextCompletionRequest, client: UpstreamClient): Promise<LlmAnswer<Completion, Completion>> {
  const shape = (json: Record<string, unknown>): Completion => ({ ...json, object: "text_completion" }) as unknown as Completion;
  return llmAnswer(client, PATH, completionBody(request), request, wholeAnswer, shape, xinferenceStream(client, PATH));
}
