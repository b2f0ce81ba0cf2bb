/**
 * Transcriptions and translations: audio in, text out. The audio is a file that is streamed, never held whole
 * in memory; the answer is written in the response format asked for (see transcript-formats.ts), whatever
 * the provider itself can write.
 */
import { BadRequestError } from "../errors.js";
import type { AudioTask, TranscriptionRequest } from "../providers/index.js";
import type {
  TimestampGranularity,
  Transcription,
  TranscriptionResponseFormat,
  TranscriptionVerbose,
} from "../types.js";
import { createUpstreamClient } from "../upstream/client.js";
import { fileSource, type FileSource } from "../upstream/files.js";
import { formatTranscript } from "./transcript-formats.js";
import { extrasOf, mergedExtras, type OperationTarget, type RawParams } from "./types.js";
import { oneOf, optionalNumber, optionalString } from "./validate.js";

const OWN: ReadonlySet<string> = new Set(["file", "language", "prompt", "response_format", "temperature", "timestamp_granularities"]);

export const TRANSCRIPTION_FORMATS: readonly TranscriptionResponseFormat[] = ["json", "text", "srt", "verbose_json", "vtt"];
const GRANULARITIES: readonly TimestampGranularity[] = ["segment", "word"];

/** A transcription or translation, checked: the provider's request before the target fills in uid and drop_params. */
export interface TranscriptionCall extends Omit<TranscriptionRequest, "uid" | "dropParams"> {
  response_format: TranscriptionResponseFormat;
}

/** An object for `json` and `verbose_json`, text for `text`, `srt` and `vtt`. */
export type TranscriptionAnswer = Transcription | TranscriptionVerbose | string;

function audioSource(file: unknown): FileSource {
  if (file === undefined || file === null) {
    throw new BadRequestError(
      "file is required: the audio to transcribe (a Buffer, Blob/File, readable stream or { data, filename }), e.g. a WAV or MP3 file.",
      { param: "file" },
    );
  }
  if (Array.isArray(file)) throw new BadRequestError("file takes one audio file, not an array.", { param: "file" });
  return fileSource(file, "file");
}

/** `timestamp_granularities`, as OpenAI takes it: a list, only with `verbose_json`; a form's single value counts as one. */
function granularities(value: unknown, format: TranscriptionResponseFormat): TimestampGranularity[] {
  if (value === undefined || value === null) return [];
  const list: unknown[] = Array.isArray(value) ? value : [value];
  const checked = list.map((item) => oneOf(item, "timestamp_granularities", GRANULARITIES, "segment"));
  if (checked.length > 0 && format !== "verbose_json") {
    throw new BadRequestError(`timestamp_granularities needs response_format "verbose_json", not "${format}".`, {
      param: "timestamp_granularities",
    });
  }
  return [...new Set(checked)];
}

/** The timings a format needs from the provider: none for text alone. */
function timingsFor(format: TranscriptionResponseFormat, asked: TimestampGranularity[]): TimestampGranularity[] {
  if (format === "srt" || format === "vtt") return ["segment"];
  if (format === "verbose_json") return asked.length > 0 ? asked : ["segment"];
  return [];
}

export function disposeTranscription(request: Pick<TranscriptionCall, "file">): void {
  request.file.dispose();
}

function parseAudioText(raw: RawParams, task: AudioTask): TranscriptionCall {
  const file = audioSource(raw.file);
  try {
    const format = oneOf(raw.response_format, "response_format", TRANSCRIPTION_FORMATS, "json");
    return {
      task,
      file,
      language: optionalString(raw.language, "language"),
      prompt: optionalString(raw.prompt, "prompt"),
      // OpenAI's range.
      temperature: optionalNumber(raw.temperature, "temperature", 0, 1),
      response_format: format,
      timings: timingsFor(format, granularities(raw.timestamp_granularities, format)),
      extras: extrasOf(raw, OWN),
    };
  } catch (err) {
    file.dispose();
    throw err;
  }
}

/** The caller's stream is closed when the call ends, also when it is refused here. */
export function parseTranscription(raw: RawParams): TranscriptionCall {
  return parseAudioText(raw, "transcribe");
}

export function parseTranslation(raw: RawParams): TranscriptionCall {
  return parseAudioText(raw, "translate");
}

export async function runTranscription(request: TranscriptionCall, target: OperationTarget): Promise<TranscriptionAnswer> {
  const { response_format: format, ...call } = request;
  const transcript = await target.provider.transcription(
    { ...call, uid: target.uid, dropParams: target.dropParams, extras: mergedExtras(target, request.extras) },
    createUpstreamClient(target.upstream, target.provider.toError),
  );
  return formatTranscript(transcript, { task: request.task, format, language: request.language });
}
