/**
 * Chat completions: `parse` checks everything OpenAI's API requires of a request (see chat-messages.ts for
 * the messages), `run` makes it on one target, whole or streamed (see llm-answer.ts).
 */
import { BadRequestError } from "../errors.js";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionMessageParam,
  ChatCompletionSamplingParams,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
  ResponseFormat,
} from "../openai/chat.js";
import { isRecord } from "../providers/shape.js";
import { createUpstreamClient } from "../upstream/client.js";
import { chatMessages } from "./chat-messages.js";
import { type LlmKind, type LlmResult, llmResult } from "./llm-answer.js";
import { defined, SHARED_KEYS, sharedParams, streamOf } from "./llm-params.js";
import { estimateChatUsage } from "./tokens.js";
import { extrasOf, mergedExtras, type OperationTarget, type RawParams } from "./types.js";
import { optionalBoolean, optionalInteger } from "./validate.js";

const OWN: ReadonlySet<string> = new Set([
  "messages",
  ...SHARED_KEYS,
  "max_completion_tokens",
  "logprobs",
  "top_logprobs",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "response_format",
]);

const MAX_TOOLS = 128;
/** OpenAI's rule for function and schema names. */
const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** A chat request, checked: what the provider gets before the target fills in uid and drop_params. */
export interface ChatCall {
  messages: ChatCompletionMessageParam[];
  params: ChatCompletionSamplingParams;
  stream: boolean;
  includeUsage: boolean;
  extras: Record<string, unknown>;
  /** What the request needs of the model: checked against what its server reports, before anything is sent. */
  needs: { vision: boolean; tools: boolean };
}

export type ChatResult = LlmResult<ChatCompletion, ChatCompletionChunk>;

function fail(message: string, param: string): never {
  throw new BadRequestError(message, { param });
}

function toolsOf(value: unknown): ChatCompletionTool[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length > MAX_TOOLS) fail(`tools must be a list of at most ${MAX_TOOLS} function tools.`, "tools");
  value.forEach((tool: unknown, i) => {
    const at = `tools[${i}]`;
    const fn = isRecord(tool) ? tool.function : undefined;
    if (!isRecord(tool) || tool.type !== "function" || !isRecord(fn)) {
      fail(`${at} must be {"type": "function", "function": {"name": "get_weather", "parameters": {...}}}.`, at);
    }
    if (typeof fn.name !== "string" || !NAME.test(fn.name)) {
      fail(`${at}.function.name must be 1 to 64 letters, digits, underscores or dashes.`, `${at}.function.name`);
    }
    if (fn.description !== undefined && typeof fn.description !== "string") fail(`${at}.function.description must be a string.`, `${at}.function.description`);
    if (fn.parameters !== undefined && !isRecord(fn.parameters)) {
      fail(`${at}.function.parameters must be a JSON Schema object, e.g. {"type": "object", "properties": {...}}.`, `${at}.function.parameters`);
    }
    optionalBoolean(fn.strict, `${at}.function.strict`);
  });
  return value as ChatCompletionTool[];
}

function toolChoiceOf(value: unknown, tools: ChatCompletionTool[] | undefined): ChatCompletionToolChoiceOption | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === "none") return value;
  if (tools === undefined || tools.length === 0) fail("tool_choice is only allowed with tools: give tools, or leave tool_choice out.", "tool_choice");
  if (value === "auto" || value === "required") return value;
  const name = isRecord(value) && value.type === "function" && isRecord(value.function) ? value.function.name : undefined;
  if (typeof name !== "string") {
    fail('tool_choice must be "none", "auto", "required" or {"type": "function", "function": {"name": "..."}}.', "tool_choice");
  }
  if (!tools.some((tool) => tool.function.name === name)) {
    fail(`tool_choice names the function '${name}', which is not among the tools: ${tools.map((t) => t.function.name).join(", ")}.`, "tool_choice");
  }
  return value as ChatCompletionToolChoiceOption;
}

function responseFormatOf(value: unknown): ResponseFormat | undefined {
  if (value === undefined || value === null) return undefined;
  const type = isRecord(value) ? value.type : undefined;
  if (type === "text" || type === "json_object") return value as ResponseFormat;
  if (type === "json_schema") {
    const schema = (value as Record<string, unknown>).json_schema;
    if (!isRecord(schema) || typeof schema.name !== "string" || !NAME.test(schema.name)) {
      fail(
        'response_format json_schema needs {"json_schema": {"name": "answer", "schema": {...}}}, a name of 1 to 64 letters, digits, underscores or dashes.',
        "response_format.json_schema",
      );
    }
    if (schema.schema !== undefined && !isRecord(schema.schema)) fail("response_format.json_schema.schema must be a JSON Schema object.", "response_format.json_schema.schema");
    optionalBoolean(schema.strict, "response_format.json_schema.strict");
    return value as ResponseFormat;
  }
  return fail('response_format must be {"type": "text"}, {"type": "json_object"} or {"type": "json_schema", "json_schema": {...}}.', "response_format");
}

export function parseChat(raw: RawParams): ChatCall {
  const { messages, hasImages } = chatMessages(raw.messages);
  const shared = sharedParams(raw);
  const maxCompletionTokens = optionalInteger(raw.max_completion_tokens, "max_completion_tokens", 1);
  if (shared.max_tokens !== undefined && maxCompletionTokens !== undefined) {
    fail("Give max_completion_tokens or max_tokens (its older name), not both.", "max_tokens");
  }
  const logprobs = optionalBoolean(raw.logprobs, "logprobs");
  const topLogprobs = optionalInteger(raw.top_logprobs, "top_logprobs", 0, 20);
  if (topLogprobs !== undefined && logprobs !== true) fail("top_logprobs needs logprobs: true.", "top_logprobs");
  const tools = toolsOf(raw.tools);
  const toolChoice = toolChoiceOf(raw.tool_choice, tools);
  const params = defined({
    ...shared,
    max_completion_tokens: maxCompletionTokens,
    logprobs,
    top_logprobs: topLogprobs,
    tools,
    tool_choice: toolChoice,
    parallel_tool_calls: optionalBoolean(raw.parallel_tool_calls, "parallel_tool_calls"),
    response_format: responseFormatOf(raw.response_format),
  });
  const toolTurns = messages.some((m) => m.role === "tool" || (m.role === "assistant" && m.tool_calls !== undefined && m.tool_calls.length > 0));
  return {
    messages,
    params,
    ...streamOf(raw),
    extras: extrasOf(raw, OWN),
    needs: { vision: hasImages, tools: (tools !== undefined && tools.length > 0) || toolTurns },
  };
}

/** The text a chat answer's choices generated: content, reasoning and tool call arguments. */
function chatOutput(parts: { content?: unknown; reasoning_content?: unknown; tool_calls?: { function?: { arguments?: unknown } }[] }[]): string {
  let text = "";
  for (const part of parts) {
    if (typeof part.content === "string") text += part.content;
    if (typeof part.reasoning_content === "string") text += part.reasoning_content;
    for (const call of part.tool_calls ?? []) if (typeof call.function?.arguments === "string") text += call.function.arguments;
  }
  return text;
}

function chatKind(request: ChatCall): LlmKind<ChatCompletion, ChatCompletionChunk> {
  return {
    outputOf: (answer) => chatOutput(answer.choices.map((choice) => choice.message)),
    outputOfChunk: (chunk) => chatOutput(chunk.choices.map((choice) => choice.delta)),
    estimate: (output) => estimateChatUsage({ messages: request.messages, tools: request.params.tools, output }),
    usageChunk: (last, usage) => ({ id: last.id, object: "chat.completion.chunk", created: last.created, model: last.model, choices: [], usage }),
  };
}

export async function runChat(request: ChatCall, target: OperationTarget): Promise<ChatResult> {
  const answer = await target.provider.chat(
    {
      uid: target.uid,
      dropParams: target.dropParams,
      extras: mergedExtras(target, request.extras),
      messages: request.messages,
      params: request.params,
      stream: request.stream,
      includeUsage: request.includeUsage,
    },
    createUpstreamClient(target.upstream, target.provider.toError),
  );
  return llmResult(answer, chatKind(request), request.includeUsage, target.upstream.signal);
}
