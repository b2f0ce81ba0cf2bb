// Chat and completion answers as a plain OpenAI-compatible server (vLLM's, OpenAI's) writes them, for the
// "openai" flavor: compact JSON everywhere, a role chunk first, `usage` only in the final usage chunk (and
// `"usage": null` on the others) when `include_usage` asks for it, every choice of `n`, tool calls streamed
// as name then arguments, and [DONE] at the end of every stream, text completions included.
import { randomBytes } from "node:crypto";
import { THINK_END } from "./llm-engine.js";
import { unixNow, usageOf } from "./llm-wire.js";
import type { ChatChoice, ChatTurn, LlmWire } from "./llm-wire.js";
import { PLAIN_FRAMING } from "./stream.js";
import type { PacedEvent } from "./stream.js";

const hexId = (bytes: number): string => randomBytes(bytes).toString("hex");

export const OPENAI_LLM_WIRE: LlmWire = {
  framing: PLAIN_FRAMING,

  chatBody(turn) {
    return JSON.stringify({
      id: `chatcmpl-${hexId(16)}`,
      object: "chat.completion",
      created: unixNow(),
      model: turn.uid,
      choices: turn.choices.map((choice, index) => ({
        index,
        message: message(choice, turn),
        logprobs: null,
        finish_reason: choice.toolCall === undefined ? choice.generation.finishReason : "tool_calls",
      })),
      usage: usageOf(turn.promptTokens, completionTokens(turn.choices.map((c) => c.generation.completionTokens))),
    });
  },

  chatEvents(turn) {
    const id = `chatcmpl-${hexId(16)}`;
    const created = unixNow();
    const chunk = (index: number, delta: Record<string, unknown>, finishReason: string | null): string =>
      JSON.stringify({
        id,
        object: "chat.completion.chunk",
        created,
        model: turn.uid,
        choices: [{ index, delta, logprobs: null, finish_reason: finishReason }],
        ...(turn.includeUsage ? { usage: null } : {}),
      });
    const perChoice = turn.choices.map((choice, index) => {
      const events: PacedEvent[] = [{ data: chunk(index, { role: "assistant", content: "" }, null), afterTokens: 1 }];
      const total = choice.generation.completionTokens;
      if (choice.toolCall !== undefined) {
        const call = { index: 0, id: `call_${hexId(12)}`, type: "function", function: { name: choice.toolCall.name, arguments: "" } };
        events.push({ data: chunk(index, { tool_calls: [call] }, null), afterTokens: 1 });
        events.push({ data: chunk(index, { tool_calls: [{ index: 0, function: { arguments: JSON.stringify(choice.toolCall.arguments) } }] }, null), afterTokens: total });
        events.push({ data: chunk(index, {}, "tool_calls"), afterTokens: total });
        return events;
      }
      let inThinking = turn.reasoning !== "none";
      choice.generation.pieces.forEach((piece, i) => {
        // vLLM's reasoning parser: everything before the end tag is reasoning, the tag itself is dropped.
        if (inThinking && piece === THINK_END) {
          inThinking = false;
          return;
        }
        events.push({ data: chunk(index, inThinking ? { reasoning_content: piece } : { content: piece }, null), afterTokens: i + 1 });
      });
      events.push({ data: chunk(index, {}, choice.generation.finishReason), afterTokens: total });
      return events;
    });
    const events = interleave(perChoice);
    const total = Math.max(...turn.choices.map((c) => c.generation.completionTokens));
    if (turn.includeUsage) {
      const usage = usageOf(turn.promptTokens, completionTokens(turn.choices.map((c) => c.generation.completionTokens)));
      events.push({ data: JSON.stringify({ id, object: "chat.completion.chunk", created, model: turn.uid, choices: [], usage }), afterTokens: total });
    }
    events.push({ data: "[DONE]", afterTokens: total });
    return events;
  },

  completionBody(turn) {
    return JSON.stringify({
      id: `cmpl-${hexId(16)}`,
      object: "text_completion",
      created: unixNow(),
      model: turn.uid,
      choices: turn.choices.map((g, index) => ({ index, text: g.text, logprobs: null, finish_reason: g.finishReason })),
      usage: usageOf(turn.promptTokens, completionTokens(turn.choices.map((g) => g.completionTokens))),
    });
  },

  completionEvents(turn) {
    const id = `cmpl-${hexId(16)}`;
    const created = unixNow();
    const chunk = (index: number, text: string, finishReason: string | null): string =>
      JSON.stringify({
        id,
        object: "text_completion",
        created,
        model: turn.uid,
        choices: [{ index, text, logprobs: null, finish_reason: finishReason }],
        ...(turn.includeUsage ? { usage: null } : {}),
      });
    const events = interleave(
      turn.choices.map((g, index) => [
        ...g.pieces.map((piece, i) => ({ data: chunk(index, piece, null), afterTokens: i + 1 })),
        { data: chunk(index, "", g.finishReason), afterTokens: g.completionTokens },
      ]),
    );
    const total = Math.max(...turn.choices.map((g) => g.completionTokens));
    if (turn.includeUsage) {
      const usage = usageOf(turn.promptTokens, completionTokens(turn.choices.map((g) => g.completionTokens)));
      events.push({ data: JSON.stringify({ id, object: "text_completion", created, model: turn.uid, choices: [], usage }), afterTokens: total });
    }
    events.push({ data: "[DONE]", afterTokens: total });
    return events;
  },

  failureEvents(message) {
    return [
      { data: JSON.stringify({ error: { message, type: "InternalServerError", param: null, code: 500 } }), afterTokens: 0 },
      { data: "[DONE]", afterTokens: 0 },
    ];
  },
};

function message(choice: ChatChoice, turn: ChatTurn): Record<string, unknown> {
  if (choice.toolCall !== undefined) {
    const call = { id: `call_${hexId(12)}`, type: "function", function: { name: choice.toolCall.name, arguments: JSON.stringify(choice.toolCall.arguments) } };
    return { role: "assistant", content: null, tool_calls: [call] };
  }
  const text = choice.generation.text;
  if (turn.reasoning === "none") return { role: "assistant", content: text, tool_calls: [] };
  const end = text.indexOf(THINK_END);
  if (end < 0) return { role: "assistant", content: null, reasoning_content: text, tool_calls: [] };
  return { role: "assistant", content: text.slice(end + THINK_END.length), reasoning_content: text.slice(0, end), tool_calls: [] };
}

function completionTokens(counts: number[]): number {
  return counts.reduce((sum, n) => sum + n, 0);
}

/** The choices' events merged in the order their tokens are generated (all choices decode together). */
function interleave(perChoice: PacedEvent[][]): PacedEvent[] {
  return perChoice.flat().sort((a, b) => a.afterTokens - b.afterTokens);
}
