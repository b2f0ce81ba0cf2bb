/**
 * Hosted image URLs without `public_base_url`: they point at the address the client connected to, never at
 * what its Host header claims; X-Forwarded-Host / X-Forwarded-Proto count only with `trust_proxy: true`.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { type Emulator, startEmulator } from "../../support/emulator/index.js";
import { type TestApp, testApp } from "../../support/app.js";
import { portOf } from "./raw-http.js";

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(async () => emulator?.close());

function config(generalSettings = ""): string {
  return `
model_list:
  - model_name: sd
    litellm_params: { model: xinference/sd-turbo, api_base: "${emulator.baseUrl}" }
${generalSettings}`;
}

async function listening(yaml: string): Promise<{ app: TestApp; port: number }> {
  const app = await testApp(yaml);
  await app.app.listen({ port: 0, host: "127.0.0.1" });
  return { app, port: portOf(app.app) };
}

/** The hosted URL of a generated image, asked with these headers (Host among them: fetch would not send ours). */
function generateUrl(port: number, headers: Record<string, string>): Promise<string> {
  const body = JSON.stringify({ model: "sd", prompt: "a lighthouse", size: "16x16", response_format: "url" });
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method: "POST", path: "/v1/images/generations", headers: { "content-type": "application/json", ...headers } },
      (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
        res.on("end", () => {
          if (res.statusCode !== 200) reject(new Error(`${res.statusCode}: ${text}`));
          else resolve((JSON.parse(text) as { data: { url: string }[] }).data[0]?.url ?? "");
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const HOSTED = /\/v1\/files\/images\/[A-Za-z0-9_-]{32}-[0-9a-z]+\.[a-z]+$/;

describe("hosted image URLs", () => {
  test("by default they use the address the client connected to, whatever Host and X-Forwarded-* say", async () => {
    const { app, port } = await listening(config());
    try {
      const url = await generateUrl(port, { host: "attacker.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" });
      assert.ok(url.startsWith(`http://127.0.0.1:${port}/v1/files/images/`), url);
      assert.match(url, HOSTED);
      assert.equal((await fetch(url)).status, 200, "the URL serves the image");
    } finally {
      await app.dispose();
    }
  });

  test("with trust_proxy they follow the nearest proxy's X-Forwarded-Host and X-Forwarded-Proto", async () => {
    const { app, port } = await listening(config("general_settings:\n  trust_proxy: true"));
    try {
      const forwarded = await generateUrl(port, {
        host: "internal:8080",
        "x-forwarded-host": "client-says.example, images.example.com",
        "x-forwarded-proto": "https",
      });
      assert.ok(forwarded.startsWith("https://images.example.com/v1/files/images/"), forwarded);
      // A forwarded host that is not a host (a path, credentials) is ignored, and so is Host.
      const malformed = await generateUrl(port, { host: "attacker.example", "x-forwarded-host": "evil.example/phish?" });
      assert.ok(malformed.startsWith(`http://127.0.0.1:${port}/v1/files/images/`), malformed);
    } finally {
      await app.dispose();
    }
  });
});
