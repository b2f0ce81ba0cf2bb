/**
 * Fuzzes every route of the proxy over a real socket, with the emulator as a fault-free upstream: thousands of
 * seeded requests (hostile JSON, broken multipart forms, odd headers, wrong methods), each of which must get an
 * answer that is no 5xx unless the upstream answered one, and every error in the OpenAI shape; the proxy still
 * serves embeddings afterwards. Only well-formed HTTP: broken framing (chunked encoding, CL+TE, 431, 414,
 * Expect) is tested with the server's protocol handling, not here.
 *
 * Environment, for longer runs (the bench) or to replay one case:
 *   FUZZ_SEED=7          seed of every case (default 1)
 *   FUZZ_ITERATIONS=N    cases to run at most (default 4000)
 *   FUZZ_SECONDS=S       time budget; the run stops after the case that crosses it (default 20)
 *   FUZZ_CASE=I          run only case I of the seed, as a failure report names it
 * e.g. FUZZ_SEED=7 FUZZ_SECONDS=600 FUZZ_ITERATIONS=1000000 node --import tsx --test test/fuzz/routes.fuzz.test.ts
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Pool, request } from "undici";
import { id3Tag, mp3Frames, tonePcm, wavHeader } from "../support/emulator/audio-encoding.js";
import { type Emulator, startEmulator } from "../support/emulator/index.js";
import { type TestApp, testApp } from "../support/app.js";
import { jpegBytes, pngBytes, webpBytes } from "../upstream/helpers.js";
import { describeCase, type FuzzCase, fuzzCase, type FuzzWorld } from "./cases.js";
import { type Answer, problemWith } from "./verdict.js";

const MASTER_KEY = "sk-fuzz-master-key";

function envNumber(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number ≥ 0, not ${JSON.stringify(text)}`);
  return value;
}

const SEED = envNumber("FUZZ_SEED", 1);
const ITERATIONS = envNumber("FUZZ_ITERATIONS", 4_000);
const SECONDS = envNumber("FUZZ_SECONDS", 20);
const ONLY_CASE = process.env.FUZZ_CASE ? envNumber("FUZZ_CASE", 0) : undefined;

let emulator: Emulator;
let proxy: TestApp;
let pool: Pool;
let origin: string;

before(async () => {
  emulator = await startEmulator();
  proxy = await testApp(`
model_list:
  - model_name: embed
    litellm_params: { model: xinference/bge-small-en-v1.5, api_base: "${emulator.baseUrl}" }
  - model_name: sd
    litellm_params: { model: xinference/stabilityai/stable-diffusion-3.5-large, api_base: "${emulator.baseUrl}" }
  - model_name: turbo
    litellm_params: { model: xinference/sd-turbo, api_base: "${emulator.baseUrl}" }
  - model_name: rerank
    litellm_params: { model: xinference/bge-reranker-base, api_base: "${emulator.baseUrl}" }
  - model_name: whisper
    litellm_params: { model: xinference/whisper-large-v3, api_base: "${emulator.baseUrl}" }
  - model_name: tts
    litellm_params: { model: xinference/ChatTTS, api_base: "${emulator.baseUrl}" }
  - model_name: chat
    litellm_params: { model: xinference/qwen2.5-instruct, api_base: "${emulator.baseUrl}" }
router_settings:
  model_group_alias: { text-embedding-3-small: embed }
general_settings:
  master_key: ${MASTER_KEY}
  max_request_size_mb: 1
`);
  await proxy.app.listen({ port: 0, host: "127.0.0.1" });
  origin = `http://127.0.0.1:${(proxy.app.server.address() as AddressInfo).port}`;
  pool = new Pool(origin, { connections: 1 });
});

after(async () => {
  await pool?.close();
  await proxy?.dispose();
  await emulator?.close();
});

async function send(fuzz: FuzzCase): Promise<Answer> {
  const res = await request(`${origin}${fuzz.path}`, {
    dispatcher: pool,
    method: fuzz.method,
    headers: fuzz.headers,
    ...(fuzz.body !== undefined && { body: fuzz.body }),
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

/** Hosted image names in an answer, so later cases fetch images that exist. */
function hostedNames(answer: Answer): string[] {
  const text = answer.body.toString("utf8");
  return [...text.matchAll(/\/v1\/files\/images\/([^"\s]+)/g)].map((match) => match[1] as string);
}

function proxyLogFor(answer: Answer | undefined): string {
  const id = answer?.headers["x-request-id"];
  if (typeof id !== "string") return "";
  const lines = proxy.logLines().filter((line) => line.request_id === id || line.reqId === id);
  return lines.map((line) => JSON.stringify(line).slice(0, 2_000)).join("\n");
}

describe(`fuzzing every route (FUZZ_SEED=${SEED})`, () => {
  it("answers every request with no 5xx of its own and every error in the OpenAI shape, and keeps serving", async (t) => {
    const world: FuzzWorld = {
      masterKey: MASTER_KEY,
      models: { embed: ["embed", "text-embedding-3-small"], image: ["sd", "turbo"], rerank: ["rerank"], transcribe: ["whisper"], speak: ["tts"], chat: ["chat"] },
      images: [
        { name: "a.png", type: "image/png", bytes: await pngBytes(8, 8) },
        { name: "b.png", type: "image/png", bytes: await pngBytes(24, 16) },
        { name: "c.jpg", type: "image/jpeg", bytes: await jpegBytes(16, 16) },
        { name: "d.webp", type: "image/webp", bytes: await webpBytes(8, 8) },
      ],
      audio: [
        { name: "a.wav", type: "audio/wav", bytes: Buffer.concat([wavHeader(24_000), tonePcm(0.5, 1)]) },
        { name: "b.mp3", type: "audio/mpeg", bytes: Buffer.concat([id3Tag(), mp3Frames(1)]) },
      ],
      hosted: [],
    };
    const failures: string[] = [];
    /** Statuses answered, per route: shows that the cases reach past the first checks. */
    const statuses: Record<string, Record<number, number>> = {};
    const deadline = Date.now() + SECONDS * 1000;
    const indices = ONLY_CASE === undefined ? undefined : [ONLY_CASE];
    let ran = 0;
    let failing = 0;
    for (let index = 0; indices ? ran < indices.length : index < ITERATIONS && Date.now() < deadline; index++) {
      const fuzz = fuzzCase(SEED, indices?.[ran] ?? index, world);
      ran++;
      emulator.clearRequests();
      let answer: Answer | undefined;
      let problem: string | undefined;
      try {
        answer = await send(fuzz);
        const route = `${fuzz.method} ${fuzz.path.replace(/[?#].*$/, "").replace(/^(\/v1\/files\/images\/).+/, "$1*")}`;
        const counts = (statuses[route] ??= {});
        counts[answer.status] = (counts[answer.status] ?? 0) + 1;
        problem = problemWith(answer, fuzz.method, emulator.requests.some((r) => r.status >= 500));
        if (answer.status === 200) world.hosted.push(...hostedNames(answer));
      } catch (err) {
        problem = `no answer: ${String(err)}`;
      }
      if (problem !== undefined) failing++;
      if (problem !== undefined && failures.length < 20) {
        failures.push(
          [
            `case ${fuzz.index}: ${problem}`,
            `replay: FUZZ_SEED=${SEED} FUZZ_CASE=${fuzz.index} node --import tsx --test test/fuzz/routes.fuzz.test.ts`,
            describeCase(fuzz),
            answer ? `answer ${answer.status}: ${answer.body.toString("utf8").slice(0, 500)}` : "",
            proxyLogFor(answer),
          ].join("\n"),
        );
      }
    }
    t.diagnostic(`seed ${SEED}: ${ran} cases`);
    for (const [route, counts] of Object.entries(statuses).sort()) t.diagnostic(`${route} ${JSON.stringify(counts)}`);
    assert.equal(failing, 0, `fuzz seed ${SEED}: ${failing} failing case(s), the first ${failures.length}:\n\n${failures.join("\n\n")}`);

    const alive = await request(`${origin}/v1/embeddings`, {
      dispatcher: pool,
      method: "POST",
      headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "embed", input: "still serving" }),
    });
    const body = (await alive.body.json()) as { data: { embedding: number[] }[] };
    assert.equal(alive.statusCode, 200, JSON.stringify(body));
    assert.equal(body.data[0]?.embedding.length, 384);
  });
});
