// Chat and completion answers as Xinference writes them on its vLLM engine (xinference/model/llm/vllm/core.py
// and the ChatModelMixin in llm/utils.py): compact JSON bodies; stream chunks as Python's
// json.dumps(chunk, ensure_ascii=False) with sse-starlette framing. Its quirks kept: ids are "chat" + a uuid1
// (tool answers "chatcmpl-" + a fresh uuid4 per chunk), the chunk that finishes a stream carries `usage` even
// without `include_usage`, a tool-call stream carries none, text-completion streams end without [DONE].
import { randomBytes, randomUUID } from "node:crypto";
import { THINK_END, THINK_START } from "./llm-engine.js";
import type { Generation } from "./llm-engine.js";
import { unixNow, usageOf } from "./llm-wire.js";
import type { ChatChoice, LlmWire, ReasoningMode } from "./llm-wire.js";
import { pythonJsonDumps } from "./python.js";
import { STARLETTE_FRAMING } from "./stream.js";
import type { PacedEvent } from "./stream.js";

type Delta = Record<string, unknown>;

interface StreamPiece {
  delta: Delta;
  afterTokens: number;
}

const dumps = (value: unknown): string => pythonJsonDumps(value, false);

export const XINFERENCE_LLM_WIRE: LlmWire = {
  framing: STARLETTE_FRAMING,

  chatBody(turn) {
    const choice = turn.choices[0] as ChatChoice;
    const usage = usageOf(turn.promptTokens, choice.generation.completionTokens);
    if (turn.toolsGiven) {
      const call = choice.toolCall;
      return JSON.stringify({
        id: `chatcmpl-${randomUUID()}`,
        model: turn.uid,
        object: "chat.completion",
        created: unixNow(),
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: call === undefined ? choice.generation.text : "", tool_calls: call === undefined ? [] : [toolCallJson(call)] },
            logprobs: null,
            // The post-processor knows only "a tool was called" or not: a cut-off answer also says "stop".
            finish_reason: call === undefined ? "stop" : "tool_calls",
          },
        ],
        usage,
      });
    }
    return JSON.stringify({
      id: `chat${uuid1()}`,
      object: "chat.completion",
      created: unixNow(),
      model: turn.uid,
      choices: [{ index: 0, message: chatMessage(choice.generation.text, turn.reasoning), logprobs: null, finish_reason: choice.generation.finishReason }],
      usage,
    });
  },

  chatEvents(turn) {
    const choice = turn.choices[0] as ChatChoice;
    const total = choice.generation.completionTokens;
    const usage = usageOf(turn.promptTokens, total);
    const created = unixNow();
    const events: PacedEvent[] = [];
    if (turn.toolsGiven) {
      // Tool answers go through the tool post-processor: its own chunk shape, a new id on every chunk.
      const toolChunk = (delta: Delta, finishReason: string | null, chunkUsage: unknown): string =>
        dumps({
          id: `chatcmpl-${randomUUID()}`,
          model: turn.uid,
          object: "chat.completion.chunk",
          created,
          choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
          usage: chunkUsage,
        });
      const call = choice.toolCall;
      if (call === undefined) {
        choice.generation.pieces.forEach((piece, i) => {
          events.push({ data: toolChunk({ role: "assistant", content: piece, tool_calls: [] }, null, null), afterTokens: i + 1 });
        });
        events.push({ data: toolChunk({ role: "assistant", content: "", tool_calls: [] }, choice.generation.finishReason, usage), afterTokens: total });
      } else {
        // vLLM holds a call back until it is complete, so it arrives in one chunk after the last token.
        events.push({ data: toolChunk({ role: "assistant", content: "", tool_calls: [{ index: 0, ...toolCallJson(call) }] }, null, null), afterTokens: total });
        events.push({ data: toolChunk({ role: "assistant", content: "", tool_calls: [] }, "tool_calls", null), afterTokens: total });
      }
    } else {
      const id = `chat${uuid1()}`;
      const chunk = (delta: Delta, finishReason: string | null, chunkUsage: unknown): string =>
        dumps({
          id,
          model: turn.uid,
          created,
          object: "chat.completion.chunk",
          choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
          usage: chunkUsage,
        });
      const pieces = streamPieces(choice.generation, turn.reasoning);
      const finalDelta: Delta = turn.reasoning === "split" ? { content: "", reasoning_content: null } : { content: "" };
      pieces.push({ delta: finalDelta, afterTokens: total });
      // The first chunk gets the role, and `content: null` when it has none.
      const first = pieces[0] as StreamPiece;
      first.delta = { ...first.delta, role: "assistant", content: first.delta.content ?? null };
      pieces.forEach((piece, i) => {
        const last = i === pieces.length - 1;
        events.push({ data: chunk(piece.delta, last ? choice.generation.finishReason : null, last ? usage : null), afterTokens: piece.afterTokens });
      });
    }
    if (turn.includeUsage) {
      events.push({
        data: dumps({ id: `chat${uuid1()}`, model: turn.uid, created, object: "chat.completion.chunk", choices: [], usage }),
        afterTokens: total,
      });
    }
    events.push({ data: "[DONE]", afterTokens: total });
    return events;
  },

  completionBody(turn) {
    const generation = turn.choices[0] as Generation;
    return JSON.stringify({
      id: uuid1(),
      object: "text_completion",
      created: unixNow(),
      model: turn.uid,
      choices: [{ text: generation.text, index: 0, logprobs: null, finish_reason: generation.finishReason }],
      usage: usageOf(turn.promptTokens, generation.completionTokens),
    });
  },

  completionEvents(turn) {
    const generation = turn.choices[0] as Generation;
    const id = uuid1();
    const created = unixNow();
    const total = generation.completionTokens;
    const chunk = (choices: unknown[], tokens: number): string =>
      dumps({ id, object: "text_completion", created, model: turn.uid, choices, usage: usageOf(turn.promptTokens, tokens) });
    // Every chunk carries the usage so far; the stream just ends (no [DONE]).
    const events: PacedEvent[] = generation.pieces.map((piece, i) => ({
      data: chunk([{ text: piece, index: 0, logprobs: null, finish_reason: null }], i + 1),
      afterTokens: i + 1,
    }));
    events.push({ data: chunk([{ text: "", index: 0, logprobs: null, finish_reason: generation.finishReason }], total), afterTokens: total });
    if (turn.includeUsage) events.push({ data: chunk([], total), afterTokens: total });
    return events;
  },

  failureEvents(message) {
    // `yield dict(data=json.dumps({"error": str(ex)}))`, then the generator returns: no [DONE] after it.
    return [{ data: pythonJsonDumps({ error: message }), afterTokens: 0 }];
  },
};

function toolCallJson(call: NonNullable<ChatChoice["toolCall"]>): Record<string, unknown> {
  return {
    id: `call_${randomUUID()}`,
    type: "function",
    function: { name: call.name, arguments: pythonJsonDumps(call.arguments, false) },
  };
}

function chatMessage(raw: string, mode: ReasoningMode): Record<string, unknown> {
  if (mode === "none") return { role: "assistant", content: raw };
  const text = withThinkStart(raw);
  if (mode === "inline") return { role: "assistant", content: text };
  const [reasoning, content] = extractReasoning(text);
  return { role: "assistant", content, reasoning_content: reasoning };
}

/** The reasoning parser prepends the start tag that R1's chat template had put in the prompt. */
function withThinkStart(text: string): string {
  return text.includes(THINK_START) ? text : `${THINK_START}\n${text}`;
}

/** `ReasoningParser.extract_reasoning_content`: all of it is reasoning until the end tag shows up. */
function extractReasoning(text: string): [string, string] {
  const end = text.indexOf(THINK_END);
  if (end < 0) return [text, ""];
  const start = text.indexOf(THINK_START);
  return [text.slice(start + THINK_START.length, end), text.slice(end + THINK_END.length)];
}

/** The content deltas of a stream: the generated pieces, after the inserted start tag and the reasoning parser. */
function streamPieces(generation: Generation, mode: ReasoningMode): StreamPiece[] {
  const pieces = generation.pieces.map((text, i) => ({ text, afterTokens: i + 1 }));
  if (mode === "none") return pieces.map((p) => ({ delta: { content: p.text }, afterTokens: p.afterTokens }));
  // The inserted start tag goes out with the first token.
  pieces.unshift({ text: `${THINK_START}\n`, afterTokens: 1 });
  if (mode === "inline") return pieces.map((p) => ({ delta: { content: p.text }, afterTokens: p.afterTokens }));
  let previous = "";
  return pieces.map((p) => {
    const delta = streamingReasoningDelta(previous, p.text);
    previous += p.text;
    return { delta, afterTokens: p.afterTokens };
  });
}

/** `ReasoningParser.extract_reasoning_content_streaming`, for output that opens with the start tag. */
function streamingReasoningDelta(previous: string, delta: string): Delta {
  const endIn = (text: string): number => text.indexOf(THINK_END);
  const split = (text: string, from: number): Delta => {
    const end = endIn(text);
    const content = text.slice(end + THINK_END.length);
    return { reasoning_content: text.slice(from, end), content: content === "" ? null : content };
  };
  if (previous.includes(THINK_START)) {
    if (endIn(delta) >= 0) return split(delta, 0);
    if (endIn(previous) >= 0) return { reasoning_content: null, content: delta };
    return { reasoning_content: delta, content: null };
  }
  const start = delta.indexOf(THINK_START) + THINK_START.length;
  if (endIn(delta) >= 0) return split(delta, start);
  return { reasoning_content: delta.slice(start), content: null };
}

let lastUuidTime = 0n;
let uuidClockSeq = randomBytes(2).readUInt16BE(0) & 0x3fff;
const UUID_NODE = (() => {
  const node = randomBytes(6);
  node[0] = (node[0] as number) | 0x01; // a random node id has the multicast bit set (RFC 4122 §4.5)
  return node.toString("hex");
})();

/** `str(uuid.uuid1())`: Xinference's vLLM engine names each request with one. */
function uuid1(): string {
  // 100-ns intervals since 1582-10-15, the UUID epoch.
  let time = BigInt(Date.now()) * 10000n + 0x01b21dd213814000n;
  if (time <= lastUuidTime) {
    uuidClockSeq = (uuidClockSeq + 1) & 0x3fff;
    time = lastUuidTime + 1n;
  }
  lastUuidTime = time;
  const hex = time.toString(16).padStart(15, "0");
  const low = hex.slice(7, 15);
  const mid = hex.slice(3, 7);
  const high = `1${hex.slice(0, 3)}`;
  const seq = (uuidClockSeq | 0x8000).toString(16).padStart(4, "0");
  return `${low}-${mid}-${high}-${seq}-${UUID_NODE}`;
}
