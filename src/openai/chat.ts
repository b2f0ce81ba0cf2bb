/**
 * OpenAI's chat completion wire format (`POST /v1/chat/completions`): the request as clients send it, the
 * answer, and the chunks of a streamed answer. Written from OpenAI's API reference; xgate depends on no
 * client package for it. Snake_case on purpose: these are the bytes on the wire.
 */
import type { SamplingParams } from "./sampling.js";
import type { CompletionUsage } from "./usage.js";

export interface ChatCompletionContentPartText {
  type: "text";
  text: string;
}

export interface ChatCompletionContentPartImage {
  type: "image_url";
  image_url: { url: string; detail?: "auto" | "low" | "high" };
}

export interface ChatCompletionContentPartInputAudio {
  type: "input_audio";
  input_audio: { data: string; format: "wav" | "mp3" };
}

export type ChatCompletionContentPart =
  | ChatCompletionContentPartText
  | ChatCompletionContentPartImage
  | ChatCompletionContentPartInputAudio;

export interface ChatCompletionMessageToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface ChatCompletionSystemMessageParam {
  role: "system" | "developer";
  content: string | ChatCompletionContentPartText[];
  name?: string;
}

export interface ChatCompletionUserMessageParam {
  role: "user";
  content: string | ChatCompletionContentPart[];
  name?: string;
}

export interface ChatCompletionAssistantMessageParam {
  role: "assistant";
  content?: string | ChatCompletionContentPartText[] | null;
  name?: string;
  tool_calls?: ChatCompletionMessageToolCall[];
  /** What a reasoning model thought, as Xinference and vLLM return it; some servers want it back. */
  reasoning_content?: string | null;
}

export interface ChatCompletionToolMessageParam {
  role: "tool";
  content: string | ChatCompletionContentPartText[];
  tool_call_id: string;
}

export type ChatCompletionMessageParam =
  | ChatCompletionSystemMessageParam
  | ChatCompletionUserMessageParam
  | ChatCompletionAssistantMessageParam
  | ChatCompletionToolMessageParam;

export interface FunctionDefinition {
  name: string;
  description?: string;
  /** A JSON Schema object. */
  parameters?: Record<string, unknown>;
  strict?: boolean;
}

export interface ChatCompletionTool {
  type: "function";
  function: FunctionDefinition;
}

export type ChatCompletionToolChoiceOption = "none" | "auto" | "required" | { type: "function"; function: { name: string } };

export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; json_schema: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean } };

export interface StreamOptions {
  include_usage?: boolean;
}

/** The sampling and output parameters a chat request may carry besides `model`, `messages` and `stream`. */
export interface ChatCompletionSamplingParams extends SamplingParams {
  max_completion_tokens?: number;
  logprobs?: boolean;
  top_logprobs?: number;
  tools?: ChatCompletionTool[];
  tool_choice?: ChatCompletionToolChoiceOption;
  parallel_tool_calls?: boolean;
  response_format?: ResponseFormat;
}

export interface ChatCompletionCreateParams extends ChatCompletionSamplingParams {
  model: string;
  messages: ChatCompletionMessageParam[];
  stream?: boolean | null;
  stream_options?: StreamOptions | null;
}

export type ChatFinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call";

export interface ChatCompletionMessage {
  role: "assistant";
  content: string | null;
  refusal?: string | null;
  tool_calls?: ChatCompletionMessageToolCall[];
  /** A reasoning model's thinking (Xinference, vLLM, DeepSeek): not in OpenAI's own answers. */
  reasoning_content?: string | null;
}

export interface ChatCompletionTokenLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
  top_logprobs: { token: string; logprob: number; bytes: number[] | null }[];
}

export interface ChoiceLogprobs {
  content: ChatCompletionTokenLogprob[] | null;
  refusal?: ChatCompletionTokenLogprob[] | null;
}

export interface ChatCompletionChoice {
  index: number;
  message: ChatCompletionMessage;
  finish_reason: ChatFinishReason | null;
  logprobs: ChoiceLogprobs | null;
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: ChatCompletionChoice[];
  usage?: CompletionUsage;
  system_fingerprint?: string | null;
}

/** A streamed tool call: the first chunk of a call has its id, type and name; later ones add to its arguments. */
export interface ChatCompletionChunkToolCall {
  index: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
}

export interface ChatCompletionChunkDelta {
  role?: "assistant";
  content?: string | null;
  refusal?: string | null;
  tool_calls?: ChatCompletionChunkToolCall[];
  reasoning_content?: string | null;
}

export interface ChatCompletionChunkChoice {
  index: number;
  delta: ChatCompletionChunkDelta;
  finish_reason: ChatFinishReason | null;
  logprobs?: ChoiceLogprobs | null;
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  /** Empty in the last chunk of a stream that asked for `stream_options.include_usage`, which carries `usage`. */
  choices: ChatCompletionChunkChoice[];
  usage?: CompletionUsage | null;
  system_fingerprint?: string | null;
}
