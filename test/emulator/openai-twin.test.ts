import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startEmulator } from "../support/emulator/index.js";
import type { Emulator } from "../support/emulator/index.js";
import { postForm, postJson } from "./helpers.js";
import { dataOf, jsonEvents, sseBlocks, streamRequest } from "./stream-helpers.js";
import type { ChatChunk } from "./stream-helpers.js";

const USER = [{ role: "user", content: "tell me about cats and dogs" }];

interface OpenAIError {
  error: { message: string; type: string; param: null; code: number };
}

describe('the "openai" flavor: a plain OpenAI-compatible server', () => {
  let emulator: Emulator;
  let xinference: Emulator;
  const models = [
    { model_name: "qwen2.5-instruct", model_type: "LLM" as const },
    { model_name: "qwen2-vl-instruct", model_type: "LLM" as const },
    { model_name: "deepseek-r1-distill-qwen", model_type: "LLM" as const, model_uid: "r1" },
    { model_name: "gpt-2", model_type: "LLM" as const },
    { model_name: "bge-small-en-v1.5", model_type: "embedding" as const },
    { model_name: "whisper-large-v3", model_type: "audio" as const },
    { model_name: "ChatTTS", model_type: "audio" as const },
    { model_name: "bge-reranker-base", model_type: "rerank" as const },
  ];
  before(async () => {
    emulator = await startEmulator({ flavor: "openai", models });
    xinference = await startEmulator({ models });
  });
  after(() => Promise.all([emulator.close(), xinference.close()]));

  test("chat streams: LF separators, a role chunk first, no usage unless asked, then [DONE]", async () => {
    const text = await (await streamRequest(emulator, "/chat/completions", { model: "qwen2.5-instruct", messages: USER, stream: true })).text();
    assert.ok(!text.includes("\r"));
    assert.ok(text.endsWith("data: [DONE]\n\n"));
    const chunks = jsonEvents<ChatChunk>(sseBlocks(text, "\n\n"));
    assert.match(chunks[0]?.id ?? "", /^chatcmpl-[0-9a-f]{32}$/);
    assert.deepEqual(chunks[0]?.choices[0]?.delta, { role: "assistant", content: "" });
    assert.ok(chunks.every((c) => !("usage" in c)));
    assert.deepEqual(chunks.at(-1)?.choices[0], { index: 0, delta: {}, logprobs: null, finish_reason: "stop" });
    const withUsage = jsonEvents<ChatChunk>(
      sseBlocks(await (await streamRequest(emulator, "/chat/completions", { model: "qwen2.5-instruct", messages: USER, stream: true, stream_options: { include_usage: true } })).text(), "\n\n"),
    );
    assert.ok(withUsage.slice(0, -1).every((c) => c.usage === null));
    assert.deepEqual(withUsage.at(-1)?.choices, []);
    assert.ok((withUsage.at(-1)?.usage?.completion_tokens ?? 0) > 0);
  });

  test("text completion streams end with [DONE] too", async () => {
    const text = await (await streamRequest(emulator, "/completions", { model: "gpt-2", prompt: "Once upon a time", stream: true })).text();
    assert.equal(dataOf(sseBlocks(text, "\n\n")).at(-1), "[DONE]");
  });

  test("n is honoured; tools work on any chat model; reasoning always goes to reasoning_content", async () => {
    const body = (await (await postJson(emulator, "/chat/completions", { model: "qwen2.5-instruct", messages: USER, n: 2 })).json()) as {
      choices: { index: number; message: { content: string } }[];
    };
    assert.deepEqual(body.choices.map((c) => c.index), [0, 1]);
    assert.notEqual(body.choices[0]?.message.content, body.choices[1]?.message.content);
    const tools = [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } } } } }];
    const called = (await (await postJson(emulator, "/chat/completions", { model: "qwen2-vl-instruct", messages: USER, tools })).json()) as {
      choices: { message: { content: null; tool_calls: { function: { arguments: string } }[] }; finish_reason: string }[];
    };
    assert.equal(called.choices[0]?.finish_reason, "tool_calls");
    assert.equal(called.choices[0]?.message.content, null);
    assert.equal(called.choices[0]?.message.tool_calls[0]?.function.arguments, '{"q":"dogs"}');
    const reasoning = (await (await postJson(emulator, "/chat/completions", { model: "r1", messages: USER })).json()) as {
      choices: { message: { content: string; reasoning_content: string } }[];
    };
    assert.match(reasoning.choices[0]?.message.reasoning_content ?? "", /^Okay, the user wrote/);
    assert.match(reasoning.choices[0]?.message.content ?? "", /^\n\nYou said:/);
  });

  test('errors are {"error": {...}} bodies; validation is a 400; what Xinference says in-stream is a status here', async () => {
    const unknown = await postJson(emulator, "/chat/completions", { model: "nope", messages: USER });
    assert.equal(unknown.status, 404);
    const notFound = (await unknown.json()) as OpenAIError;
    assert.deepEqual({ type: notFound.error.type, param: notFound.error.param, code: notFound.error.code }, { type: "NotFoundError", param: null, code: 404 });
    assert.match(notFound.error.message, /^Model not found in the model list, uid: nope/);
    const invalid = await postJson(emulator, "/chat/completions", { model: "qwen2.5-instruct" });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.headers.get("content-type"), "application/json");
    assert.match(((await invalid.json()) as OpenAIError).error.message, /^1 validation error for CreateChatCompletion/);
    const wrongType = await streamRequest(emulator, "/chat/completions", { model: "bge-small-en-v1.5", messages: USER, stream: true });
    assert.equal(wrongType.status, 400);
    assert.equal(((await wrongType.json()) as OpenAIError).error.type, "BadRequestError");
    const tooLong = await postJson(emulator, "/completions", { model: "gpt-2", prompt: "x", max_tokens: 5000 });
    assert.equal(tooLong.status, 400);
    assert.match(((await tooLong.json()) as OpenAIError).error.message, /^'max_tokens' is too large: 5000\. This model's maximum context length is 1024 tokens/);
    const formIssue = await postForm(emulator, "/audio/transcriptions", new FormData());
    assert.equal(formIssue.status, 400);
    assert.equal(((await formIssue.json()) as OpenAIError).error.message, "body.model: Field required; body.file: Field required");
  });

  test("a mid-stream engine failure: an OpenAI error event, then [DONE]", async () => {
    emulator.setFault("chat/completions", { kind: "stream-error", afterChunks: 1, message: "boom", times: 1 });
    const text = await (await streamRequest(emulator, "/chat/completions", { model: "qwen2.5-instruct", messages: USER, stream: true })).text();
    const data = dataOf(sseBlocks(text, "\n\n"));
    assert.deepEqual(data.slice(1), [JSON.stringify({ error: { message: "boom", type: "InternalServerError", param: null, code: 500 } }), "[DONE]"]);
  });

  test("embeddings honour encoding_format base64 (float32 little-endian); floats stay floats", async () => {
    const floats = (await (await postJson(emulator, "/embeddings", { model: "bge-small-en-v1.5", input: "hello" })).json()) as { data: { embedding: number[] }[] };
    const encoded = (await (await postJson(emulator, "/embeddings", { model: "bge-small-en-v1.5", input: "hello", encoding_format: "base64" })).json()) as {
      data: { embedding: string }[];
    };
    const bytes = Buffer.from(encoded.data[0]?.embedding ?? "", "base64");
    assert.equal(bytes.length, 384 * 4);
    const decoded = Array.from({ length: 384 }, (_, i) => bytes.readFloatLE(i * 4));
    assert.deepEqual(decoded, floats.data[0]?.embedding.map((x) => Math.fround(x)));
    // Xinference itself ignores the parameter.
    const ignored = (await (await postJson(xinference, "/embeddings", { model: "bge-small-en-v1.5", input: "hello", encoding_format: "base64" })).json()) as {
      data: { embedding: unknown }[];
    };
    assert.ok(Array.isArray(ignored.data[0]?.embedding));
  });

  test("audio: all five transcription formats, text ones as text/plain; speech with audio content types", async () => {
    const speech = await postJson(emulator, "/audio/speech", { model: "ChatTTS", input: "hello there, how are you today", voice: "alloy", response_format: "wav" });
    assert.equal(speech.headers.get("content-type"), "audio/wav");
    const wav = new Blob([await speech.arrayBuffer()], { type: "audio/wav" });
    const transcribe = async (format: string): Promise<Response> => {
      const form = new FormData();
      form.append("model", "whisper-large-v3");
      form.append("response_format", format);
      form.append("file", wav, "a.wav");
      return postForm(emulator, "/audio/transcriptions", form);
    };
    const json = (await (await transcribe("json")).json()) as { text: string };
    assert.match(json.text, /^[A-Z]/, "no leading space");
    const text = await transcribe("text");
    assert.equal(text.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await text.text(), `${json.text}\n`);
    assert.match(await (await transcribe("srt")).text(), /^1\n00:00:00,000 --> 00:00:\d\d,\d{3}\n[A-Z]/);
    assert.match(await (await transcribe("vtt")).text(), /^WEBVTT\n\n00:00:00\.000 --> /);
    assert.equal(((await (await transcribe("verbose_json")).json()) as { task: string }).task, "transcribe");
    const noVoice = await postJson(emulator, "/audio/speech", { model: "ChatTTS", input: "x" });
    assert.equal(noVoice.status, 400);
  });

  test("the model list has vLLM's fields and no model types or abilities; models are not launched over HTTP", async () => {
    const list = (await (await fetch(`${emulator.baseUrl}/models`)).json()) as { object: string; data: Record<string, unknown>[] };
    assert.equal(list.object, "list");
    const embedder = list.data.find((m) => m.id === "bge-small-en-v1.5");
    assert.deepEqual(
      { object: embedder?.object, owned_by: embedder?.owned_by, root: embedder?.root, max_model_len: embedder?.max_model_len },
      { object: "model", owned_by: "vllm", root: "bge-small-en-v1.5", max_model_len: 512 },
    );
    assert.ok(list.data.every((m) => !("model_type" in m) && !("model_ability" in m)));
    const launch = await postJson(emulator, "/models", { model_name: "bge-base-en", model_type: "embedding" });
    assert.equal(launch.status, 405);
  });

  test("rerank answers vLLM's shape: usage instead of meta, every result with its document", async () => {
    const documents = ["cats purr", "dogs bark", "fish swim"];
    const response = await postJson(emulator, "/rerank", { model: "bge-reranker-base", query: "dogs", documents, top_n: 2 });
    const body = (await response.json()) as {
      id: string;
      model: string;
      usage: { total_tokens: number };
      results: { index: number; relevance_score: number; document: { text: string } }[];
    };
    assert.match(body.id, /^rerank-[0-9a-f]{32}$/);
    assert.equal(body.model, "bge-reranker-base");
    assert.ok(body.usage.total_tokens > 0);
    assert.ok(!("meta" in body));
    assert.equal(body.results.length, 2);
    assert.equal(body.results[0]?.index, 1);
    assert.ok(body.results.every((r) => r.document.text === documents[r.index]));
  });

  test("a status fault without a body of its own answers in the OpenAI error shape", async () => {
    emulator.setFault("embeddings", { kind: "status", status: 503, times: 1 });
    const response = await postJson(emulator, "/embeddings", { model: "bge-small-en-v1.5", input: "hello" });
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), {
      error: { message: "Emulated fault: HTTP 503", type: "ServiceUnavailableError", param: null, code: 503 },
    });
  });
});
