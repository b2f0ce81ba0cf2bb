/** Text completions: OpenAI's request to `{api_base}/completions` (a prompt string, a list or token ids). */
import type { Completion } from "../../openai/completions.js";
import type { UpstreamClient } from "../../upstream/client.js";
import { llmAnswer } from "../llm-answer.js";
import type { LlmAnswer, TextCompletionRequest } from "../types.js";
import { llmBody, openAIStream, wholeAnswer } from "./llm.js";

const PATH = "/completions";

export function completion(request: TextCompletionRequest, client: UpstreamClient): Promise<LlmAnswer<Completion, Completion>> {
  const body = llmBody(request);
  body.prompt = request.prompt;
  const shape = (json: Record<string, unknown>): Completion => json as unknown as Completion;
  return llmAnswer(client, PATH, body, request, wholeAnswer<Completion>(client), shape, openAIStream(client, PATH));
}
