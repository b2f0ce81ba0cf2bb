import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startEmulator } from "../support/emulator/index.js";
import type { Emulator } from "../support/emulator/index.js";
import { postJson } from "./helpers.js";
import { dataOf, jsonEvents, readBlocks, sseBlocks, streamRequest } from "./stream-helpers.js";
import type { ChatChunk } from "./stream-helpers.js";

const CRLF = "\r\n\r\n";
const USER = [{ role: "user", content: "tell me about cats and dogs" }];
const CHAT = { model: "qwen2.5-instruct", messages: USER, stream: true };

interface CompletionChunk {
  id: string;
  object: string;
  choices: { text: string; index: number; finish_reason: string | null }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

async function streamText(emulator: Emulator, path: string, body: unknown): Promise<{ res: Response; text: string }> {
  const res = await streamRequest(emulator, path, body);
  return { res, text: await res.text() };
}

describe("streamed chat and completions (Xinference's framing)", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({
      models: [
        { model_name: "qwen2.5-instruct", model_type: "LLM" },
        { model_name: "deepseek-r1-distill-qwen", model_type: "LLM", model_uid: "r1" },
        { model_name: "deepseek-r1-distill-qwen", model_type: "LLM", model_uid: "r1-split", reasoning_content: true },
        { model_name: "gpt-2", model_type: "LLM" },
        { model_name: "bge-base-en", model_type: "embedding" },
      ],
    });
  });
  after(() => emulator.close());

  test("chat: sse-starlette's headers, CRLF-separated data events, Python-spaced JSON, then [DONE]", async () => {
    const { res, text } = await streamText(emulator, "/chat/completions", CHAT);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.equal(res.headers.get("x-accel-buffering"), "no");
    assert.ok(text.endsWith(`data: [DONE]${CRLF}`));
    assert.ok(!/[^\r]\n/.test(text), "no bare LF anywhere");
    const blocks = sseBlocks(text, CRLF);
    assert.ok(blocks.every((b) => b.startsWith("data: ")));
    assert.ok(blocks[0]?.startsWith('data: {"id": "chat'), "json.dumps separators");
    const chunks = jsonEvents<ChatChunk>(blocks);
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
    assert.deepEqual(chunks[0]?.choices[0]?.delta, { content: "You", role: "assistant" });
    assert.ok(chunks.slice(0, -1).every((c) => c.usage === null && c.choices[0]?.finish_reason === null));
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices[0]?.delta, { content: "" });
    assert.equal(last.choices[0]?.finish_reason, "stop");
    // Xinference's final chunk carries the usage even though include_usage defaults to false.
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    const nonStreamed = (await (await postJson(emulator, "/chat/completions", { ...CHAT, stream: false })).json()) as {
      choices: { message: { content: string } }[];
      usage: unknown;
    };
    assert.equal(content, nonStreamed.choices[0]?.message.content);
    assert.deepEqual(last.usage, nonStreamed.usage);
  });

  test("include_usage adds the usage chunk (choices: []) before [DONE]", async () => {
    const plain = jsonEvents<ChatChunk>(sseBlocks((await streamText(emulator, "/chat/completions", CHAT)).text, CRLF));
    assert.ok(plain.every((c) => c.choices.length > 0));
    const { text } = await streamText(emulator, "/chat/completions", { ...CHAT, stream_options: { include_usage: true } });
    const chunks = jsonEvents<ChatChunk>(sseBlocks(text, CRLF));
    const usageChunk = chunks.at(-1)!;
    assert.deepEqual(usageChunk.choices, []);
    assert.equal(usageChunk.object, "chat.completion.chunk");
    assert.deepEqual(usageChunk.usage, chunks.at(-2)?.usage);
    assert.equal(dataOf(sseBlocks(text, CRLF)).at(-1), "[DONE]");
  });

  test("text completions: every chunk carries the usage so far, and the stream ends without [DONE]", async () => {
    const { text } = await streamText(emulator, "/completions", { model: "gpt-2", prompt: "Once upon a time", stream: true, max_tokens: 3 });
    assert.ok(!text.includes("[DONE]"));
    const chunks = jsonEvents<CompletionChunk>(sseBlocks(text, CRLF));
    assert.deepEqual(chunks.map((c) => c.usage?.completion_tokens), [1, 2, 3, 3]);
    assert.ok(chunks.every((c) => c.object === "text_completion" && c.usage?.prompt_tokens === 4));
    assert.deepEqual(chunks.map((c) => c.choices[0]?.finish_reason), [null, null, null, "length"]);
    const withUsage = jsonEvents<CompletionChunk>(
      sseBlocks((await streamText(emulator, "/completions", { model: "gpt-2", prompt: "x", stream: true, stream_options: { include_usage: true } })).text, CRLF),
    );
    assert.deepEqual(withUsage.at(-1)?.choices, []);
  });

  test("reasoning: an inserted <think> chunk, then reasoning_content deltas until the end tag", async () => {
    const messages = [{ role: "user", content: "why" }];
    const split = jsonEvents<ChatChunk>(sseBlocks((await streamText(emulator, "/chat/completions", { model: "r1-split", messages, stream: true })).text, CRLF));
    assert.deepEqual(split[0]?.choices[0]?.delta, { reasoning_content: "\n", content: null, role: "assistant" });
    assert.deepEqual(split[1]?.choices[0]?.delta, { reasoning_content: "Okay,", content: null });
    const reasoning = split.map((c) => c.choices[0]?.delta.reasoning_content ?? "").join("");
    const content = split.map((c) => c.choices[0]?.delta.content ?? "").join("");
    assert.equal(reasoning, "\nOkay, the user wrote why so I will answer.\n");
    assert.match(content, /^\n\nYou said: why /);
    assert.deepEqual(split.at(-1)?.choices[0]?.delta, { content: "", reasoning_content: null });

    const inline = jsonEvents<ChatChunk>(sseBlocks((await streamText(emulator, "/chat/completions", { model: "r1", messages, stream: true })).text, CRLF));
    assert.deepEqual(inline[0]?.choices[0]?.delta, { content: "<think>\n", role: "assistant" });
    assert.match(inline.map((c) => c.choices[0]?.delta.content ?? "").join(""), /^<think>\nOkay, .*<\/think>\n\nYou said: why/s);
  });

  test("tool calls: one buffered chunk with the call, a tool_calls finish without usage, new ids each chunk", async () => {
    const tools = [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } } } } }];
    const { text } = await streamText(emulator, "/chat/completions", { ...CHAT, tools });
    const chunks = jsonEvents<ChatChunk>(sseBlocks(text, CRLF));
    assert.equal(chunks.length, 2);
    const [call, finish] = chunks as [ChatChunk, ChatChunk];
    assert.notEqual(call.id, finish.id);
    assert.match(call.id, /^chatcmpl-/);
    assert.deepEqual(Object.keys(call.choices[0]!.delta), ["role", "content", "tool_calls"]);
    const toolCalls = call.choices[0]?.delta.tool_calls as { index: number; function: { name: string; arguments: string } }[];
    assert.deepEqual({ index: toolCalls[0]?.index, fn: toolCalls[0]?.function }, { index: 0, fn: { name: "lookup", arguments: '{"q": "dogs"}' } });
    assert.equal(finish.choices[0]?.finish_reason, "tool_calls");
    assert.deepEqual(finish.choices[0]?.delta.tool_calls, []);
    assert.equal(finish.usage, null);
  });

  test("engine errors after the start stay HTTP 200 and arrive as data: {\"error\": ...}", async () => {
    const wrongType = await streamText(emulator, "/chat/completions", { model: "bge-base-en", messages: USER, stream: true });
    assert.equal(wrongType.res.status, 200);
    const blocks = sseBlocks(wrongType.text, CRLF);
    assert.equal(blocks.length, 1);
    assert.match(blocks[0] ?? "", /^data: \{"error": "Model model_name='bge-base-en' .* is not for chat\."\}$/);
    const tooLong = await streamText(emulator, "/completions", { model: "gpt-2", prompt: "w ".repeat(2000), stream: true });
    assert.equal(tooLong.res.status, 200);
    assert.match(tooLong.text, /^data: \{"error": "The decoder prompt \(length 2000\) is longer/);
    // Checks made before the stream keep their status.
    assert.equal((await streamRequest(emulator, "/chat/completions", { model: "nope", messages: USER, stream: true })).status, 404);
  });
});

describe("stream pacing, pings and disconnects", () => {
  test("sse-starlette pings (`: ping - <utc time>`) fall on a fixed schedule, also before the first token", async () => {
    const emulator = await startEmulator({ computeDelayMs: 60, ssePingMs: 10, models: [{ model_name: "qwen2.5-instruct", model_type: "LLM" }] });
    try {
      const { text } = await streamText(emulator, "/chat/completions", { ...CHAT, max_tokens: 2 });
      const blocks = sseBlocks(text, CRLF);
      const firstData = blocks.findIndex((b) => b.startsWith("data: "));
      assert.ok(firstData >= 1, `pings before the first token: ${JSON.stringify(blocks.slice(0, 3))}`);
      assert.match(blocks[0] ?? "", /^: ping - \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
      assert.equal(emulator.requests[0]?.streamedEvents, dataOf(blocks).length, "pings are not counted as events");
    } finally {
      await emulator.close();
    }
  });

  test("the first token arrives before the stream ends; closing the connection stops generation", async () => {
    const emulator = await startEmulator({ tokenDelayMs: 600_000, models: [{ model_name: "qwen2.5-instruct", model_type: "LLM", max_concurrent: 1 }] });
    try {
      const controller = new AbortController();
      const res = await streamRequest(emulator, "/chat/completions", CHAT, controller.signal);
      const reader = res.body!.getReader();
      const [first] = await readBlocks(reader, 1, CRLF);
      assert.match(first ?? "", /"content": "You"/);
      await emulator.waitForInFlight("qwen2.5-instruct", 1);

      // The slot is taken while the stream lasts: a second stream learns it in-band, a plain request by status.
      const busy = await streamText(emulator, "/chat/completions", CHAT);
      assert.equal(busy.res.status, 200);
      assert.equal(busy.text, `data: {"error": "429: Rate limit reached for the model. Request limit 1 for the model: qwen2.5-instruct"}${CRLF}`);
      assert.equal((await postJson(emulator, "/chat/completions", { ...CHAT, stream: false })).status, 429);

      controller.abort();
      await emulator.waitForIdle("qwen2.5-instruct");
      const record = emulator.requests[0];
      assert.equal(record?.disconnected, true);
      assert.equal(record?.streamedEvents, 1);
    } finally {
      await emulator.close();
    }
  });
});

describe("stream faults", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ models: [{ model_name: "qwen2.5-instruct", model_type: "LLM" }, { model_name: "gpt-2", model_type: "LLM" }] });
  });
  after(() => emulator.close());

  test("stream-error: N events, then the error event, and the stream ends (no [DONE])", async () => {
    emulator.setFault("chat/completions", { kind: "stream-error", afterChunks: 2, message: "CUDA error: out of memory", times: 1 });
    const { res, text } = await streamText(emulator, "/chat/completions", CHAT);
    assert.equal(res.status, 200);
    const blocks = sseBlocks(text, CRLF);
    assert.equal(blocks.length, 3);
    assert.equal(blocks[2], 'data: {"error": "CUDA error: out of memory"}');
    emulator.setFault("completions", { kind: "stream-error", afterChunks: 0, times: 1 });
    const completion = await streamText(emulator, "/completions", { model: "gpt-2", prompt: "x", stream: true });
    assert.equal(completion.text, `data: {"error": "Emulated engine failure"}${CRLF}`);
  });

  test("stream-error on a reply that is not streamed: a 500 with the message", async () => {
    emulator.setFault("chat/completions", { kind: "stream-error", afterChunks: 3, message: "boom", times: 1 });
    const res = await postJson(emulator, "/chat/completions", { ...CHAT, stream: false });
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { detail: "boom" });
  });

  test("stream-reset: N events, then the connection is reset", async () => {
    emulator.setFault("chat/completions", { kind: "stream-reset", afterChunks: 2, times: 1 });
    const res = await streamRequest(emulator, "/chat/completions", CHAT);
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const blocks = await readBlocks(reader, 2, CRLF);
    assert.equal(blocks.length, 2);
    await assert.rejects(readBlocks(reader, 1, CRLF), (error: unknown) => error instanceof Error && /terminated|ECONNRESET/.test(`${error.message} ${String(error.cause)}`));
  });

  test("stream-stall: N events, then nothing while the connection stays open", async () => {
    emulator.clearRequests();
    emulator.setFault("chat/completions", { kind: "stream-stall", afterChunks: 2, times: 1 });
    const controller = new AbortController();
    const res = await streamRequest(emulator, "/chat/completions", CHAT, controller.signal);
    await readBlocks(res.body!.getReader(), 2, CRLF);
    controller.abort();
    await emulator.waitForIdle("qwen2.5-instruct");
    assert.equal(emulator.requests[0]?.streamedEvents, 2, "an unstalled stream would have sent all its events at once");
    assert.equal(emulator.requests[0]?.disconnected, true);
  });
});
