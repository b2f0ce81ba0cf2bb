/**
 * Transcriptions and translations: multipart to `{api_base}/audio/transcriptions` or `/audio/translations`
 * as OpenAI's API defines them, the audio under `file`. The server is asked for `json`, or `verbose_json`
 * when the caller needs timings, and the operation writes the format the caller asked for — as for
 * Xinference, so both providers answer every format alike. Extras are form fields of their own.
 */
import type { UpstreamClient } from "../../upstream/client.js";
import { encodeMultipart } from "../../upstream/multipart.js";
import { transcriptOf } from "../transcript-answer.js";
import { transcriptionParts } from "../transcription-form.js";
import type { Transcript, TranscriptionRequest } from "../types.js";

/** A form field's text: JSON for anything that is not already a string. */
function fieldValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

export async function transcription(request: TranscriptionRequest, client: UpstreamClient): Promise<Transcript> {
  const parts = transcriptionParts(request);
  for (const granularity of request.timings) parts.push({ name: "timestamp_granularities[]", value: granularity });
  for (const [name, value] of Object.entries(request.extras)) parts.push({ name, value: fieldValue(value) });
  const path = request.task === "translate" ? "/audio/translations" : "/audio/transcriptions";
  const json = await client.send({ method: "POST", path, multipart: encodeMultipart(parts) }, [request.file]);
  return transcriptOf(json, client.target);
}
