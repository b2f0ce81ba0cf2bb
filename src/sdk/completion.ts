import { chat } from "../operations/index.js";
import type { ChatCompletion, ChatCompletionChunk } from "../openai/chat.js";
import type { ChatCompletionParams } from "../types.js";
import { callOperation } from "./call.js";
import { CompletionStream } from "./stream.js";

/**
 * Creates a chat completion, OpenAI-shaped. With `stream: true`, resolves once the first chunk has arrived
 * (failures before then are retried) with a {@link CompletionStream} of `ChatCompletionChunk`s; breaking out
 * of the loop or aborting `signal` cancels the upstream call. Reasoning models' thinking comes in
 * `reasoning_content`. Parameters the model cannot take fail with UnsupportedParamsError unless `drop_params`.
 *
 * @example
 * import { completion } from "xgate";
 * const res = await completion({
 *   model: "xinference/qwen2.5-instruct",
 *   messages: [{ role: "user", content: "Say hello" }],
 *   max_tokens: 64,
 * });
 * res.choices[0].message.content;
 *
 * const stream = await completion({ model: "xinference/qwen2.5-instruct", messages, stream: true });
 * for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? "");
 */
export async function completion(params: ChatCompletionParams & { stream: true }): Promise<CompletionStream<ChatCompletionChunk>>;
export async function completion(params: ChatCompletionParams & { stream?: false | null }): Promise<ChatCompletion>;
export async function completion(params: ChatCompletionParams): Promise<ChatCompletion | CompletionStream<ChatCompletionChunk>>;
export async function completion(params: ChatCompletionParams): Promise<ChatCompletion | CompletionStream<ChatCompletionChunk>> {
  const result = await callOperation(chat, params);
  return result.stream ? new CompletionStream(result.chunks(params.model), result.done) : result.answer(params.model);
}
