/**
 * Speech: text in, audio bytes out, passed on as they arrive. A run resolves at the audio's first bytes, so
 * that an upstream failing before it has sent any audio fails the attempt (which may then be retried
 * elsewhere); after that the answer is committed, and a failure breaks the stream off. `done` settles when
 * the audio has all been read, or with what broke it.
 */
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { BadGatewayError, BadRequestError } from "../errors.js";
import type { SpeechRequest } from "../providers/index.js";
import type { SpeechResponseFormat } from "../types.js";
import { createUpstreamClient } from "../upstream/client.js";
import { extrasOf, mergedExtras, type OperationTarget, type RawParams } from "./types.js";
import { oneOf, optionalBoolean, optionalNumber, requiredString } from "./validate.js";

const OWN: ReadonlySet<string> = new Set(["input", "voice", "response_format", "speed", "stream", "stream_format"]);

/** OpenAI's limit on `input`, in characters. */
export const MAX_SPEECH_INPUT = 4096;

export const SPEECH_FORMATS: readonly SpeechResponseFormat[] = ["mp3", "opus", "aac", "flac", "wav", "pcm"];

/** The content type of each format, as OpenAI's API labels them (Xinference labels all application/octet-stream). */
export const SPEECH_CONTENT_TYPES: Readonly<Record<SpeechResponseFormat, string>> = {
  mp3: "audio/mpeg",
  opus: "audio/opus",
  aac: "audio/aac",
  flac: "audio/flac",
  wav: "audio/wav",
  pcm: "audio/pcm",
};

/** A speech request, checked: the provider's request before the target fills in uid and drop_params. */
export type SpeechCall = Omit<SpeechRequest, "uid" | "dropParams">;

export interface SpeechAudio {
  contentType: string;
  /** The audio bytes as they arrive; destroying the stream cancels the upstream request. */
  body: Readable;
  /** Settles when the body has been read to its end, or with what broke it off. */
  done: Promise<undefined>;
}

/** At most MAX_SPEECH_INPUT characters (code points, as OpenAI counts them). */
function speechInput(value: unknown): string {
  const input = requiredString(value, "input", '"Hello there!"');
  // A code point is at most two UTF-16 units: longer strings are over the limit without counting.
  const characters = input.length > 2 * MAX_SPEECH_INPUT ? Number.POSITIVE_INFINITY : [...input].length;
  if (characters > MAX_SPEECH_INPUT) {
    throw new BadRequestError(
      `input is longer than ${MAX_SPEECH_INPUT} characters (${Number.isFinite(characters) ? characters : "far more"}): split the text and ask for each part.`,
      { param: "input" },
    );
  }
  return input;
}

/** OpenAI's `stream_format`: raw audio is what this answers; its server-sent events are not offered. */
function checkStreamFormat(value: unknown): void {
  if (value === undefined || value === null || value === "audio") return;
  throw new BadRequestError(`stream_format ${JSON.stringify(value)} is not supported: speech is answered as audio bytes; leave stream_format out or set "audio".`, {
    param: "stream_format",
  });
}

export function parseSpeech(raw: RawParams): SpeechCall {
  checkStreamFormat(raw.stream_format);
  return {
    input: speechInput(raw.input),
    voice: requiredString(raw.voice, "voice", '"alloy", or a speaker the model knows'),
    response_format: oneOf(raw.response_format, "response_format", SPEECH_FORMATS, "mp3"),
    speed: optionalNumber(raw.speed, "speed", 0.25, 4),
    stream: optionalBoolean(raw.stream, "stream") ?? false,
    extras: extrasOf(raw, OWN),
  };
}

/**
 * Waits for the body's first bytes and puts them back: resolves once audio has arrived, rejects when the
 * body breaks or ends before any.
 */
function firstBytes(body: Readable, label: string, provider: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (err: Error | undefined, chunk?: Buffer): void => {
      body.off("readable", onReadable);
      body.off("end", onEnd);
      body.off("close", onEnd);
      body.off("error", onError);
      if (err !== undefined) reject(err);
      else {
        body.unshift(chunk);
        resolve();
      }
    };
    const onReadable = (): void => {
      const chunk = body.read() as Buffer | null;
      if (chunk !== null) settle(undefined, chunk);
    };
    // An end (or a close without an error) before any audio: a 200 with nothing to play is no answer.
    const onEnd = (): void =>
      settle(new BadGatewayError(`${label} answered the speech request with no audio.`, { provider, code: "bad_response", origin: "upstream" }));
    const onError = (err: Error): void => settle(err);
    body.on("readable", onReadable);
    body.once("end", onEnd);
    body.once("close", onEnd);
    body.once("error", onError);
  });
}

export async function runSpeech(request: SpeechCall, target: OperationTarget): Promise<SpeechAudio> {
  const body = await target.provider.speech(
    { ...request, uid: target.uid, dropParams: target.dropParams, extras: mergedExtras(target, request.extras) },
    createUpstreamClient(target.upstream, target.provider.toError),
  );
  try {
    await firstBytes(body, target.upstream.label, target.provider.name);
  } catch (err) {
    body.destroy();
    throw err;
  }
  const done = finished(body).then(() => undefined);
  // Also seen through the body; nobody need await this for a failure not to go unhandled.
  done.catch(() => undefined);
  return { contentType: SPEECH_CONTENT_TYPES[request.response_format], body, done };
}
