import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, parseConfig } from "../../../src/proxy/config/index.js";

function failure(text: string, knownProviders?: readonly string[]): ConfigError {
  try {
    parseConfig(text, "config.yaml", {}, knownProviders ? { knownProviders } : {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail("the config loaded, but it should not have");
}

const deployment = (name: string, model = `xinference/${name}`, extra = ""): string =>
  `  - model_name: ${name}\n    litellm_params:\n      model: ${model}\n${extra}`;

const TWO_GROUPS = `model_list:\n${deployment("embed")}${deployment("sd")}`;

describe("fallbacks and aliases", () => {
  test("a fallback naming a group that does not exist names it, lists the groups, and gives its line", () => {
    const err = failure(`${TWO_GROUPS}router_settings:\n  fallbacks:\n    - embed: [sdxl]\n`);
    assert.equal(err.path, "router_settings.fallbacks[0].embed[0]");
    assert.equal(err.line, 10);
    assert.match(
      err.message,
      /^config\.yaml:10:15: router_settings\.fallbacks\[0\]\.embed\[0\] names the group 'sdxl', which does not exist\. Groups \(model_name values\): embed, sd\./,
    );
  });

  test("the group a fallback is for must exist too, in litellm_settings as in router_settings", () => {
    const err = failure(`${TWO_GROUPS}litellm_settings:\n  fallbacks: [{embedding: [embed]}]\n  default_fallbacks: [nope]\n`);
    assert.equal(err.issues.length, 2);
    assert.match(err.message, /config\.yaml:9:16: litellm_settings\.fallbacks\[0\]\.embedding names the group 'embedding', which does not exist/);
    assert.match(err.message, /config\.yaml:10:23: litellm_settings\.default_fallbacks\[0\] names the group 'nope', which does not exist/);
  });

  test("fallbacks may name a model a wildcard group serves, an alias, or '*'", () => {
    const text =
      `${TWO_GROUPS}${deployment("xinference/*", "xinference/*")}` +
      "router_settings:\n  model_group_alias:\n    fast: embed\n  fallbacks:\n    - sd: [xinference/other-model, fast]\n    - '*': [embed]\n";
    const { config } = parseConfig(text, "config.yaml", {});
    assert.deepEqual(config.router_settings.fallbacks, [{ sd: ["xinference/other-model", "fast"] }, { "*": ["embed"] }]);
  });

  test("an alias pointing to a group that does not exist", () => {
    const err = failure(`${TWO_GROUPS}router_settings:\n  model_group_alias:\n    fast: {model: ghost, hidden: true}\n`);
    assert.match(
      err.message,
      /router_settings\.model_group_alias\.fast\.model points to the group 'ghost', which does not exist\. Groups \(model_name values\): embed, sd\./,
    );
  });
});

describe("model strings", () => {
  test("a model without a provider xgate knows lists the providers and suggests the fix", () => {
    const err = failure(
      `model_list:\n${deployment("bare", "bge-base-en")}${deployment("sd", "stabilityai/sd3")}${deployment("typo", "xinferenc/bge-base-en")}`,
    );
    assert.equal(err.issues.length, 3);
    assert.match(
      err.message,
      /config\.yaml:4:14: model_list\[0\]\.litellm_params\.model: 'bge-base-en' does not start with a provider xgate knows \(xinference, openai, hosted_vllm\)\. Write <provider>\/<model>, e\.g\. xinference\/bge-base-en\./,
    );
    // Xinference uids may contain a slash, so an unknown prefix is read as part of the uid.
    assert.match(err.message, /model_list\[1\]\.litellm_params\.model: 'stabilityai\/sd3' does not start with a provider xgate knows \(xinference, openai, hosted_vllm\)\..*e\.g\. xinference\/stabilityai\/sd3\./);
    assert.match(err.message, /model_list\[2\]\.litellm_params\.model: 'xinferenc\/bge-base-en' does not start with a provider xgate knows \(xinference, openai, hosted_vllm\)\. Did you mean xinference\/bge-base-en\?/);
  });

  test("the known providers can be injected", () => {
    const text = `model_list:\n${deployment("gpt", "azure/gpt-4o")}`;
    assert.equal(parseConfig(text, "config.yaml", {}, { knownProviders: ["xinference", "azure"] }).config.model_list.length, 1);
    assert.match(failure(`model_list:\n${deployment("a", "bge-base-en")}`, ["openai", "vllm"]).message, /provider xgate knows \(openai, vllm\)/);
  });

  test("an OpenAI-compatible deployment needs its api_base; with one, or with an os.environ/ reference, it is served", () => {
    const missing = failure(`model_list:\n${deployment("embed", "hosted_vllm/BAAI/bge-base-en-v1.5")}`);
    assert.equal(missing.line, 4);
    assert.equal(
      missing.issues[0]?.message,
      "model_list[0].litellm_params.api_base: api_base is required for hosted_vllm/ models: the URL of the OpenAI-compatible server's API, " +
        "e.g. http://127.0.0.1:8000/v1. Set it under litellm_params (os.environ/NAME reads it from the environment).",
    );
    const served = parseConfig(
      `model_list:\n${deployment("embed", "hosted_vllm/BAAI/bge-base-en-v1.5")}      api_base: os.environ/VLLM_BASE\n` +
        `${deployment("embed", "openai/bge")}      api_base: http://10.0.0.6:8000/v1\n      api_key: os.environ/VLLM_KEY\n`,
      "config.yaml",
      { VLLM_BASE: "http://10.0.0.5:8000/v1", VLLM_KEY: "sk-vllm" },
    );
    assert.deepEqual(served.warnings, []);
    assert.deepEqual(
      served.config.model_list.map((d) => [d.litellm_params.model, d.litellm_params.api_base, d.litellm_params.api_key]),
      [
        ["hosted_vllm/BAAI/bge-base-en-v1.5", "http://10.0.0.5:8000/v1", undefined],
        ["openai/bge", "http://10.0.0.6:8000/v1", "sk-vllm"],
      ],
    );
  });

  test("a provider with no model after it", () => {
    assert.match(
      failure(`model_list:\n${deployment("a", "xinference/")}`).message,
      /'xinference\/' names no model; write xinference\/<model uid>, or xinference\/\* for every model/,
    );
  });
});

describe("deployments", () => {
  test("two deployments with one model_info.id", () => {
    const info = "    model_info:\n      id: gpu-1\n";
    const err = failure(`model_list:\n${deployment("a", "xinference/a", info)}${deployment("b", "xinference/b", info)}`);
    assert.equal(err.path, "model_list[1].model_info.id");
    assert.match(err.message, /model_list\[1\]\.model_info\.id 'gpu-1' is also the id of model_list\[0\]; ids identify deployments, so each must be unique/);
  });

  test("an unknown mode warns with a suggestion; a mode xgate does not serve warns that it cannot be called", () => {
    const { warnings } = parseConfig(
      `model_list:\n${deployment("a", "xinference/a", "    model_info:\n      mode: embeddings\n")}${deployment("guard", "xinference/qwen", "    model_info:\n      mode: moderation\n")}`,
      "config.yaml",
      {},
    );
    assert.deepEqual(warnings, [
      "model_list[0].model_info.mode (line 6) is 'embeddings', which is not a mode LiteLLM knows; did you mean embedding?",
      "model_list[1].model_info.mode (line 11) is 'moderation': xgate has no route for that mode yet (it serves embedding, image_generation, image_edit, rerank, chat, completion, audio_transcription, audio_speech), so 'guard' is listed but cannot be called",
    ]);
  });

  test("the audio modes load without a warning, and give auto_launch its model_type", () => {
    const launch = (mode: string, name: string): string => `    model_info:\n      mode: ${mode}\n      auto_launch:\n        model_name: ${name}\n`;
    const { config, warnings } = parseConfig(
      `model_list:\n${deployment("whisper", "xinference/whisper-large-v3", launch("audio_transcription", "whisper-large-v3"))}${deployment("tts", "xinference/ChatTTS", launch("audio_speech", "ChatTTS"))}`,
      "config.yaml",
      {},
    );
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      config.model_list.map((d) => d.model_info.auto_launch?.model_type),
      ["audio", "audio"],
    );
  });

  test("auto_launch takes model_type from the mode, keeps launch options, and refuses what it cannot launch", () => {
    const launch = (mode: string, type = ""): string =>
      `    model_info:\n${mode ? `      mode: ${mode}\n` : ""}      auto_launch:\n        model_name: sd3\n        n_gpu: 2\n${type}`;
    const { config } = parseConfig(`model_list:\n${deployment("sd", "xinference/sd", launch("image_generation"))}`, "config.yaml", {});
    assert.deepEqual(config.model_list[0]!.model_info.auto_launch, { model_name: "sd3", n_gpu: 2, model_type: "image" });

    assert.match(
      failure(`model_list:\n${deployment("x", "xinference/x", launch(""))}`).message,
      /model_list\[0\]\.model_info\.auto_launch needs model_type \(one of LLM, embedding, image, rerank, audio, video, flexible\)/,
    );
    assert.match(
      failure(`model_list:\n${deployment("x", "xinference/x", launch("", "        model_type: llm\n"))}`).message,
      /model_list\[0\]\.model_info\.auto_launch\.model_type: 'llm' is not one of: LLM, embedding, image, rerank, audio, video, flexible/,
    );
    assert.match(
      failure(`model_list:\n${deployment("xinference/*", "xinference/*", launch("embedding"))}`).message,
      /model_list\[0\]\.model_info\.auto_launch: 'xinference\/\*' is a wildcard, and only one named model can be launched/,
    );
  });
});
