import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig, parseConfig } from "../../../src/proxy/config/index.js";
import { providerParams } from "../../../src/proxy/router/deployment.js";
import { failure } from "./helpers.js";

const fixture = (name: string): string => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));


const MINIMAL = "model_list:\n  - model_name: embed\n    litellm_params:\n      model: xinference/bge-base-en\n";

describe("a valid config", () => {
  test("the minimal config gets LiteLLM's defaults and xgate's", () => {
    const { config, warnings } = parseConfig(MINIMAL, "config.yaml", {});
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.model_list, [
      { model_name: "embed", litellm_params: { model: "xinference/bge-base-en" }, model_info: {} },
    ]);
    assert.equal(config.router_settings.routing_strategy, "simple-shuffle");
    assert.equal(config.router_settings.allowed_fails, 3);
    assert.equal(config.router_settings.cooldown_time, 5);
    assert.equal(config.router_settings.retry_after, 0);
    assert.deepEqual(config.router_settings.model_group_alias, {});
    assert.equal(config.general_settings.image_url_ttl_seconds, 3600);
    assert.equal(config.general_settings.max_request_size_mb, 50);
    assert.equal(config.general_settings.health_check_interval, 300);
    assert.equal(config.general_settings.proxy_batch_write_at, 10);
    assert.equal(config.general_settings.database_path, "./xgate-data/xgate.db");
    assert.equal(config.general_settings.database_connection_pool_limit, 10);
    assert.equal(config.general_settings.maximum_spend_logs_retention_period, undefined);
    assert.equal(config.general_settings.allow_client_side_credentials, false);
    assert.equal(config.general_settings.master_key, undefined);
    assert.equal(config.litellm_settings.drop_params, false);
    assert.equal(config.litellm_settings.cache, false);
    assert.equal(config.litellm_settings.cache_params.type, "local");
    assert.deepEqual(config.environment_variables, {});
  });

  test("every section and key of the schema loads from a file, with os.environ/ values and string numbers", async () => {
    const env = { TEST_CLUSTER_KEY: "cluster-secret", TEST_RPM: "120", TEST_REDIS_PASSWORD: "redis-pw", TEST_MASTER_KEY: "sk-master" };
    const { config, warnings, environment } = await loadConfig(fixture("full.yaml"), { env });
    assert.deepEqual(warnings, []);
    assert.deepEqual(environment, { XINFERENCE_API_BASE: "http://127.0.0.1:9997/v1", CLUSTER_KEY: "cluster-secret" });

    const [a, b, sd, rerank, wildcard] = config.model_list;
    assert.deepEqual(a!.litellm_params, {
      model: "xinference/bge-base-en",
      api_base: "http://127.0.0.1:9997/v1",
      api_key: "cluster-secret",
      rpm: 120,
      tpm: 100000,
      timeout: 30,
      stream_timeout: 10,
      max_retries: 1,
      weight: 2,
      order: 1,
    });
    assert.deepEqual(a!.model_info, {
      mode: "embedding",
      id: "embed-a",
      base_model: "bge-base-en-v1.5",
      input_cost_per_token: 0.0000001,
      output_cost_per_token: 0,
      max_tokens: 512,
    });
    // auto_launch keeps Xinference's launch options and gets model_type from the mode.
    assert.deepEqual(b!.model_info.auto_launch, {
      model_name: "bge-base-en-v1.5",
      model_engine: "sentence_transformers",
      replica: 2,
      model_type: "embedding",
    });
    assert.deepEqual(providerParams(sd!.litellm_params), { num_inference_steps: 30 });
    assert.equal(sd!.model_info.output_cost_per_image, 0.02);
    assert.equal(rerank!.model_info.mode, "rerank");
    assert.equal(wildcard!.model_name, "xinference/*");

    assert.deepEqual(config.litellm_settings, {
      drop_params: true,
      num_retries: 3,
      request_timeout: 600,
      fallbacks: [{ embed: ["xinference/bge-small-en"] }],
      default_fallbacks: ["embed"],
      cache: true,
      cache_params: {
        type: "redis",
        host: "127.0.0.1",
        port: 6379,
        password: "redis-pw",
        namespace: "xgate",
        ttl: 600,
        supported_call_types: ["embedding", "aembedding"],
        max_size_mb: 256,
      },
      set_verbose: false,
      json_logs: true,
    });
    assert.deepEqual(config.general_settings, {
      master_key: "sk-master",
      database_url: "postgresql://xgate:secret@127.0.0.1:5432/xgate",
      database_path: "/var/lib/xgate/xgate.db",
      database_connection_pool_limit: 4,
      maximum_spend_logs_retention_period: "30d",
      max_request_size_mb: 20,
      background_health_checks: true,
      health_check_interval: 60,
      health_check_timeout: 2.5,
      disable_spend_logs: false,
      proxy_batch_write_at: 30,
      allow_client_side_credentials: false,
      image_url_ttl_seconds: 600,
      public_base_url: "https://gateway.example.com",
      trust_proxy: true,
      request_header_timeout_seconds: 10,
      request_body_timeout_seconds: 120,
      graceful_shutdown_seconds: 15,
      stream_keepalive_seconds: 20,
      metrics_public: false,
      metrics_key_labels: false,
    });
    assert.deepEqual(config.router_settings, {
      routing_strategy: "least-busy",
      num_retries: 2,
      retry_after: 1,
      allowed_fails: 5,
      cooldown_time: 30,
      timeout: 900,
      fallbacks: [{ sd: ["embed"] }, { rerank: ["embed"] }],
      // Not set in router_settings, so litellm_settings' value is adopted.
      default_fallbacks: ["embed"],
      redis_host: "127.0.0.1",
      redis_port: 6379,
      redis_password: "redis-pw",
      model_group_alias: { "text-embedding-3-small": "embed", internal: { model: "rerank", hidden: true } },
    });
  });

  test("router settings given only in litellm_settings are adopted by router_settings; router_settings wins", () => {
    const text = `${MINIMAL}litellm_settings:\n  num_retries: 4\n  allowed_fails: 1\n  cooldown_time: 60\n  fallbacks: [{embed: [embed]}]\nrouter_settings:\n  allowed_fails: 2\n`;
    const { config } = parseConfig(text, "config.yaml", {});
    assert.equal(config.router_settings.num_retries, 4);
    assert.equal(config.router_settings.allowed_fails, 2);
    assert.equal(config.router_settings.cooldown_time, 60);
    assert.deepEqual(config.router_settings.fallbacks, [{ embed: ["embed"] }]);
  });

  test("empty sections and keys with no value count as not set", () => {
    const text = `${MINIMAL}    model_info:\nlitellm_settings:\ngeneral_settings:\n  master_key:\nrouter_settings:\n  # nothing yet\n`;
    const { config } = parseConfig(text, "config.yaml", {});
    assert.deepEqual(config.model_list[0]!.model_info, {});
    assert.equal(config.general_settings.master_key, undefined);
    assert.equal(config.router_settings.routing_strategy, "simple-shuffle");
  });

  test("a uid with slashes and a wildcard are valid model strings", () => {
    const text =
      "model_list:\n  - model_name: sd\n    litellm_params:\n      model: xinference/stabilityai/stable-diffusion-3.5-large\n" +
      "  - model_name: xinference/*\n    litellm_params:\n      model: xinference/*\n";
    const { config } = parseConfig(text, "config.yaml", {});
    assert.deepEqual(
      config.model_list.map((d) => d.litellm_params.model),
      ["xinference/stabilityai/stable-diffusion-3.5-large", "xinference/*"],
    );
  });

  test("YAML merge keys work, as in Python-era configs", () => {
    const text =
      "x-defaults: &defaults\n  api_base: http://127.0.0.1:9997/v1\n  timeout: 30\n" +
      "model_list:\n  - model_name: a\n    litellm_params:\n      <<: *defaults\n      model: xinference/a\n";
    const { config } = parseConfig(text, "config.yaml", {});
    assert.deepEqual(config.model_list[0]!.litellm_params, { api_base: "http://127.0.0.1:9997/v1", timeout: 30, model: "xinference/a" });
  });
});

describe("schema errors", () => {
  test("a wrong value names its path in the file's notation, what was expected, and its line and column", () => {
    const err = failure(`${MINIMAL}  - model_name: sd\n    litellm_params:\n      model: 42\n      rpm: lots\n`);
    assert.equal(err.path, "model_list[1].litellm_params.rpm");
    assert.equal(err.line, 8);
    assert.equal(err.column, 12);
    assert.match(err.message, /^config\.yaml:8:12: model_list\[1\]\.litellm_params\.rpm: expected a number, got 'lots'\./);
  });

  test("several errors are all listed, each with its line", () => {
    const text =
      "model_list:\n  - model_name: a\n    litellm_params:\n      model: xinference/a\n      timeout: -1\n" +
      "  - model_name: b\n    litellm_params:\n      api_base: http://x/v1\n" +
      "router_settings:\n  routing_strategy: round-robin\n  allowed_fails: 1.5\n";
    const err = failure(text);
    assert.equal(err.issues.length, 4);
    assert.match(err.message, /^config\.yaml: 4 problems:\n/);
    assert.match(err.message, /config\.yaml:5:16: model_list\[0\]\.litellm_params\.timeout must be greater than 0, not the number -1\./);
    assert.match(err.message, /config\.yaml:7:5: model_list\[1\]\.litellm_params\.model is missing: add `model: xinference\/<model uid>` under litellm_params/);
    assert.match(
      err.message,
      /config\.yaml:10:21: router_settings\.routing_strategy: 'round-robin' is not one of: simple-shuffle, least-busy, latency-based-routing, usage-based-routing\./,
    );
    assert.match(err.message, /config\.yaml:11:18: router_settings\.allowed_fails: expected a whole number, got the number 1\.5\./);
  });

  test("master_key must start with sk-, and the error does not show the key", () => {
    const err = failure(`${MINIMAL}general_settings:\n  master_key: my-secret-key\n`);
    assert.equal(err.path, "general_settings.master_key");
    assert.equal(err.line, 6);
    assert.match(err.message, /general_settings\.master_key must start with 'sk-'/);
    assert.doesNotMatch(err.message, /my-secret-key/);
  });

  test("a secret from the environment that fails validation is not shown either", () => {
    const err = failure(`${MINIMAL}general_settings:\n  master_key: os.environ/MK\n`, { MK: "hunter2" });
    assert.match(err.message, /general_settings\.master_key must start with 'sk-'/);
    assert.doesNotMatch(err.message, /hunter2/);
  });

  test("api_base must be an http(s) URL", () => {
    const err = failure(`${MINIMAL}      api_base: 127.0.0.1:9997/v1\n`);
    assert.equal(err.path, "model_list[0].litellm_params.api_base");
    assert.match(err.message, /api_base must be an http:\/\/ or https:\/\/ URL, such as http:\/\/127\.0\.0\.1:9997\/v1 \(got '127\.0\.0\.1:9997\/v1'\)/);
  });

  test("database_url must be PostgreSQL, and its password is not shown", () => {
    const err = failure(`${MINIMAL}general_settings:\n  database_url: mysql://u:pw-123@h/db\n`);
    assert.match(err.message, /database_url must be a PostgreSQL URL/);
    assert.doesNotMatch(err.message, /pw-123/);
  });

  test("the store's settings are checked: a pool of at least one, a retention period in LiteLLM's units, a path", () => {
    const pool = failure(`${MINIMAL}general_settings:\n  database_connection_pool_limit: 0\n`);
    assert.equal(pool.path, "general_settings.database_connection_pool_limit");
    const retention = failure(`${MINIMAL}general_settings:\n  maximum_spend_logs_retention_period: 1y\n`);
    assert.equal(retention.path, "general_settings.maximum_spend_logs_retention_period");
    assert.match(retention.message, /must be a duration: a whole number and a unit: s \(seconds\), m \(minutes\), h \(hours\), d \(days\), w \(weeks\) or mo \(months\), such as 30s, 1h, 7d or 1mo \(got '1y'\)/);
    const path = failure(`${MINIMAL}general_settings:\n  database_path: ""\n`);
    assert.equal(path.path, "general_settings.database_path");
  });

  test("a fallbacks entry with two groups is refused with the fix", () => {
    const err = failure(`${MINIMAL}router_settings:\n  fallbacks:\n    - {embed: [embed], other: [embed]}\n`);
    assert.equal(err.path, "router_settings.fallbacks[0]");
    assert.match(err.message, /must be a map with exactly one group, like `- my-group: \[other-group\]`; put each group in its own list item/);
  });

  test("cache_params.type outside what xgate implements lists the choices", () => {
    const err = failure(`${MINIMAL}litellm_settings:\n  cache: true\n  cache_params:\n    type: s3\n`);
    assert.match(err.message, /litellm_settings\.cache_params\.type: 's3' is not one of: local, redis\./);
  });
});

describe("configs with nothing to serve", () => {
  test("an empty file", () => {
    const err = failure("# only a comment\n");
    assert.match(err.message, /^config\.yaml: the config is empty\. It needs at least a model_list, for example:\n\nmodel_list:\n {2}- model_name:/);
  });

  test("a file that is a list, not a map", () => {
    const err = failure("- model_name: a\n");
    assert.equal(err.line, 1);
    assert.match(err.message, /the top level of the config must be a map of sections \(model_list:, general_settings:, …\), but it is a list/);
  });

  test("a file that is a single value", () => {
    assert.match(failure("hello\n").message, /but it is a single value/);
  });

  test("no model_list", () => {
    const err = failure("general_settings:\n  master_key: sk-1\n");
    assert.equal(err.path, "model_list");
    assert.match(err.message, /model_list is missing: A config serves the models in its model_list; add one, for example:/);
  });

  test("an empty model_list, written either way", () => {
    for (const text of ["model_list:\n", "model_list: []\n"]) {
      const err = failure(text);
      assert.equal(err.path, "model_list");
      assert.equal(err.line, 1);
      assert.match(err.message, /model_list is empty: A config serves the models/);
    }
  });

  test("an entry without litellm_params, or without its model", () => {
    const err = failure("model_list:\n  - model_name: a\n  - model_name: b\n    litellm_params:\n      api_base: http://h/v1\n");
    assert.match(err.message, /config\.yaml:2:5: model_list\[0\]\.litellm_params is missing: give every model_list entry litellm_params/);
    assert.match(err.message, /config\.yaml:4:5: model_list\[1\]\.litellm_params\.model is missing/);
  });

  test("an entry that is not a map", () => {
    const err = failure("model_list:\n  - bge-base-en\n");
    assert.equal(err.path, "model_list[0]");
    assert.match(err.message, /model_list\[0\]: expected a map \(indented `key: value` lines\), got 'bge-base-en'/);
  });

  test("an entry without model_name", () => {
    const err = failure("model_list:\n  - litellm_params:\n      model: xinference/a\n");
    assert.match(err.message, /model_list\[0\]\.model_name is missing: give every model_list entry a model_name/);
  });
});

describe("reading the file", () => {
  test("a missing file names the path", async () => {
    const dir = await mkdtemp(join(tmpdir(), "xgate-config-"));
    try {
      const path = join(dir, "nope.yaml");
      await assert.rejects(loadConfig(path), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.file, path);
        assert.match(err.message, /cannot read the config file: no such file/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a byte-order mark and CRLF line endings are fine", async () => {
    const dir = await mkdtemp(join(tmpdir(), "xgate-config-"));
    try {
      const path = join(dir, "config.yaml");
      await writeFile(path, `\uFEFF${MINIMAL.replace(/\n/g, "\r\n")}`);
      const { config } = await loadConfig(path, { env: {} });
      assert.equal(config.model_list[0]!.model_name, "embed");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
