/**
 * A transcription answer in OpenAI's `json` / `verbose_json` shape (text, language, duration, segments,
 * words), as Xinference and OpenAI-compatible servers give it, read into xgate's Transcript; the operation
 * writes the format the caller asked for.
 */
import type { TranscriptionSegment, TranscriptionWord } from "../types.js";
import type { UpstreamTarget } from "../upstream/target.js";
import { isRecord, unexpectedResponse } from "./shape.js";
import type { Transcript } from "./types.js";

function number(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

/**
 * Whisper's segments; an end left null (Xinference's transformers pipeline leaves it for an audio's last
 * chunk) is taken as the segment's start.
 */
function segmentsOf(value: unknown, target: UpstreamTarget): TranscriptionSegment[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.map((item: unknown, i): TranscriptionSegment => {
    if (!isRecord(item) || typeof item.text !== "string") throw unexpectedResponse(target.provider, target.label, `segments[${i}] has no text`);
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

function wordsOf(value: unknown, target: UpstreamTarget): TranscriptionWord[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.map((item: unknown, i): TranscriptionWord => {
    if (!isRecord(item) || typeof item.word !== "string") throw unexpectedResponse(target.provider, target.label, `words[${i}] has no word`);
    const start = number(item.start, 0);
    return { word: item.word.trim(), start, end: number(item.end, start) };
  });
}

export function transcriptOf(json: unknown, target: UpstreamTarget): Transcript {
  if (!isRecord(json) || typeof json.text !== "string") throw unexpectedResponse(target.provider, target.label, "no `text`");
  const segments = segmentsOf(json.segments, target);
  const words = wordsOf(json.words, target);
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
