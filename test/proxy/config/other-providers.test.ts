import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseConfig } from "../../../src/proxy/config/index.js";
import { failure } from "./helpers.js";

const entry = (name: string, model: string, extra = ""): string =>
  `  - model_name: ${name}\n    litellm_params:\n      model: ${model}\n${extra}`;

/** A LiteLLM config that serves Xinference models next to hosted ones. */
const MIXED =
  "model_list:\n" +
  entry("embed", "xinference/bge-base-en") +
  entry("gpt-4o", "openai/gpt-4o", "      api_key: os.environ/OPENAI_API_KEY\n") +
  entry("gpt-4o-eu", "azure/gpt-4o-eu", "      api_base: os.environ/AZURE_API_BASE\n      api_version: 2024-06-01\n      aws_nonsense: 1\n") +
  entry("claude", "anthropic/claude-3-5-sonnet-20240620") +
  entry("sd", "xinference/sd3", "      rpm: 10\n");

describe("entries of providers xgate does not serve", () => {
  test("are skipped with one warning each, even when their os.environ/ variables are not set", () => {
    const { config, warnings } = parseConfig(MIXED, "config.yaml", {});
    assert.deepEqual(
      config.model_list.map((d) => d.model_name),
      ["embed", "sd"],
    );
    assert.deepEqual(warnings, [
      "model_list[1] ('gpt-4o', line 7) is skipped: 'openai/gpt-4o' has no api_base, so LiteLLM would send it to OpenAI's own API, " +
        "and xgate serves openai/ models only at the OpenAI-compatible server an api_base names (https://api.openai.com/v1 for OpenAI's own API)",
      "model_list[2] ('gpt-4o-eu', line 11) is skipped: 'azure/gpt-4o-eu' is a model of the provider 'azure', and xgate serves only xinference/, openai/, hosted_vllm/ models",
      "model_list[3] ('claude', line 17) is skipped: 'anthropic/claude-3-5-sonnet-20240620' is a model of the provider 'anthropic', and xgate serves only xinference/, openai/, hosted_vllm/ models",
    ]);
    assert.ok(warnings.every((w) => !w.includes("xinference/gpt-4o")));
  });

  test("an openai/ entry with an api_base is served, its key from the environment; without one it is OpenAI's own API", () => {
    const text = MIXED.replace("      api_key: os.environ/OPENAI_API_KEY\n", "      api_base: http://10.0.0.5:8000/v1\n      api_key: os.environ/VLLM_KEY\n");
    const { config, warnings } = parseConfig(text, "config.yaml", { VLLM_KEY: "sk-vllm" });
    assert.deepEqual(config.model_list.map((d) => d.model_name), ["embed", "gpt-4o", "sd"]);
    assert.equal(config.model_list[1]?.litellm_params.api_key, "sk-vllm");
    assert.equal(warnings.length, 2);
    assert.ok(warnings.every((w) => !w.includes("'openai/gpt-4o'")));
  });

  test("messages about the entries after them still name them by their place in the file", () => {
    const err = failure(MIXED.replace("rpm: 10", "rpm: lots"));
    assert.equal(err.path, "model_list[4].litellm_params.rpm");
    assert.equal(err.line, 21);
    assert.match(err.message, /^config\.yaml:21:12: model_list\[4\]\.litellm_params\.rpm: expected a number, got 'lots'\./);

    const { warnings } = parseConfig(MIXED.replace("rpm: 10", "rpn: 10"), "config.yaml", {});
    assert.equal(warnings.at(-1), "unknown key model_list[4].litellm_params.rpn (line 21) is ignored; did you mean rpm?");
  });

  test("with strict, each one is an error at its model, and no xinference/ spelling of it is proposed", () => {
    const err = failure(MIXED, {}, { strict: true });
    assert.equal(err.issues.length, 3);
    assert.match(
      err.message,
      /config\.yaml:7:14: model_list\[1\]\.litellm_params\.model: 'openai\/gpt-4o' has no api_base, so LiteLLM would send it to OpenAI's own API, .*\. Set api_base, remove this entry, or start without --strict to skip it with a warning\./,
    );
    assert.match(
      err.message,
      /config\.yaml:11:14: model_list\[2\]\.litellm_params\.model: 'azure\/gpt-4o-eu' is a model of the provider 'azure', and xgate serves only xinference\/, openai\/, hosted_vllm\/ models\. Remove this entry/,
    );
    assert.match(err.message, /config\.yaml:17:14: model_list\[3\]\.litellm_params\.model: 'anthropic\/claude-3-5-sonnet-20240620'/);
    assert.doesNotMatch(err.message, /OPENAI_API_KEY|xinference\/gpt-4o/);
  });

  test("a config with nothing but such entries is an error that says so", () => {
    const err = failure("model_list:\n" + entry("gpt-4o", "openai/gpt-4o") + entry("claude", "anthropic/claude-3-opus"));
    assert.equal(err.path, "model_list");
    assert.equal(err.line, 1);
    assert.match(
      err.message,
      /^config\.yaml:1:1: model_list has no model xgate can serve: every entry is skipped, being a model of another provider or a vendor's own API \(openai\/ without an api_base, anthropic\), and xgate serves only xinference\/, openai\/, hosted_vllm\/ models\. Add one, for example:/,
    );
  });

  test("fallbacks and aliases that name a skipped group are left out with a warning", () => {
    const text =
      MIXED +
      "router_settings:\n  model_group_alias:\n    smart: gpt-4o\n    fast: embed\n" +
      "  fallbacks:\n    - embed: [gpt-4o, sd, smart]\n    - claude: [embed]\n  default_fallbacks: [gpt-4o-eu, embed]\n" +
      "litellm_settings:\n  fallbacks: [{sd: [claude]}]\n";
    const { config, warnings } = parseConfig(text, "config.yaml", {});
    assert.deepEqual(config.router_settings.model_group_alias, { fast: "embed" });
    assert.deepEqual(config.router_settings.fallbacks, [{ embed: ["sd"] }]);
    assert.deepEqual(config.router_settings.default_fallbacks, ["embed"]);
    assert.deepEqual(config.litellm_settings.fallbacks, [{ sd: [] }]);
    assert.deepEqual(warnings.slice(3), [
      "router_settings.model_group_alias.smart (line 24) points to the group 'gpt-4o', whose deployments are all skipped (another provider's models), so it is left out",
      "litellm_settings.fallbacks[0].sd[0] (line 31) names the group 'claude', whose deployments are all skipped (another provider's models), so it is left out",
      "router_settings.fallbacks[0].embed[0] (line 27) names the group 'gpt-4o', whose deployments are all skipped (another provider's models), so it is left out",
      "router_settings.fallbacks[0].embed[2] (line 27) names the group 'smart', whose deployments are all skipped (another provider's models), so it is left out",
      "router_settings.fallbacks[1].claude (line 28) names the group 'claude', whose deployments are all skipped (another provider's models), so it is left out",
      "router_settings.default_fallbacks[0] (line 29) names the group 'gpt-4o-eu', whose deployments are all skipped (another provider's models), so it is left out",
    ]);
  });

  test("a group served by both kinds keeps its Xinference deployments and its references", () => {
    const text = "model_list:\n" + entry("embed", "openai/text-embedding-3-small") + entry("embed", "xinference/bge-base-en") + "router_settings:\n  default_fallbacks: [embed]\n";
    const { config, warnings } = parseConfig(text, "config.yaml", {});
    assert.deepEqual(config.model_list.map((d) => d.litellm_params.model), ["xinference/bge-base-en"]);
    assert.deepEqual(config.router_settings.default_fallbacks, ["embed"]);
    assert.equal(warnings.length, 1);
  });
});
