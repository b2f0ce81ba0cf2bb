/**
 * The form of a transcription or translation as OpenAI's API defines it (Xinference's is the same): the model,
 * the audio under `file`, and the optional fields. The answer is asked for as `json`, or `verbose_json` when
 * the caller needs timings: the operation writes the format the caller asked for.
 */
import type { MultipartPart } from "../upstream/multipart.js";
import type { TranscriptionRequest } from "./types.js";

export function transcriptionParts(request: TranscriptionRequest): MultipartPart[] {
  const parts: MultipartPart[] = [
    { name: "model", value: request.uid },
    { name: "file", file: request.file, defaultName: "audio" },
    { name: "response_format", value: request.timings.length > 0 ? "verbose_json" : "json" },
  ];
  if (request.language !== undefined) parts.push({ name: "language", value: request.language });
  if (request.prompt !== undefined) parts.push({ name: "prompt", value: request.prompt });
  if (request.temperature !== undefined) parts.push({ name: "temperature", value: String(request.temperature) });
  return parts;
}
