import assert from "node:assert/strict";
import { once } from "node:events";
import { beforeEach, describe, it } from "node:test";
import { APIConnectionError, BadRequestError, speech } from "../../src/index.js";
import type { SpeechParams } from "../../src/index.js";
import { tinyServer } from "../upstream/helpers.js";
import { jsonBody, requestsTo, useEmulator } from "./helpers.js";

/** Pings every millisecond and a chunk every 5 ms: streamed speech is interleaved with sse-starlette's comments. */
const emu = useEmulator({ ssePingMs: 1, tokenDelayMs: 5 });
const TTS = "xinference/ChatTTS";
const call = (params: Partial<SpeechParams>): ReturnType<typeof speech> =>
  speech({ model: TTS, input: "Hello from the gateway.", voice: "2155", api_base: emu().baseUrl, ...params } as SpeechParams);

/** The samples of a 16-bit mono WAV, checked against its header. */
function wavSamples(bytes: Buffer): number {
  assert.equal(bytes.toString("latin1", 0, 4), "RIFF");
  assert.equal(bytes.toString("latin1", 8, 16), "WAVEfmt ");
  assert.equal(bytes.readUInt16LE(22), 1, "mono");
  assert.equal(bytes.readUInt16LE(34), 16, "16-bit");
  assert.equal(bytes.toString("latin1", 36, 40), "data");
  const dataBytes = bytes.readUInt32LE(40);
  assert.equal(bytes.length, 44 + dataBytes, "as long as its header says");
  return dataBytes / 2;
}

beforeEach(() => {
  emu().clearRequests();
  emu().setFault("audio/speech", null);
});

describe("speech", () => {
  it("answers WAV bytes labelled audio/wav, sending Xinference's body", async () => {
    const res = await call({ response_format: "wav", speed: 1.5 });
    assert.equal(res.content_type, "audio/wav");
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.ok(wavSamples(bytes) > 24000 * 0.5, "at least half a second at 24 kHz");
    assert.deepEqual(jsonBody(requestsTo(emu(), "/v1/audio/speech")[0]), {
      model: "ChatTTS",
      input: "Hello from the gateway.",
      voice: "2155",
      response_format: "wav",
      stream: false,
      speed: 1.5,
    });
  });

  it("is mp3 by default", async () => {
    const res = await call({});
    assert.equal(res.content_type, "audio/mpeg");
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(bytes.toString("latin1", 0, 3), "ID3");
  });

  it("stream: the model's chunks as they come, without the ping comments Xinference slips between them", async () => {
    const whole = Buffer.from(await (await call({ response_format: "wav" })).arrayBuffer());
    const raw = await fetch(`${emu().baseUrl}/audio/speech`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "ChatTTS", input: "Hello from the gateway.", voice: "2155", response_format: "wav", stream: true }),
    });
    assert.match(Buffer.from(await raw.arrayBuffer()).toString("latin1"), /: ping - /, "the upstream's stream has pings");

    const res = await call({ response_format: "wav", stream: true });
    const chunks: Buffer[] = [];
    for await (const chunk of res.body) chunks.push(chunk as Buffer);
    assert.ok(chunks.length > 1, "passed on as it arrives");
    assert.deepEqual(Buffer.concat(chunks), whole);
    assert.equal(jsonBody(requestsTo(emu(), "/v1/audio/speech").at(-1)).stream, true);
  });

  it("destroying the body, or aborting the signal, closes the upstream connection", async () => {
    // After its first chunk the model goes quiet: only the client's leaving can end these requests.
    emu().setFault("audio/speech", { kind: "stream-stall", afterChunks: 1 });
    const res = await call({ response_format: "wav", stream: true });
    res.body.destroy();
    await emu().waitForIdle("ChatTTS");
    assert.equal(requestsTo(emu(), "/v1/audio/speech").at(-1)?.disconnected, true);

    const controller = new AbortController();
    const aborted = await call({ response_format: "wav", stream: true, signal: controller.signal });
    controller.abort();
    await assert.rejects(aborted.arrayBuffer());
    await emu().waitForIdle("ChatTTS");
    assert.equal(requestsTo(emu(), "/v1/audio/speech").at(-1)?.disconnected, true);
  });

  it("an upstream that breaks off mid-audio errors the body: never a clean, short end", async () => {
    emu().setFault("audio/speech", { kind: "stream-error", afterChunks: 1 });
    const res = await call({ response_format: "wav", stream: true });
    await assert.rejects(res.arrayBuffer(), (err: unknown) => {
      assert.ok(err instanceof APIConnectionError, String(err));
      assert.match(err.message, /broke before the whole response arrived/);
      return true;
    });
  });

  it("a 200 that ends, or breaks, before any audio fails the call", async () => {
    const server = await tinyServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.flushHeaders();
      if (req.url?.includes("empty") === true) res.end();
      else res.socket?.destroy();
    });
    try {
      await assert.rejects(call({ api_base: `${server.baseUrl}/empty`, num_retries: 0 }), /answered the speech request with no audio/);
      await assert.rejects(call({ api_base: `${server.baseUrl}/broken`, num_retries: 0 }), APIConnectionError);
    } finally {
      await server.close();
    }
  });

  it("refuses bad parameters before sending anything", async () => {
    const cases: [Partial<SpeechParams> & Record<string, unknown>, string, RegExp][] = [
      [{ input: undefined }, "input", /input is required/],
      [{ input: "a".repeat(4097) }, "input", /longer than 4096 characters/],
      [{ voice: undefined }, "voice", /voice is required/],
      [{ response_format: "ogg" as "mp3" }, "response_format", /"mp3", "opus", "aac", "flac", "wav", "pcm"/],
      [{ speed: 4.5 }, "speed", /from 0.25 to 4/],
      [{ speed: 0.1 }, "speed", /from 0.25 to 4/],
      [{ stream: "yes" as unknown as boolean }, "stream", /true or false/],
      [{ stream_format: "sse" }, "stream_format", /audio bytes/],
    ];
    for (const [params, param, message] of cases) {
      await assert.rejects(call(params), (err: unknown) => {
        assert.ok(err instanceof BadRequestError, String(err));
        assert.equal(err.param, param);
        assert.match(err.message, message);
        return true;
      });
    }
    assert.equal(requestsTo(emu(), "/v1/audio/speech").length, 0);
  });

  it("counts input in characters, as OpenAI does: 4096 emoji are within the limit", async () => {
    const res = await call({ input: "😀".repeat(4096), response_format: "pcm" });
    assert.equal(res.content_type, "audio/pcm");
    res.body.resume();
    await once(res.body, "end");
  });
});
