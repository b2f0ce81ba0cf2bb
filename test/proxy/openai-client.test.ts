/**
 * The proxy as a user meets it: the CLI started on a config file, driven by the official `openai` npm
 * client, the Vercel AI SDK and curl, against the Xinference emulator.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { embedMany, experimental_generateImage as generateImage } from "ai";
import OpenAI, { toFile } from "openai";
import sharp from "sharp";
import { type Emulator, startEmulator } from "../support/emulator/index.js";
import { type ProxyProcess, startProxyProcess } from "../support/proxy-process.js";

const run = promisify(execFile);
const MASTER_KEY = "sk-test-master-0123456789";
const XINFERENCE_KEY = "xf-" + "a1b2c3d4".repeat(6);

function config(emulator: Emulator): string {
  return `
model_list:
  - model_name: bge-base-en
    litellm_params:
      model: xinference/bge-base-en
      api_base: ${emulator.baseUrl}
      api_key: os.environ/TEST_XINFERENCE_KEY
  - model_name: xinference-sd
    litellm_params:
      model: xinference/stabilityai/stable-diffusion-3.5-large
      api_base: ${emulator.baseUrl}
      api_key: os.environ/TEST_XINFERENCE_KEY
    model_info:
      mode: image_generation
  - model_name: reranker
    litellm_params:
      model: xinference/bge-reranker-base
      api_base: ${emulator.baseUrl}
      api_key: os.environ/TEST_XINFERENCE_KEY
general_settings:
  master_key: ${MASTER_KEY}
  max_request_size_mb: 2
`;
}

async function pngOf(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 40, g: 90, b: 160 } } }).png().toBuffer();
}

async function directEmbedding(emulator: Emulator, input: string): Promise<number[]> {
  const res = await fetch(`${emulator.baseUrl}/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${XINFERENCE_KEY}` },
    body: JSON.stringify({ model: "bge-base-en", input }),
  });
  const body = (await res.json()) as { data: Array<{ embedding: number[] }> };
  return body.data[0]!.embedding;
}

describe("proxy with the openai client", () => {
  let emulator: Emulator;
  let proxy: ProxyProcess;
  let client: OpenAI;

  before(async () => {
    emulator = await startEmulator({ apiKeys: [XINFERENCE_KEY] });
    proxy = await startProxyProcess(config(emulator), { env: { TEST_XINFERENCE_KEY: XINFERENCE_KEY } });
    client = new OpenAI({ apiKey: MASTER_KEY, baseURL: proxy.baseUrl, maxRetries: 0 });
  });

  after(async () => {
    await proxy?.stop();
    await emulator?.close();
  });

  test("embeddings.create with the client's default (base64) encoding gives the upstream's vectors", async () => {
    const response = await client.embeddings.create({ model: "bge-base-en", input: ["good morning from xgate", "second"] });
    assert.equal(response.data.length, 2);
    assert.equal(response.model, "bge-base-en");
    const expected = await directEmbedding(emulator, "good morning from xgate");
    const got = response.data[0]!.embedding;
    assert.equal(got.length, 768);
    for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(got[i]! - expected[i]!) < 1e-6, `component ${i}`);
    assert.ok(response.usage.prompt_tokens > 0);
    const upstream = emulator.requests.find((r) => r.path === "/v1/embeddings" && r.status === 200);
    assert.equal(upstream?.headers.authorization, `Bearer ${XINFERENCE_KEY}`);
  });

  test("embeddings.create with float encoding returns the floats as they are", async () => {
    const response = await client.embeddings.create({ model: "bge-base-en", input: "hello", encoding_format: "float" });
    assert.deepEqual(response.data[0]!.embedding, await directEmbedding(emulator, "hello"));
  });

  test("images.generate answers b64_json by default, with the requested size", async () => {
    const response = await client.images.generate({ model: "xinference-sd", prompt: "a lighthouse", size: "256x256" });
    const b64 = response.data?.[0]?.b64_json;
    assert.ok(b64);
    const meta = await sharp(Buffer.from(b64, "base64")).metadata();
    assert.deepEqual([meta.width, meta.height], [256, 256]);
    const upstream = emulator.requests.filter((r) => r.path === "/v1/images/generations").at(-1);
    assert.equal((upstream?.body as { size?: string }).size, "256*256");
  });

  test("images.generate with response_format url gives an http URL that serves the image", async () => {
    const response = await client.images.generate({
      model: "xinference-sd",
      prompt: "a lighthouse",
      size: "128x128",
      response_format: "url",
    });
    const url = response.data?.[0]?.url ?? "";
    assert.ok(url.startsWith(`${proxy.url}/`), url);
    const image = await fetch(url);
    assert.equal(image.status, 200);
    assert.equal(image.headers.get("content-type"), "image/jpeg");
    const meta = await sharp(Buffer.from(await image.arrayBuffer())).metadata();
    assert.deepEqual([meta.width, meta.height], [128, 128]);
    const guessed = await fetch(url.replace(/[A-Za-z0-9_-]{32}-/, "A".repeat(32) + "-"));
    assert.equal(guessed.status, 404);
  });

  test("images.edit with one file", async () => {
    emulator.clearRequests();
    const image = await toFile(await pngOf(64, 48), "photo.png", { type: "image/png" });
    const response = await client.images.edit({ model: "xinference-sd", image, prompt: "make it blue" });
    const meta = await sharp(Buffer.from(response.data![0]!.b64_json!, "base64")).metadata();
    assert.deepEqual([meta.width, meta.height], [64, 48]);
    const upstream = emulator.requests.find((r) => r.path === "/v1/images/edits");
    const files = (upstream?.body as { files: Array<{ field: string; filename: string; size: number }> }).files;
    assert.deepEqual(files.map((f) => f.field), ["images"]);
    assert.equal(files[0]!.filename, "photo.png");
  });

  test("images.edit with an array (sent as image[]) and a mask", async () => {
    emulator.clearRequests();
    const images = [
      await toFile(await pngOf(64, 64), "a.png", { type: "image/png" }),
      await toFile(await pngOf(32, 32), "b.png", { type: "image/png" }),
    ];
    const mask = await toFile(await pngOf(64, 64), "mask.png", { type: "image/png" });
    const response = await client.images.edit({ model: "xinference-sd", image: images, mask, prompt: "merge", n: 2 });
    assert.equal(response.data?.length, 2);
    const upstream = emulator.requests.find((r) => r.path === "/v1/images/edits");
    const body = upstream?.body as { fields: Record<string, string>; files: Array<{ field: string }> };
    assert.deepEqual(body.files.map((f) => f.field), ["images", "images", "mask"]);
    assert.equal(body.fields.n, "2");
  });

  test("errors arrive as the client's error classes", async () => {
    const wrongKey = new OpenAI({ apiKey: "sk-not-the-key", baseURL: proxy.baseUrl, maxRetries: 0 });
    await assert.rejects(wrongKey.embeddings.create({ model: "bge-base-en", input: "x" }), OpenAI.AuthenticationError);
    await assert.rejects(client.embeddings.create({ model: "no-such-model", input: "x" }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.NotFoundError);
      assert.equal(err.code, "model_not_found");
      assert.match(err.message, /bge-base-en/);
      return true;
    });
    await assert.rejects(
      client.images.generate({ model: "xinference-sd", prompt: "x", n: 20 }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && /\bn\b/.test(err.message),
    );
  });

  test("rerank answers Cohere-style results", async () => {
    const res = await fetch(`${proxy.baseUrl}/rerank`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "reranker", query: "capital of France", documents: ["Paris is in France", "Bananas"], top_n: 1 }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { results: Array<{ index: number; relevance_score: number }> };
    assert.equal(body.results.length, 1);
    assert.equal(body.results[0]!.index, 0);
  });

  test("the Vercel AI SDK embeds and generates images", async () => {
    const provider = createOpenAICompatible({ name: "xgate", baseURL: proxy.baseUrl, apiKey: MASTER_KEY });
    const { embeddings } = await embedMany({ model: provider.textEmbeddingModel("bge-base-en"), values: ["a", "b", "c"] });
    assert.equal(embeddings.length, 3);
    assert.deepEqual(embeddings[0], await directEmbedding(emulator, "a"));
    const { images } = await generateImage({ model: provider.imageModel("xinference-sd"), prompt: "sunset", size: "64x64" });
    const meta = await sharp(Buffer.from(images[0]!.uint8Array)).metadata();
    assert.deepEqual([meta.width, meta.height], [64, 64]);
  });

  test("the Xinference docs page's curl commands work verbatim", async () => {
    const dir = await mkdtemp(join(tmpdir(), "xgate-curl-"));
    try {
      const generation = await run("curl", [
        "--silent", "--location", `${proxy.url}/v1/images/generations`,
        "--header", "Content-Type: application/json",
        "--header", `Authorization: Bearer ${MASTER_KEY}`,
        "--data", `{
    "model": "xinference-sd",
    "prompt": "A beautiful sunset over a calm ocean",
    "n": 1,
    "size": "1024x1024",
    "response_format": "url"
}`,
      ]);
      const url = (JSON.parse(generation.stdout) as { data: Array<{ url: string }> }).data[0]!.url;
      assert.match(url, /^http:\/\//);
      assert.equal((await fetch(url)).status, 200);

      const input = join(dir, "input_image.png");
      await writeFile(input, await pngOf(96, 64));
      const edit = await run("curl", [
        "--silent", "--location", `${proxy.url}/v1/images/edits`,
        "--header", `Authorization: Bearer ${MASTER_KEY}`,
        "--form", 'model="stabilityai/stable-diffusion-3.5-large"',
        "--form", `image=@"${input}"`,
        "--form", 'prompt="Make the sky more vibrant and colorful"',
        "--form", 'n="1"',
        "--form", 'size="1024x1024"',
      ]);
      const b64 = (JSON.parse(edit.stdout) as { data: Array<{ b64_json: string }> }).data[0]!.b64_json;
      const meta = await sharp(Buffer.from(b64, "base64")).metadata();
      assert.deepEqual([meta.width, meta.height], [1024, 1024]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // Last but one: after its retries the deployment cools down, which later calls would notice.
  test("an upstream 500 that persists through the retries reaches the client as InternalServerError", async () => {
    emulator.setFault("embeddings", { kind: "status", status: 500, body: { detail: "CUDA error: device-side assert" } });
    try {
      await assert.rejects(client.embeddings.create({ model: "bge-base-en", input: "x" }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.InternalServerError);
        assert.match(err.message, /CUDA error/);
        return true;
      });
    } finally {
      emulator.setFault("embeddings", null);
    }
  });

  test("no key appears in the proxy's output", () => {
    const { stdout, stderr } = proxy.output();
    assert.ok(stdout.includes('"status"'), "one log line per request");
    for (const secret of [MASTER_KEY, XINFERENCE_KEY, "sk-not-the-key"]) {
      assert.ok(!stdout.includes(secret) && !stderr.includes(secret), `output leaks ${secret.slice(0, 6)}…`);
    }
  });
});
