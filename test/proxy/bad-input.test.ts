/** Whatever a client sends, the proxy answers a 4xx in the OpenAI error shape and keeps serving. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Emulator, startEmulator } from "../support/emulator/index.js";
import { type ProxyProcess, startProxyProcess } from "../support/proxy-process.js";

const MASTER_KEY = "sk-bad-input-master";
const UPSTREAM_KEY = "xf-" + "Zz09".repeat(12);

/** The proxy's log line for a request id; it is written once the response is done, so it may lag a moment. */
async function waitForLogLine(proxy: ProxyProcess, requestId: string, field = "request_id"): Promise<{ status: number }> {
  for (let i = 0; i < 200; i++) {
    const line = proxy
      .output()
      .stdout.split("\n")
      .find((l) => l.includes(`"${field}":"${requestId}"`));
    if (line) return JSON.parse(line) as { status: number };
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no log line for ${requestId}`);
}

interface ErrorShape {
  error: { message: string; type: string; param: string | null; code: string };
}

describe("proxy: bad input", () => {
  let emulator: Emulator;
  /** A server whose every inference takes a minute, counted as in flight: for a client that hangs up. */
  let slowEmulator: Emulator;
  let proxy: ProxyProcess;

  before(async () => {
    emulator = await startEmulator({ apiKeys: [UPSTREAM_KEY] });
    slowEmulator = await startEmulator({ computeDelayMs: 60_000 });
    proxy = await startProxyProcess(`
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-small-en-v1.5, api_base: "${emulator.baseUrl}", api_key: "${UPSTREAM_KEY}" }
  - model_name: sd
    litellm_params: { model: xinference/stabilityai/stable-diffusion-3.5-large, api_base: "${emulator.baseUrl}", api_key: "${UPSTREAM_KEY}" }
  - model_name: slow
    litellm_params: { model: xinference/bge-small-en-v1.5, api_base: "${slowEmulator.baseUrl}" }
  - model_name: turbo
    litellm_params: { model: xinference/sd-turbo, api_base: "${emulator.baseUrl}", api_key: "${UPSTREAM_KEY}" }
general_settings:
  master_key: ${MASTER_KEY}
  max_request_size_mb: 1
`);
  });

  after(async () => {
    await proxy?.stop();
    await emulator?.close();
    await slowEmulator?.close();
  });

  async function call(path: string, init: RequestInit & { json?: unknown } = {}): Promise<{ status: number; body: ErrorShape; headers: Headers }> {
    const headers = new Headers(init.headers);
    if (!headers.has("authorization")) headers.set("authorization", `Bearer ${MASTER_KEY}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(init.json);
    }
    const res = await fetch(`${proxy.url}${path}`, { method: "POST", ...init, headers, body });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: JSON.parse(text) as ErrorShape };
  }

  function assertError(res: { status: number; body: ErrorShape }, status: number, code?: string): void {
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.equal(typeof res.body.error.message, "string");
    assert.ok(res.body.error.message.length > 10);
    assert.equal(typeof res.body.error.type, "string");
    assert.ok("param" in res.body.error);
    if (code) assert.equal(res.body.error.code, code);
  }

  test("malformed JSON", async () => {
    const res = await call("/v1/embeddings", { body: '{"model": "embed", "input": [', headers: { "content-type": "application/json" } });
    assertError(res, 400, "invalid_json");
  });

  test("a body that is not an object", async () => {
    assertError(await call("/v1/embeddings", { json: ["embed", "hi"] }), 400);
    assertError(await call("/v1/embeddings", { json: "hi" }), 400);
  });

  test("wrong types", async () => {
    assertError(await call("/v1/embeddings", { json: { model: 42, input: "x" } }), 400);
    assertError(await call("/v1/embeddings", { json: { model: "embed", input: 42 } }), 400);
    assertError(await call("/v1/embeddings", { json: { model: "embed", input: [] } }), 400);
    assertError(await call("/v1/images/generations", { json: { model: "sd", prompt: { text: "x" } } }), 400);
    assertError(await call("/v1/images/generations", { json: { model: "sd", prompt: "x", size: "big" } }), 400);
  });

  test("n out of range", async () => {
    const res = await call("/v1/images/generations", { json: { model: "sd", prompt: "x", n: 11 } });
    assertError(res, 400);
    assert.match(res.body.error.message, /\bn\b/);
    assertError(await call("/v1/images/generations", { json: { model: "sd", prompt: "x", n: 0 } }), 400);
  });

  test("missing prompt or image", async () => {
    assertError(await call("/v1/images/generations", { json: { model: "sd" } }), 400);
    const noImage = new FormData();
    noImage.set("model", "sd");
    noImage.set("prompt", "x");
    const res = await call("/v1/images/edits", { body: noImage });
    assertError(res, 400);
    assert.match(res.body.error.message, /image/);
    const noPrompt = new FormData();
    noPrompt.set("model", "sd");
    noPrompt.set("image", new Blob([Buffer.from("89504e470d0a1a0a", "hex")], { type: "image/png" }), "a.png");
    assertError(await call("/v1/images/edits", { body: noPrompt }), 400);
  });

  test("an edit to a model that cannot edit is refused before any upstream work", async () => {
    emulator.clearRequests();
    const form = new FormData();
    form.set("model", "turbo");
    form.set("prompt", "x");
    form.set("image", new Blob([Buffer.from("89504e470d0a1a0a", "hex")], { type: "image/png" }), "a.png");
    const res = await call("/v1/images/edits", { body: form });
    assertError(res, 400, "model_cannot_edit");
    assert.match(res.body.error.message, /image2image/);
    assert.ok(!emulator.requests.some((r) => r.path === "/v1/images/edits"));
  });

  test("edits sent as JSON are told to use multipart", async () => {
    const res = await call("/v1/images/edits", { json: { model: "sd", prompt: "x" } });
    assertError(res, 400);
    assert.match(res.body.error.message, /multipart/);
  });

  test("over-size bodies", async () => {
    const big = "x".repeat(1024 * 1024 + 10);
    const json = await call("/v1/embeddings", { json: { model: "embed", input: big } });
    assertError(json, 413, "payload_too_large");
    assert.match(json.body.error.message, /max_request_size_mb/);
    const form = new FormData();
    form.set("model", "sd");
    form.set("prompt", "x");
    form.set("image", new Blob([Buffer.from("89504e470d0a1a0a", "hex"), Buffer.alloc(1024 * 1024 + 10)], { type: "image/png" }), "big.png");
    assertError(await call("/v1/images/edits", { body: form }), 413, "payload_too_large");
  });

  test("smuggled credentials are refused without echoing them", async () => {
    for (const json of [
      { model: "embed", input: "x", api_base: "http://attacker.invalid/v1" },
      { model: "embed", input: "x", extra_body: { api_key: "sk-stolen-value" } },
      { model: "embed", input: "x", metadata: { deep: { base_url: "http://attacker.invalid" } } },
    ]) {
      const res = await call("/v1/embeddings", { json });
      assertError(res, 400, "client_credentials_not_allowed");
      assert.ok(!JSON.stringify(res.body).includes("attacker.invalid"));
      assert.ok(!JSON.stringify(res.body).includes("sk-stolen-value"));
    }
    assert.ok(!emulator.requests.some((r) => JSON.stringify(r.body).includes("attacker")));
  });

  test("missing or wrong key", async () => {
    assertError(await call("/v1/embeddings", { json: { model: "embed", input: "x" }, headers: { authorization: "" } }), 401);
    const wrong = await call("/v1/embeddings", { json: { model: "embed", input: "x" }, headers: { authorization: "Bearer sk-guess" } });
    assertError(wrong, 401, "invalid_api_key");
    const viaHeader = await fetch(`${proxy.url}/v1/models`, { headers: { "x-api-key": MASTER_KEY } });
    assert.equal(viaHeader.status, 200);
  });

  test("unknown routes are 404s in the same shape", async () => {
    assertError(await call("/v1/chat/completions/nope", { json: {} }), 404, "route_not_found");
    const get = await fetch(`${proxy.url}/nothing-here`);
    assert.equal(get.status, 404);
    assert.equal(((await get.json()) as ErrorShape).error.code, "route_not_found");
  });

  test("x-request-id is always a fresh one of xgate's; the client's own is kept in the log line", async () => {
    // The id keys the request's spend row: a client that could choose it could have requests skipped as duplicates.
    const first = await call("/v1/embeddings", { json: { model: "embed", input: "x" }, headers: { "x-request-id": "req-abc.123" } });
    const second = await call("/v1/embeddings", { json: { model: "embed", input: "x" }, headers: { "x-request-id": "req-abc.123" } });
    const ids = [first.headers.get("x-request-id") ?? "", second.headers.get("x-request-id") ?? ""];
    for (const id of ids) assert.match(id, /^[0-9a-f-]{36}$/);
    assert.notEqual(ids[0], ids[1]);
    const line = await waitForLogLine(proxy, ids[0]!);
    assert.equal((line as { client_request_id?: string }).client_request_id, "req-abc.123");
  });

  test("models, model info and health endpoints; no secrets in them", async () => {
    const auth = { authorization: `Bearer ${MASTER_KEY}` };
    const models = (await (await fetch(`${proxy.url}/v1/models`, { headers: auth })).json()) as { data: Array<{ id: string }> };
    assert.deepEqual(models.data.map((m) => m.id).sort(), ["embed", "sd", "slow", "turbo"]);
    const info = await (await fetch(`${proxy.url}/model/info`, { headers: auth })).text();
    assert.match(info, /xinference\/bge-small-en-v1.5/);
    assert.ok(!info.includes(UPSTREAM_KEY));
    assert.equal((await fetch(`${proxy.url}/health/liveliness`)).status, 200);
    assert.equal((await fetch(`${proxy.url}/health/readiness`)).status, 200);
    assert.equal((await fetch(`${proxy.url}/health`)).status, 401);
    const health = (await (await fetch(`${proxy.url}/health`, { headers: auth })).json()) as { healthy_count: number; unhealthy_count: number };
    assert.equal(health.healthy_count, 4);
    assert.equal(health.unhealthy_count, 0);
  });

  test("a client that hangs up mid-request cancels the upstream call and is logged as 499, not as an error", async () => {
    const controller = new AbortController();
    const request = fetch(`${proxy.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json", "x-request-id": "hung-up-1" },
        body: JSON.stringify({ model: "slow", input: "never answered" }),
        signal: controller.signal,
      });
    await slowEmulator.waitForInFlight("bge-small-en-v1.5", 1);
    controller.abort();
    await assert.rejects(request);
    const line = await waitForLogLine(proxy, "hung-up-1", "client_request_id");
    assert.equal(line.status, 499);
    assert.ok(!proxy.output().stdout.includes("unhandled error"));
    // The upstream call was cancelled, not left running for its minute.
    await slowEmulator.waitForInFlight("bge-small-en-v1.5", 0);
  });

  test("after all of that the server still serves", async () => {
    const res = await fetch(`${proxy.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "embed", input: "still here" }),
    });
    assert.equal(res.status, 200);
    const { stdout, stderr } = proxy.output();
    assert.ok(!stdout.includes(UPSTREAM_KEY) && !stderr.includes(UPSTREAM_KEY));
    assert.ok(!stdout.includes(MASTER_KEY) && !stderr.includes(MASTER_KEY));
  });
});
