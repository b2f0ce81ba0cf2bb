/** Who may read `GET /metrics`: the master key (as on the admin routes), or anyone with `metrics_public: true`. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ACCOUNTS_MASTER_KEY, accountsApp } from "../../support/accounts-app.js";
import { testApp } from "../../support/app.js";
import { ConfigError, parseConfig } from "../../../src/proxy/config/index.js";

const MODELS = `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: "http://127.0.0.1:9" }
`;

async function metricsAnswer(url: string, key?: string): Promise<{ status: number; code?: string; text: string }> {
  const res = await fetch(`${url}/metrics`, key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  const code = res.headers.get("content-type")?.startsWith("application/json") ? (JSON.parse(text) as { error: { code: string } }).error.code : undefined;
  return { status: res.status, text, ...(code !== undefined && { code }) };
}

describe("GET /metrics is guarded as the admin routes are", () => {
  test("no key: 401; an unknown key: 401; a virtual key: 403; the master key: the metrics", async () => {
    const proxy = await accountsApp(`${MODELS}general_settings: { master_key: ${ACCOUNTS_MASTER_KEY} }\n`);
    try {
      const made = await proxy.admin("/key/generate", { key_alias: "not-an-operator" });
      assert.equal((await metricsAnswer(proxy.url)).status, 401);
      assert.equal((await metricsAnswer(proxy.url, "sk-nobody-has-this-key")).status, 401);
      const virtual = await metricsAnswer(proxy.url, made.key);
      assert.deepEqual([virtual.status, virtual.code], [403, "admin_only"]);
      // As the admin routes answer the same key.
      const admin = await proxy.call("GET", "/key/list");
      assert.equal(admin.status, 200);
      const adminAsVirtual = await fetch(`${proxy.url}/key/list`, { headers: { authorization: `Bearer ${made.key}` } });
      assert.equal(adminAsVirtual.status, virtual.status);
      const master = await metricsAnswer(proxy.url, ACCOUNTS_MASTER_KEY);
      assert.equal(master.status, 200);
      assert.match(master.text, /^# TYPE xgate_requests_total counter$/m);
      assert.match(master.text, /^# TYPE process_cpu_seconds_total counter$/m, "process metrics are served too");
    } finally {
      await proxy.close();
    }
  });

  test("metrics_public: true serves it without a key, and to a virtual key", async () => {
    const proxy = await accountsApp(`${MODELS}general_settings: { master_key: ${ACCOUNTS_MASTER_KEY}, metrics_public: true }\n`);
    try {
      const made = await proxy.admin("/key/generate", { key_alias: "reader" });
      assert.equal((await metricsAnswer(proxy.url)).status, 200);
      assert.equal((await metricsAnswer(proxy.url, made.key)).status, 200);
      // The rest of the proxy is as guarded as before.
      const res = await fetch(`${proxy.url}/key/list`);
      assert.equal(res.status, 401);
    } finally {
      await proxy.close();
    }
  });

  test("a proxy without a master key is open, /metrics included", async () => {
    const app = await testApp(MODELS);
    try {
      const res = await app.app.inject({ method: "GET", url: "/metrics" });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    } finally {
      await app.dispose();
    }
  });
});

describe("metrics_public and metrics_key_labels in config.yaml", () => {
  function failure(yaml: string): ConfigError {
    try {
      parseConfig(yaml, "config.yaml", {});
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error;
    }
    assert.fail("the config loaded");
  }

  test("off by default; true or false (also from os.environ/) loads", () => {
    const defaults = parseConfig(MODELS, "config.yaml", {}).config.general_settings;
    assert.deepEqual([defaults.metrics_public, defaults.metrics_key_labels], [false, false]);
    const set = parseConfig(`${MODELS}general_settings:\n  metrics_public: os.environ/PUBLIC\n  metrics_key_labels: true\n`, "config.yaml", { PUBLIC: "true" }).config.general_settings;
    assert.deepEqual([set.metrics_public, set.metrics_key_labels], [true, true]);
  });

  test("anything but true or false is an error that says what the key does", () => {
    for (const value of ['"yes"', "1", "[true]"]) {
      assert.match(failure(`${MODELS}general_settings:\n  metrics_public: ${value}\n`).message, /general_settings\.metrics_public must be true or false: true serves GET \/metrics without a key/, value);
      assert.match(failure(`${MODELS}general_settings:\n  metrics_key_labels: ${value}\n`).message, /general_settings\.metrics_key_labels must be true or false: true labels the spend metric/, value);
    }
  });
});
