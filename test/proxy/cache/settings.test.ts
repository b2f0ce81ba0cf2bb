// litellm_settings.cache and cache_params resolved into the cache's settings: LiteLLM's keys and defaults,
// its REDIS_* variables, and xgate's max_size_mb.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseConfig } from "../../../src/proxy/config/index.js";
import { resolveSettings } from "../../../src/proxy/settings.js";

const MINIMAL = "model_list:\n  - model_name: embed\n    litellm_params:\n      model: xinference/bge-base-en\n";

function cacheOf(litellmSettings: string, env: NodeJS.ProcessEnv = {}): ReturnType<typeof resolveSettings>["cache"] {
  return resolveSettings(parseConfig(`${MINIMAL}litellm_settings:\n${litellmSettings}`, "config.yaml", env).config, env).cache;
}

describe("cache settings", () => {
  test("off unless litellm_settings.cache is true", () => {
    assert.equal(resolveSettings(parseConfig(MINIMAL, "config.yaml", {}).config, {}).cache, undefined);
    assert.equal(cacheOf("  cache: false\n  cache_params: { type: local }\n"), undefined);
  });

  test("cache: true alone is a local cache of 256 MB, no TTL, in xgate's namespace", () => {
    assert.deepEqual(cacheOf("  cache: true\n"), {
      store: { type: "local", maxBytes: 256 * 1024 * 1024 },
      namespace: "xgate:cache",
      ttlSeconds: undefined,
    });
  });

  test("max_size_mb, namespace and ttl as given", () => {
    assert.deepEqual(cacheOf("  cache: true\n  cache_params: { type: local, max_size_mb: 1.5, namespace: team-a, ttl: 600 }\n"), {
      store: { type: "local", maxBytes: 1.5 * 1024 * 1024 },
      namespace: "team-a",
      ttlSeconds: 600,
    });
  });

  test("redis: url first, then host/port/password, then LiteLLM's REDIS_* variables, then 127.0.0.1:6379", () => {
    const env = { REDIS_HOST: "10.0.0.9", REDIS_PORT: "6390", REDIS_PASSWORD: "env-pw" };
    assert.deepEqual(cacheOf("  cache: true\n  cache_params: { type: redis, url: 'redis://:pw@cache.internal:6380/2' }\n", env)?.store, {
      type: "redis",
      connection: { url: "redis://:pw@cache.internal:6380/2" },
    });
    assert.deepEqual(cacheOf("  cache: true\n  cache_params: { type: redis, host: cache.internal, port: 6381, password: pw }\n", env)?.store, {
      type: "redis",
      connection: { host: "cache.internal", port: 6381, password: "pw" },
    });
    assert.deepEqual(cacheOf("  cache: true\n  cache_params: { type: redis }\n", env)?.store, {
      type: "redis",
      connection: { host: "10.0.0.9", port: 6390, password: "env-pw" },
    });
    assert.deepEqual(cacheOf("  cache: true\n  cache_params: { type: redis }\n", { REDIS_URL: "redis://10.0.0.8:6379" })?.store, {
      type: "redis",
      connection: { url: "redis://10.0.0.8:6379" },
    });
    assert.deepEqual(cacheOf("  cache: true\n  cache_params: { type: redis }\n")?.store, {
      type: "redis",
      connection: { host: "127.0.0.1", port: 6379, password: undefined },
    });
  });

  test("a REDIS_PORT that is not a port is an error naming the variable", () => {
    assert.throws(() => cacheOf("  cache: true\n  cache_params: { type: redis }\n", { REDIS_PORT: "six" }), /REDIS_PORT must be a port number, not 'six'/);
  });

  test("a cache_params.url that is not a Redis URL is a config error", () => {
    assert.throws(
      () => cacheOf("  cache: true\n  cache_params: { type: redis, url: 'http://cache:6379' }\n"),
      /litellm_settings\.cache_params\.url.*must be a redis:\/\/ or rediss:\/\/ URL/s,
    );
  });

  test("supported_call_types without an embedding type caches nothing, and the config says so", () => {
    const text = `${MINIMAL}litellm_settings:\n  cache: true\n  cache_params:\n    supported_call_types: [completion, acompletion]\n`;
    const { config, warnings } = parseConfig(text, "config.yaml", {});
    assert.equal(resolveSettings(config, {}).cache, undefined);
    assert.deepEqual(warnings, [
      "litellm_settings.cache_params.supported_call_types (line 8) names no embedding call type: xgate caches only embeddings, " +
        "so nothing is cached; add embedding and aembedding, or leave the key out",
    ]);
    assert.notEqual(cacheOf("  cache: true\n  cache_params: { supported_call_types: [completion, aembedding] }\n"), undefined);
  });
});
