/**
 * One model group served by two kinds of server: an Xinference deployment and a vLLM-style one
 * (`hosted_vllm/`, the emulator's OpenAI-wire twin), behind the CLI, driven by the official `openai` client.
 * The router treats them alike: it picks by weight, fails over on a 503 either way, and health checks and the
 * edit check let the OpenAI-compatible server, which reports no abilities, decide for itself.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import OpenAI, { toFile } from "openai";
import sharp from "sharp";
import { type Emulator, startEmulator } from "../support/emulator/index.js";
import { type HealthBody, type ProxyProcess, startProxyProcess } from "../support/proxy-process.js";

const MASTER_KEY = "sk-mixed-master-0123456789";
const VLLM_KEY = "sk-vllm-0123456789";
const INPUT = ["good morning from two servers", "second"];

let xinference: Emulator;
let vllm: Emulator;
let proxy: ProxyProcess;
let client: OpenAI;

/** `weight` 0 makes a standby: tried only once the other was, so which one answers first is known. */
function deployment(group: string, id: string, model: string, apiBase: string, weight: number, extra = ""): string {
  return `
  - model_name: ${group}
    litellm_params:
      model: ${model}
      api_base: ${apiBase}
      weight: ${weight}${extra}
    model_info:
      id: ${id}
      mode: embedding`;
}

before(async () => {
  xinference = await startEmulator();
  vllm = await startEmulator({ flavor: "openai", apiKeys: [VLLM_KEY] });
  const vllmKey = "\n      api_key: os.environ/TEST_VLLM_KEY";
  proxy = await startProxyProcess(
    `model_list:${deployment("embed", "vllm-1", "hosted_vllm/bge-base-en", vllm.baseUrl, 1, vllmKey)}` +
      `${deployment("embed", "xinf-1", "xinference/bge-base-en", xinference.baseUrl, 0)}` +
      `${deployment("embed-x", "xinf-2", "xinference/bge-base-en", xinference.baseUrl, 1)}` +
      `${deployment("embed-x", "vllm-2", "openai/bge-base-en", vllm.baseUrl, 0, vllmKey)}
  - model_name: painter
    litellm_params:
      model: openai/stabilityai/stable-diffusion-3.5-large
      api_base: ${vllm.baseUrl}
      api_key: os.environ/TEST_VLLM_KEY
  - model_name: chat
    litellm_params: { model: hosted_vllm/qwen2.5-instruct, api_base: "${vllm.baseUrl}", api_key: os.environ/TEST_VLLM_KEY, weight: 1 }
    model_info: { id: vllm-chat, mode: chat }
  - model_name: chat
    litellm_params: { model: xinference/qwen2.5-instruct, api_base: "${xinference.baseUrl}", weight: 0 }
    model_info: { id: xinf-chat, mode: chat }
  - model_name: ranker
    litellm_params:
      model: hosted_vllm/bge-reranker-base
      api_base: ${vllm.baseUrl}
      api_key: os.environ/TEST_VLLM_KEY
general_settings:
  master_key: ${MASTER_KEY}
`,
    { env: { TEST_VLLM_KEY: VLLM_KEY } },
  );
  client = new OpenAI({ apiKey: MASTER_KEY, baseURL: proxy.baseUrl, maxRetries: 0 });
  // The start pass probes the embedding deployments: let it finish before faults are set.
  while (((await (await fetch(`${proxy.url}/health/readiness`)).json()) as { pending: number }).pending > 0) await delay(20);
});

after(async () => {
  await proxy?.stop();
  await Promise.all([xinference?.close(), vllm?.close()]);
});

async function directVectors(): Promise<number[][]> {
  const res = await fetch(`${xinference.baseUrl}/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "bge-base-en", input: INPUT }),
  });
  return ((await res.json()) as { data: { embedding: number[] }[] }).data.map((d) => d.embedding.map((x) => Math.fround(x)));
}

async function embed(model: string): Promise<{ deployment: string | null; attempts: string | null; vectors: number[][] }> {
  const { data, response } = await client.embeddings.create({ model, input: INPUT }).withResponse();
  return {
    deployment: response.headers.get("x-xgate-deployment"),
    attempts: response.headers.get("x-xgate-attempts"),
    vectors: data.data.map((d) => d.embedding),
  };
}

describe("a group of one Xinference and one vLLM-style deployment", () => {
  test("the openai client's base64 embeddings come from the vLLM server, which was asked for base64 with its key", async () => {
    vllm.clearRequests();
    const answer = await embed("embed");
    assert.equal(answer.deployment, "vllm-1");
    assert.deepEqual(answer.vectors, await directVectors());
    const upstream = vllm.requests.find((r) => r.path === "/v1/embeddings");
    assert.equal((upstream?.body as { encoding_format?: string }).encoding_format, "base64");
    assert.equal(upstream?.headers.authorization, `Bearer ${VLLM_KEY}`);
  });

  test("a 503 on the vLLM server fails over to Xinference, with the same vectors", async () => {
    vllm.setFault("embeddings", { kind: "status", status: 503, times: 1 });
    const answer = await embed("embed");
    assert.equal(answer.deployment, "xinf-1");
    assert.equal(answer.attempts, "2");
    assert.deepEqual(answer.vectors, await directVectors());
  });

  test("a 503 on Xinference fails over to the vLLM server", async () => {
    xinference.setFault("embeddings", { kind: "status", status: 503, times: 1 });
    const answer = await embed("embed-x");
    assert.equal(answer.deployment, "vllm-2");
    assert.equal(answer.attempts, "2");
    assert.deepEqual(answer.vectors, await directVectors());
  });

  test("GET /v1/models lists each group once, whatever serves it", async () => {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.deepEqual(ids.sort(), ["chat", "embed", "embed-x", "painter", "ranker"]);
  });

  test("/health checks both kinds of deployment with a real embedding", async () => {
    vllm.clearRequests();
    const res = await fetch(`${proxy.url}/health?fresh=true`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
    const body = (await res.json()) as HealthBody;
    const healthy = body.healthy_endpoints.map((e) => e.deployment_id);
    for (const id of ["vllm-1", "vllm-2", "xinf-1", "xinf-2"]) assert.ok(healthy.includes(id), `${id} is healthy`);
    assert.equal(body.unhealthy_endpoints.length, 0);
    assert.equal(vllm.requests.filter((r) => r.path === "/v1/embeddings").length, 2, "one probe per vLLM deployment");
  });
});

describe("a chat group of one vLLM-style and one Xinference deployment", () => {
  const messages = [{ role: "user" as const, content: "hello from two servers" }];

  /** The streamed text, and the deployment that streamed it. */
  async function streamed(): Promise<{ text: string; deployment: string | null }> {
    const { data: stream, response } = await client.chat.completions.create({ model: "chat", messages, stream: true }).withResponse();
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    return { text, deployment: response.headers.get("x-xgate-deployment") };
  }

  test("a stream comes from the vLLM server, and on its 503 from Xinference, the same text either way", async () => {
    const first = await streamed();
    assert.equal(first.deployment, "vllm-chat");
    assert.match(first.text, /^You said: hello from two servers/);
    vllm.setFault("chat/completions", { kind: "status", status: 503, times: 1 });
    const failedOver = await streamed();
    assert.equal(failedOver.deployment, "xinf-chat");
    assert.equal(failedOver.text, first.text);
  });
});

describe("what an OpenAI-compatible server does not report", () => {
  test("an edit is let through to it (it reports no abilities) and answers", async () => {
    const png = await sharp({ create: { width: 48, height: 32, channels: 3, background: "#3366aa" } }).png().toBuffer();
    const response = await client.images.edit({ model: "painter", image: await toFile(png, "photo.png", { type: "image/png" }), prompt: "snow" });
    const meta = await sharp(Buffer.from(response.data?.[0]?.b64_json ?? "", "base64")).metadata();
    assert.deepEqual([meta.width, meta.height], [48, 32]);
  });

  test("rerank reaches its /rerank route", async () => {
    const res = await fetch(`${proxy.baseUrl}/rerank`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "ranker", query: "capital of France", documents: ["Bananas", "Paris is in France"], top_n: 1 }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { results: { index: number; document: { text: string } }[] };
    assert.deepEqual(body.results.map((r) => [r.index, r.document.text]), [[1, "Paris is in France"]]);
  });
});
