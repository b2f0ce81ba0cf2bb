import { transcription as transcribeOperation, translation as translateOperation } from "../operations/index.js";
import type { TranscriptionParams, Transcription, TranscriptionVerbose } from "../types.js";
import { callOperation } from "./call.js";

/** The params of a call answered as text: `text`, `srt` or `vtt`. */
type TextFormatParams = TranscriptionParams & { response_format: "text" | "srt" | "vtt" };
type VerboseParams = TranscriptionParams & { response_format: "verbose_json" };

/**
 * Transcribes audio into text in its own language, OpenAI-shaped: `{ text }` by default, the segments and
 * their timings with `response_format: "verbose_json"` (words too with `timestamp_granularities: ["word"]`),
 * or text for `text`, `srt` and `vtt`. `file` may be a Buffer, a Blob/File, a readable stream (an
 * `fs.ReadStream` keeps its file name and can be re-read for a retry) or `{ data, filename?, contentType? }`;
 * it is streamed, never held whole in memory, and a stream passed in is closed when the call ends.
 *
 * @example
 * import { createReadStream } from "node:fs";
 * import { transcription } from "xgate";
 * const { text } = await transcription({ model: "xinference/whisper-large-v3", file: createReadStream("meeting.wav") });
 * const subtitles = await transcription({ model: "xinference/whisper-large-v3", file: createReadStream("talk.mp3"), response_format: "srt" });
 */
export function transcription(params: TextFormatParams): Promise<string>;
export function transcription(params: VerboseParams): Promise<TranscriptionVerbose>;
export function transcription(params: TranscriptionParams): Promise<Transcription>;
export function transcription(params: TranscriptionParams): Promise<Transcription | TranscriptionVerbose | string> {
  return callOperation(transcribeOperation, params);
}

/**
 * Translates audio into English text; the same parameters and answers as `transcription`. A function of
 * its own, as openai-node has `audio.translations` beside `audio.transcriptions`: it is another route
 * upstream, and what users of that client reach for.
 *
 * @example
 * import { readFile } from "node:fs/promises";
 * import { translation } from "xgate";
 * const { text } = await translation({ model: "xinference/whisper-large-v3", file: await readFile("interview-de.mp3") });
 */
export function translation(params: TextFormatParams): Promise<string>;
export function translation(params: VerboseParams): Promise<TranscriptionVerbose>;
export function translation(params: TranscriptionParams): Promise<Transcription>;
export function translation(params: TranscriptionParams): Promise<Transcription | TranscriptionVerbose | string> {
  return callOperation(translateOperation, params);
}
