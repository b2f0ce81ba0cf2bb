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
import type { CompletionUsage } from "../../openai/usage.js";
import type { UpstreamClient } from "../../upstream/client.js";
import { isRecord, unexpectedResponse } from "../shape.js";
import { type EventReader, openChunkStream } from "../sse-chunks.js";
import type { ChatRequest, LlmAnswer } from "../types.js";
import { rejectUnsupported } from "../unsupported.js";
import { LABEL, PROVIDER } from "./constants.js";
import { eventObject, incompleteStream, llmBody, unsupportedOf, usageOf } from "./llm-stream.js";

const PATH = "/chat/completions";

function chatBody(request: ChatRequest): Record<string, unknown> {
  const body = llmBody(request.uid, request.extras, request.params, request.stream);
  body.messages = request.messages;
  const unsupported = unsupportedOf(body);
  rejectUnsupported(PROVIDER, "chat completions", unsupported, request.dropParams);
  for (const key of Object.keys(unsupported)) if (unsupported[key] !== undefined) delete body[key];
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

/** Reads one chat stream's events into OpenAI chunks. */
function chunkReader(request: ChatRequest, client: UpstreamClient): EventReader<ChatCompletionChunk> {
  let id: string | undefined;
  let usage: CompletionUsage | undefined;
  const unfinished = new Set<number>();
  let finished = false;
  return {
    usage: () => usage,
    event(data) {
      const json = eventObject(data, client, PATH);
      usage = usageOf(json.usage) ?? usage;
      if (!Array.isArray(json.choices)) throw unexpectedResponse(PROVIDER, LABEL, "a stream chunk without `choices`");
      // One answer, one id: the tool path names every chunk anew.
      id ??= typeof json.id === "string" ? json.id : `chatcmpl-${Date.now()}`;
      const { usage: _usage, ...rest } = json;
      const chunk = { ...rest, id, object: "chat.completion.chunk" } as unknown as ChatCompletionChunk;
      if (json.choices.length === 0) {
        // The usage chunk: the client gets it only if it asked.
        return request.includeUsage && usage !== undefined ? { ...chunk, usage } : undefined;
      }
      chunk.choices = json.choices.map((choice: unknown) => {
        if (!isRecord(choice) || !isRecord(choice.delta)) throw unexpectedResponse(PROVIDER, LABEL, "a stream choice without `delta`");
        const index = typeof choice.index === "number" ? choice.index : 0;
        if (choice.finish_reason === null || choice.finish_reason === undefined) unfinished.add(index);
        else {
          unfinished.delete(index);
          finished = true;
        }
        return { ...choice, delta: withoutEmptyToolCalls({ ...choice.delta } as ChatCompletionChunkDelta) } as ChatCompletionChunkChoice;
      });
      // With include_usage, OpenAI marks every other chunk `usage: null`; without, there is no such field.
      if (request.includeUsage) chunk.usage = null;
      return chunk;
    },
    end(sawDone) {
      if (!sawDone && (!finished || unfinished.size > 0)) throw incompleteStream(client);
    },
  };
}

export async function chat(request: ChatRequest, client: UpstreamClient): Promise<LlmAnswer<ChatCompletion, ChatCompletionChunk>> {
  const body = chatBody(request);
  if (!request.stream) return { stream: false, answer: wholeAnswer(await client.send({ method: "POST", path: PATH, json: body })) };
  const chunks = await client.stream({ method: "POST", path: PATH, json: body }, (answer) => openChunkStream(answer.body, chunkReader(request, client)));
  return { stream: true, chunks };
}
