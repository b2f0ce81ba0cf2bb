/**
 * Chat completions: OpenAI's request to Xinference's `POST /v1/chat/completions`, and its answer back in
 * OpenAI's shape. What Xinference does its own way is settled here, so nothing above sees it: `enable_thinking`
 * moves into `chat_template_kwargs`; `n` > 1 and `logit_bias` are unsupported (drop_params drops them); tool
 * answers carry an empty `tool_calls` list when no tool was called and, streamed, a new id on every chunk;
 * every stream's finishing chunk carries the usage, asked for or not.
 */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionChunkChoice,
  ChatCompletionChunkDelta,
  ChatCompletionMessage,
} from "../../openai/chat.js";
import type { UpstreamClient } from "../../upstream/client.js";
import { isRecord, unexpectedResponse } from "../shape.js";
import type { ChatRequest, LlmAnswer } from "../types.js";
import { LABEL, PROVIDER } from "./constants.js";
import { llmAnswer } from "../llm-answer.js";
import { llmBody, xinferenceStream } from "./llm.js";

const PATH = "/chat/completions";

function chatBody(request: ChatRequest): Record<string, unknown> {
  const body = llmBody(request, "chat completions");
  body.messages = request.messages;
  // Qwen3-style hybrid models read it from the chat template's arguments.
  if (typeof body.enable_thinking === "boolean") {
    body.chat_template_kwargs = { ...(isRecord(body.chat_template_kwargs) ? body.chat_template_kwargs : {}), enable_thinking: body.enable_thinking };
    delete body.enable_thinking;
  }
  return body;
}

/** OpenAI leaves `tool_calls` out when no tool was called; Xinference's tool path answers `[]`. */
function withoutEmptyToolCalls<T extends { tool_calls?: unknown[] }>(value: T): T {
  if (Array.isArray(value.tool_calls) && value.tool_calls.length === 0) delete value.tool_calls;
  return value;
}

function wholeAnswer(json: unknown): ChatCompletion {
  if (!isRecord(json) || !Array.isArray(json.choices)) throw unexpectedResponse(PROVIDER, LABEL, "no `choices` list");
  const choices = json.choices.map((choice: unknown, i) => {
    if (!isRecord(choice) || !isRecord(choice.message)) throw unexpectedResponse(PROVIDER, LABEL, `choices[${i}] has no message`);
    return { ...choice, message: withoutEmptyToolCalls({ ...choice.message } as unknown as ChatCompletionMessage) };
  });
  return { ...(json as unknown as ChatCompletion), object: "chat.completion", choices: choices as ChatCompletion["choices"] };
}

/** One chat stream's chunks in OpenAI's shape: one id for the answer (the tool path names every chunk anew). */
function chunkShaper(): (json: Record<string, unknown>, choices: unknown[]) => ChatCompletionChunk {
  let id: string | undefined;
  return (json, choices) => {
    id ??= typeof json.id === "string" ? json.id : `chatcmpl-${Date.now()}`;
    return {
      ...json,
      id,
      object: "chat.completion.chunk",
      choices: choices.map((choice: unknown) => {
        if (!isRecord(choice) || !isRecord(choice.delta)) throw unexpectedResponse(PROVIDER, LABEL, "a stream choice without `delta`");
        return { ...choice, delta: withoutEmptyToolCalls({ ...choice.delta } as ChatCompletionChunkDelta) } as ChatCompletionChunkChoice;
      }),
    } as unknown as ChatCompletionChunk;
  };
}

export function chat(request: ChatRequest, client: UpstreamClient): Promise<LlmAnswer<ChatCompletion, ChatCompletionChunk>> {
  return llmAnswer(client, PATH, chatBody(request), request, wholeAnswer, chunkShaper(), xinferenceStream(client, PATH));
}
