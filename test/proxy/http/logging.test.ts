/**
 * What the proxy logs for operators: the path of a request no route matched (never its query string), the
 * code of every error answered, a debug line per upstream attempt, and a graceful stop from start to end.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import pino from "pino";
import { parseConfig } from "../../../src/proxy/config/index.js";
import { startProxy } from "../../../src/proxy/server.js";
import { type Emulator, startEmulator } from "../../support/emulator/index.js";
import { testApp } from "../../support/app.js";

let emulator: Emulator;
let arrived: (path: string) => void = () => undefined;
before(async () => {
  emulator = await startEmulator({ onRequest: (request) => arrived(request.path) });
});
after(async () => emulator?.close());

function config(extra = ""): string {
  return `
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: "http://127.0.0.1:9", order: 1 }
    model_info: { id: embed-dead }
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: "${emulator.baseUrl}", order: 2 }
    model_info: { id: embed-live }
${extra}`;
}

describe("request log lines", () => {
  test("a 404 logs its path without the query string, and its error code", async () => {
    const app = await testApp(config());
    try {
      const res = await app.app.inject({ method: "GET", url: "/v1/nothing/here?api_key=sk-in-the-query" });
      assert.equal(res.statusCode, 404);
      const line = app.logLines().find((l) => l.request_id === res.headers["x-request-id"]);
      assert.equal(line?.route, "(unknown)");
      assert.equal(line?.path, "/v1/nothing/here");
      assert.equal(line?.error_code, "route_not_found");
      assert.doesNotMatch(JSON.stringify(app.logLines()), /sk-in-the-query/);
    } finally {
      await app.dispose();
    }
  });

  test("an error's line has its code, and neither the body nor the key", async () => {
    const app = await testApp(config("general_settings:\n  master_key: sk-the-master-key"));
    try {
      const res = await app.app.inject({
        method: "POST",
        url: "/v1/embeddings",
        headers: { authorization: "Bearer sk-the-master-key" },
        payload: { model: "embed", input: "a private sentence", dimensions: "many" },
      });
      assert.equal(res.statusCode, 400, res.body);
      const code = (res.json() as { error: { code: string } }).error.code;
      const line = app.logLines().find((l) => l.request_id === res.headers["x-request-id"]);
      assert.equal(line?.status, 400);
      assert.equal(line?.error_code, code);
      const logged = JSON.stringify(app.logLines());
      assert.doesNotMatch(logged, /a private sentence|sk-the-master-key/);
    } finally {
      await app.dispose();
    }
  });

  test("at debug level each upstream attempt and its failure is logged, the retry included", async () => {
    const app = await testApp(config());
    try {
      const res = await app.app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "embed", input: "hi" } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers["x-xgate-attempts"], "2");
      const id = res.headers["x-request-id"];
      const debug = app.logLines().filter((l) => l.level === 20 && l.request_id === id);
      assert.deepEqual(
        debug.map((l) => [l.msg, l.deployment, l.attempt]),
        [
          ["calling deployment embed-dead", "embed-dead", 1],
          ["attempt 1 on deployment embed-dead failed", "embed-dead", 1],
          ["retrying on deployment embed-live", "embed-live", 2],
        ],
      );
      assert.equal(debug[1]?.error_code, "connection_error");
      const cooldown = app.logLines().find((l) => l.level === 40 && l.deployment === "embed-dead");
      assert.match(String(cooldown?.msg), /cooling down/);
    } finally {
      await app.dispose();
    }
  });
});

describe("a graceful stop", () => {
  function collected(): { logger: pino.Logger; messages: () => string[] } {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(...chunk.toString("utf8").split("\n").filter((line) => line !== ""));
        callback();
      },
    });
    const logger = pino({ level: "info", base: undefined }, sink);
    return { logger, messages: () => lines.map((line) => String((JSON.parse(line) as { msg?: string }).msg)) };
  }

  test("logs how many requests it drains, and when it has stopped", async () => {
    const { logger, messages } = collected();
    const proxy = await startProxy(parseConfig(config(), "test.yaml", {}).config, { host: "127.0.0.1", port: 0, logger });
    await proxy.close();
    assert.deepEqual(messages().filter((m) => /draining|stopped/.test(m)), ["draining 0 in-flight requests", "stopped"]);
  });

  test("says how many requests the end of the grace period cut off", async () => {
    const { logger, messages } = collected();
    const yaml = config("general_settings:\n  graceful_shutdown_seconds: 0");
    const proxy = await startProxy(parseConfig(yaml, "test.yaml", {}).config, { host: "127.0.0.1", port: 0, logger });
    emulator.setFault("embeddings", { kind: "stall" });
    const reached = new Promise<void>((resolve) => (arrived = (path) => path === "/v1/embeddings" && resolve()));
    const pending = fetch(`${proxy.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "embed", input: "hi" }),
    }).catch(() => undefined);
    await reached;
    await proxy.close();
    emulator.setFault("embeddings", null);
    await pending;
    assert.deepEqual(messages().filter((m) => /draining|stopped/.test(m)), [
      "draining 1 in-flight requests",
      "stopped; 1 requests were cut off at the end of the grace period",
    ]);
  });
});
