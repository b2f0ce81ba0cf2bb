import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isSecretKey } from "../../../src/proxy/config/deployment-keys.js";
import { routerSettingsFrom } from "../../../src/proxy/router/config.js";
import { buildDeployments } from "../../../src/proxy/router/deployment.js";

describe("router settings", () => {
  test("LiteLLM's defaults", () => {
    const settings = routerSettingsFrom({ model_list: [] });
    assert.equal(settings.strategy, "simple-shuffle");
    assert.equal(settings.numRetries, undefined);
    assert.equal(settings.allowedFails, 3);
    assert.equal(settings.cooldownMs, 5000);
    assert.equal(settings.requestTimeoutMs, 600_000);
    assert.equal(settings.retryAfterMinMs, 0);
    assert.equal(settings.backgroundHealthChecks, false);
    assert.equal(settings.healthCheckIntervalMs, 300_000);
  });

  test("router_settings wins over litellm_settings; seconds become milliseconds", () => {
    const settings = routerSettingsFrom({
      model_list: [],
      router_settings: { num_retries: 4, cooldown_time: 30, allowed_fails: 1, retry_after: 2, timeout: 90, routing_strategy: "least-busy" },
      litellm_settings: { num_retries: 7, request_timeout: 45 },
      general_settings: { background_health_checks: true, health_check_interval: 60 },
    });
    assert.equal(settings.numRetries, 4);
    assert.equal(settings.cooldownMs, 30_000);
    assert.equal(settings.allowedFails, 1);
    assert.equal(settings.retryAfterMinMs, 2000);
    // The brief's order: litellm_settings.request_timeout, then router_settings.timeout.
    assert.equal(settings.requestTimeoutMs, 45_000);
    assert.equal(settings.strategy, "least-busy");
    assert.equal(settings.backgroundHealthChecks, true);
    assert.equal(settings.healthCheckIntervalMs, 60_000);
    assert.equal(routerSettingsFrom({ model_list: [], litellm_settings: { num_retries: 7 } }).numRetries, 7);
    assert.equal(routerSettingsFrom({ model_list: [], router_settings: { timeout: 90 } }).requestTimeoutMs, 90_000);
  });

  test("fallbacks in LiteLLM's list-of-mappings form, from router_settings or litellm_settings", () => {
    const settings = routerSettingsFrom({
      model_list: [],
      router_settings: { fallbacks: [{ a: ["b"] }, { a: ["c"], d: ["a"] }], default_fallbacks: ["z"] },
    });
    assert.deepEqual(settings.fallbacks.get("a"), ["b", "c"]);
    assert.deepEqual(settings.fallbacks.get("d"), ["a"]);
    assert.deepEqual(settings.defaultFallbacks, ["z"]);
    const fromLitellm = routerSettingsFrom({ model_list: [], litellm_settings: { fallbacks: [{ x: ["y"] }], default_fallbacks: ["w"] } });
    assert.deepEqual(fromLitellm.fallbacks.get("x"), ["y"]);
    assert.deepEqual(fromLitellm.defaultFallbacks, ["w"]);
  });

  test("an unknown routing strategy names the ones there are", () => {
    assert.throws(
      () => routerSettingsFrom({ model_list: [], router_settings: { routing_strategy: "cost-based-routing" } }),
      /routing_strategy 'cost-based-routing' is not supported; use one of simple-shuffle, least-busy, latency-based-routing, usage-based-routing/,
    );
  });
});

describe("deployments", () => {
  const settings = routerSettingsFrom({ model_list: [], litellm_settings: { request_timeout: 30 } });

  test("read from model_list, with the timeout falling back to request_timeout", () => {
    const [a, b] = buildDeployments(
      [
        {
          model_name: "embed",
          litellm_params: { model: "xinference/bge-base-en", api_base: "http://a/v1", api_key: "sk-secret", rpm: 100, weight: 2, order: 1, timeout: 5, max_retries: 1, dimensions: 768 },
          model_info: { id: "embed-a", mode: "embedding" },
        },
        { model_name: "embed", litellm_params: { model: "xinference/bge-base-en", api_base: "http://b/v1" } },
      ],
      settings,
    );
    assert.ok(a && b);
    assert.equal(a.id, "embed-a");
    assert.equal(a.group, "embed");
    assert.equal(a.model, "xinference/bge-base-en");
    assert.equal(a.apiBase, "http://a/v1");
    assert.equal(a.apiKey, "sk-secret");
    assert.equal(a.rpm, 100);
    assert.equal(a.weight, 2);
    assert.equal(a.order, 1);
    assert.equal(a.timeoutMs, 5000);
    assert.equal(a.maxRetries, 1);
    assert.deepEqual(a.extras, { dimensions: 768 });
    assert.equal(a.modelInfo.mode, "embedding");
    assert.equal(b.timeoutMs, 30_000);
    assert.equal(b.order, Number.POSITIVE_INFINITY);
  });

  test("the api key never shows when a deployment is logged or serialised", () => {
    const [d] = buildDeployments([{ model_name: "m", litellm_params: { model: "xinference/m", api_key: "sk-topsecret" } }], settings);
    assert.ok(d);
    assert.equal(d.apiKey, "sk-topsecret");
    assert.doesNotMatch(JSON.stringify(d), /topsecret/);
    assert.equal(Object.keys(d).includes("apiKey"), false);
  });

  test("without model_info.id, the id is a stable hash that ignores secrets and key order", () => {
    const one = buildDeployments([{ model_name: "m", litellm_params: { model: "xinference/m", api_base: "http://x/v1", api_key: "sk-one" } }], settings);
    const two = buildDeployments([{ model_name: "m", litellm_params: { api_key: "sk-two", api_base: "http://x/v1", model: "xinference/m" } }], settings);
    const other = buildDeployments([{ model_name: "m", litellm_params: { model: "xinference/m", api_base: "http://y/v1" } }], settings);
    assert.match(one[0]?.id ?? "", /^[0-9a-f]{16}$/);
    assert.equal(one[0]?.id, two[0]?.id);
    assert.notEqual(one[0]?.id, other[0]?.id);
  });

  test("token counts and prices are parameters and settings, not secrets: max_tokens reaches the provider", () => {
    const [d] = buildDeployments(
      [
        {
          model_name: "chat",
          litellm_params: {
            model: "xinference/qwen2.5-instruct",
            max_tokens: 256,
            max_completion_tokens: 128,
            aws_secret_access_key: "s",
            aws_session_token: "t",
            vertex_credentials: "c",
            input_cost_per_token: 0.1,
          },
        },
      ],
      settings,
    );
    assert.deepEqual(d?.extras, { max_tokens: 256, max_completion_tokens: 128 });
    for (const key of ["api_key", "aws_secret_access_key", "azure_ad_token", "vertex_credentials", "redis_password", "master_key"]) {
      assert.equal(isSecretKey(key), true, key);
    }
    for (const key of ["max_tokens", "max_completion_tokens", "input_cost_per_token", "top_logprobs", "tokenizer_mode"]) {
      assert.equal(isSecretKey(key), false, key);
    }
  });

  test("identical entries get distinct ids; a repeated explicit id is a config error", () => {
    const same = { model_name: "m", litellm_params: { model: "xinference/m" } };
    const [a, b] = buildDeployments([same, same], settings);
    assert.equal(b?.id, `${a?.id}-2`);
    assert.throws(
      () =>
        buildDeployments(
          [
            { ...same, model_info: { id: "x" } },
            { ...same, model_info: { id: "x" } },
          ],
          settings,
        ),
      /model_list\[1\]\.model_info\.id 'x' is used by another entry/,
    );
  });
});
