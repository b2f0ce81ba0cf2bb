import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startEmulator } from "../support/emulator/index.js";
import type { Emulator } from "../support/emulator/index.js";
import { postJson } from "./helpers.js";

const V3_KEY = `xf-${"a1B2c3D4".repeat(6)}`;
const LEGACY_KEY = "sk-abcDEF1234567";
const RESTRICTED_KEY = "sk-restricted01";
const ADMIN = "admin-jwt-token";

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

describe("bearer auth", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({
      apiKeys: [V3_KEY, LEGACY_KEY, { key: RESTRICTED_KEY, models: ["bge-small-en-v1.5"] }],
      adminTokens: [ADMIN],
    });
  });
  after(() => emulator.close());

  test("keys have the documented shapes", () => {
    assert.match(V3_KEY, /^xf-[A-Za-z0-9]{48}$/);
    assert.match(LEGACY_KEY, /^sk-[A-Za-z0-9]{13}$/);
  });

  test("a missing or unknown token: 401 with WWW-Authenticate: Bearer", async () => {
    for (const headers of [{}, bearer("xf-wrong"), { authorization: V3_KEY }]) {
      const res = await postJson(emulator, "/embeddings", { model: "bge-base-en", input: "x" }, headers);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get("www-authenticate"), "Bearer");
      assert.deepEqual(await res.json(), { detail: "Could not validate credentials" });
    }
    assert.equal((await fetch(`${emulator.baseUrl}/models`)).status, 401);
  });

  test("API keys may list and run models", async () => {
    for (const key of [V3_KEY, LEGACY_KEY]) {
      assert.equal((await postJson(emulator, "/embeddings", { model: "bge-base-en", input: "x" }, bearer(key))).status, 200);
      assert.equal((await fetch(`${emulator.baseUrl}/models`, { headers: bearer(key) })).status, 200);
    }
  });

  test("API keys may not launch or terminate: 403 Not enough permissions; admin tokens may", async () => {
    const launch = await postJson(emulator, "/models", { model_name: "gte-base", model_type: "embedding" }, bearer(V3_KEY));
    assert.equal(launch.status, 403);
    assert.deepEqual(await launch.json(), { detail: "Not enough permissions" });
    const terminate = await fetch(`${emulator.baseUrl}/models/bge-base-en`, { method: "DELETE", headers: bearer(V3_KEY) });
    assert.equal(terminate.status, 403);
    const adminLaunch = await postJson(emulator, "/models", { model_name: "gte-base", model_type: "embedding" }, bearer(ADMIN));
    assert.equal(adminLaunch.status, 200);
    const adminTerminate = await fetch(`${emulator.baseUrl}/models/gte-base`, { method: "DELETE", headers: bearer(ADMIN) });
    assert.equal(adminTerminate.status, 200);
  });

  test("a key restricted to some models: 403 for the others", async () => {
    const allowed = await postJson(emulator, "/embeddings", { model: "bge-small-en-v1.5", input: "x" }, bearer(RESTRICTED_KEY));
    assert.equal(allowed.status, 200);
    const denied = await postJson(emulator, "/embeddings", { model: "bge-base-en", input: "x" }, bearer(RESTRICTED_KEY));
    assert.equal(denied.status, 403);
    assert.deepEqual(await denied.json(), { detail: "API key does not have access to model: bge-base-en" });
  });

  test("without apiKeys, auth is off", async () => {
    const open = await startEmulator({ models: [{ model_name: "bge-base-en", model_type: "embedding" }] });
    try {
      assert.equal((await postJson(open, "/embeddings", { model: "bge-base-en", input: "x" })).status, 200);
    } finally {
      await open.close();
    }
  });
});
