import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startEmulator } from "../support/emulator/index.js";
import type { Emulator } from "../support/emulator/index.js";
import { pngImage, postJson } from "./helpers.js";

interface ChatBody {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: string; content: string; reasoning_content?: string; tool_calls?: ToolCallJson[] };
    logprobs: null;
    finish_reason: string;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

interface ToolCallJson {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

const USER = [{ role: "user", content: "tell me about cats and dogs" }];
const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    parameters: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } }, required: ["city"] },
  },
};

async function chat(emulator: Emulator, body: Record<string, unknown>): Promise<ChatBody> {
  const res = await postJson(emulator, "/chat/completions", body);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as ChatBody;
}

async function detail(res: Response): Promise<unknown> {
  return ((await res.json()) as { detail: unknown }).detail;
}

describe("POST /v1/chat/completions", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({
      models: [
        { model_name: "qwen2.5-instruct", model_type: "LLM" },
        { model_name: "llama-3.1-instruct", model_type: "LLM" },
        { model_name: "deepseek-r1-distill-qwen", model_type: "LLM", model_uid: "r1" },
        { model_name: "deepseek-r1-distill-qwen", model_type: "LLM", model_uid: "r1-split", reasoning_content: true },
        { model_name: "qwen2-vl-instruct", model_type: "LLM" },
        { model_name: "gpt-2", model_type: "LLM" },
        { model_name: "bge-base-en", model_type: "embedding" },
      ],
    });
  });
  after(() => emulator.close());

  test("answers in OpenAI's shape, compact, with usage; the same input gives the same words", async () => {
    const res = await postJson(emulator, "/chat/completions", { model: "qwen2.5-instruct", messages: USER });
    assert.equal(res.headers.get("content-type"), "application/json");
    const text = await res.text();
    assert.ok(!text.includes('", "'), "compact JSON");
    const body = JSON.parse(text) as ChatBody;
    assert.match(body.id, /^chat[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(body.object, "chat.completion");
    assert.equal(body.model, "qwen2.5-instruct");
    assert.equal(body.choices.length, 1);
    const choice = body.choices[0]!;
    assert.equal(choice.message.role, "assistant");
    assert.match(choice.message.content, /^You said: tell me about cats and dogs \w/);
    assert.equal(choice.finish_reason, "stop");
    assert.equal(choice.logprobs, null);
    const words = choice.message.content.split(/\s+/).length;
    assert.deepEqual(body.usage, { prompt_tokens: 6 + 4 + 3, completion_tokens: words, total_tokens: 13 + words });
    const again = await chat(emulator, { model: "qwen2.5-instruct", messages: USER });
    assert.equal(again.choices[0]?.message.content, choice.message.content);
    const seeded = await chat(emulator, { model: "qwen2.5-instruct", messages: USER, seed: 7 });
    assert.notEqual(seeded.choices[0]?.message.content, choice.message.content);
  });

  test("max_tokens and max_completion_tokens cut the answer with finish_reason length", async () => {
    const cut = await chat(emulator, { model: "qwen2.5-instruct", messages: USER, max_tokens: 3 });
    assert.equal(cut.choices[0]?.message.content, "You said: tell");
    assert.equal(cut.choices[0]?.finish_reason, "length");
    assert.equal(cut.usage.completion_tokens, 3);
    const newer = await chat(emulator, { model: "qwen2.5-instruct", messages: USER, max_tokens: 9, max_completion_tokens: 2 });
    assert.equal(newer.choices[0]?.message.content, "You said:");
  });

  test("stop ends the answer where the stop string starts; its text is dropped", async () => {
    const body = await chat(emulator, { model: "qwen2.5-instruct", messages: USER, stop: ["cats"] });
    assert.equal(body.choices[0]?.message.content, "You said: tell me about ");
    assert.equal(body.choices[0]?.finish_reason, "stop");
    assert.equal(body.usage.completion_tokens, 6, "the token that completed the stop string counts");
    const single = await chat(emulator, { model: "qwen2.5-instruct", messages: USER, stop: "me abo" });
    assert.equal(single.choices[0]?.message.content, "You said: tell ");
  });

  test("n is not passed to the engine: one choice, whatever the request asks", async () => {
    const body = await chat(emulator, { model: "qwen2.5-instruct", messages: USER, n: 3 });
    assert.equal(body.choices.length, 1);
  });

  test("logit_bias is 501; empty messages 400; a missing field is a text 500", async () => {
    const bias = await postJson(emulator, "/chat/completions", { model: "qwen2.5-instruct", messages: USER, logit_bias: { "42": 1 } });
    assert.equal(bias.status, 501);
    assert.deepEqual(await bias.json(), { detail: "Not implemented" });
    const empty = await postJson(emulator, "/chat/completions", { model: "qwen2.5-instruct", messages: [] });
    assert.equal(empty.status, 400);
    assert.equal(await detail(empty), "Invalid input. Please specify the prompt.");
    const missing = await postJson(emulator, "/chat/completions", { model: "qwen2.5-instruct" });
    assert.equal(missing.status, 500);
    assert.equal(missing.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await missing.text(), "Internal Server Error: 1 validation error for CreateChatCompletion\nmessages\n  Field required [type=missing]");
    const range = await postJson(emulator, "/chat/completions", { model: "qwen2.5-instruct", messages: USER, max_tokens: 0, temperature: 3 });
    assert.match(await range.text(), /2 validation errors[\s\S]*greater than or equal to 1[\s\S]*less than or equal to 2/);
  });

  test("tools: a tool-call family calls the requested function with arguments from its schema", async () => {
    const messages = [{ role: "user", content: "what is the weather in Paris" }];
    for (const uid of ["qwen2.5-instruct", "llama-3.1-instruct"]) {
      const body = await chat(emulator, { model: uid, messages, tools: [WEATHER_TOOL] });
      assert.match(body.id, /^chatcmpl-[0-9a-f-]{36}$/);
      const choice = body.choices[0]!;
      assert.equal(choice.finish_reason, "tool_calls");
      assert.equal(choice.message.content, "");
      const call = choice.message.tool_calls?.[0];
      assert.match(call?.id ?? "", /^call_[0-9a-f-]{36}$/);
      assert.equal(call?.type, "function");
      assert.equal(call?.function.name, "get_weather");
      // Python's json.dumps: ", " and ": " separators.
      assert.equal(call?.function.arguments, '{"city": "Paris"}');
      assert.ok(body.usage.completion_tokens > 0);
    }
  });

  test("tools: tool_choice picks the function, 'none' and a tool's answer get text with tool_calls: []", async () => {
    const other = { type: "function", function: { name: "get_time", parameters: { type: "object", properties: { zone: { enum: ["UTC", "CET"] } } } } };
    const named = await chat(emulator, {
      model: "qwen2.5-instruct",
      messages: USER,
      tools: [WEATHER_TOOL, other],
      tool_choice: { type: "function", function: { name: "get_time" } },
    });
    assert.equal(named.choices[0]?.message.tool_calls?.[0]?.function.arguments, '{"zone": "UTC"}');
    const none = await chat(emulator, { model: "qwen2.5-instruct", messages: USER, tools: [WEATHER_TOOL], tool_choice: "none" });
    assert.deepEqual(none.choices[0]?.message.tool_calls, []);
    assert.match(none.choices[0]?.message.content ?? "", /^You said: tell me/);
    const answered = await chat(emulator, {
      model: "qwen2.5-instruct",
      tools: [WEATHER_TOOL],
      messages: [
        { role: "user", content: "weather in Paris" },
        { role: "assistant", content: "", tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "call_1", content: "sunny and warm" },
      ],
    });
    assert.equal(answered.choices[0]?.finish_reason, "stop");
    assert.match(answered.choices[0]?.message.content ?? "", /^The tool answered: sunny and warm/);
    // With tools, the post-processor says "stop" even for an answer max_tokens cut short.
    const cut = await chat(emulator, { model: "qwen2.5-instruct", messages: USER, tools: [WEATHER_TOOL], tool_choice: "none", max_tokens: 2 });
    assert.equal(cut.choices[0]?.finish_reason, "stop");
  });

  test("tools on a family without tool calls: 400 naming the families that have them", async () => {
    for (const uid of ["qwen2-vl-instruct", "r1", "bge-base-en"]) {
      const res = await postJson(emulator, "/chat/completions", { model: uid, messages: USER, tools: [WEATHER_TOOL] });
      assert.equal(res.status, 400, uid);
      assert.equal(await detail(res), "Only {'qwen2.5-instruct', 'llama-3.1-instruct'} support tool calls");
    }
    const toolMessage = await postJson(emulator, "/chat/completions", { model: "gpt-2", messages: [...USER, { role: "tool", content: "x" }] });
    assert.equal(toolMessage.status, 400);
    assert.equal(await detail(toolMessage), "Only {'qwen2.5-instruct', 'llama-3.1-instruct'} support tool messages");
    // An empty list is no tools at all.
    assert.equal((await postJson(emulator, "/chat/completions", { model: "qwen2-vl-instruct", messages: USER, tools: [] })).status, 200);
  });

  test("a model that cannot chat: 500 with the engine's message; an unknown uid: 404", async () => {
    const base = await postJson(emulator, "/chat/completions", { model: "gpt-2", messages: USER });
    assert.equal(base.status, 500);
    assert.match(String(await detail(base)), /^Model model_format='pytorch' model_size_in_billions='1_5' .* is not for chat\.$/);
    const embedding = await postJson(emulator, "/chat/completions", { model: "bge-base-en", messages: USER });
    assert.equal(embedding.status, 500);
    assert.match(String(await detail(embedding)), /^Model model_name='bge-base-en' .* is not for chat\.$/);
    const unknown = await postJson(emulator, "/chat/completions", { model: "nope", messages: USER });
    assert.equal(unknown.status, 404);
    assert.match(String(await detail(unknown)), /^Model not found in the model list, uid: nope\./);
  });

  test("a reasoning model thinks inline after an inserted <think>, unless launched with reasoning_content", async () => {
    const messages = [{ role: "user", content: "why is the sky blue" }];
    const inline = await chat(emulator, { model: "r1", messages });
    const content = inline.choices[0]?.message.content ?? "";
    assert.match(content, /^<think>\nOkay, the user wrote why is the sky blue so I will answer\.\n<\/think>\n\nYou said: why is the sky blue /);
    assert.equal(inline.choices[0]?.message.reasoning_content, undefined);

    const split = await chat(emulator, { model: "r1-split", messages });
    assert.equal(split.choices[0]?.message.reasoning_content, "\nOkay, the user wrote why is the sky blue so I will answer.\n");
    assert.match(split.choices[0]?.message.content ?? "", /^\n\nYou said: why is the sky blue/);

    // Cut before the end tag: all of it is reasoning, the inserted tag included.
    const cut = await chat(emulator, { model: "r1-split", messages, max_tokens: 3 });
    assert.deepEqual(
      { reasoning: cut.choices[0]?.message.reasoning_content, content: cut.choices[0]?.message.content },
      { reasoning: "<think>\nOkay, the user", content: "" },
    );
  });

  test("reasoning: stop is dropped; enable_thinking false only turns the parser off (into chat_template_kwargs)", async () => {
    const messages = [{ role: "user", content: "why is the sky blue" }];
    const stopped = await chat(emulator, { model: "r1-split", messages, stop: ["user"] });
    assert.match(stopped.choices[0]?.message.reasoning_content ?? "", /the user wrote/);
    const off = await chat(emulator, { model: "r1-split", messages, enable_thinking: false });
    assert.match(off.choices[0]?.message.content ?? "", /^Okay, the user wrote .*\n<\/think>\n\nYou said/s);
    assert.equal(off.choices[0]?.message.reasoning_content, undefined);
    assert.deepEqual(emulator.requests.at(-1)?.kwargs?.chat_template_kwargs, { enable_thinking: false, thinking: false });
    assert.equal(emulator.requests.at(-1)?.kwargs?.enable_thinking, undefined);
    await chat(emulator, { model: "r1-split", messages, extra_body: { enable_thinking: false } });
    assert.deepEqual(emulator.requests.at(-1)?.kwargs?.chat_template_kwargs, { enable_thinking: false, thinking: false });
  });

  test("vision: images are read (their size shows in the answer and the prompt tokens); text models drop them", async () => {
    const png = Buffer.from(await (await pngImage(56, 84)).arrayBuffer()).toString("base64");
    const content = [
      { type: "text", text: "what is this" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${png}` } },
      { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
    ];
    const seen = await chat(emulator, { model: "qwen2-vl-instruct", messages: [{ role: "user", content }] });
    assert.match(seen.choices[0]?.message.content ?? "", /^I see 2 images \(56x84, \?\)\. You said: what is this/);
    assert.equal(seen.usage.prompt_tokens, 3 + 4 + 3 + 2 * 3 + 256);
    const text = await chat(emulator, { model: "qwen2.5-instruct", messages: [{ role: "user", content }] });
    assert.match(text.choices[0]?.message.content ?? "", /^You said: what is this/);
    const broken = await postJson(emulator, "/chat/completions", {
      model: "qwen2-vl-instruct",
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,bm90IGFuIGltYWdl" } }] }],
    });
    assert.equal(broken.status, 500);
    assert.match(String(await detail(broken)), /^cannot identify image file/);
  });

  test("a prompt longer than the context window: 500 with vLLM's message; max_tokens past it is clipped", async () => {
    const long = [{ role: "user", content: "word ".repeat(1100) }];
    const res = await postJson(emulator, "/completions", { model: "gpt-2", prompt: "word ".repeat(1025) });
    assert.equal(res.status, 500);
    assert.equal(
      await detail(res),
      "The decoder prompt (length 1025) is longer than the maximum model length of 1024. Make sure that `max_model_len` is no smaller than the number of text tokens.",
    );
    const chatTooLong = await postJson(emulator, "/chat/completions", { model: "r1", messages: long, max_tokens: 200000 });
    assert.equal(chatTooLong.status, 200, "1100 words fit r1's window; a huge max_tokens is no error");
  });

  test("the request log keeps the body and what reached the engine as kwargs", async () => {
    emulator.clearRequests();
    await chat(emulator, { model: "qwen2.5-instruct", messages: USER, n: 2, user: "u1", temperature: 0.2, request_id: "r-9" });
    const record = emulator.requests[0];
    assert.equal(record?.path, "/v1/chat/completions");
    assert.deepEqual(record?.kwargs, { temperature: 0.2, request_id: "r-9" });
  });
});

describe("chat completions and the model's limits", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({
      computeDelayMs: 600_000,
      models: [{ model_name: "qwen2.5-instruct", model_type: "LLM", max_concurrent: 1 }],
    });
  });
  after(() => emulator.close());

  test("past max_concurrent: 429; while loading: 503 with Retry-After: 30", async () => {
    // Stays in the engine until close() ends it.
    void postJson(emulator, "/chat/completions", { model: "qwen2.5-instruct", messages: USER }).catch(() => undefined);
    await emulator.waitForInFlight("qwen2.5-instruct", 1);
    const second = await postJson(emulator, "/chat/completions", { model: "qwen2.5-instruct", messages: USER });
    assert.equal(second.status, 429);
    assert.equal(await detail(second), "Rate limit reached for the model. Request limit 1 for the model: qwen2.5-instruct");
    emulator.setLoading("qwen2.5-instruct", true);
    const loading = await postJson(emulator, "/chat/completions", { model: "qwen2.5-instruct", messages: USER, stream: true });
    assert.equal(loading.status, 503);
    assert.equal(loading.headers.get("retry-after"), "30");
  });
});
