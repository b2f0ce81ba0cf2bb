import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig, parseConfig } from "../../../src/proxy/config/index.js";

const fixture = (name: string): string => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));

const MINIMAL = "model_list:\n  - model_name: embed\n    litellm_params:\n      model: xinference/bge-base-en\n";

function warningsOf(text: string): string[] {
  return parseConfig(text, "config.yaml", {}).warnings;
}

describe("unknown keys", () => {
  test("a misspelt key warns with its path, its line and the likely key, and the config still loads", () => {
    const { config, warnings } = parseConfig(`${MINIMAL}general_settings:\n  mastr_key: sk-1\n`, "config.yaml", {});
    assert.deepEqual(warnings, ["unknown key general_settings.mastr_key (line 6) is ignored; did you mean master_key?"]);
    assert.equal(config.general_settings.master_key, undefined);
    assert.equal("mastr_key" in config.general_settings, false);
  });

  test("a key in the wrong section says which section it belongs to", () => {
    const warnings = warningsOf(`${MINIMAL}litellm_settings:\n  routing_strategy: least-busy\n  master_key: sk-1\n`);
    assert.deepEqual(warnings, [
      "unknown key litellm_settings.routing_strategy (line 6) is ignored; did you mean router_settings.routing_strategy?",
      "unknown key litellm_settings.master_key (line 7) is ignored; did you mean general_settings.master_key?",
    ]);
  });

  test("a model_info key written directly in the list item points to model_info", () => {
    const warnings = warningsOf(`${MINIMAL}    mode: embedding\n`);
    assert.deepEqual(warnings, ["unknown key model_list[0].mode (line 5) is ignored; did you mean model_info.mode?"]);
  });

  test("an unknown top-level section warns, with a suggestion when there is one", () => {
    const warnings = warningsOf(`${MINIMAL}router_setings:\n  num_retries: 1\nserver_settings:\n  port: 1\n`);
    assert.deepEqual(warnings, [
      "unknown key router_setings (line 5) is ignored; did you mean router_settings?",
      "unknown key server_settings (line 7) is ignored",
    ]);
  });

  test("case and separators do not hide a suggestion", () => {
    assert.deepEqual(warningsOf(`${MINIMAL}general_settings:\n  masterKey: sk-1\n`), [
      "unknown key general_settings.masterKey (line 6) is ignored; did you mean master_key?",
    ]);
  });

  test("provider extras in litellm_params and extra model_info fields are passed through silently", () => {
    const { config, warnings } = parseConfig(
      `${MINIMAL}      negative_prompt: blurry\n    model_info:\n      supports_vision: false\n`,
      "config.yaml",
      {},
    );
    assert.deepEqual(warnings, []);
    assert.equal(config.model_list[0]!.litellm_params.negative_prompt, "blurry");
    assert.equal(config.model_list[0]!.model_info.supports_vision, false);
  });

  test("a model_info key inside litellm_params is kept as an extra, with a warning that says where it belongs", () => {
    assert.deepEqual(warningsOf(`${MINIMAL}      mode: embedding\n`), [
      "model_list[0].litellm_params.mode (line 5) is not a setting xgate reads here, so it is passed to the provider as an extra; did you mean model_info.mode?",
    ]);
  });

  test("a misspelt required key is pointed out next to the error it causes", () => {
    const text = "model_list:\n  - model_name: embed\n    litelm_params:\n      model: xinference/bge-base-en\n";
    assert.throws(
      () => parseConfig(text, "config.yaml", {}),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /^config\.yaml:2:5: model_list\[0\]\.litellm_params is missing/);
        assert.match(err.message, /Also found:\n {2}- unknown key model_list\[0\]\.litelm_params \(line 3\) is ignored; did you mean litellm_params\?/);
        return true;
      },
    );
  });
});

describe("keys inside litellm_params and model_info", () => {
  test("a typo of a setting warns with the setting it meant, and is neither used nor sent to the provider", () => {
    const { config, warnings } = parseConfig(
      `${MINIMAL}      api_bse: http://gpu-1:9997/v1\n      timout: 30\n      max_retry: 2\n      base_url: http://gpu-2:9997/v1\n      apiKey: k\n`,
      "config.yaml",
      {},
    );
    assert.deepEqual(warnings, [
      "unknown key model_list[0].litellm_params.api_bse (line 5) is ignored; did you mean api_base?",
      "unknown key model_list[0].litellm_params.timout (line 6) is ignored; did you mean timeout?",
      "unknown key model_list[0].litellm_params.max_retry (line 7) is ignored; did you mean max_retries?",
      "unknown key model_list[0].litellm_params.base_url (line 8) is ignored; did you mean api_base?",
      "unknown key model_list[0].litellm_params.apiKey (line 9) is ignored; did you mean api_key?",
    ]);
    assert.deepEqual(config.model_list[0]!.litellm_params, { model: "xinference/bge-base-en" });
  });

  test("a typo in model_info warns the same way, a swap of two letters included", () => {
    const { config, warnings } = parseConfig(`${MINIMAL}    model_info:\n      mdoe: embedding\n      auto_lanch: {model_name: bge}\n`, "config.yaml", {});
    assert.deepEqual(warnings, [
      "unknown key model_list[0].model_info.mdoe (line 6) is ignored; did you mean mode?",
      "unknown key model_list[0].model_info.auto_lanch (line 7) is ignored; did you mean auto_launch?",
    ]);
    assert.deepEqual(config.model_list[0]!.model_info, {});
  });

  test("LiteLLM's own keys, pricing in every unit included, load without a word", () => {
    const params = [
      "api_base: http://127.0.0.1:9997/v1",
      "api_key: k",
      "api_version: 2024-06-01",
      "timeout: 30",
      "stream_timeout: 10",
      "max_retries: 1",
      "num_retries: 2",
      "rpm: 60",
      "tpm: 1000",
      "weight: 2",
      "order: 1",
      "drop_params: true",
      "input_cost_per_token: 0.1",
      "output_cost_per_token: 0.2",
      "input_cost_per_image: 0.3",
      "input_cost_per_pixel: 0.4",
      "output_cost_per_pixel: 0.5",
      "input_cost_per_token_above_128k_tokens: 0.6",
      "cache_read_input_token_cost: 0.7",
    ];
    const info = ["mode: embedding", "id: gpu-1", "base_model: bge-base-en-v1.5", "max_input_tokens: 512", "supports_embedding_image_input: false", "input_cost_per_pixel: 0.1", "output_cost_per_image: 0.2", "auto_launch: {model_name: bge-base-en-v1.5}"];
    const text = `${MINIMAL}${params.map((p) => `      ${p}\n`).join("")}    model_info:\n${info.map((p) => `      ${p}\n`).join("")}`;
    const { config, warnings } = parseConfig(text, "config.yaml", {});
    assert.deepEqual(warnings, []);
    assert.equal(config.model_list[0]!.litellm_params.input_cost_per_pixel, 0.4);
    // Azure's api_version means nothing to Xinference: it is not sent along as an extra.
    assert.equal("api_version" in config.model_list[0]!.litellm_params, false);
  });

  test("a key that is neither a setting nor a known request parameter is passed on, and the warning says so", () => {
    const { config, warnings } = parseConfig(`${MINIMAL}      negative_promt: blurry\n      controlnet_scale: 0.5\n    model_info:\n      owner: team-a\n`, "config.yaml", {});
    assert.deepEqual(warnings, [
      "model_list[0].litellm_params.negative_promt (line 5) is not a setting xgate reads here, so it is passed to the provider as an extra; did you mean negative_prompt?",
      "model_list[0].litellm_params.controlnet_scale (line 6) is not a setting xgate reads here, so it is passed to the provider as an extra",
    ]);
    assert.equal(config.model_list[0]!.litellm_params.controlnet_scale, 0.5);
    assert.equal(config.model_list[0]!.model_info.owner, "team-a");
  });

  test("a litellm_params key written in model_info says where it belongs, and that it stays information", () => {
    assert.deepEqual(warningsOf(`${MINIMAL}    model_info:\n      timeout: 30\n`), [
      "model_list[0].model_info.timeout (line 6) is not a setting xgate reads here, so it is kept only as information (shown by /model/info); did you mean litellm_params.timeout?",
    ]);
  });
});

describe("LiteLLM settings xgate does not implement yet", () => {
  test("load with a 'not supported' warning each, and never reach the provider", async () => {
    const { config, warnings } = await loadConfig(fixture("litellm-proxy.yaml"), { env: {} });
    assert.deepEqual(warnings, [
      "include (line 2) is not supported by xgate yet, ignored",
      "model_list[0].litellm_params.tags (line 10) is not supported by xgate yet, ignored",
      "litellm_settings.success_callback (line 17) is not supported by xgate yet, ignored",
      "litellm_settings.context_window_fallbacks (line 19) is not supported by xgate yet, ignored",
      "general_settings.alerting (line 23) is not supported by xgate yet, ignored",
      "general_settings.store_model_in_db (line 24) is not supported by xgate yet, ignored",
      "unknown key general_settings.mastr_key (line 25) is ignored; did you mean master_key?",
      "router_settings.enable_pre_call_checks (line 29) is not supported by xgate yet, ignored",
      "router_settings.routing_strategy (line 28) 'usage-based-routing-v2' is served by xgate's usage-based-routing",
    ]);
    const params = config.model_list[0]!.litellm_params;
    assert.equal("tags" in params, false);
    assert.equal(params.seed, 42);
    assert.equal(config.router_settings.routing_strategy, "usage-based-routing");
    assert.equal(config.litellm_settings.drop_params, true);
    assert.equal(config.general_settings.master_key, "sk-1234");
  });

  test("LiteLLM's cost-based-routing is refused with the strategies xgate has", () => {
    assert.throws(
      () => parseConfig(`${MINIMAL}router_settings:\n  routing_strategy: cost-based-routing\n`, "config.yaml", {}),
      /router_settings\.routing_strategy: 'cost-based-routing' is not one of: simple-shuffle, least-busy, latency-based-routing, usage-based-routing/,
    );
  });
});

describe("misplaced keys that are still valid YAML", () => {
  test("model_info at the top level, after the list, is an error that says where it belongs", () => {
    const text = `${MINIMAL}model_info:\n  mode: embedding\n`;
    assert.throws(
      () => parseConfig(text, "config.yaml", {}),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.line, 5);
        assert.equal(err.column, 1);
        assert.match(
          err.message,
          /^config\.yaml:5:1: model_info is at the top level, but it belongs inside a model_list item \(model_list\[0\]\): indent it by 4 spaces, to line up with litellm_params on line 3/,
        );
        assert.doesNotMatch(err.message, /unknown key model_info/);
        return true;
      },
    );
  });

  test("model_info indented into litellm_params is an error, not an extra sent to the provider", () => {
    const text = `${MINIMAL}      model_info:\n        mode: embedding\n`;
    assert.throws(
      () => parseConfig(text, "config.yaml", {}),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.path, "model_list[0].litellm_params.model_info");
        assert.match(
          err.message,
          /^config\.yaml:5:7: model_list\[0\]\.litellm_params\.model_info is inside litellm_params, but it belongs next to it: indent model_info by 4 spaces, to line up with litellm_params on line 3\./,
        );
        return true;
      },
    );
  });
});
