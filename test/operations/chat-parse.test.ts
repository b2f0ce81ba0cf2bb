// What chat and text completion requests must look like: every OpenAI rule a 400 naming the field and the fix.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BadRequestError } from "../../src/index.js";
import { parseChat } from "../../src/operations/chat.js";
import { parseTextCompletion } from "../../src/operations/completion.js";

const USER = [{ role: "user", content: "Hello" }];
const TOOL = { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: {} } } };

/** Asserts that parsing fails with a 400 on `param`, whose message matches `message`. */
function refuses(parse: () => unknown, param: string, message: RegExp): void {
  assert.throws(parse, (err: unknown) => {
    assert.ok(err instanceof BadRequestError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.param, param);
    assert.match(err.message, message);
    return true;
  });
}

describe("chat requests", () => {
  test("a full request: OpenAI's parameters kept, the rest provider extras, and what it needs of the model", () => {
    const call = parseChat({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "What is this?" }, { type: "image_url", image_url: { url: "data:image/png;base64,iVBOR", detail: "low" } }] },
      ],
      max_completion_tokens: 64,
      temperature: 0.2,
      top_p: 0.9,
      stop: ["\n\n"],
      seed: 7,
      n: 1,
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
      logprobs: true,
      top_logprobs: 3,
      tools: [TOOL],
      tool_choice: { type: "function", function: { name: "get_weather" } },
      parallel_tool_calls: false,
      response_format: { type: "json_schema", json_schema: { name: "answer", schema: { type: "object" } } },
      user: "u-1",
      stream: true,
      stream_options: { include_usage: true },
      enable_thinking: false,
      top_k: 20,
    });
    assert.equal(call.stream, true);
    assert.equal(call.includeUsage, true);
    assert.deepEqual(call.needs, { vision: true, tools: true });
    assert.deepEqual(call.extras, { enable_thinking: false, top_k: 20 });
    assert.equal(call.params.max_completion_tokens, 64);
    assert.equal(call.params.tool_choice && typeof call.params.tool_choice, "object");
    assert.equal("max_tokens" in call.params, false, "no key the client did not send");
  });

  test("messages: required, each with a known role and content of the right shape", () => {
    refuses(() => parseChat({}), "messages", /messages is required: a non-empty list/);
    refuses(() => parseChat({ messages: [] }), "messages", /non-empty list/);
    refuses(() => parseChat({ messages: ["hi"] }), "messages[0]", /must be an object such as \{"role": "user"/);
    refuses(() => parseChat({ messages: [{ role: "bot", content: "x" }] }), "messages[0].role", /one of "system", "developer", "user", "assistant", "tool", not "bot"/);
    refuses(() => parseChat({ messages: [{ role: "user", content: 3 }] }), "messages[0].content", /a string or a list of content parts/);
    refuses(
      () => parseChat({ messages: [{ role: "user", content: [{ type: "video", url: "x" }] }] }),
      "messages[0].content[0]",
      /"type" one of "text", "image_url", "input_audio"/,
    );
    refuses(
      () => parseChat({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "file:///etc/passwd" } }] }] }),
      "messages[0].content[0].image_url.url",
      /an http\(s\) URL or a data URL/,
    );
    refuses(
      () => parseChat({ messages: [{ role: "system", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }] }),
      "messages[0].content[0]",
      /"type" one of "text"/,
    );
  });

  test("assistant tool calls and the tool messages that answer them", () => {
    const call = parseChat({
      messages: [
        ...USER,
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "call_1", content: "sunny" },
      ],
    });
    assert.deepEqual(call.needs, { vision: false, tools: true });
    refuses(() => parseChat({ messages: [{ role: "assistant" }] }), "messages[0].content", /needs content or tool_calls/);
    refuses(() => parseChat({ messages: [{ role: "tool", content: "x" }] }), "messages[0].tool_call_id", /needs tool_call_id/);
    refuses(
      () => parseChat({ messages: [{ role: "assistant", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: {} } }] }] }),
      "messages[0].tool_calls[0].function.arguments",
      /a string \(the arguments as JSON text\)/,
    );
  });

  test("numbers in OpenAI's ranges", () => {
    refuses(() => parseChat({ messages: USER, temperature: 3 }), "temperature", /from 0 to 2, not 3/);
    refuses(() => parseChat({ messages: USER, top_p: -0.1 }), "top_p", /from 0 to 1/);
    refuses(() => parseChat({ messages: USER, max_tokens: 0 }), "max_tokens", /whole number ≥ 1/);
    refuses(() => parseChat({ messages: USER, max_tokens: 5, max_completion_tokens: 5 }), "max_tokens", /not both/);
    refuses(() => parseChat({ messages: USER, n: 0 }), "n", /from 1 to 128/);
    refuses(() => parseChat({ messages: USER, presence_penalty: 2.5 }), "presence_penalty", /from -2 to 2/);
    refuses(() => parseChat({ messages: USER, seed: 1.5 }), "seed", /whole number/);
    refuses(() => parseChat({ messages: USER, stop: ["a", "b", "c", "d", "e"] }), "stop", /up to 4 strings/);
    refuses(() => parseChat({ messages: USER, logit_bias: { hello: 5 } }), "logit_bias", /map token ids to biases/);
    refuses(() => parseChat({ messages: USER, top_logprobs: 2 }), "top_logprobs", /needs logprobs: true/);
    refuses(() => parseChat({ messages: USER, logprobs: "yes" }), "logprobs", /true or false/);
    refuses(() => parseChat({ messages: USER, user: 5 }), "user", /must be a string/);
  });

  test("tools, tool_choice and response_format", () => {
    refuses(() => parseChat({ messages: USER, tools: [{ type: "function" }] }), "tools[0]", /\{"type": "function", "function"/);
    refuses(() => parseChat({ messages: USER, tools: [{ type: "function", function: { name: "bad name" } }] }), "tools[0].function.name", /1 to 64 letters/);
    refuses(() => parseChat({ messages: USER, tool_choice: "auto" }), "tool_choice", /only allowed with tools/);
    refuses(() => parseChat({ messages: USER, tools: [TOOL], tool_choice: { type: "function", function: { name: "other" } } }), "tool_choice", /not among the tools: get_weather/);
    refuses(() => parseChat({ messages: USER, tools: [TOOL], tool_choice: "sometimes" }), "tool_choice", /"none", "auto", "required"/);
    assert.equal(parseChat({ messages: USER, tools: [TOOL], tool_choice: "required" }).params.tool_choice, "required");
    assert.deepEqual(parseChat({ messages: USER, response_format: { type: "json_object" } }).params.response_format, { type: "json_object" });
    refuses(() => parseChat({ messages: USER, response_format: { type: "xml" } }), "response_format", /json_object/);
    refuses(() => parseChat({ messages: USER, response_format: { type: "json_schema", json_schema: {} } }), "response_format.json_schema", /needs \{"json_schema"/);
  });

  test("stream and stream_options", () => {
    assert.deepEqual([parseChat({ messages: USER }).stream, parseChat({ messages: USER }).includeUsage], [false, false]);
    refuses(() => parseChat({ messages: USER, stream: "yes" }), "stream", /true or false/);
    refuses(() => parseChat({ messages: USER, stream_options: { include_usage: true } }), "stream_options", /only allowed with stream: true/);
    refuses(() => parseChat({ messages: USER, stream: true, stream_options: { include_usage: 1 } }), "stream_options.include_usage", /true or false/);
  });
});

describe("text completion requests", () => {
  test("a prompt string, or a list of them, or token ids; OpenAI's completion parameters", () => {
    const call = parseTextCompletion({ prompt: "Once", max_tokens: 8, logprobs: 2, echo: true, suffix: "end", best_of: 2, n: 2, stream: true, top_k: 5 });
    assert.equal(call.prompt, "Once");
    assert.deepEqual(call.params, { max_tokens: 8, n: 2, logprobs: 2, echo: true, suffix: "end", best_of: 2 });
    assert.deepEqual(call.extras, { top_k: 5 });
    assert.deepEqual(parseTextCompletion({ prompt: [1, 2, 3] }).prompt, [1, 2, 3]);
    assert.deepEqual(parseTextCompletion({ prompt: ["a", "b"] }).prompt, ["a", "b"]);
  });

  test("refusals name the parameter", () => {
    refuses(() => parseTextCompletion({}), "prompt", /prompt is required/);
    refuses(() => parseTextCompletion({ prompt: [1, "a"] }), "prompt", /a list of strings, or token ids/);
    refuses(() => parseTextCompletion({ prompt: "x", logprobs: 6 }), "logprobs", /from 0 to 5/);
    refuses(() => parseTextCompletion({ prompt: "x", n: 3, best_of: 2 }), "best_of", /at least n/);
    refuses(() => parseTextCompletion({ prompt: "x", stream_options: {} }), "stream_options", /only allowed with stream: true/);
  });
});
