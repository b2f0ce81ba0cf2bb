/**
 * The proxy's audio routes, in-process (inject) and over a socket where the connection itself is what a
 * client sees: transcriptions and translations in every format, speech streamed as it comes, models that
 * cannot do the call refused before any upload reaches a GPU, and the faults of a streamed answer.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { tonePcm, wavHeader } from "../support/emulator/audio-encoding.js";
import { type Emulator, startEmulator } from "../support/emulator/index.js";
import { type TestApp, testApp } from "../support/app.js";
import { tinyServer, type TinyServer } from "../upstream/helpers.js";

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

const wav = ((): Buffer => {
  const pcm = tonePcm(4, 3);
  return Buffer.concat([wavHeader(pcm.length), pcm]);
})();

/** A FormData body as inject takes it. */
async function formPayload(form: FormData): Promise<{ headers: Record<string, string>; payload: Buffer }> {
  const encoded = new Request("http://form.invalid", { method: "POST", body: form });
  return { headers: { "content-type": encoded.headers.get("content-type") ?? "" }, payload: Buffer.from(await encoded.arrayBuffer()) };
}

/** `file` null: a form without one. */
function audioForm(fields: Record<string, string | string[]>, file: Blob | null = new Blob([wav]), filename = "talk.wav"): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) for (const each of [value].flat()) form.append(name, each);
  if (file !== null) form.append("file", file, filename);
  return form;
}

/** The app's health checks done: what its servers report of each model is known. */
async function checkedApp(config: string): Promise<TestApp> {
  const app = await testApp(config);
  await app.router.health.start();
  await app.router.health.settled();
  return app;
}

async function listening(app: TestApp): Promise<string> {
  await app.app.listen({ port: 0, host: "127.0.0.1" });
  return `http://127.0.0.1:${(app.app.server.address() as AddressInfo).port}`;
}

function speechRequest(url: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/audio/speech`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal });
}

describe("proxy: audio", () => {
  let emulator: Emulator;
  let app: TestApp;
  const upload = async (path: string, form: FormData): Promise<Awaited<ReturnType<TestApp["app"]["inject"]>>> =>
    app.app.inject({ method: "POST", url: path, ...(await formPayload(form)) });

  before(async () => {
    emulator = await startEmulator();
    app = await checkedApp(`
model_list:
  - model_name: whisper
    litellm_params: { model: xinference/whisper-large-v3, api_base: ${emulator.baseUrl} }
    model_info: { mode: audio_transcription }
  - model_name: tts
    litellm_params: { model: xinference/ChatTTS, api_base: ${emulator.baseUrl} }
    model_info: { mode: audio_speech }
  - model_name: embed
    litellm_params: { model: xinference/bge-base-en, api_base: ${emulator.baseUrl} }
  - model_name: xinference/*
    litellm_params: { model: xinference/*, api_base: ${emulator.baseUrl} }
general_settings:
  max_request_size_mb: 1
`);
  });
  after(async () => {
    await app?.dispose();
    await emulator?.close();
  });

  it("transcribes as JSON by default, on both paths, saying which group answered", async () => {
    for (const path of ["/v1/audio/transcriptions", "/audio/transcriptions"]) {
      const res = await upload(path, audioForm({ model: "whisper" }));
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers["content-type"]), /^application\/json/);
      assert.match((res.json() as { text: string }).text, /^[A-Z]\w*( \w+)*\./);
      assert.equal(res.headers["x-xgate-model-group"], "whisper");
    }
  });

  it("answers text, srt and vtt as text/plain, verbose_json with segments or words", async () => {
    const { text } = (await upload("/v1/audio/transcriptions", audioForm({ model: "whisper" }))).json() as { text: string };
    for (const [format, start] of [["text", text], ["srt", "1\n00:00:00,000 --> "], ["vtt", "WEBVTT\n\n00:00:00.000 --> "]]) {
      const res = await upload("/v1/audio/transcriptions", audioForm({ model: "whisper", response_format: format as string }));
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers["content-type"], "text/plain; charset=utf-8");
      assert.ok(res.body.startsWith(start as string), `${format}: ${res.body}`);
    }
    const verbose = await upload("/v1/audio/transcriptions", audioForm({ model: "whisper", response_format: "verbose_json" }));
    const segments = (verbose.json() as { segments: { text: string }[] }).segments;
    assert.equal(segments.length, 2);
    // As the openai client sends a list: repeated `timestamp_granularities[]` fields.
    const words = await upload(
      "/v1/audio/transcriptions",
      audioForm({ model: "whisper", response_format: "verbose_json", "timestamp_granularities[]": ["word"] }),
    );
    assert.equal((words.json() as { words: unknown[] }).words.length, 10);
    const both = await upload(
      "/v1/audio/transcriptions",
      audioForm({ model: "whisper", response_format: "verbose_json", "timestamp_granularities[]": ["segment", "pitch"] }),
    );
    assert.equal(both.statusCode, 400, "every value of the list is checked");
    assert.equal((both.json() as ErrorBody).error.param, "timestamp_granularities");
  });

  it("translates on /v1/audio/translations and /audio/translations", async () => {
    for (const path of ["/v1/audio/translations", "/audio/translations"]) {
      const res = await upload(path, audioForm({ model: "whisper", response_format: "verbose_json", temperature: "0.3" }));
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((res.json() as { task: string }).task, "translate");
    }
    const sent = emulator.requests.filter((r) => r.path === "/v1/audio/translations").at(-1)?.body as { fields: Record<string, string> };
    assert.equal(sent.fields.temperature, "0.3");
  });

  it("reaches a model behind the wildcard, by its uid", async () => {
    const res = await upload("/v1/audio/transcriptions", audioForm({ model: "xinference/whisper-large-v3" }));
    assert.equal(res.statusCode, 200, res.body);
    const spoken = await app.app.inject({ method: "POST", url: "/v1/audio/speech", payload: { model: "xinference/ChatTTS", input: "hi", voice: "7" } });
    assert.equal(spoken.statusCode, 200, spoken.body);
  });

  it("refuses bad forms with a 4xx naming the problem, before anything goes upstream", async () => {
    emulator.clearRequests();
    const cases: [FormData | string, number, string, RegExp][] = [
      [audioForm({ model: "whisper" }, null), 400, "file", /No audio: send the audio file as 'file'/],
      [audioForm({ model: "whisper", response_format: "mp3" }), 400, "response_format", /"json", "text", "srt", "verbose_json", "vtt"/],
      [audioForm({ model: "whisper", temperature: "hot" }), 400, "temperature", /from 0 to 1, not "hot"/],
      [audioForm({ model: "whisper", temperature: "3" }), 400, "temperature", /from 0 to 1, not 3/],
      [audioForm({ model: "whisper" }, new Blob(["a transcript, not a recording"]), "notes.txt"), 400, "file", /'notes\.txt' \(field 'file'\) is not WAV, MP3, .* audio: its first bytes look like text/],
      [audioForm({ model: "whisper" }, new Blob([Buffer.from("89504e470d0a1a0a0000000d49484452", "hex")]), "cat.png"), 400, "file", /look like image\/png; convert it to WAV/],
      [audioForm({ model: "whisper" }, new Blob([wav, Buffer.alloc(1024 * 1024)])), 413, "file", /larger than the proxy's limit of 1 MB/],
      [JSON.stringify({ model: "whisper" }), 400, "", /multipart\/form-data with the audio file under 'file'/],
    ];
    for (const [body, status, param, message] of cases) {
      const res =
        typeof body === "string"
          ? await app.app.inject({ method: "POST", url: "/v1/audio/transcriptions", headers: { "content-type": "application/json" }, payload: body })
          : await upload("/v1/audio/transcriptions", body);
      assert.equal(res.statusCode, status, `${String(message)}: ${res.body}`);
      const { error } = res.json() as ErrorBody;
      assert.equal(error.type, "invalid_request_error");
      if (param !== "") assert.equal(error.param, param, error.message);
      assert.match(error.message, message);
    }
    const two = audioForm({ model: "whisper" });
    two.append("file", new Blob([wav]), "second.wav");
    const twice = await upload("/v1/audio/transcriptions", two);
    assert.equal(twice.statusCode, 400);
    assert.match((twice.json() as ErrorBody).error.message, /Send one audio file/);
    assert.deepEqual(emulator.requests.filter((r) => r.path.startsWith("/v1/audio/")), [], "nothing reached Xinference");
  });

  it("a call the model cannot do is a 400 naming its abilities, before any upload reaches it", async () => {
    emulator.clearRequests();
    const toSpeaker = await upload("/v1/audio/transcriptions", audioForm({ model: "tts" }));
    assert.equal(toSpeaker.statusCode, 400, toSpeaker.body);
    const refused = (toSpeaker.json() as ErrorBody).error;
    assert.equal(refused.code, "model_cannot_transcribe");
    assert.equal(refused.param, "model");
    assert.match(refused.message, /Model 'tts' cannot turn speech into text: .*needs the audio2text ability, and its abilities are: text2audio, text2audio_zero_shot/);

    const toListener = await app.app.inject({ method: "POST", url: "/v1/audio/speech", payload: { model: "whisper", input: "hello", voice: "1" } });
    assert.equal(toListener.statusCode, 400, toListener.body);
    assert.equal((toListener.json() as ErrorBody).error.code, "model_cannot_speak");
    assert.match((toListener.json() as ErrorBody).error.message, /text2audio ability, and its abilities are: audio2text/);

    const toEmbedder = await upload("/v1/audio/translations", audioForm({ model: "embed" }));
    assert.equal(toEmbedder.statusCode, 400, toEmbedder.body);
    assert.match((toEmbedder.json() as ErrorBody).error.message, /it is a embedding model, not an audio model/);
    assert.deepEqual(emulator.requests.filter((r) => r.path.startsWith("/v1/audio/")), []);
  });

  it("speaks: audio typed after the format asked for, on both paths", async () => {
    const wavAnswer = await app.app.inject({ method: "POST", url: "/v1/audio/speech", payload: { model: "tts", input: "Hello there.", voice: "2155", response_format: "wav" } });
    assert.equal(wavAnswer.statusCode, 200, wavAnswer.body);
    assert.equal(wavAnswer.headers["content-type"], "audio/wav");
    const bytes = wavAnswer.rawPayload;
    assert.equal(bytes.toString("latin1", 0, 4), "RIFF");
    assert.equal(bytes.toString("latin1", 8, 12), "WAVE");
    assert.equal(bytes.length, 44 + bytes.readUInt32LE(40));
    const mp3 = await app.app.inject({ method: "POST", url: "/audio/speech", payload: { model: "tts", input: "Hello there.", voice: "2155" } });
    assert.equal(mp3.headers["content-type"], "audio/mpeg");
    assert.equal(mp3.rawPayload.toString("latin1", 0, 3), "ID3");
  });

  it("refuses bad speech requests with a 400 naming the parameter", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ voice: "1" }, "input"],
      [{ input: "x".repeat(5000), voice: "1" }, "input"],
      [{ input: "hello" }, "voice"],
      [{ input: "hello", voice: "1", response_format: "ogg" }, "response_format"],
      [{ input: "hello", voice: "1", speed: 4.01 }, "speed"],
      [{ input: "hello", voice: "1", speed: "fast" }, "speed"],
    ];
    for (const [body, param] of cases) {
      const res = await app.app.inject({ method: "POST", url: "/v1/audio/speech", payload: { model: "tts", ...body } });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal((res.json() as ErrorBody).error.param, param);
    }
  });
});

describe("proxy: audio faults", () => {
  let first: Emulator;
  let second: Emulator;
  /** Answers 200 and breaks the connection before any audio. */
  let silent: TinyServer;
  before(async () => {
    first = await startEmulator();
    second = await startEmulator();
    silent = await tinyServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.flushHeaders();
      res.socket?.destroy();
    });
  });
  after(async () => {
    await first?.close();
    await second?.close();
    await silent?.close();
  });

  /** Two deployments per group, one on each emulator; the first emulator's is tried first. */
  const twoServers = (): string => `
model_list:
  - model_name: whisper
    litellm_params: { model: xinference/whisper-large-v3, api_base: ${first.baseUrl}, order: 1 }
    model_info: { id: whisper-first }
  - model_name: whisper
    litellm_params: { model: xinference/whisper-large-v3, api_base: ${second.baseUrl}, order: 2 }
    model_info: { id: whisper-second }
  - model_name: tts
    litellm_params: { model: xinference/ChatTTS, api_base: ${first.baseUrl}, order: 1 }
    model_info: { id: tts-first }
  - model_name: tts
    litellm_params: { model: xinference/ChatTTS, api_base: ${second.baseUrl}, order: 2 }
    model_info: { id: tts-second }
router_settings: { allowed_fails: 1, cooldown_time: 60 }
`;

  it("a model still loading (503) before the answer is retried on another deployment", async () => {
    const app = await testApp(twoServers());
    first.setLoading("whisper-large-v3", true);
    first.setLoading("ChatTTS", true);
    try {
      const form = await formPayload(audioForm({ model: "whisper" }));
      const heard = await app.app.inject({ method: "POST", url: "/v1/audio/transcriptions", ...form });
      assert.equal(heard.statusCode, 200, heard.body);
      assert.equal(heard.headers["x-xgate-deployment"], "whisper-second");
      assert.equal(heard.headers["x-xgate-attempts"], "2");
      const spoken = await app.app.inject({ method: "POST", url: "/v1/audio/speech", payload: { model: "tts", input: "Hello.", voice: "1", response_format: "wav", stream: true } });
      assert.equal(spoken.statusCode, 200, spoken.body);
      assert.equal(spoken.headers["x-xgate-deployment"], "tts-second");
      assert.equal(spoken.rawPayload.toString("latin1", 0, 4), "RIFF");
      assert.equal(first.requests.find((r) => r.path === "/v1/audio/speech")?.status, 503);
    } finally {
      first.setLoading("whisper-large-v3", false);
      first.setLoading("ChatTTS", false);
      await app.dispose();
    }
  });

  it("an upstream that answers 200 but breaks off before any audio fails the attempt, which is retried", async () => {
    const app = await testApp(`
model_list:
  - model_name: tts
    litellm_params: { model: xinference/ChatTTS, api_base: ${silent.baseUrl}, order: 1 }
    model_info: { id: tts-silent }
  - model_name: tts
    litellm_params: { model: xinference/ChatTTS, api_base: ${second.baseUrl}, order: 2 }
    model_info: { id: tts-second }
router_settings: { allowed_fails: 1, cooldown_time: 60 }
`);
    try {
      const res = await app.app.inject({ method: "POST", url: "/v1/audio/speech", payload: { model: "tts", input: "Hello.", voice: "1" } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers["x-xgate-deployment"], "tts-second");
      assert.equal(res.headers["x-xgate-attempts"], "2");
    } finally {
      await app.dispose();
    }
  });

  it("an upstream that dies mid-speech breaks the client's connection off, and counts against the deployment", async () => {
    const app = await testApp(twoServers());
    first.setFault("audio/speech", { kind: "stream-error", afterChunks: 2, times: 1 });
    try {
      const url = await listening(app);
      const res = await speechRequest(url, { model: "tts", input: "A sentence long enough for several chunks of audio.", voice: "1", response_format: "wav", stream: true });
      assert.equal(res.status, 200, "committed once the audio began");
      assert.equal(res.headers.get("content-type"), "audio/wav");
      await assert.rejects(res.arrayBuffer(), "the body is broken off, not ended as if whole");
      await app.router.router.close();
      const stats = (await app.router.router.stats()).get("tts-first");
      assert.equal(stats?.inFlight, 0);
      assert.match(stats?.cooldown?.reason ?? "", /broke/);
    } finally {
      first.setFault("audio/speech", null);
      await app.dispose();
    }
  });

  it("a client that leaves mid-speech closes the upstream connection", async () => {
    const app = await testApp(twoServers());
    // The model goes quiet after its first chunk: only the client's leaving ends the request.
    first.setFault("audio/speech", { kind: "stream-stall", afterChunks: 1, times: 1 });
    try {
      const url = await listening(app);
      const controller = new AbortController();
      const res = await speechRequest(url, { model: "tts", input: "Hello there.", voice: "1", response_format: "wav", stream: true }, controller.signal);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const { value } = await reader.read();
      assert.equal(Buffer.from(value ?? []).toString("latin1", 0, 4), "RIFF");
      controller.abort();
      await first.waitForIdle("ChatTTS");
      assert.equal(first.requests.filter((r) => r.path === "/v1/audio/speech").at(-1)?.disconnected, true);
      await app.router.router.close();
      const stats = (await app.router.router.stats()).get("tts-first");
      assert.equal(stats?.inFlight, 0);
      assert.equal(stats?.cooldown, undefined, "a client's leaving is nobody's failure");
    } finally {
      first.setFault("audio/speech", null);
      await app.dispose();
    }
  });
});
