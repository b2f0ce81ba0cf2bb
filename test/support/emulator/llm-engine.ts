// The emulated LLM: deterministic made-up text seeded from the input (it echoes the last user message, then
// fills with words drawn from a PRNG seeded by a hash of the prompt), cut by `max_tokens` and `stop` as vLLM
// cuts it. A token is a whitespace-delimited word with its leading whitespace, so counts are easy to predict.
import { pythonJsonDumps } from "./python.js";
import { hashString, mulberry32 } from "./random.js";

export interface Generation {
  /** The output as the engine emits it, one piece per token; concatenated they are the output text. */
  pieces: string[];
  text: string;
  finishReason: "stop" | "length";
  /** Tokens generated, the one that completed a stop string included (vLLM counts it, though it drops its text). */
  completionTokens: number;
}

export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

const FILLER = [
  "the", "emulated", "model", "answers", "with", "deterministic", "words", "drawn", "from", "a", "seeded",
  "generator", "so", "every", "run", "reads", "alike", "and", "tests", "can", "rely", "on", "its", "output",
];
const ECHO_WORDS = 12;
/** Per message: the chat template's role markers and separators. */
const MESSAGE_OVERHEAD_TOKENS = 4;
/** The template's opening of the assistant's turn. */
const REPLY_PRIMER_TOKENS = 3;
/** An image whose size is unknown (an http URL the emulator does not fetch). */
const UNKNOWN_IMAGE_TOKENS = 256;
/** Qwen2-VL's vision encoder makes one token of each 28×28 patch. */
const IMAGE_PATCH = 28;

export const THINK_START = "<think>";
export const THINK_END = "</think>";

export function countTokens(text: string): number {
  return text.match(/\S+/g)?.length ?? 0;
}

export function imageTokens(size: { width: number; height: number } | undefined): number {
  if (size === undefined) return UNKNOWN_IMAGE_TOKENS;
  return Math.ceil(size.width / IMAGE_PATCH) * Math.ceil(size.height / IMAGE_PATCH);
}

export function chatPromptTokens(messageTexts: readonly string[], extraTokens: number): number {
  return messageTexts.reduce((sum, text) => sum + countTokens(text) + MESSAGE_OVERHEAD_TOKENS, REPLY_PRIMER_TOKENS) + extraTokens;
}

/** Words as pieces: the first as is, the others with a leading space. */
function asPieces(words: readonly string[], leadingSpace = false): string[] {
  return words.map((word, i) => (i === 0 && !leadingSpace ? word : ` ${word}`));
}

function filler(seedText: string, leadingSpace: boolean): string[] {
  const seed = hashString(seedText);
  const random = mulberry32(seed);
  const count = 8 + (seed % 9);
  const words = Array.from({ length: count }, () => FILLER[Math.floor(random() * FILLER.length)] as string);
  words[count - 1] = `${words[count - 1]}.`;
  return asPieces(words, leadingSpace);
}

function echo(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== "").slice(0, ECHO_WORDS);
}

export interface ReplyInput {
  /** The last user message's text. */
  userText: string;
  /** Set when the conversation ends with a tool's answer: the model reports it instead. */
  toolResult: string | undefined;
  /** Images the (vision) model was shown, with their size when it could be read. */
  images: ({ width: number; height: number } | undefined)[];
  /** Everything that shapes the output: the prompt and the `seed` parameter. */
  seedText: string;
}

/** A chat answer: "You said: <echo>." (or what the tool answered), then seeded filler words. */
export function replyDraft(input: ReplyInput): string[] {
  const words: string[] = [];
  if (input.images.length > 0) {
    const sizes = input.images.map((size) => (size === undefined ? "?" : `${size.width}x${size.height}`));
    words.push("I", "see", String(input.images.length), input.images.length === 1 ? "image" : "images", `(${sizes.join(", ")}).`);
  }
  const echoed = input.toolResult === undefined ? echo(input.userText) : echo(input.toolResult);
  words.push(...(input.toolResult === undefined ? ["You", "said:"] : ["The", "tool", "answered:"]));
  words.push(...(echoed.length > 0 ? echoed : ["nothing"]));
  return [...asPieces(words), ...filler(input.seedText, true)];
}

/** A reasoning model's raw output: its thinking, the closing tag, then the answer (R1 opens `<think>` in the prompt). */
export function reasoningDraft(input: ReplyInput): string[] {
  const echoed = echo(input.userText);
  const thinking = asPieces(["Okay,", "the", "user", "wrote", ...(echoed.length > 0 ? echoed : ["nothing"]), "so", "I", "will", "answer."]);
  return [...thinking, "\n", THINK_END, "\n\n", ...replyDraft(input)];
}

/**
 * vLLM's `ignore_eos`: the model does not stop where its draft ends but goes on with seeded filler until the
 * token budget is spent — how benchmarks get answers of a fixed length.
 */
export function pastEos(draft: readonly string[], budget: number, seedText: string): string[] {
  const out = [...draft];
  for (let round = 1; out.length < budget; round++) out.push(...filler(`${seedText}\u0000${round}`, true));
  return out.slice(0, Math.max(draft.length, budget));
}

/** A text completion continues the prompt: seeded filler, each word with a leading space. */
export function completionDraft(seedText: string): string[] {
  return filler(seedText, true);
}

/** The raw text of a tool call as Qwen-style templates make the model write it. */
export function toolCallDraft(call: ToolCall): string[] {
  const text = `<tool_call>\n${pythonJsonDumps({ name: call.name, arguments: call.arguments }, false)}\n</tool_call>`;
  return text.split(/(?=\s)/);
}

/**
 * Applies `max_tokens` and `stop` token by token, as vLLM does: a stop string ends the output where it starts
 * (its text is dropped), `max_tokens` ends it with "length".
 */
export function generate(draft: readonly string[], maxTokens: number | undefined, stop: readonly string[]): Generation {
  const stops = stop.filter((s) => s !== "");
  const pieces: string[] = [];
  let text = "";
  for (let i = 0; i < draft.length; i++) {
    if (maxTokens !== undefined && i >= maxTokens) return { pieces, text, finishReason: "length", completionTokens: i };
    const piece = draft[i] as string;
    const candidate = text + piece;
    const cut = firstStop(candidate, stops, Math.max(0, text.length - longest(stops)));
    if (cut !== undefined) {
      pieces.push(piece);
      // A stop string may begin in earlier pieces: vLLM holds such text back, so none of it is ever sent.
      return { pieces: trimPieces(pieces, cut), text: candidate.slice(0, cut), finishReason: "stop", completionTokens: i + 1 };
    }
    pieces.push(piece);
    text = candidate;
  }
  return { pieces, text, finishReason: "stop", completionTokens: draft.length };
}

/** The pieces cut to their first `length` characters, empty pieces dropped. */
function trimPieces(pieces: readonly string[], length: number): string[] {
  const out: string[] = [];
  let used = 0;
  for (const piece of pieces) {
    if (used >= length) break;
    const kept = piece.slice(0, length - used);
    if (kept !== "") out.push(kept);
    used += kept.length;
  }
  return out;
}

function longest(stops: readonly string[]): number {
  return stops.reduce((max, s) => Math.max(max, s.length), 0);
}

function firstStop(text: string, stops: readonly string[], from: number): number | undefined {
  let best: number | undefined;
  for (const s of stops) {
    const at = text.indexOf(s, from);
    if (at >= 0 && (best === undefined || at < best)) best = at;
  }
  return best;
}

interface JsonSchema {
  type?: unknown;
  enum?: unknown;
  properties?: unknown;
  required?: unknown;
}

/**
 * The call a tool-calling model makes: the requested function, with arguments made from its JSON schema (its
 * required properties, or all of them) and words of the user's message, so that tests can predict them.
 */
export function planToolCall(name: string, parameters: unknown, userText: string): ToolCall {
  const schema = (typeof parameters === "object" && parameters !== null ? parameters : {}) as JsonSchema;
  const properties = (typeof schema.properties === "object" && schema.properties !== null ? schema.properties : {}) as Record<string, JsonSchema>;
  const required = Array.isArray(schema.required) ? schema.required.filter((k): k is string => typeof k === "string") : [];
  const names = required.length > 0 ? required : Object.keys(properties);
  const words = echo(userText);
  const args: Record<string, unknown> = {};
  names.forEach((key, i) => {
    args[key] = exampleValue(properties[key] ?? {}, words[words.length - 1 - i] ?? key);
  });
  return { name, arguments: args };
}

function exampleValue(schema: JsonSchema, word: string): unknown {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  switch (schema.type) {
    case "integer":
    case "number":
      return 1;
    case "boolean":
      return true;
    case "array":
      return [];
    case "object":
      return {};
    default:
      return word.replace(/[^\p{L}\p{N}_-]+/gu, "") || word;
  }
}
