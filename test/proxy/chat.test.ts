// The proxy's chat and text completion routes, in-process: answers named as asked, clean OpenAI streams out of
// Xinference's, abilities checked before any GPU work, and failures handled before and after the first byte.
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, test } from "node:test";
import { type Emulator, startEmulator } from "../support/emulator/index.js";
import { type TestApp, testApp } from "../support/app.js";

const USER = [{ role: "user", content: "tell me about cats" }];
const TOOLS = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: {} } } }];
const IMAGE = { role: "user", content: [{ type: "text", text: "what is it?" }, { type: "image_url", image_url: { url: "https://example.test/cat.png" } }] };

let a: Emulator;
let b: Emulator;
let app: TestApp;
let url: string;

const LLMS = [
  { model_name: "qwen2.5-instruct", model_type: "LLM" as const },
  { model_name: "deepseek-r1-distill-qwen", model_type: "LLM" as const, model_uid: "r1" },
  { model_name: "gpt-2", model_type: "LLM" as const },
  { model_name: "bge-base-en", model_type: "embedding" as const },
];

before(async () => {
  a = await startEmulator({ models: LLMS });
  b = await startEmulator({ models: LLMS });
  app = await testApp(`
model_list:
  - model_name: chat
    litellm_params: { model: xinference/qwen2.5-instruct, api_base: ${a.baseUrl}, order: 1 }
    model_info: { id: chat-a, mode: chat }
  - model_name: chat
    litellm_params: { model: xinference/qwen2.5-instruct, api_base: ${b.baseUrl}, order: 2 }
    model_info: { id: chat-b, mode: chat }
  - model_name: short
    litellm_params: { model: xinference/qwen2.5-instruct, api_base: ${b.baseUrl}, max_tokens: 3 }
  - model_name: thinker
    litellm_params: { model: xinference/r1, api_base: ${b.baseUrl} }
  - model_name: gpt2
    litellm_params: { model: xinference/gpt-2, api_base: ${b.baseUrl} }
    model_info: { mode: completion }
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: ${b.baseUrl} }
  - model_name: xinference/*
    litellm_params: { model: xinference/*, api_base: ${b.baseUrl} }
router_settings:
  model_group_alias: { gpt-4o: chat }
  num_retries: 2
general_settings:
  # Short, for the keep-alive test; long enough that no first chunk here comes later (see "a slow first chunk").
  stream_keepalive_seconds: 1
`);
  await app.router.health.runPass();
  await app.app.listen({ port: 0, host: "127.0.0.1" });
  url = `http://127.0.0.1:${(app.app.server.address() as AddressInfo).port}`;
});
after(async () => {
  await app.dispose();
  await a.close();
  await b.close();
});
beforeEach(() => {
  for (const emulator of [a, b]) {
    emulator.clearRequests();
    emulator.setFault("*", null);
  }
});

function post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal });
}

/** The events of an SSE text: each block's data, comments as `:…`. */
function events(text: string): string[] {
  return text
    .split("\n\n")
    .filter((block) => block !== "")
    .map((block) => (block.startsWith("data: ") ? block.slice(6) : block));
}

const llmRequests = (emulator: Emulator, path: string): number => emulator.requests.filter((r) => r.path === path).length;

describe("answers", () => {
  test("whole: JSON named as the client asked (an alias too), the group and deployment in headers", async () => {
    const res = await post("/v1/chat/completions", { model: "gpt-4o", messages: USER });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-xgate-model-group"), "chat");
    const body = (await res.json()) as { model: string; object: string; choices: { message: { content: string } }[]; usage: { total_tokens: number } };
    assert.equal(body.model, "gpt-4o");
    assert.equal(body.object, "chat.completion");
    assert.match(body.choices[0]!.message.content, /^You said: tell me about cats/);
    assert.ok(body.usage.total_tokens > 0);
    const line = app.logLines().find((l) => l.route === "/v1/chat/completions" && l.model === "gpt-4o");
    assert.equal(line?.tokens, body.usage.total_tokens);
  });

  test("streamed chat: LF-framed events as they come, the model as asked, [DONE] last", async () => {
    const res = await post("/chat/completions", { model: "chat", messages: USER, stream: true });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "no-cache");
    const text = await res.text();
    assert.ok(!text.includes("\r"), "no CR anywhere");
    const data = events(text);
    assert.equal(data.at(-1), "[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as { model: string; choices: { delta: { content?: string } }[]; usage?: unknown });
    assert.ok(chunks.every((c) => c.model === "chat" && c.usage === undefined));
    assert.match(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), /^You said: tell me about cats/);
    const sent = a.requests.find((r) => r.path === "/v1/chat/completions")?.body as Record<string, unknown>;
    assert.deepEqual(sent.stream_options, { include_usage: true }, "usage asked upstream for the log line");
    const line = app.logLines().filter((l) => l.route === "/chat/completions").at(-1);
    assert.equal(typeof line?.tokens, "number");
  });

  test("streamed text completions end with [DONE] although Xinference sends none; include_usage gives the usage chunk", async () => {
    const text = await (await post("/v1/completions", { model: "chat", prompt: "Once upon a time", stream: true, stream_options: { include_usage: true } })).text();
    const data = events(text);
    assert.equal(data.at(-1), "[DONE]");
    const usageChunk = JSON.parse(data.at(-2)!) as { choices: unknown[]; usage: { total_tokens: number } };
    assert.deepEqual(usageChunk.choices, []);
    assert.ok(usageChunk.usage.total_tokens > 0);
  });

  test("a deployment's max_tokens in litellm_params reaches Xinference; the client's own wins", async () => {
    const cut = (await (await post("/v1/chat/completions", { model: "short", messages: USER })).json()) as { choices: { finish_reason: string }[]; usage: { completion_tokens: number } };
    assert.equal(cut.choices[0]?.finish_reason, "length");
    assert.equal(cut.usage.completion_tokens, 3);
    assert.equal((b.requests.at(-1)?.body as Record<string, unknown>).max_tokens, 3);
    await post("/v1/chat/completions", { model: "short", messages: USER, max_tokens: 5 });
    assert.equal((b.requests.at(-1)?.body as Record<string, unknown>).max_tokens, 5);
  });

  test("a reasoning model's reasoning_content reaches the client", async () => {
    const body = (await (await post("/v1/chat/completions", { model: "thinker", messages: USER, enable_thinking: true })).json()) as {
      choices: { message: { content: string } }[];
    };
    assert.equal(typeof body.choices[0]?.message.content, "string");
    assert.deepEqual((b.requests.at(-1)?.body as Record<string, unknown>).chat_template_kwargs, { enable_thinking: true });
  });
});

describe("abilities, before any GPU work", () => {
  test("a chat to a generate-only model, images to one without vision, tools to one without tools: 400s naming its abilities", async () => {
    const cases: [unknown, RegExp][] = [
      [{ model: "gpt2", messages: USER }, /Model 'gpt2' cannot take this chat request: a chat needs the chat ability, and its abilities are: generate \(send it a prompt on \/v1\/completions instead\)/],
      [{ model: "chat", messages: [IMAGE] }, /image content needs the vision ability, and its abilities are: chat, tools/],
      [{ model: "thinker", messages: USER, tools: TOOLS }, /tools need the tools ability, and its abilities are: chat, reasoning/],
      [{ model: "xinference/gpt-2", messages: USER }, /Model 'xinference\/gpt-2' cannot take this chat request: a chat needs the chat ability/],
      [{ model: "embed", messages: USER }, /it is an embedding model, not an LLM/],
    ];
    for (const [body, message] of cases) {
      const res = await post("/v1/chat/completions", body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const error = ((await res.json()) as { error: { message: string; code: string; type: string } }).error;
      assert.match(error.message, message);
      assert.equal(error.code, "unsupported_by_model");
      assert.equal(error.type, "invalid_request_error");
    }
    assert.equal(llmRequests(a, "/v1/chat/completions") + llmRequests(b, "/v1/chat/completions"), 0, "nothing reached a GPU");
    const ok = await post("/v1/completions", { model: "gpt2", prompt: "Once" });
    assert.equal(ok.status, 200, "a generate-only model takes a prompt");
  });

  test("a model the servers have not listed is let through: its server decides", async () => {
    await b.launch({ model_name: "gpt-2", model_type: "LLM", model_uid: "late-gpt" });
    try {
      const res = await post("/v1/chat/completions", { model: "xinference/late-gpt", messages: USER });
      assert.equal(llmRequests(b, "/v1/chat/completions"), 1, "sent: nothing was known of it");
      assert.equal(res.status, 400, "Xinference's own refusal, as the client's mistake");
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /is not for chat/);
    } finally {
      b.terminate("late-gpt");
    }
  });

  test("GET /v1/models lists what the wildcard reaches, with type and abilities", async () => {
    const models = ((await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string; created: number; model_type?: string; model_ability?: string[] }[] }).data;
    const byId = new Map(models.map((m) => [m.id, m]));
    assert.ok(byId.has("chat") && byId.has("gpt-4o"));
    assert.deepEqual(byId.get("xinference/qwen2.5-instruct"), {
      id: "xinference/qwen2.5-instruct",
      object: "model",
      created: byId.get("xinference/qwen2.5-instruct")?.created,
      owned_by: "xgate",
      model_type: "LLM",
      model_ability: ["chat", "tools"],
    });
    assert.deepEqual(byId.get("xinference/gpt-2")?.model_ability, ["generate"]);
    assert.equal(byId.get("xinference/bge-base-en")?.model_type, "embedding");
  });
});

describe("failures", () => {
  test("before the first byte: a model still loading (503) is retried on the group's other deployment", async () => {
    a.setLoading("qwen2.5-instruct", true);
    try {
      const res = await post("/v1/chat/completions", { model: "chat", messages: USER, stream: true });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-xgate-deployment"), "chat-b");
      assert.equal(res.headers.get("x-xgate-attempts"), "2");
      assert.equal(events(await res.text()).at(-1), "[DONE]");
    } finally {
      a.setLoading("qwen2.5-instruct", false);
      await app.router.router.close();
    }
  });

  test("an in-band error as the first event is the attempt's: retried, and the client gets a whole stream", async () => {
    b.setFault("chat/completions", { kind: "stream-error", afterChunks: 0, times: 1, message: "engine warming up" });
    const res = await post("/v1/chat/completions", { model: "xinference/qwen2.5-instruct", messages: USER, stream: true });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-xgate-attempts"), "2");
    assert.equal(events(await res.text()).at(-1), "[DONE]");
  });

  test("mid-stream: the chunks so far, then an OpenAI error event, then the end — no [DONE], no hang", async () => {
    b.setFault("chat/completions", { kind: "stream-error", afterChunks: 3, message: "CUDA out of memory" });
    const res = await post("/v1/chat/completions", { model: "xinference/qwen2.5-instruct", messages: USER, stream: true });
    assert.equal(res.status, 200);
    const data = events(await res.text());
    assert.equal(data.length, 4);
    assert.deepEqual(JSON.parse(data[3]!), { error: { message: "CUDA out of memory", type: "api_error", param: null, code: "upstream_error" } });
    const line = app.logLines().filter((l) => l.model === "xinference/qwen2.5-instruct").at(-1);
    assert.equal(line?.error_code, "upstream_error");
  });

  test("a client that disconnects mid-stream cancels the upstream at once; the attempt ends", async () => {
    b.setFault("chat/completions", { kind: "stream-stall", afterChunks: 2 });
    const controller = new AbortController();
    const res = await post("/v1/chat/completions", { model: "xinference/qwen2.5-instruct", messages: USER, stream: true }, controller.signal);
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await b.waitForIdle("qwen2.5-instruct");
    assert.equal(b.requests.at(-1)?.disconnected, true);
    await app.router.router.close();
    for (const [, stats] of await app.router.router.stats()) assert.equal(stats.inFlight, 0);
  });

  test("an idle stream gets keep-alive comments (general_settings.stream_keepalive_seconds)", async () => {
    b.setFault("chat/completions", { kind: "stream-stall", afterChunks: 1 });
    const controller = new AbortController();
    const res = await post("/v1/chat/completions", { model: "xinference/qwen2.5-instruct", messages: USER, stream: true }, controller.signal);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes(": keep-alive\n\n")) text += decoder.decode((await reader.read()).value, { stream: true });
    controller.abort();
    assert.ok(text.startsWith("data: {"), "the first chunk came before");
    await b.waitForIdle("qwen2.5-instruct");
  });

  test("bad input is a 400 that names the field, before anything is routed", async () => {
    const res = await post("/v1/chat/completions", { model: "chat", messages: [{ role: "user", content: [{ type: "image_url", image_url: {} }] }] });
    assert.equal(res.status, 400);
    const error = ((await res.json()) as { error: { param: string; message: string } }).error;
    assert.equal(error.param, "messages[0].content[0].image_url.url");
  });
});

describe("a slow first chunk", () => {
  // A proxy whose keep-alive (0.2 s) is much shorter than the first chunk's wait (the emulator's latency fault).
  let slow: TestApp;
  let slowUrl: string;
  before(async () => {
    slow = await testApp(`
model_list:
  - model_name: chat
    litellm_params: { model: xinference/qwen2.5-instruct, api_base: ${a.baseUrl} }
  - model_name: chat
    litellm_params: { model: xinference/qwen2.5-instruct, api_base: ${b.baseUrl} }
  - model_name: impatient
    litellm_params: { model: xinference/qwen2.5-instruct, api_base: ${a.baseUrl}, timeout: 0.6 }
router_settings:
  num_retries: 1
  routing_strategy: simple-shuffle
general_settings:
  stream_keepalive_seconds: 0.2
`);
    await slow.router.health.runPass();
    await slow.app.listen({ port: 0, host: "127.0.0.1" });
    slowUrl = `http://127.0.0.1:${(slow.app.server.address() as AddressInfo).port}`;
  });
  after(() => slow.dispose());

  const streamFrom = (model: string, extra: Record<string, unknown> = {}): Promise<Response> =>
    fetch(`${slowUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, messages: USER, stream: true, ...extra }),
    });

  test("the stream begins with keep-alives before it: headers go out within the keep-alive, the answer follows whole", async () => {
    for (const emulator of [a, b]) emulator.setFault("chat/completions", { kind: "latency", ms: 1_200 });
    const started = performance.now();
    const res = await streamFrom("chat");
    const headersAfterMs = performance.now() - started;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.ok(headersAfterMs < 1_000, `headers after ${headersAfterMs.toFixed(0)} ms, not with the first chunk (1.2 s)`);
    const data = events(await res.text());
    assert.ok(data.length >= 3, "keep-alives, chunks and the end");
    assert.equal(data[0], ": keep-alive", "a comment first: the answer itself has not begun");
    const firstChunk = data.findIndex((event) => !event.startsWith(":"));
    assert.ok(data.slice(firstChunk).every((event) => !event.startsWith(":")), "no keep-alive once chunks flow (they come faster)");
    assert.equal(data.at(-1), "[DONE]");
    const chunks = data.slice(firstChunk, -1).map((d) => JSON.parse(d) as { model: string; choices: { delta: { content?: string } }[] });
    assert.ok(chunks.every((c) => c.model === "chat"));
    assert.match(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), /^You said: tell me about cats/);
    const line = slow.logLines().filter((l) => l.route === "/v1/chat/completions" && l.model === "chat").at(-1);
    assert.equal(line?.status, 200);
    assert.ok(Number(line?.tokens) > 0, "the stream's usage reached the log line");
  });

  test("a failure after the stream began is an OpenAI error event in it, then the end — never a hang", async () => {
    a.setFault("chat/completions", { kind: "latency", ms: 3_000 });
    const res = await streamFrom("impatient");
    assert.equal(res.status, 200, "committed by the keep-alive before the attempt ran out of time");
    const data = events(await res.text());
    assert.equal(data[0], ": keep-alive");
    assert.notEqual(data.at(-1), "[DONE]");
    const error = (JSON.parse(data.at(-1)!) as { error: { code: string; message: string } }).error;
    assert.equal(error.code, "upstream_timeout");
    assert.equal(a.requests.filter((r) => r.path === "/v1/chat/completions").length, 2, "retried once behind the keep-alives");
    await a.waitForIdle("qwen2.5-instruct");
  });

  test("retries go on behind the keep-alives: an attempt that fails after the commit is retried, the client gets a whole stream", async () => {
    a.setFault("chat/completions", { kind: "latency", ms: 2_000, times: 1 });
    const res = await streamFrom("impatient");
    assert.equal(res.status, 200);
    const data = events(await res.text());
    assert.equal(data[0], ": keep-alive");
    assert.equal(data.at(-1), "[DONE]");
    assert.equal(a.requests.filter((r) => r.path === "/v1/chat/completions").length, 2, "the first timed out after the commit");
    await a.waitForIdle("qwen2.5-instruct");
  });
});
