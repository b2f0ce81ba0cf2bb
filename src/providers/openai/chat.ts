/** Chat completions: OpenAI's request to `{api_base}/chat/completions`, its answer and chunks as they come. */
import type { ChatCompletion, ChatCompletionChunk } from "../../openai/chat.js";
import type { UpstreamClient } from "../../upstream/client.js";
import { llmAnswer } from "../llm-answer.js";
import type { ChatRequest, LlmAnswer } from "../types.js";
import { llmBody, openAIStream, wholeAnswer } from "./llm.js";

const PATH = "/chat/completions";

export function chat(request: ChatRequest, client: UpstreamClient): Promise<LlmAnswer<ChatCompletion, ChatCompletionChunk>> {
  const body = llmBody(request);
  body.messages = request.messages;
  const shape = (json: Record<string, unknown>): ChatCompletionChunk => json as unknown as ChatCompletionChunk;
  return llmAnswer(client, PATH, body, request, wholeAnswer<ChatCompletion>(client), shape, openAIStream(client, PATH));
}
