import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadConfig, parseConfig } from "../../../src/proxy/config/index.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/config.yaml", import.meta.url));

/** Uncomments the YAML the example shows in comments (`# - …`, `#   key: …`), leaving prose comments alone. */
function uncommentExamples(text: string): string {
  return text
    .split("\n")
    .map((line) => line.replace(/^(\s*)# (\s*- .*|\s*[a-z_*][\w*/.-]*:(?: .*)?)$/, "$1$2"))
    .join("\n");
}

describe("examples/config.yaml", () => {
  test("loads without warnings and serves an embedding model and an image model on 127.0.0.1:9997", async () => {
    const { config, warnings } = await loadConfig(EXAMPLE, { env: {} });
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      config.model_list.map((d) => [d.model_name, d.litellm_params.model, d.litellm_params.api_base, d.model_info.mode]),
      [
        ["bge-base-en", "xinference/bge-base-en", "http://127.0.0.1:9997/v1", "embedding"],
        ["stable-diffusion", "xinference/stabilityai/stable-diffusion-3.5-large", "http://127.0.0.1:9997/v1", "image_generation"],
      ],
    );
  });

  test("its commented examples (rerank, an LLM, wildcard, a model group with weights, order and a vLLM server) are valid when uncommented", async () => {
    const text = uncommentExamples(await readFile(EXAMPLE, "utf8"));
    const { config, warnings } = parseConfig(text, EXAMPLE, { XINFERENCE_API_KEY: "k", VLLM_API_KEY: "v", XGATE_MASTER_KEY: "sk-example" });
    assert.deepEqual(warnings, []);
    const names = config.model_list.map((d) => d.model_name);
    assert.deepEqual(names, ["bge-base-en", "stable-diffusion", "bge-reranker", "qwen", "xinference/*", "embed", "embed", "embed", "embed"]);
    assert.equal(config.model_list[2]!.model_info.mode, "rerank");
    assert.equal(config.model_list[3]!.model_info.mode, "chat");
    assert.equal(config.model_list[3]!.litellm_params.max_tokens, 1024);
    assert.deepEqual(
      config.model_list.filter((d) => d.model_name === "embed").map((d) => [d.litellm_params.weight, d.litellm_params.order]),
      [
        [2, 1],
        [1, 1],
        [undefined, 2],
        [undefined, 2],
      ],
    );
    assert.deepEqual(
      [config.model_list[8]!.litellm_params.model, config.model_list[8]!.litellm_params.api_base, config.model_list[8]!.litellm_params.api_key],
      ["hosted_vllm/BAAI/bge-base-en-v1.5", "http://10.0.0.14:8000/v1", "v"],
    );
    assert.equal(config.model_list[7]!.model_info.auto_launch?.model_type, "embedding");
    assert.deepEqual(config.router_settings.fallbacks, [{ embed: ["bge-base-en"] }]);
    assert.equal(config.general_settings.master_key, "sk-example");
  });
});
