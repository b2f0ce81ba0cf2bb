import type { Readable } from "node:stream";
import { speech as operation } from "../operations/index.js";
import type { SpeechParams, SpeechResponse } from "../types.js";
import { callOperation } from "./call.js";

async function collect(body: Readable): Promise<ArrayBuffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/**
 * Speaks text: resolves as soon as the first audio bytes have arrived, with the audio as a stream of bytes
 * (`body`, read at the caller's pace) and `arrayBuffer()` to read it whole, as openai-node's
 * `audio.speech.create` answers a Response. `content_type` follows `response_format` (default `mp3`:
 * `audio/mpeg`). Destroying `body`, or aborting `signal`, cancels the upstream request; an upstream that
 * breaks off mid-audio errors `body` (and rejects `arrayBuffer()`), never ends it as if it were whole.
 *
 * @example
 * import { createWriteStream } from "node:fs";
 * import { pipeline } from "node:stream/promises";
 * import { speech } from "xgate";
 * const audio = await speech({ model: "xinference/ChatTTS", input: "Hello from xgate.", voice: "2155", response_format: "wav" });
 * await pipeline(audio.body, createWriteStream("hello.wav"));
 * // or: const bytes = Buffer.from(await audio.arrayBuffer());
 */
export async function speech(params: SpeechParams): Promise<SpeechResponse> {
  const { contentType, body } = await callOperation(operation, params);
  return { content_type: contentType, body, arrayBuffer: () => collect(body) };
}
