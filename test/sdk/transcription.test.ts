import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, beforeEach, describe, it } from "node:test";
import { BadRequestError, transcription, translation, UnsupportedParamsError } from "../../src/index.js";
import { tonePcm, wavHeader } from "../support/emulator/audio-encoding.js";
import { multipartBody, requestsTo, useEmulator } from "./helpers.js";

const emu = useEmulator();
const WHISPER = "xinference/whisper-large-v3";
type Params = Parameters<typeof transcription>[0];
const call = (params: Record<string, unknown>): Promise<unknown> =>
  transcription({ model: WHISPER, api_base: emu().baseUrl, ...params } as Params);
const lastUpload = (path = "/v1/audio/transcriptions"): ReturnType<typeof multipartBody> => multipartBody(requestsTo(emu(), path).at(-1));

/** Four seconds of tone as a WAV file: ten words from the emulated Whisper, in two segments. */
const wav = ((): Buffer => {
  const pcm = tonePcm(4, 3);
  return Buffer.concat([wavHeader(pcm.length), pcm]);
})();

let dir: string;
let wavPath: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "xgate-audio-"));
  wavPath = join(dir, "meeting.wav");
  await writeFile(wavPath, wav);
});
after(() => rm(dir, { recursive: true, force: true }));
beforeEach(() => {
  emu().clearRequests();
  emu().setFault("audio/transcriptions", null);
});

describe("transcription", () => {
  it("sends Xinference's form and answers OpenAI's json: the text without Whisper's leading space", async () => {
    const res = (await call({ file: wav })) as { text: string };
    assert.deepEqual(Object.keys(res), ["text"]);
    assert.match(res.text, /^[A-Z][a-z]+( [a-z]+)*\./);
    const body = lastUpload();
    assert.deepEqual(body.fields, { model: "whisper-large-v3", response_format: "json" });
    assert.deepEqual(body.files, [{ field: "file", filename: "audio.wav", contentType: "audio/wav", size: wav.length }]);
  });

  it("takes every input form: Buffer, Uint8Array, Blob, File, fs.ReadStream, a stream, { data, filename, contentType }", async () => {
    const inputs: [unknown, string, string][] = [
      [wav, "audio.wav", "audio/wav"],
      [new Uint8Array(wav), "audio.wav", "audio/wav"],
      [new Blob([wav]), "audio.wav", "audio/wav"],
      [new File([wav], "call.wav", { type: "audio/x-wav" }), "call.wav", "audio/x-wav"],
      [createReadStream(wavPath), "meeting.wav", "audio/wav"],
      [Readable.from([wav.subarray(0, 100), wav.subarray(100)]), "audio.wav", "audio/wav"],
      [{ data: createReadStream(wavPath), filename: "upload-1.wav", contentType: "audio/wav" }, "upload-1.wav", "audio/wav"],
      [{ data: wav, filename: "raw.bin" }, "raw.bin", "audio/wav"],
    ];
    const texts = new Set<string>();
    for (const [file, filename, contentType] of inputs) {
      texts.add(((await call({ file })) as { text: string }).text);
      assert.deepEqual(lastUpload().files, [{ field: "file", filename, contentType, size: wav.length }], filename);
    }
    assert.equal(texts.size, 1, "the same audio, whatever its form, is the same transcript");
  });

  it("writes text, srt and vtt itself (Whisper on Xinference answers only json and verbose_json)", async () => {
    const { text } = (await call({ file: wav })) as { text: string };
    assert.equal(await call({ file: wav, response_format: "text" }), `${text}\n`);
    assert.equal(lastUpload().fields.response_format, "json");

    const srt = (await call({ file: wav, response_format: "srt" })) as string;
    assert.equal(lastUpload().fields.response_format, "verbose_json", "cues need the segments' timings");
    const cues = srt.trimEnd().split("\n\n");
    assert.equal(cues.length, 2);
    assert.match(cues[0] ?? "", /^1\n00:00:00,000 --> 00:00:0\d,\d{3}\n[A-Z]/);
    assert.match(cues[1] ?? "", /^2\n00:00:0\d,\d{3} --> 00:00:04,000\n[A-Z]/);
    assert.equal(cues.map((c) => c.split("\n")[2]).join(" "), text, "the cues hold the whole text");

    const vtt = (await call({ file: wav, response_format: "vtt" })) as string;
    assert.ok(vtt.startsWith("WEBVTT\n\n00:00:00.000 --> "), vtt);
    assert.equal(vtt.trimEnd().split("\n\n").length, 3);
  });

  it("verbose_json: segments by default, words with timestamp_granularities", async () => {
    const verbose = await transcription({ model: WHISPER, api_base: emu().baseUrl, file: wav, response_format: "verbose_json", language: "en" });
    assert.equal(verbose.task, "transcribe");
    assert.equal(verbose.language, "en");
    assert.equal(verbose.duration, 4);
    assert.equal(verbose.segments?.length, 2);
    assert.deepEqual(
      verbose.segments?.map((s) => s.text.trim()).join(" "),
      verbose.text,
    );
    assert.deepEqual(lastUpload().fields, { model: "whisper-large-v3", response_format: "verbose_json", language: "en" });

    const words = await transcription({ model: WHISPER, api_base: emu().baseUrl, file: wav, response_format: "verbose_json", timestamp_granularities: ["word"] });
    assert.equal(words.words?.length, 10);
    assert.deepEqual(words.words?.[0] && Object.keys(words.words[0]), ["word", "start", "end"]);
    assert.ok(words.words?.every((w) => w.word === w.word.trim() && w.end >= w.start));
    assert.equal(lastUpload().fields["timestamp_granularities[]"], "word");
  });

  it("passes language, prompt and temperature, and extras in kwargs", async () => {
    await call({ file: wav, language: "de", prompt: "Names: Anna, Jörg.", temperature: 0.2 });
    assert.deepEqual(lastUpload().fields, { model: "whisper-large-v3", response_format: "json", language: "de", prompt: "Names: Anna, Jörg.", temperature: "0.2" });
    // Whisper takes no extras: Xinference's TypeError comes back as the client's mistake, naming the parameter.
    await assert.rejects(call({ file: wav, beam_size: 5 }), (err: unknown) => {
      assert.ok(err instanceof UnsupportedParamsError);
      assert.equal(err.param, "beam_size");
      return true;
    });
    assert.equal(lastUpload().fields.kwargs, '{"beam_size":5}');
  });

  it("refuses bad parameters before sending anything, closing the caller's stream", async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{}, "file", /file is required/],
      [{ file: [wav, wav] }, "file", /one audio file/],
      [{ file: "speech.wav" }, "file", /file must be a Buffer/],
      [{ file: wav, response_format: "mp3" }, "response_format", /"json", "text", "srt", "verbose_json", "vtt"/],
      [{ file: wav, temperature: 1.5 }, "temperature", /from 0 to 1/],
      [{ file: wav, language: 7 }, "language", /string/],
      [{ file: wav, timestamp_granularities: ["word"] }, "timestamp_granularities", /verbose_json/],
      [{ file: wav, response_format: "verbose_json", timestamp_granularities: ["letter"] }, "timestamp_granularities", /"segment", "word"/],
    ];
    for (const [params, param, message] of cases) {
      await assert.rejects(call(params), (err: unknown) => {
        assert.ok(err instanceof BadRequestError, String(err));
        assert.equal(err.param, param);
        assert.match(err.message, message);
        return true;
      });
    }
    const stream = createReadStream(wavPath);
    await assert.rejects(call({ file: stream, temperature: -1 }), BadRequestError);
    assert.equal(stream.destroyed, true);
    assert.equal(requestsTo(emu(), "/v1/audio/transcriptions").length, 0);
  });

  it("a file that is not audio, and a model that cannot transcribe, are the caller's 400s", async () => {
    await assert.rejects(call({ file: Buffer.from("just some text, not a recording") }), (err: unknown) => {
      assert.ok(err instanceof BadRequestError);
      assert.equal(err.code, "invalid_audio");
      assert.equal(err.param, "file");
      return true;
    });
    await assert.rejects(call({ model: "xinference/ChatTTS", file: wav }), (err: unknown) => {
      assert.ok(err instanceof BadRequestError);
      assert.equal(err.code, "unsupported_by_model");
      assert.match(err.message, /not for creating transcriptions/);
      return true;
    });
  });

  it("re-reads an fs.ReadStream for a retry", async () => {
    emu().setFault("audio/transcriptions", { kind: "status", status: 503, times: 1 });
    const res = (await call({ file: createReadStream(wavPath) })) as { text: string };
    assert.ok(res.text.length > 0);
    const statuses = requestsTo(emu(), "/v1/audio/transcriptions").map((r) => r.status);
    assert.deepEqual(statuses, [503, 200]);
    assert.equal(lastUpload().files[0]?.size, wav.length);
  });
});

describe("translation", () => {
  it("goes to Xinference's translations route and says it translated", async () => {
    const res = await translation({ model: WHISPER, api_base: emu().baseUrl, file: wav });
    assert.ok(res.text.length > 0);
    assert.equal(requestsTo(emu(), "/v1/audio/translations").length, 1);
    const verbose = await translation({ model: WHISPER, api_base: emu().baseUrl, file: wav, response_format: "verbose_json" });
    assert.equal(verbose.task, "translate", "Xinference says 'transcribe' for both");
    assert.equal(await translation({ model: WHISPER, api_base: emu().baseUrl, file: wav, response_format: "text" }), `${res.text}\n`);
  });
});
