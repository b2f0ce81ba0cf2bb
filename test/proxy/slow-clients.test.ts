/** Settings a deployment relies on: slow-client deadlines, the master key from the environment, the public URL of hosted images. */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { type Emulator, startEmulator } from "../support/emulator/index.js";
import { type ProxyProcess, startProxyProcess } from "../support/proxy-process.js";

/** Sends `data` on a raw connection and resolves with what the server wrote before it closed the socket. */
function sendAndWaitForClose(url: string, data: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(data));
    let received = "";
    socket.on("data", (chunk) => (received += chunk.toString()));
    socket.on("close", () => resolve(received));
    socket.on("error", reject);
  });
}

describe("proxy deployment settings", () => {
  let emulator: Emulator;
  let proxy: ProxyProcess;
  before(async () => {
    emulator = await startEmulator();
    proxy = await startProxyProcess(
      `
model_list:
  - model_name: sd
    litellm_params: { model: xinference/sd-turbo, api_base: "${emulator.baseUrl}" }
general_settings:
  request_header_timeout_seconds: 1
  request_body_timeout_seconds: 2
  public_base_url: https://images.example.test/gateway/
`,
      { env: { XGATE_MASTER_KEY: "sk-from-the-environment" } },
    );
  });
  after(async () => {
    await proxy?.stop();
    await emulator?.close();
  });

  test("a client that never finishes its headers is cut off", async () => {
    const answer = await sendAndWaitForClose(proxy.url, "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    assert.match(answer, /^HTTP\/1\.1 408|^$/);
  });

  test("a client that never finishes its body is cut off", async () => {
    const answer = await sendAndWaitForClose(
      proxy.url,
      "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-from-the-environment\r\n" +
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\":",
    );
    assert.match(answer, /^HTTP\/1\.1 408|^$/);
  });

  test("XGATE_MASTER_KEY is the master key when the config sets none", async () => {
    assert.equal((await fetch(`${proxy.url}/v1/models`)).status, 401);
    const ok = await fetch(`${proxy.url}/v1/models`, { headers: { authorization: "Bearer sk-from-the-environment" } });
    assert.equal(ok.status, 200);
    assert.match(proxy.output().stdout, /auth: +master key required/);
  });

  test("hosted image URLs start with public_base_url", async () => {
    const res = await fetch(`${proxy.url}/v1/images/generations`, {
      method: "POST",
      headers: { authorization: "Bearer sk-from-the-environment", "content-type": "application/json" },
      body: JSON.stringify({ model: "sd", prompt: "x", size: "32x32", response_format: "url" }),
    });
    const url = ((await res.json()) as { data: Array<{ url: string }> }).data[0]!.url;
    assert.match(url, /^https:\/\/images\.example\.test\/gateway\/v1\/files\/images\/[A-Za-z0-9_-]{32}-[0-9a-z]+\.jpg$/);
    const local = await fetch(url.replace("https://images.example.test/gateway", proxy.url));
    assert.equal(local.status, 200);
    assert.equal(local.headers.get("content-type"), "image/jpeg");
  });
});
