import { textCompletion as operation } from "../operations/index.js";
import type { Completion } from "../openai/completions.js";
import type { TextCompletionParams } from "../types.js";
import { callOperation } from "./call.js";
import { CompletionStream } from "./stream.js";

/**
 * Creates a text completion (`/completions`): a prompt continued. With `stream: true`, a
 * {@link CompletionStream} of `Completion` chunks, each holding the new text; cancelled like `completion`'s.
 *
 * @example
 * import { textCompletion } from "xgate";
 * const res = await textCompletion({ model: "xinference/qwen2.5-instruct", prompt: "Once upon a time", max_tokens: 32 });
 * res.choices[0].text;
 *
 * const stream = await textCompletion({ model: "xinference/qwen2.5-instruct", prompt: "Once upon a time", stream: true });
 * for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.text ?? "");
 */
export async function textCompletion(params: TextCompletionParams & { stream: true }): Promise<CompletionStream<Completion>>;
export async function textCompletion(params: TextCompletionParams & { stream?: false | null }): Promise<Completion>;
export async function textCompletion(params: TextCompletionParams): Promise<Completion | CompletionStream<Completion>>;
export async function textCompletion(params: TextCompletionParams): Promise<Completion | CompletionStream<Completion>> {
  const result = await callOperation(operation, params);
  return result.stream ? new CompletionStream(result.chunks(params.model), result.done) : result.answer(params.model);
}
