import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startEmulator } from "../support/emulator/index.js";
import type { Emulator } from "../support/emulator/index.js";
import { postForm, postJson } from "./helpers.js";

interface VerboseTranscription {
  task: string;
  language: string;
  duration: number;
  text: string;
  segments?: { id: number; seek: number; start: number; end: number; text: string; tokens: unknown[]; temperature: number }[];
  words?: { word: string; start: number; end: number }[];
}

/** 100 characters: about 6.3 s of speech, so 16 transcribed words in two segments. */
const LONG_INPUT = "The quick brown fox jumps over the lazy dog while the emulator reads every single word out loud, ok.";

function audioForm(file: Blob | undefined, fields: Record<string, string>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (file !== undefined) form.append("file", file, "speech.wav");
  return form;
}

async function detail(res: Response): Promise<unknown> {
  return ((await res.json()) as { detail: unknown }).detail;
}

describe("audio routes", () => {
  let emulator: Emulator;
  let wav: Blob;
  before(async () => {
    emulator = await startEmulator({
      models: [
        { model_name: "whisper-large-v3", model_type: "audio" },
        { model_name: "ChatTTS", model_type: "audio" },
        { model_name: "qwen2.5-instruct", model_type: "LLM" },
      ],
    });
    const res = await postJson(emulator, "/audio/speech", { model: "ChatTTS", input: LONG_INPUT, voice: "2155", response_format: "wav" });
    wav = new Blob([await res.arrayBuffer()], { type: "audio/wav" });
  });
  after(() => emulator.close());

  test("transcriptions: json by default, as application/json, the text opening with Whisper's space", async () => {
    const res = await postForm(emulator, "/audio/transcriptions", audioForm(wav, { model: "whisper-large-v3" }));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    const body = (await res.json()) as { text: string };
    assert.deepEqual(Object.keys(body), ["text"]);
    assert.match(body.text, /^ [A-Z][a-z]+( [a-z]+)*\. [A-Z][a-z]+( [a-z]+)*\.$/);
    assert.equal(body.text.split(" ").length - 1, 16);
    const again = (await (await postForm(emulator, "/audio/transcriptions", audioForm(wav, { model: "whisper-large-v3" }))).json()) as { text: string };
    assert.equal(again.text, body.text);
  });

  test("verbose_json: segments with seek and timings, words with timestamp_granularities[]=word", async () => {
    const res = await postForm(emulator, "/audio/transcriptions", audioForm(wav, { model: "whisper-large-v3", response_format: "verbose_json", language: "en" }));
    const body = (await res.json()) as VerboseTranscription;
    assert.equal(body.task, "transcribe");
    assert.equal(body.language, "en");
    const segments = body.segments ?? [];
    assert.equal(segments.length, 2);
    assert.equal(segments.map((s) => s.text).join(""), body.text);
    assert.equal(segments[1]?.seek, segments[0]?.text.length);
    assert.equal(body.duration, segments[1]?.end);
    assert.ok(Math.abs(body.duration - 6.3) < 0.05, `duration ${body.duration}`);
    assert.deepEqual({ tokens: segments[0]?.tokens, temperature: segments[0]?.temperature }, { tokens: [], temperature: 0 });

    const form = audioForm(wav, { model: "whisper-large-v3", response_format: "verbose_json" });
    form.append("timestamp_granularities[]", "word");
    const words = (await (await postForm(emulator, "/audio/transcriptions", form)).json()) as VerboseTranscription;
    assert.equal(words.language, "english");
    assert.equal(words.words?.length, 16);
    assert.match(words.words?.[0]?.word ?? "", /^ [A-Z]/);
    assert.equal(words.segments, undefined);
  });

  test("Whisper knows only json and verbose_json: text, srt and vtt are a 500", async () => {
    for (const format of ["text", "srt", "vtt"]) {
      const res = await postForm(emulator, "/audio/transcriptions", audioForm(wav, { model: "whisper-large-v3", response_format: format }));
      assert.equal(res.status, 500, format);
      assert.equal(await detail(res), `Unsupported response format: ${format}`);
    }
  });

  test("translations: like transcriptions, still reporting task 'transcribe'; kwargs are dropped on the way", async () => {
    const res = await postForm(emulator, "/audio/translations", audioForm(wav, { model: "whisper-large-v3", response_format: "verbose_json", kwargs: '{"beam_size": 5}' }));
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as VerboseTranscription).task, "transcribe");
  });

  test("form errors: 422 lists; kwargs bad JSON or unknown to Whisper: 500; not audio: 500", async () => {
    const missing = await postForm(emulator, "/audio/transcriptions", audioForm(undefined, {}));
    assert.equal(missing.status, 422);
    assert.deepEqual(
      ((await missing.json()) as { detail: { loc: string[] }[] }).detail.map((issue) => issue.loc),
      [["body", "model"], ["body", "file"]],
    );
    const badJson = await postForm(emulator, "/audio/transcriptions", audioForm(wav, { model: "whisper-large-v3", kwargs: "{nope" }));
    assert.equal(badJson.status, 500);
    assert.equal(await detail(badJson), "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)");
    const unknown = await postForm(emulator, "/audio/transcriptions", audioForm(wav, { model: "whisper-large-v3", kwargs: '{"request_id": "r1", "beam_size": 5}' }));
    assert.equal(unknown.status, 500);
    assert.equal(await detail(unknown), "WhisperModel.transcriptions() got an unexpected keyword argument 'beam_size'");
    const text = new Blob([Buffer.from("this is not audio at all")], { type: "audio/wav" });
    const notAudio = await postForm(emulator, "/audio/transcriptions", audioForm(text, { model: "whisper-large-v3" }));
    assert.equal(notAudio.status, 500);
    assert.match(String(await detail(notAudio)), /^Soundfile is either not in the correct format or is malformed/);
  });

  test("a model of the wrong kind: 500 naming its spec", async () => {
    const tts = await postForm(emulator, "/audio/transcriptions", audioForm(wav, { model: "ChatTTS" }));
    assert.equal(tts.status, 500);
    assert.match(String(await detail(tts)), /^Model model_name='ChatTTS' .* is not for creating transcriptions\.$/);
    const asr = await postJson(emulator, "/audio/speech", { model: "whisper-large-v3", input: "x", voice: "1" });
    assert.match(String(await detail(asr)), /is not for creating speech\.$/);
    const llm = await postForm(emulator, "/audio/translations", audioForm(wav, { model: "qwen2.5-instruct" }));
    assert.match(String(await detail(llm)), /^Model model_format='pytorch' .* is not for creating translations\.$/);
  });

  test("speech: mp3 by default, as octet-stream: an ID3 tag, then MPEG frames the transcriber can time", async () => {
    const res = await postJson(emulator, "/audio/speech", { model: "ChatTTS", input: LONG_INPUT, voice: "2155" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/octet-stream");
    const mp3 = Buffer.from(await res.arrayBuffer());
    assert.equal(mp3.toString("latin1", 0, 3), "ID3");
    const tagEnd = 10 + mp3.readUInt8(9);
    assert.deepEqual([...mp3.subarray(tagEnd, tagEnd + 2)], [0xff, 0xf3]);
    const timed = await postForm(
      emulator,
      "/audio/transcriptions",
      audioForm(new Blob([mp3], { type: "audio/mpeg" }), { model: "whisper-large-v3", response_format: "verbose_json" }),
    );
    assert.ok(Math.abs(((await timed.json()) as VerboseTranscription).duration - 6.3) < 0.05);
  });

  test("speech: wav is a 24 kHz mono tone with a correct header; pcm the same samples bare; speed shortens it", async () => {
    const body = { model: "ChatTTS", input: "hello there", voice: "2155" };
    const wavBytes = Buffer.from(await (await postJson(emulator, "/audio/speech", { ...body, response_format: "wav" })).arrayBuffer());
    assert.equal(wavBytes.toString("latin1", 0, 4), "RIFF");
    assert.equal(wavBytes.readUInt32LE(24), 24000);
    assert.equal(wavBytes.readUInt32LE(40), wavBytes.length - 44);
    assert.ok(wavBytes.subarray(44).some((b) => b !== 0), "not silence");
    const pcm = Buffer.from(await (await postJson(emulator, "/audio/speech", { ...body, response_format: "pcm" })).arrayBuffer());
    assert.deepEqual(pcm, wavBytes.subarray(44));
    const fast = Buffer.from(await (await postJson(emulator, "/audio/speech", { ...body, response_format: "pcm", speed: 2 })).arrayBuffer());
    assert.equal(fast.length, pcm.length / 2);
  });

  test("speech errors: ChatTTS needs a voice, takes no kwargs; a form without a voice file is read as JSON", async () => {
    const noVoice = await postJson(emulator, "/audio/speech", { model: "ChatTTS", input: "x" });
    assert.equal(noVoice.status, 500);
    assert.equal(await detail(noVoice), "object of type 'NoneType' has no len()");
    const kwargs = await postJson(emulator, "/audio/speech", { model: "ChatTTS", input: "x", voice: "1", kwargs: '{"temperature": 0.3}' });
    assert.equal(await detail(kwargs), "ChatTTSModel.speech() got an unexpected keyword argument 'temperature'");
    const flac = await postJson(emulator, "/audio/speech", { model: "ChatTTS", input: "x", voice: "1", response_format: "flac" });
    assert.equal(flac.status, 500);
    assert.match(String(await detail(flac)), /^Emulator: response_format 'flac' is not emulated/);

    const form = new FormData();
    form.append("model", "ChatTTS");
    form.append("input", "x");
    form.append("voice", "1");
    const plainForm = await postForm(emulator, "/audio/speech", form);
    assert.equal(plainForm.status, 500);
    assert.equal(await plainForm.text(), "Internal Server Error: Expecting value: line 1 column 1 (char 0)");
    form.append("prompt_speech", wav, "voice.wav");
    const cloning = await postForm(emulator, "/audio/speech", form);
    assert.equal(cloning.status, 500);
    assert.equal(await detail(cloning), "ChatTTSModel.speech() got an unexpected keyword argument 'prompt_speech'");
  });

  test("speech stream: the same bytes, sent raw (no SSE framing) in chunks", async () => {
    const body = { model: "ChatTTS", input: LONG_INPUT, voice: "2155", response_format: "wav" };
    const whole = Buffer.from(await (await postJson(emulator, "/audio/speech", body)).arrayBuffer());
    emulator.clearRequests();
    const res = await postJson(emulator, "/audio/speech", { ...body, stream: true });
    assert.equal(res.headers.get("content-type"), "application/octet-stream");
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), whole);
    assert.equal(emulator.requests[0]?.streamedEvents, 13);
  });
});

describe("audio streams and faults", () => {
  test("sse-starlette's pings land inside the audio bytes", async () => {
    const emulator = await startEmulator({ computeDelayMs: 30, ssePingMs: 10, models: [{ model_name: "ChatTTS", model_type: "audio" }] });
    try {
      const res = await postJson(emulator, "/audio/speech", { model: "ChatTTS", input: "hi", voice: "1", stream: true, response_format: "pcm" });
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.match(bytes.toString("latin1", 0, 40), /^: ping - \d{4}-/);
    } finally {
      await emulator.close();
    }
  });

  test("stream-error in a speech stream: nothing reports it, the connection just ends mid-body", async () => {
    const emulator = await startEmulator({ models: [{ model_name: "ChatTTS", model_type: "audio" }] });
    try {
      emulator.setFault("audio/speech", { kind: "stream-error", afterChunks: 1 });
      const res = await postJson(emulator, "/audio/speech", { model: "ChatTTS", input: LONG_INPUT, voice: "1", stream: true });
      assert.equal(res.status, 200);
      await assert.rejects(res.arrayBuffer(), (error: unknown) => error instanceof TypeError);
      assert.equal(emulator.requests[0]?.streamedEvents, 1);
    } finally {
      await emulator.close();
    }
  });
});
