import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DEFAULT_MODELS, startEmulator } from "../support/emulator/index.js";
import type { Emulator } from "../support/emulator/index.js";
import { postJson } from "./helpers.js";

type ModelEntry = Record<string, unknown> & { id: string };

describe("LLM and audio models", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ adminTokens: ["admin"] });
  });
  after(() => emulator.close());

  async function list(): Promise<Map<string, ModelEntry>> {
    const res = await fetch(`${emulator.baseUrl}/models`, { headers: { authorization: "Bearer admin" } });
    return new Map(((await res.json()) as { data: ModelEntry[] }).data.map((m) => [m.id, m]));
  }

  test("DEFAULT_MODELS launch a chat LLM, a transcriber and a speech model", async () => {
    const byId = await list();
    for (const uid of ["qwen2.5-instruct", "whisper-large-v3", "ChatTTS"]) {
      assert.ok(DEFAULT_MODELS.some((m) => (m.model_uid ?? m.model_name) === uid), uid);
      assert.ok(byId.has(uid), uid);
    }
  });

  test("an LLM's entry is what LLMFamily.to_description gives, plus the replica count", async () => {
    const qwen = (await list()).get("qwen2.5-instruct");
    assert.deepEqual(qwen, {
      id: "qwen2.5-instruct",
      object: "model",
      created: 0,
      owned_by: "xinference",
      model_type: "LLM",
      address: qwen?.address,
      accelerators: qwen?.accelerators,
      model_name: "qwen2.5-instruct",
      model_lang: ["en", "zh"],
      model_ability: ["chat", "tools"],
      model_description: "",
      model_format: "pytorch",
      model_size_in_billions: "0_5",
      model_family: "qwen2.5-instruct",
      quantization: "none",
      multimodal_projector: null,
      model_hub: "huggingface",
      revision: null,
      context_length: 32768,
      strict_system_first: false,
      replica: 1,
    });
  });

  test("an audio model's entry has its family and abilities", async () => {
    const byId = await list();
    const whisper = byId.get("whisper-large-v3");
    assert.deepEqual(
      { type: whisper?.model_type, family: whisper?.model_family, ability: whisper?.model_ability },
      { type: "audio", family: "whisper", ability: ["audio2text"] },
    );
    assert.deepEqual(byId.get("ChatTTS")?.model_ability, ["text2audio", "text2audio_zero_shot"]);
  });

  test("POST /v1/models: an LLM needs model_engine; reasoning_content is a launch option", async () => {
    const admin = { authorization: "Bearer admin" };
    const noEngine = await postJson(emulator, "/models", { model_name: "gpt-2", model_type: "LLM" }, admin);
    assert.equal(noEngine.status, 400);
    assert.deepEqual(await noEngine.json(), { detail: "Invalid input. Please specify the `model_engine` field." });
    const defaultType = await postJson(emulator, "/models", { model_name: "gpt-2" }, admin);
    assert.equal(defaultType.status, 400, "model_type defaults to LLM");
    const launched = await postJson(
      emulator,
      "/models",
      { model_name: "deepseek-r1-distill-qwen", model_type: "LLM", model_engine: "vllm", model_uid: "r1", reasoning_content: true },
      admin,
    );
    assert.deepEqual(await launched.json(), { model_uid: "r1" });
    const answer = (await (
      await postJson(emulator, "/chat/completions", { model: "r1", messages: [{ role: "user", content: "hi" }] }, admin)
    ).json()) as { choices: { message: { reasoning_content?: string } }[] };
    assert.match(answer.choices[0]?.message.reasoning_content ?? "", /Okay, the user wrote hi/);
    const audio = await postJson(emulator, "/models", { model_name: "whisper-large-v3-turbo", model_type: "audio" }, admin);
    assert.deepEqual(await audio.json(), { model_uid: "whisper-large-v3-turbo" });
    const unknown = await postJson(emulator, "/models", { model_name: "nope", model_type: "audio" }, admin);
    assert.equal(unknown.status, 400);
    assert.match(((await unknown.json()) as { detail: string }).detail, /^Audio model nope not found, available models: \['whisper-large-v3', /);
  });

  test("auth: an API key limited to other models gets 403 on the LLM and audio routes", async () => {
    const limited = await startEmulator({ apiKeys: [{ key: "k1", models: ["bge-base-en"] }] });
    try {
      const headers = { authorization: "Bearer k1" };
      const chat = await postJson(limited, "/chat/completions", { model: "qwen2.5-instruct", messages: [{ role: "user", content: "x" }] }, headers);
      assert.equal(chat.status, 403);
      const speech = await postJson(limited, "/audio/speech", { model: "ChatTTS", input: "x", voice: "1" }, headers);
      assert.equal(speech.status, 403);
      assert.equal((await postJson(limited, "/completions", { model: "qwen2.5-instruct", prompt: "x" })).status, 401);
    } finally {
      await limited.close();
    }
  });
});
