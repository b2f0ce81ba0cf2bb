/**
 * Chat and text completions as users meet them: the CLI on a config file, driven by the `openai` npm client,
 * the Vercel AI SDK, LangChain's ChatOpenAI and curl -N, against the Xinference emulator.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { ChatOpenAI } from "@langchain/openai";
import { generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import OpenAI from "openai";
import { type Emulator, startEmulator } from "../support/emulator/index.js";
import { type ProxyProcess, startProxyProcess } from "../support/proxy-process.js";

const MASTER_KEY = "sk-chat-clients-0123456789";
const WEATHER = {
  type: "function" as const,
  function: { name: "get_weather", description: "The weather in a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};

let emulator: Emulator;
let proxy: ProxyProcess;
let client: OpenAI;

before(async () => {
  emulator = await startEmulator({
    tokenDelayMs: 1,
    models: [
      { model_name: "qwen2.5-instruct", model_type: "LLM" },
      { model_name: "deepseek-r1-distill-qwen", model_type: "LLM", model_uid: "r1", reasoning_content: true },
    ],
  });
  proxy = await startProxyProcess(`
model_list:
  - model_name: qwen
    litellm_params: { model: xinference/qwen2.5-instruct, api_base: ${emulator.baseUrl} }
    model_info: { mode: chat }
  - model_name: r1
    litellm_params: { model: xinference/r1, api_base: ${emulator.baseUrl} }
general_settings:
  master_key: ${MASTER_KEY}
`);
  client = new OpenAI({ apiKey: MASTER_KEY, baseURL: proxy.baseUrl, maxRetries: 0 });
});
after(async () => {
  await proxy?.stop();
  await emulator?.close();
});

describe("the openai client", () => {
  test("chat.completions.create, whole and streamed, give the same answer", async () => {
    const messages = [{ role: "user" as const, content: "hello from the openai client" }];
    const whole = await client.chat.completions.create({ model: "qwen", messages });
    assert.equal(whole.model, "qwen");
    const text = whole.choices[0]?.message.content ?? "";
    assert.match(text, /^You said: hello from the openai client/);
    const stream = await client.chat.completions.create({ model: "qwen", messages, stream: true, stream_options: { include_usage: true } });
    let streamed = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.delta.content ?? "";
      usage = chunk.usage ?? usage;
    }
    assert.equal(streamed, text);
    assert.deepEqual(usage, whole.usage);
  });

  test("the .stream() helper assembles the final completion; reasoning_content reaches it in the chunks", async () => {
    const stream = client.chat.completions.stream({ model: "r1", messages: [{ role: "user", content: "think about it" }] });
    const deltas: string[] = [];
    let reasoning = "";
    stream.on("content", (delta) => deltas.push(delta));
    stream.on("chunk", (chunk) => (reasoning += (chunk.choices[0]?.delta as { reasoning_content?: string | null } | undefined)?.reasoning_content ?? ""));
    const final = await stream.finalChatCompletion();
    assert.equal(final.choices[0]?.message.content, deltas.join(""));
    assert.equal(final.choices[0]?.finish_reason, "stop");
    const whole = await client.chat.completions.create({ model: "r1", messages: [{ role: "user", content: "think about it" }] });
    assert.equal(reasoning, (whole.choices[0]?.message as { reasoning_content?: string }).reasoning_content);
    assert.ok(reasoning.length > 0);
  });

  test("a tool round trip", async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "weather in Paris" }];
    const first = await client.chat.completions.create({ model: "qwen", messages, tools: [WEATHER] });
    const call = first.choices[0]?.message.tool_calls?.[0];
    assert.equal(first.choices[0]?.finish_reason, "tool_calls");
    assert.ok(call !== undefined && call.type === "function");
    assert.equal(call.function.name, "get_weather");
    messages.push(first.choices[0]!.message, { role: "tool", tool_call_id: call.id, content: "sunny" });
    const second = await client.chat.completions.create({ model: "qwen", messages, tools: [WEATHER] });
    assert.equal(second.choices[0]?.finish_reason, "stop");
    assert.match(second.choices[0]?.message.content ?? "", /sunny/);
  });

  test("completions.create, whole and streamed", async () => {
    const whole = await client.completions.create({ model: "qwen", prompt: "Once upon a time", max_tokens: 8 });
    assert.equal(whole.object, "text_completion");
    assert.equal(whole.usage?.completion_tokens, 8);
    let streamed = "";
    for await (const chunk of await client.completions.create({ model: "qwen", prompt: "Once upon a time", max_tokens: 8, stream: true })) {
      streamed += chunk.choices[0]?.text ?? "";
    }
    assert.equal(streamed, whole.choices[0]?.text);
  });

  test("an error mid-stream is raised by the client, not taken for the end", async () => {
    emulator.setFault("chat/completions", { kind: "stream-error", afterChunks: 2, message: "engine crashed", times: 1 });
    const stream = await client.chat.completions.create({ model: "qwen", messages: [{ role: "user", content: "hi" }], stream: true });
    let chunks = 0;
    await assert.rejects(
      (async () => {
        for await (const _chunk of stream) chunks++;
      })(),
      /engine crashed/,
    );
    assert.equal(chunks, 2);
  });
});

describe("the Vercel AI SDK", () => {
  const provider = (): ReturnType<typeof createOpenAICompatible> =>
    createOpenAICompatible({ name: "xgate", baseURL: proxy.baseUrl, apiKey: MASTER_KEY, includeUsage: true });

  test("generateText", async () => {
    const { text, usage } = await generateText({ model: provider().chatModel("qwen"), prompt: "hello from the AI SDK" });
    assert.match(text, /^You said: hello from the AI SDK/);
    assert.ok((usage.totalTokens ?? 0) > 0);
  });

  test("streamText with a tool: the call, its result, then the answer", async () => {
    const executed: unknown[] = [];
    const result = streamText({
      model: provider().chatModel("qwen"),
      prompt: "weather in Paris",
      tools: {
        get_weather: tool({
          description: "The weather in a city",
          inputSchema: jsonSchema<{ city: string }>({ type: "object", properties: { city: { type: "string" } }, required: ["city"] }),
          execute: async (input) => {
            executed.push(input);
            return "sunny";
          },
        }),
      },
      stopWhen: stepCountIs(2),
    });
    let text = "";
    for await (const part of result.textStream) text += part;
    assert.equal(executed.length, 1);
    assert.match(text, /sunny/);
  });
});

describe("LangChain's ChatOpenAI", () => {
  const model = (): ChatOpenAI => new ChatOpenAI({ model: "qwen", apiKey: MASTER_KEY, configuration: { baseURL: proxy.baseUrl }, maxRetries: 0 });

  test("invoke and stream", async () => {
    const answer = await model().invoke("hello from LangChain");
    assert.match(String(answer.content), /^You said: hello from LangChain/);
    let streamed = "";
    for await (const chunk of await model().stream("hello from LangChain")) streamed += String(chunk.content);
    assert.equal(streamed, answer.content);
  });
});

describe("curl -N", () => {
  test("prints the events as they come, LF-framed, ending with [DONE]", async () => {
    const body = JSON.stringify({ model: "qwen", messages: [{ role: "user", content: "hello from curl" }], stream: true });
    const curl = spawn("curl", ["-sN", `${proxy.baseUrl}/chat/completions`, "-H", `Authorization: Bearer ${MASTER_KEY}`, "-H", "Content-Type: application/json", "-d", body]);
    let out = "";
    curl.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => curl.on("close", resolve));
    assert.equal(code, 0);
    assert.ok(out.endsWith("data: [DONE]\n\n"));
    assert.ok(!out.includes("\r"));
    const content = out
      .split("\n\n")
      .filter((block) => block.startsWith("data: {"))
      .map((block) => (JSON.parse(block.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? "")
      .join("");
    assert.match(content, /^You said: hello from curl/);
  });
});
