/**
 * A transcript written in the response format the caller asked for, as OpenAI's API writes each: `json` and
 * `verbose_json` as objects, `text`, `srt` and `vtt` as text. Providers give the transcript once, whatever
 * the format (Xinference's Whisper knows only the two JSON ones).
 */
import type { AudioTask, Transcript } from "../providers/index.js";
import type { Transcription, TranscriptionResponseFormat, TranscriptionVerbose } from "../types.js";

/** One subtitle: seconds from the start, and its text. */
interface Cue {
  start: number;
  end: number;
  text: string;
}

/** The transcript's segments as cues; one cue over the whole audio when it has none. */
function cuesOf(transcript: Transcript): Cue[] {
  const segments = transcript.segments ?? [];
  if (segments.length > 0) return segments.map((s) => ({ start: s.start, end: s.end, text: s.text.trim() }));
  return transcript.text === "" ? [] : [{ start: 0, end: transcript.duration ?? 0, text: transcript.text }];
}

/** `00:01:02,345` (SubRip) or `00:01:02.345` (WebVTT). */
function timestamp(seconds: number, separator: "," | "."): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const pad = (n: number, width = 2): string => String(n).padStart(width, "0");
  const clock = `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}`;
  return `${clock}${separator}${pad(ms % 1000, 3)}`;
}

function srt(cues: readonly Cue[]): string {
  return cues.map((c, i) => `${i + 1}\n${timestamp(c.start, ",")} --> ${timestamp(c.end, ",")}\n${c.text}\n\n`).join("");
}

function vtt(cues: readonly Cue[]): string {
  return `WEBVTT\n\n${cues.map((c) => `${timestamp(c.start, ".")} --> ${timestamp(c.end, ".")}\n${c.text}\n\n`).join("")}`;
}

export interface TranscriptOptions {
  task: AudioTask;
  format: TranscriptionResponseFormat;
  /** The language the caller named, for a verbose answer whose provider did not say. */
  language: string | undefined;
}

export function formatTranscript(transcript: Transcript, options: TranscriptOptions): Transcription | TranscriptionVerbose | string {
  switch (options.format) {
    case "json":
      return { text: transcript.text };
    case "text":
      return `${transcript.text}\n`;
    case "srt":
      return srt(cuesOf(transcript));
    case "vtt":
      return vtt(cuesOf(transcript));
    case "verbose_json": {
      const verbose: TranscriptionVerbose = {
        task: options.task,
        language: transcript.language ?? options.language ?? "unknown",
        duration: transcript.duration ?? 0,
        text: transcript.text,
      };
      if (transcript.segments !== undefined) verbose.segments = transcript.segments;
      if (transcript.words !== undefined) verbose.words = transcript.words;
      return verbose;
    }
  }
}
