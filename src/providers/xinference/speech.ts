/**
 * Speech: JSON to Xinference's `POST /v1/audio/speech`, which answers the audio bytes (always labelled
 * application/octet-stream: the operation names the type from the format asked for). With `stream`, the
 * model sends its audio as it synthesizes it, through sse-starlette, whose ping comments are taken out (see
 * sse-pings.ts). Extras travel in the `kwargs` JSON string.
 */
import { pipeline, type Readable } from "node:stream";
import type { UpstreamClient } from "../../upstream/client.js";
import type { SpeechRequest } from "../types.js";
import { kwargsString } from "./kwargs.js";
import { withoutPings } from "./sse-pings.js";

export async function speech(request: SpeechRequest, client: UpstreamClient): Promise<Readable> {
  const body: Record<string, unknown> = {
    model: request.uid,
    input: request.input,
    voice: request.voice,
    response_format: request.response_format,
    stream: request.stream,
  };
  if (request.speed !== undefined) body.speed = request.speed;
  const kwargs = kwargsString(request.extras);
  if (kwargs !== undefined) body.kwargs = kwargs;
  const answer = await client.stream({ method: "POST", path: "/audio/speech", json: body });
  if (!request.stream) return answer.body;
  // pipeline() destroys both ends together: a reader that stops cancels the upstream request, and a broken
  // upstream errors what the reader holds.
  return pipeline(answer.body, withoutPings(), () => undefined);
}
