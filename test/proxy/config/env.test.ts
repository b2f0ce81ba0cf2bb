import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadConfig, parseConfig } from "../../../src/proxy/config/index.js";
import { failure } from "./helpers.js";


const withParams = (params: string): string =>
  `model_list:\n  - model_name: embed\n    litellm_params:\n      model: xinference/bge-base-en\n${params}`;

describe("os.environ/ references", () => {
  test("are replaced at any depth, in lists too", () => {
    const text =
      withParams("      api_key: os.environ/XINF_KEY\n      api_base: os.environ/XINF_BASE\n") +
      "router_settings:\n  fallbacks:\n    - embed: [os.environ/FALLBACK]\n  model_group_alias:\n    fast: os.environ/FALLBACK\n";
    const { config } = parseConfig(text, "config.yaml", { XINF_KEY: "k-1", XINF_BASE: "http://gpu:9997/v1", FALLBACK: "embed" });
    assert.equal(config.model_list[0]!.litellm_params.api_key, "k-1");
    assert.equal(config.model_list[0]!.litellm_params.api_base, "http://gpu:9997/v1");
    assert.deepEqual(config.router_settings.fallbacks, [{ embed: ["embed"] }]);
    assert.deepEqual(config.router_settings.model_group_alias, { fast: "embed" });
  });

  test("a variable that is not set names the variable and the key that uses it, at its line", () => {
    const err = failure(withParams("      api_key: os.environ/XINF_KEY\n"), {});
    assert.equal(err.path, "model_list[0].litellm_params.api_key");
    assert.equal(err.line, 5);
    assert.equal(err.column, 16);
    assert.match(err.message, /^config\.yaml:5:16: model_list\[0\]\.litellm_params\.api_key uses os\.environ\/XINF_KEY, which is not set\./);
    assert.match(err.message, /Set XINF_KEY in the environment, or define it under environment_variables in this file\./);
  });

  test("every missing variable is listed at once", () => {
    const text = withParams("      api_key: os.environ/A_KEY\n") + "general_settings:\n  master_key: os.environ/MASTER\n";
    const err = failure(text, {});
    assert.equal(err.issues.length, 2);
    assert.match(err.message, /model_list\[0\]\.litellm_params\.api_key uses os\.environ\/A_KEY, which is not set/);
    assert.match(err.message, /general_settings\.master_key uses os\.environ\/MASTER, which is not set/);
  });

  test("os.environ/ with no name is an error that says so", () => {
    const err = failure(withParams("      api_key: os.environ/\n"), {});
    assert.match(err.message, /model_list\[0\]\.litellm_params\.api_key is 'os\.environ\/' with no variable name/);
  });

  test("a set but empty variable counts as set", () => {
    const { config } = parseConfig(withParams("      api_key: os.environ/EMPTY\n"), "config.yaml", { EMPTY: "" });
    assert.equal(config.model_list[0]!.litellm_params.api_key, "");
  });

  test("numbers and booleans arrive as strings and are coerced", () => {
    const text =
      withParams("      rpm: os.environ/RPM\n      timeout: os.environ/TIMEOUT\n") +
      "litellm_settings:\n  drop_params: os.environ/DROP\ngeneral_settings:\n  background_health_checks: os.environ/BG\n";
    const { config } = parseConfig(text, "config.yaml", { RPM: "60", TIMEOUT: "2.5", DROP: "True", BG: "false" });
    assert.equal(config.model_list[0]!.litellm_params.rpm, 60);
    assert.equal(config.model_list[0]!.litellm_params.timeout, 2.5);
    assert.equal(config.litellm_settings.drop_params, true);
    assert.equal(config.general_settings.background_health_checks, false);
  });

  test("a variable that is not a number where one is expected says where the value came from", () => {
    const err = failure(withParams("      rpm: os.environ/RPM\n"), { RPM: "sixty" });
    assert.equal(err.line, 5);
    assert.match(err.message, /model_list\[0\]\.litellm_params\.rpm: expected a number, got 'sixty' \(from os\.environ\/RPM\)\./);
  });

  test("a value from a variable named like a credential is not shown, even under a key that is not secret", () => {
    const err = failure(withParams("      rpm: os.environ/XINF_API_KEY\n"), { XINF_API_KEY: "abc-secret" });
    assert.match(err.message, /model_list\[0\]\.litellm_params\.rpm: expected a number, got a string \(from os\.environ\/XINF_API_KEY\)\./);
    assert.doesNotMatch(err.message, /abc-secret/);
  });

  test("only whole values are references: text that merely contains os.environ/ is kept", () => {
    const { config } = parseConfig(withParams("      prompt_prefix: see os.environ/X\n"), "config.yaml", {});
    assert.equal(config.model_list[0]!.litellm_params.prompt_prefix, "see os.environ/X");
  });
});

describe("environment_variables", () => {
  test("are applied first, so the file can use what it defines, and are returned for the caller to export", () => {
    const text =
      "environment_variables:\n  XINF_BASE: http://10.0.0.5:9997/v1\n  RETRIES: 4\n  KEY_FROM_OUTSIDE: os.environ/OUTER\n" +
      withParams("      api_base: os.environ/XINF_BASE\n      api_key: os.environ/KEY_FROM_OUTSIDE\n") +
      "router_settings:\n  num_retries: os.environ/RETRIES\n";
    const env = { OUTER: "outer-key" };
    const { config, environment } = parseConfig(text, "config.yaml", env);
    assert.equal(config.model_list[0]!.litellm_params.api_base, "http://10.0.0.5:9997/v1");
    assert.equal(config.model_list[0]!.litellm_params.api_key, "outer-key");
    assert.equal(config.router_settings.num_retries, 4);
    assert.deepEqual(environment, { XINF_BASE: "http://10.0.0.5:9997/v1", RETRIES: "4", KEY_FROM_OUTSIDE: "outer-key" });
    assert.deepEqual(config.environment_variables, environment);
    assert.deepEqual(env, { OUTER: "outer-key" }, "the env passed in is not modified");
  });

  test("the file's values win over the environment's", () => {
    const text = "environment_variables:\n  XINF_BASE: http://file:9997/v1\n" + withParams("      api_base: os.environ/XINF_BASE\n");
    const { config } = parseConfig(text, "config.yaml", { XINF_BASE: "http://env:9997/v1" });
    assert.equal(config.model_list[0]!.litellm_params.api_base, "http://file:9997/v1");
  });

  test("loadConfig neither reads nor writes process.env when given an env", async () => {
    const dir = await mkdtemp(join(tmpdir(), "xgate-config-"));
    const name = `XGATE_CONFIG_TEST_${process.pid}`;
    try {
      const path = join(dir, "config.yaml");
      await writeFile(path, `environment_variables:\n  ${name}: from-file\n${withParams(`      api_key: os.environ/${name}\n`)}`);
      const { config, environment } = await loadConfig(path, { env: {} });
      assert.equal(config.model_list[0]!.litellm_params.api_key, "from-file");
      assert.deepEqual(environment, { [name]: "from-file" });
      assert.equal(process.env[name], undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a bad name or a nested value is an error", () => {
    const err = failure("environment_variables:\n  9LIVES: x\n  NESTED: {a: 1}\n" + withParams(""), {});
    assert.equal(err.issues.length, 2);
    assert.match(err.message, /config\.yaml:2:11: environment_variables: '9LIVES' is not a valid variable name/);
    assert.match(err.message, /config\.yaml:3:11: environment_variables\.NESTED must be a single value/);
  });

  test("a reference to a missing variable inside environment_variables names it", () => {
    const err = failure("environment_variables:\n  KEY: os.environ/NOT_SET_ANYWHERE\n" + withParams(""), {});
    assert.match(err.message, /environment_variables\.KEY uses os\.environ\/NOT_SET_ANYWHERE, which is not set/);
  });
});
