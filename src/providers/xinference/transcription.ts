/**
 * Transcriptions and translations: multipart to Xinference's `POST /v1/audio/transcriptions` or
 * `/v1/audio/translations`, the audio under `file`. Whisper there answers only `json` and `verbose_json`
 * (`text`, `srt` and `vtt` are a 500), so xgate asks for one of those — `verbose_json` when the caller needs
 * timings — and the operation writes the format the caller asked for. Extras travel in the `kwargs` JSON string.
 */
import type { TranscriptionSegment, TranscriptionWord } from "../../types.js";
import type { UpstreamClient } from "../../upstream/client.js";
import { encodeMultipart } from "../../upstream/multipart.js";
import type { MultipartPart } from "../../upstream/multipart.js";
import { isRecord, unexpectedResponse } from "../shape.js";
import type { Transcript, TranscriptionRequest } from "../types.js";
import { LABEL, PROVIDER } from "./constants.js";
import { kwargsString } from "./kwargs.js";

function number(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

/**
 * Whisper's segments as Xinference writes them; an end it leaves null (the transformers pipeline does for an
 * audio's last chunk) is taken as the segment's start.
 */
function segmentsOf(value: unknown): TranscriptionSegment[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.map((item: unknown, i): TranscriptionSegment => {
    if (!isRecord(item) || typeof item.text !== "string") throw unexpectedResponse(PROVIDER, LABEL, `segments[${i}] has no text`);
    const start = number(item.start, 0);
    return {
      id: number(item.id, i),
      seek: number(item.seek, 0),
      start,
      end: number(item.end, start),
      text: item.text,
      tokens: Array.isArray(item.tokens) ? item.tokens.filter((t): t is number => typeof t === "number") : [],
      temperature: number(item.temperature, 0),
      avg_logprob: number(item.avg_logprob, 0),
      compression_ratio: number(item.compression_ratio, 0),
      no_speech_prob: number(item.no_speech_prob, 0),
    };
  });
}

function wordsOf(value: unknown): TranscriptionWord[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.map((item: unknown, i): TranscriptionWord => {
    if (!isRecord(item) || typeof item.word !== "string") throw unexpectedResponse(PROVIDER, LABEL, `words[${i}] has no word`);
    const start = number(item.start, 0);
    return { word: item.word.trim(), start, end: number(item.end, start) };
  });
}

function transcriptOf(json: unknown): Transcript {
  if (!isRecord(json) || typeof json.text !== "string") throw unexpectedResponse(PROVIDER, LABEL, "no `text`");
  const segments = segmentsOf(json.segments);
  const words = wordsOf(json.words);
  const lastEnd = (segments ?? words)?.at(-1)?.end;
  return {
    // Whisper's text opens with a space (each chunk's does); OpenAI's does not.
    text: json.text.trim(),
    language: typeof json.language === "string" ? json.language : undefined,
    duration: typeof json.duration === "number" ? json.duration : lastEnd,
    segments,
    words,
  };
}

export async function transcription(request: TranscriptionRequest, client: UpstreamClient): Promise<Transcript> {
  const parts: MultipartPart[] = [
    { name: "model", value: request.uid },
    { name: "file", file: request.file, defaultName: "audio" },
    { name: "response_format", value: request.timings.length > 0 ? "verbose_json" : "json" },
  ];
  if (request.language !== undefined) parts.push({ name: "language", value: request.language });
  if (request.prompt !== undefined) parts.push({ name: "prompt", value: request.prompt });
  if (request.temperature !== undefined) parts.push({ name: "temperature", value: String(request.temperature) });
  // Xinference reads one granularity per request (the field's last value) and gives segments by default: asked
  // for words and segments both, it gives the words.
  if (request.timings.includes("word")) parts.push({ name: "timestamp_granularities[]", value: "word" });
  const kwargs = kwargsString(request.extras);
  if (kwargs !== undefined) parts.push({ name: "kwargs", value: kwargs });
  const path = request.task === "translate" ? "/audio/translations" : "/audio/transcriptions";
  const json = await client.send({ method: "POST", path, multipart: encodeMultipart(parts) }, [request.file]);
  return transcriptOf(json);
}
