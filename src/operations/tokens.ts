/**
 * Token counts for answers whose upstream reported none, made with a real tokenizer (OpenAI's cl100k_base
 * via js-tiktoken): an estimate — the model's own tokenizer differs — and marked as one. The tokenizer and
 * its ranks (a megabyte) are loaded only the first time an estimate is needed.
 */
import type { Tiktoken } from "js-tiktoken/lite";
import type { ChatCompletionMessageParam, ChatCompletionTool } from "../openai/chat.js";
import type { CompletionUsage } from "../openai/usage.js";

/** Per message, what OpenAI's chat format adds (role and separators); and the priming of the reply. */
const TOKENS_PER_MESSAGE = 3;
const REPLY_PRIMER_TOKENS = 3;

let tokenizer: Promise<Tiktoken> | undefined;

function loadTokenizer(): Promise<Tiktoken> {
  tokenizer ??= Promise.all([import("js-tiktoken/lite"), import("js-tiktoken/ranks/cl100k_base")]).then(
    ([{ Tiktoken }, ranks]) => new Tiktoken(ranks.default),
  );
  return tokenizer;
}

function count(encoder: Tiktoken, text: string): number {
  return text === "" ? 0 : encoder.encode(text, [], []).length;
}

/** The text of a message's content: strings as they are, text parts joined; images and audio are not counted. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part: { type?: unknown; text?: unknown }) => (part.type === "text" && typeof part.text === "string" ? part.text : "")).join("\n");
}

/** What a chat answer may be estimated from. */
export interface ChatText {
  messages: readonly ChatCompletionMessageParam[];
  tools: readonly ChatCompletionTool[] | undefined;
  /** Everything the model generated: content, reasoning and tool call arguments. */
  output: string;
}

export async function estimateChatUsage(chat: ChatText): Promise<CompletionUsage> {
  const encoder = await loadTokenizer();
  let prompt = REPLY_PRIMER_TOKENS;
  for (const message of chat.messages) {
    prompt += TOKENS_PER_MESSAGE + count(encoder, message.role) + count(encoder, contentText(message.content));
    if (message.role === "assistant" && message.tool_calls !== undefined) prompt += count(encoder, JSON.stringify(message.tool_calls));
  }
  if (chat.tools !== undefined && chat.tools.length > 0) prompt += count(encoder, JSON.stringify(chat.tools));
  const completion = count(encoder, chat.output);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export async function estimateCompletionUsage(prompt: unknown, output: string): Promise<CompletionUsage> {
  const encoder = await loadTokenizer();
  const promptText = typeof prompt === "string" ? prompt : Array.isArray(prompt) ? prompt.filter((p) => typeof p === "string").join("\n") : "";
  // Token-id prompts are their own count.
  const ids = Array.isArray(prompt) && prompt.every((p) => typeof p === "number") ? prompt.length : 0;
  const promptTokens = ids + count(encoder, promptText);
  const completion = count(encoder, output);
  return { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion };
}
