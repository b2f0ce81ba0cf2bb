// completion() and textCompletion() against the emulator: OpenAI's shapes out of Xinference's quirks, streams
// that can be aborted (the upstream sees the close), retries before the first chunk and errors after it.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { beforeEach, describe, it } from "node:test";
import {
  APIConnectionError,
  BadRequestError,
  type ChatCompletionChunk,
  completion,
  InternalServerError,
  textCompletion,
  UnsupportedParamsError,
} from "../../src/index.js";
import { jsonBody, requestsTo, useEmulator } from "./helpers.js";

const emu = useEmulator({
  models: [
    { model_name: "qwen2.5-instruct", model_type: "LLM" },
    { model_name: "deepseek-r1-distill-qwen", model_type: "LLM", model_uid: "r1", reasoning_content: true },
    { model_name: "gpt-2", model_type: "LLM" },
  ],
});
const MODEL = "xinference/qwen2.5-instruct";
const USER = [{ role: "user" as const, content: "tell me about cats" }];
const TOOLS = [{ type: "function" as const, function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
const chatSent = (): Record<string, unknown> => jsonBody(requestsTo(emu(), "/v1/chat/completions").at(-1));

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const chunks: T[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const contentOf = (chunks: ChatCompletionChunk[]): string => chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");

beforeEach(() => {
  emu().clearRequests();
  emu().setFault("*", null);
});

describe("completion()", () => {
  it("answers a ChatCompletion named as called, with the upstream's usage; call options reach the upstream", async () => {
    const res = await completion({ model: MODEL, messages: USER, api_base: emu().baseUrl, api_key: "xf-key", extra_headers: { "x-trace": "1" }, max_tokens: 64 });
    assert.equal(res.object, "chat.completion");
    assert.equal(res.model, MODEL);
    assert.equal(res.choices[0]?.message.role, "assistant");
    assert.match(res.choices[0]?.message.content ?? "", /^You said: tell me about cats/);
    assert.equal(res.usage?.total_tokens, (res.usage?.prompt_tokens ?? 0) + (res.usage?.completion_tokens ?? 0));
    const request = requestsTo(emu(), "/v1/chat/completions").at(-1);
    assert.equal(request?.headers.authorization, "Bearer xf-key");
    assert.equal(request?.headers["x-trace"], "1");
    assert.deepEqual(jsonBody(request), { max_tokens: 64, model: "qwen2.5-instruct", stream: false, messages: USER });
  });

  it("streams the same answer chunk by chunk; the usage is always asked for upstream and passed on only when asked", async () => {
    const whole = await completion({ model: MODEL, messages: USER, api_base: emu().baseUrl });
    const stream = await completion({ model: MODEL, messages: USER, api_base: emu().baseUrl, stream: true });
    const chunks = await collect(stream);
    assert.deepEqual(chatSent().stream_options, { include_usage: true });
    assert.equal(contentOf(chunks), whole.choices[0]?.message.content);
    assert.ok(chunks.every((c) => c.object === "chat.completion.chunk" && c.model === MODEL && c.id === chunks[0]?.id));
    assert.ok(chunks.every((c) => c.choices.length === 1 && !("usage" in c)), "no usage on any chunk unless asked");
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, "stop");
    assert.deepEqual(await stream.usage, { usage: whole.usage, estimated: false });

    const counted = await collect(await completion({ model: MODEL, messages: USER, api_base: emu().baseUrl, stream: true, stream_options: { include_usage: true } }));
    const last = counted.at(-1);
    assert.deepEqual(last?.choices, []);
    assert.deepEqual(last?.usage, whole.usage);
    assert.ok(counted.slice(0, -1).every((c) => c.usage === null), "OpenAI's usage: null on the others");
  });

  it("a reasoning model's thinking comes in reasoning_content; enable_thinking goes into chat_template_kwargs", async () => {
    const res = await completion({ model: "xinference/r1", messages: USER, api_base: emu().baseUrl, enable_thinking: true });
    assert.ok((res.choices[0]?.message.reasoning_content ?? "").length > 0);
    assert.deepEqual(chatSent().chat_template_kwargs, { enable_thinking: true });
    assert.equal("enable_thinking" in chatSent(), false);
    const chunks = await collect(await completion({ model: "xinference/r1", messages: USER, api_base: emu().baseUrl, stream: true }));
    const reasoning = chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? "").join("");
    assert.equal(reasoning, res.choices[0]?.message.reasoning_content);
  });

  it("a tool round trip: the call, then the answer to its result; no empty tool_calls lists", async () => {
    const called = await completion({ model: MODEL, messages: [{ role: "user", content: "weather in Paris" }], tools: TOOLS, api_base: emu().baseUrl });
    const call = called.choices[0]?.message.tool_calls?.[0];
    assert.equal(called.choices[0]?.finish_reason, "tool_calls");
    assert.equal(call?.function.name, "get_weather");
    assert.equal(typeof JSON.parse(call?.function.arguments ?? "")?.city, "string");
    const answered = await completion({
      model: MODEL,
      tools: TOOLS,
      api_base: emu().baseUrl,
      messages: [
        { role: "user", content: "weather in Paris" },
        { role: "assistant", content: null, tool_calls: [call!] },
        { role: "tool", tool_call_id: call!.id, content: "sunny, 21 °C" },
      ],
    });
    assert.equal(answered.choices[0]?.finish_reason, "stop");
    assert.equal("tool_calls" in (answered.choices[0]?.message ?? {}), false);
    const streamed = await collect(await completion({ model: MODEL, messages: [{ role: "user", content: "weather" }], tools: TOOLS, api_base: emu().baseUrl, stream: true }));
    assert.equal(new Set(streamed.map((c) => c.id)).size, 1, "one answer, one id");
    assert.equal(streamed.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).length, 1);
    assert.equal(streamed.at(-1)?.choices[0]?.finish_reason, "tool_calls");
  });

  it("logit_bias and n > 1 are unsupported unless drop_params drops them", async () => {
    await assert.rejects(completion({ model: MODEL, messages: USER, api_base: emu().baseUrl, logit_bias: { "1": 5 } }), (err: unknown) => {
      assert.ok(err instanceof UnsupportedParamsError);
      assert.equal(err.param, "logit_bias");
      assert.match(err.message, /drop_params: true/);
      return true;
    });
    await assert.rejects(completion({ model: MODEL, messages: USER, api_base: emu().baseUrl, n: 2 }), UnsupportedParamsError);
    assert.equal(requestsTo(emu(), "/v1/chat/completions").length, 0, "refused before anything was sent");
    const res = await completion({ model: MODEL, messages: USER, api_base: emu().baseUrl, logit_bias: { "1": 5 }, n: 2, drop_params: true });
    assert.equal(res.choices.length, 1);
    assert.equal("logit_bias" in chatSent() || "n" in chatSent(), false);
  });

  it("a prompt past the model's window is the request's fault: a 400 that says so", async () => {
    const long = "word ".repeat(1100);
    await assert.rejects(textCompletion({ model: "xinference/gpt-2", prompt: long, api_base: emu().baseUrl }), (err: unknown) => {
      assert.ok(err instanceof BadRequestError);
      assert.equal(err.code, "context_length_exceeded");
      assert.match(err.message, /maximum model length of 1024/);
      return true;
    });
  });
});

describe("streams: aborts, retries, failures", () => {
  it("breaking out of the loop closes the upstream connection", async () => {
    emu().setFault("chat/completions", { kind: "stream-stall", afterChunks: 2 });
    const stream = await completion({ model: MODEL, messages: USER, api_base: emu().baseUrl, stream: true });
    for await (const _chunk of stream) break;
    await emu().waitForIdle("qwen2.5-instruct");
    assert.equal(requestsTo(emu(), "/v1/chat/completions").at(-1)?.disconnected, true);
  });

  it("aborting the signal mid-stream fails the read in progress and closes the upstream connection", async () => {
    emu().setFault("chat/completions", { kind: "stream-stall", afterChunks: 1 });
    const controller = new AbortController();
    const stream = await completion({ model: MODEL, messages: USER, api_base: emu().baseUrl, stream: true, signal: controller.signal });
    const reading = collect(stream);
    await emu().waitForInFlight("qwen2.5-instruct", 1);
    controller.abort(new Error("user gave up"));
    await assert.rejects(reading, /user gave up/);
    await emu().waitForIdle("qwen2.5-instruct");
    assert.equal(requestsTo(emu(), "/v1/chat/completions").at(-1)?.disconnected, true);
  });

  it("an in-band error as the first event is the attempt's: retried, and the stream that follows is whole", async () => {
    emu().setFault("chat/completions", { kind: "stream-error", afterChunks: 0, times: 1 });
    const chunks = await collect(await completion({ model: MODEL, messages: USER, api_base: emu().baseUrl, stream: true }));
    assert.equal(requestsTo(emu(), "/v1/chat/completions").length, 2);
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, "stop");
  });

  it("an in-band error after the first chunk fails the stream with the upstream's error", async () => {
    emu().setFault("chat/completions", { kind: "stream-error", afterChunks: 3, message: "CUDA out of memory" });
    const stream = await completion({ model: MODEL, messages: USER, api_base: emu().baseUrl, stream: true });
    const seen: ChatCompletionChunk[] = [];
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) seen.push(chunk);
      })(),
      (err: unknown) => err instanceof InternalServerError && err.origin === "upstream" && /CUDA out of memory/.test(err.message),
    );
    assert.equal(seen.length, 3);
    await assert.rejects(stream.usage, InternalServerError);
  });

  it("text completions: a stream ending without [DONE] is whole; one cut off is a connection error", async () => {
    const whole = await textCompletion({ model: MODEL, prompt: "Once upon a time", api_base: emu().baseUrl });
    const chunks = await collect(await textCompletion({ model: MODEL, prompt: "Once upon a time", api_base: emu().baseUrl, stream: true }));
    assert.equal(chunks.map((c) => c.choices[0]?.text ?? "").join(""), whole.choices[0]?.text);
    assert.ok(chunks.every((c) => c.object === "text_completion" && !("usage" in c)));
    emu().setFault("completions", { kind: "stream-reset", afterChunks: 2 });
    const cut = await textCompletion({ model: MODEL, prompt: "Once upon a time", api_base: emu().baseUrl, stream: true, num_retries: 0 });
    await assert.rejects(collect(cut), APIConnectionError);
  });
});

/** A one-answer SSE server: `events` are the data of its events, `[DONE]` after them. */
async function sseServer(events: unknown[]): Promise<{ apiBase: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(`${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("")}data: [DONE]\n\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    apiBase: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const streamChunk = (content: string, finish: string | null, usage?: unknown): unknown => ({
  id: "x",
  object: "chat.completion.chunk",
  created: 0,
  model: "m",
  choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  ...(usage === undefined ? {} : { usage }),
});

describe("usage an upstream does not report", () => {
  it("in a stream, is counted over the text of all its chunks and marked as estimated", async () => {
    const upstream = await sseServer([streamChunk("Hello", null), streamChunk(" world", "stop")]);
    try {
      const stream = await completion({ model: "xinference/m", messages: [{ role: "user", content: "Hi" }], api_base: upstream.apiBase, stream: true });
      assert.equal(contentOf(await collect(stream)), "Hello world");
      assert.deepEqual(await stream.usage, { usage: { prompt_tokens: 8, completion_tokens: 2, total_tokens: 10 }, estimated: true });
    } finally {
      await upstream.close();
    }
  });

  it("in a stream that reports it on its first chunks, is the upstream's", async () => {
    const usage = (completion_tokens: number) => ({ prompt_tokens: 5, completion_tokens, total_tokens: 5 + completion_tokens });
    const upstream = await sseServer([streamChunk("Hello", null, usage(1)), streamChunk(" world", null, usage(2)), streamChunk("!", "stop", usage(3))]);
    try {
      const stream = await completion({ model: "xinference/m", messages: [{ role: "user", content: "Hi" }], api_base: upstream.apiBase, stream: true });
      assert.equal(contentOf(await collect(stream)), "Hello world!");
      assert.deepEqual(await stream.usage, { usage: usage(3), estimated: false });
    } finally {
      await upstream.close();
    }
  });


  it("is counted with a real tokenizer and marked as estimated", async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ id: "x", object: "chat.completion", created: 0, model: "m", choices: [{ index: 0, message: { role: "assistant", content: "Hello world" }, finish_reason: "stop", logprobs: null }] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const api_base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const res = await completion({ model: "xinference/m", messages: [{ role: "user", content: "Hi" }], api_base });
      // cl100k: "Hello", " world"; the prompt: 3 per message + "user" + "Hi" + 3 to prime the reply.
      assert.deepEqual(res.usage, { prompt_tokens: 8, completion_tokens: 2, total_tokens: 10 });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
