/**
 * Audio as a user meets it: the CLI proxy started on a config file, driven by the official `openai` npm client
 * and by curl, against the Xinference emulator.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import OpenAI, { toFile } from "openai";
import { tonePcm, wavHeader } from "../support/emulator/audio-encoding.js";
import { type Emulator, startEmulator } from "../support/emulator/index.js";
import { type ProxyProcess, startProxyProcess } from "../support/proxy-process.js";

const run = promisify(execFile);
const MASTER_KEY = "sk-test-audio-0123456789";

const wav = ((): Buffer => {
  const pcm = tonePcm(4, 11);
  return Buffer.concat([wavHeader(pcm.length), pcm]);
})();

describe("proxy audio with the openai client", () => {
  let emulator: Emulator;
  let proxy: ProxyProcess;
  let client: OpenAI;
  let dir: string;
  let wavPath: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "xgate-openai-audio-"));
    wavPath = join(dir, "meeting.wav");
    await writeFile(wavPath, wav);
    emulator = await startEmulator();
    proxy = await startProxyProcess(`
model_list:
  - model_name: whisper-1
    litellm_params: { model: xinference/whisper-large-v3, api_base: ${emulator.baseUrl} }
    model_info: { mode: audio_transcription }
  - model_name: tts-1
    litellm_params: { model: xinference/ChatTTS, api_base: ${emulator.baseUrl} }
    model_info: { mode: audio_speech }
general_settings:
  master_key: ${MASTER_KEY}
  max_request_size_mb: 2
`);
    client = new OpenAI({ apiKey: MASTER_KEY, baseURL: proxy.baseUrl, maxRetries: 0 });
  });

  after(async () => {
    await proxy?.stop();
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("audio.transcriptions.create answers { text } by default, from an fs.ReadStream", async () => {
    const res = await client.audio.transcriptions.create({ model: "whisper-1", file: createReadStream(wavPath) });
    assert.match(res.text, /^[A-Z]\w*( \w+)*\./);
    const sent = emulator.requests.filter((r) => r.path === "/v1/audio/transcriptions").at(-1)?.body as { files: { filename: string }[] };
    assert.equal(sent.files[0]?.filename, "meeting.wav");
  });

  test("audio.transcriptions.create with response_format text gives the text as a string", async () => {
    const json = await client.audio.transcriptions.create({ model: "whisper-1", file: await toFile(wav, "a.wav") });
    const text = await client.audio.transcriptions.create({ model: "whisper-1", file: await toFile(wav, "a.wav"), response_format: "text" });
    assert.equal(typeof text, "string");
    assert.equal(text, `${json.text}\n`);
  });

  test("audio.transcriptions.create with verbose_json and word timings", async () => {
    const res = await client.audio.transcriptions.create({
      model: "whisper-1",
      file: await toFile(wav, "a.wav"),
      response_format: "verbose_json",
      timestamp_granularities: ["word"],
    });
    assert.equal(res.duration, 4);
    assert.equal(res.words?.length, 10);
    assert.equal(res.words?.map((w) => w.word).join(" "), res.text);
  });

  test("audio.translations.create", async () => {
    const res = await client.audio.translations.create({ model: "whisper-1", file: await toFile(wav, "interview.wav") });
    assert.ok(res.text.length > 0);
    assert.equal(emulator.requests.filter((r) => r.path === "/v1/audio/translations").length, 1);
  });

  test("audio.speech.create with wav answers a real WAV file", async () => {
    const res = await client.audio.speech.create({ model: "tts-1", voice: "2155", input: "Hello from xgate, through the proxy.", response_format: "wav" });
    assert.equal(res.headers.get("content-type"), "audio/wav");
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(bytes.toString("latin1", 0, 4), "RIFF");
    assert.equal(bytes.toString("latin1", 8, 16), "WAVEfmt ");
    assert.equal(bytes.readUInt16LE(20), 1, "PCM");
    assert.equal(bytes.readUInt32LE(24), 24000, "24 kHz");
    assert.equal(bytes.toString("latin1", 36, 40), "data");
    assert.equal(bytes.length, 44 + bytes.readUInt32LE(40), "every sample its header announces");
    const samples = Array.from({ length: 200 }, (_unused, i) => bytes.readInt16LE(44 + 2 * (1000 + i)));
    assert.ok(Math.max(...samples) > 1000, "a tone, not silence");
  });

  test("audio.speech.create defaults to mp3, and an upstream that dies mid-audio rejects the read", async () => {
    const mp3 = await client.audio.speech.create({ model: "tts-1", voice: "2155", input: "Hello." });
    assert.equal(mp3.headers.get("content-type"), "audio/mpeg");
    assert.equal(Buffer.from(await mp3.arrayBuffer()).toString("latin1", 0, 3), "ID3");

    emulator.setFault("audio/speech", { kind: "stream-error", afterChunks: 1, times: 1 });
    const broken = await client.audio.speech.create({
      model: "tts-1",
      voice: "2155",
      input: "A longer sentence, so that the audio comes in several chunks.",
      response_format: "wav",
      stream: true,
    } as OpenAI.Audio.SpeechCreateParams);
    await assert.rejects(broken.arrayBuffer());
  });

  test("errors reach the client as its own error classes", async () => {
    await assert.rejects(
      client.audio.transcriptions.create({ model: "whisper-1", file: await toFile(Buffer.from("not audio at all, just text"), "notes.txt") }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && (err.error as { code?: string }).code === "invalid_audio",
    );
    await assert.rejects(
      client.audio.speech.create({ model: "whisper-1", voice: "1", input: "hi" }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && /cannot speak text/.test(err.message),
    );
  });

  test("curl, as the README shows it: a form upload, and speech written to a file", async () => {
    const { stdout } = await run("curl", [
      "-sS",
      `${proxy.url}/v1/audio/transcriptions`,
      "-H",
      `Authorization: Bearer ${MASTER_KEY}`,
      "-F",
      "model=whisper-1",
      "-F",
      `file=@${wavPath}`,
      "-F",
      "response_format=srt",
    ]);
    assert.match(stdout, /^1\n00:00:00,000 --> /);
    const out = join(dir, "hello.wav");
    await run("curl", [
      "-sS",
      "--fail",
      `${proxy.url}/v1/audio/speech`,
      "-H",
      `Authorization: Bearer ${MASTER_KEY}`,
      "-H",
      "Content-Type: application/json",
      "-d",
      JSON.stringify({ model: "tts-1", input: "Hello!", voice: "2155", response_format: "wav" }),
      "-o",
      out,
    ]);
    const written = await readFile(out);
    assert.equal(written.toString("latin1", 0, 4), "RIFF");
    assert.equal(written.toString("latin1", 8, 12), "WAVE");
  });
});
