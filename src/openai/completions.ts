/**
 * OpenAI's (legacy) text completion wire format (`POST /v1/completions`): the request, the answer, and a
 * streamed answer's chunks, which have the answer's own shape.
 */
import type { SamplingParams } from "./sampling.js";
import type { CompletionUsage } from "./usage.js";

export interface CompletionCreateParams extends SamplingParams {
  model: string;
  /** Xinference takes one string; OpenAI also takes several, or token ids. */
  prompt: string | string[] | number[] | number[][];
  /** How many of the most likely tokens to report per position (0 to 5). */
  logprobs?: number;
  echo?: boolean;
  suffix?: string;
  best_of?: number;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
}

export interface CompletionLogprobs {
  text_offset?: number[];
  token_logprobs?: number[];
  tokens?: string[];
  top_logprobs?: Record<string, number>[];
}

export interface CompletionChoice {
  index: number;
  text: string;
  finish_reason: "stop" | "length" | "content_filter" | null;
  logprobs: CompletionLogprobs | null;
}

/** A whole answer, and each chunk of a streamed one (a chunk's `text` is the new piece). */
export interface Completion {
  id: string;
  object: "text_completion";
  created: number;
  model: string;
  /** Empty in the last chunk of a stream that asked for `stream_options.include_usage`, which carries `usage`. */
  choices: CompletionChoice[];
  usage?: CompletionUsage | null;
  system_fingerprint?: string | null;
}
