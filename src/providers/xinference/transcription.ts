/**
 * Transcriptions and translations: multipart to Xinference's `POST /v1/audio/transcriptions` or
 * `/v1/audio/translations`, the audio under `file`. Whisper there answers only `json` and `verbose_json`
 * (`text`, `srt` and `vtt` are a 500), so xgate asks for one of those — `verbose_json` when the caller needs
 * timings — and the operation writes the format the caller asked for. Extras travel in the `kwargs` JSON string.
 */
import type { UpstreamClient } from "../../upstream/client.js";
import { encodeMultipart } from "../../upstream/multipart.js";
import { transcriptOf } from "../transcript-answer.js";
import { transcriptionParts } from "../transcription-form.js";
import type { Transcript, TranscriptionRequest } from "../types.js";
import { kwargsString } from "./kwargs.js";

export async function transcription(request: TranscriptionRequest, client: UpstreamClient): Promise<Transcript> {
  const parts = transcriptionParts(request);
  // Xinference reads one granularity per request (the field's last value) and gives segments by default: asked
  // for words and segments both, it gives the words.
  if (request.timings.includes("word")) parts.push({ name: "timestamp_granularities[]", value: "word" });
  const kwargs = kwargsString(request.extras);
  if (kwargs !== undefined) parts.push({ name: "kwargs", value: kwargs });
  const path = request.task === "translate" ? "/audio/translations" : "/audio/transcriptions";
  const json = await client.send({ method: "POST", path, multipart: encodeMultipart(parts) }, [request.file]);
  return transcriptOf(json, client.target);
}
