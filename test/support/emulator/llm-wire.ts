// What the chat and completion routes hand to a flavor's wire format: the generated answer, decided up front,
// and how the flavor writes it as one JSON body or as a paced list of stream events.
import type { Generation, ToolCall } from "./llm-engine.js";
import type { Framing, PacedEvent } from "./stream.js";

export interface ChatChoice {
  generation: Generation;
  /** Set when the model calls a tool; `generation` is then the call's raw text (for the token counts). */
  toolCall: ToolCall | undefined;
}

/**
 * How a reasoning model's thinking reaches the client: not at all ("none": no reasoning model, or thinking
 * turned off), inline in `content` after an inserted `<think>` ("inline"), or in `reasoning_content` ("split").
 */
export type ReasoningMode = "none" | "inline" | "split";

export interface ChatTurn {
  /** The uid the request named; answers carry it as `model`. */
  uid: string;
  choices: ChatChoice[];
  promptTokens: number;
  /** The request sent `tools`: Xinference then answers through its tool-call post-processing. */
  toolsGiven: boolean;
  reasoning: ReasoningMode;
  includeUsage: boolean;
}

export interface CompletionTurn {
  uid: string;
  choices: Generation[];
  promptTokens: number;
  includeUsage: boolean;
}

export interface LlmWire {
  framing: Framing;
  chatBody(turn: ChatTurn): string;
  chatEvents(turn: ChatTurn): PacedEvent[];
  completionBody(turn: CompletionTurn): string;
  completionEvents(turn: CompletionTurn): PacedEvent[];
  /** The events that report an engine failure once a stream has started. */
  failureEvents(message: string, route: "chat" | "completion"): PacedEvent[];
}

export function usageOf(promptTokens: number, completionTokens: number): Record<string, number> {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
